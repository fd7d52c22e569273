"""The calibration and evaluation sets of scripts/make_datasets.py, read
back with their sha256 manifests checked: a set that changed on disk (a
partial rebuild, an edit, another generator) is refused with the file
that differs, rather than silently moving every number."""
import hashlib
import os

import numpy as np

from quantc import npy_file_name


class DatasetError(RuntimeError):
    pass


def verify(split_dir):
    """Checks <split_dir>/SHA256SUMS; returns the sha256 of the manifest
    itself (one digest that names the whole split in a report)."""
    manifest = os.path.join(split_dir, "SHA256SUMS")
    if not os.path.exists(manifest):
        raise DatasetError("%s: no SHA256SUMS (rebuild with scripts/make_datasets.py --force)" % split_dir)
    listed = set()
    data = open(manifest, "rb").read()
    for line in data.decode().splitlines():
        digest, rel = line.split("  ", 1)
        listed.add(rel)
        path = os.path.join(split_dir, rel)
        if not os.path.exists(path):
            raise DatasetError("%s: listed in SHA256SUMS but missing" % path)
        if hashlib.sha256(open(path, "rb").read()).hexdigest() != digest:
            raise DatasetError("%s: sha256 differs from SHA256SUMS (rebuild with scripts/make_datasets.py "
                               "--force)" % path)
    for d, _, files in os.walk(split_dir):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), split_dir)
            if rel != "SHA256SUMS" and rel not in listed:
                raise DatasetError("%s: not listed in SHA256SUMS" % os.path.join(d, f))
    return hashlib.sha256(data).hexdigest()


def load_split(split_dir, input_names, check=True):
    """(samples, labels, digest): one feed dict per sample directory
    (<input>.npy files named as quantc names them), the lines of
    labels.txt (or None) and the manifest's digest."""
    digest = verify(split_dir) if check else None
    samples = []
    for d in sorted(os.listdir(split_dir)):
        full = os.path.join(split_dir, d)
        if os.path.isdir(full):
            samples.append({n: np.load(os.path.join(full, npy_file_name(n))) for n in input_names})
    labels = None
    lp = os.path.join(split_dir, "labels.txt")
    if os.path.exists(lp):
        labels = open(lp, encoding="utf-8").read().splitlines()
        if len(labels) != len(samples):
            raise DatasetError("%s: %d labels for %d samples" % (lp, len(labels), len(samples)))
    return samples, labels, digest
