#!/usr/bin/env python3
"""The text data sets of the transformers, from Debian's debian-reference-en
(/usr/share/debian-reference/debian-reference.en.txt.gz), into .cache/data:

  sentences   MiniLM: calib 32 samples and eval 200 pairs, each sample two
              sentences tokenized and padded to 64 tokens (input_ids,
              attention_mask, token_type_ids: int64 [2, 64]). Calibration
              sentences come from the first half of the book, evaluation
              pairs from the second half (disjoint). Half the pairs are
              *related* (consecutive sentences of one paragraph), half
              *unrelated* (sentences of different chapters); labels.txt
              holds {"related": 0|1} per pair.

Prose only: indented paragraphs of at least two sentences, mostly letters;
sentences of 6 to 40 words. Its own stamp (TEXT_VERSION), so the other
sets are not rebuilt; sha256 manifests as make_datasets.py writes them.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from make_datasets import write_manifests, write_split  # noqa: E402

BOOK = "/usr/share/debian-reference/debian-reference.en.txt.gz"
TEXT_VERSION = "1: sentences 32/200 from debian-reference-en, 64 tokens"
SEQ = 64


def paragraphs(path):
    """(chapter number, paragraph text) of the book's prose."""
    chapter, block, out = 0, [], []
    for line in gzip.open(path, "rt", encoding="utf-8", errors="replace"):
        m = re.match(r"^Chapter\s(\d+)\.", line)  # a no-break space after "Chapter"
        if m:
            chapter = int(m.group(1))
        if line.startswith("    ") and line.strip():
            block.append(line.strip())
            continue
        if block:
            text = " ".join(block)
            letters = sum(ch.isalpha() or ch == " " for ch in text) / max(len(text), 1)
            if letters > 0.9 and text.count(". ") >= 1:
                out.append((chapter, text))
            block = []
    return out


def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if 6 <= len(s.split()) <= 40]


def make_sentences(out, tok):
    from quantc.transformers import minilm
    paras = paragraphs(BOOK)
    chapters = sorted({c for c, _ in paras})
    half = chapters[len(chapters) // 2]
    first = [sentences(t) for c, t in paras if c < half]
    second = [(c, sentences(t)) for c, t in paras if c >= half]
    rng = np.random.default_rng(12)
    calib_sents = [s for ss in first for s in ss]
    idx = rng.choice(len(calib_sents) - 1, 32, replace=False)
    calib = [minilm.feeds(tok, [calib_sents[i], calib_sents[i + 1]], pad_to=SEQ) for i in idx]
    related = [(ss[i], ss[i + 1]) for _, ss in second for i in range(len(ss) - 1)]
    by_chapter = {}
    for c, ss in second:
        by_chapter.setdefault(c, []).extend(ss)
    pairs = []
    for i in rng.choice(len(related), 100, replace=False):
        pairs.append((related[i], 1))
    cs = sorted(by_chapter)
    while len(pairs) < 200:
        a, b = rng.choice(len(cs), 2, replace=False)
        sa, sb = by_chapter[cs[a]], by_chapter[cs[b]]
        pairs.append(((sa[rng.integers(len(sa))], sb[rng.integers(len(sb))]), 0))
    order = rng.permutation(len(pairs))
    pairs = [pairs[i] for i in order]
    for f in calib + [minilm.feeds(tok, list(p), pad_to=SEQ) for p, _ in pairs]:
        if f["input_ids"].shape != (2, SEQ):
            raise SystemExit("a sentence has more than %d tokens: %s" % (SEQ, f["input_ids"].shape))
    write_split(os.path.join(out, "sentences", "calib"), calib)
    write_split(os.path.join(out, "sentences", "eval"), [minilm.feeds(tok, list(p), pad_to=SEQ) for p, _ in pairs],
                [json.dumps({"related": r, "a": p[0], "b": p[1]}) for p, r in pairs])
    return len(calib), len(pairs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(ROOT, ".cache/models"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache/data"))
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    stamp = os.path.join(args.out, "sentences", ".done")
    if os.path.exists(stamp) and open(stamp).read().strip() == TEXT_VERSION and not args.force:
        print("text datasets are in %s" % args.out)
        return 0
    if not os.path.exists(BOOK):
        raise SystemExit("error: %s missing: install debian-reference-en (scripts/bootstrap does)" % BOOK)
    from quantc.transformers import minilm
    shutil.rmtree(os.path.join(args.out, "sentences"), ignore_errors=True)
    tok = minilm.tokenizer(os.path.join(args.models, "all-minilm-l6-v2"), max_length=SEQ)
    n_calib, n_eval = make_sentences(args.out, tok)
    write_manifests(args.out, ["sentences"])
    open(stamp, "w").write(TEXT_VERSION + "\n")
    print("sentences: calib %d, eval %d pairs in %s" % (n_calib, n_eval, os.path.join(args.out, "sentences")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
