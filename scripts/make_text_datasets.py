#!/usr/bin/env python3
"""The text data sets of the transformers, from Debian's debian-reference-en
(/usr/share/debian-reference/debian-reference.en.txt.gz) and
debian-handbook (its English HTML), into .cache/data:

  sentences   MiniLM: calib 32 samples and eval 200 pairs, each sample two
              sentences tokenized and padded to 64 tokens (input_ids,
              attention_mask, token_type_ids: int64 [2, 64]). Calibration
              sentences come from the first half of the book, evaluation
              pairs from the second half (disjoint). Half the pairs are
              *related* (consecutive sentences of one paragraph), half
              *unrelated* (sentences of different chapters); labels.txt
              holds {"related": 0|1} per pair.
  lm_text     SmolLM2: calib 16 and eval 40 windows of 256 tokens
              (input_ids int64 [1, 256]) of The Debian Administrator's
              Handbook's paragraphs (<p> of 6 words or more, not
              titles, tags stripped) in reading
              order (the table of contents), tokenized with SmolLM2's
              tokenizer as one stream per half and cut into consecutive
              windows, spread evenly over the half; calibration from the
              first half of the pages, evaluation from the second
              (disjoint). Perplexity is scored on each
              window on its own (no context carried across windows).
  lm_text_1024  the same with windows of 1024 tokens (calib 16 of the
              24 the first half holds, eval 40 of its 51).
  lm_text_all_calib  lm_text's eval windows (the same files) with every
              256-token window of the first half as calibration (98, of
              which lm_text's 16 are a subset): how GPTQ and the other
              calibrated methods do with more data.

Prose only: indented paragraphs of at least two sentences, mostly letters;
sentences of 6 to 40 words. Each set has its own stamp (VERSIONS), so
neither the other text set nor make_datasets.py's sets are rebuilt when
one changes; sha256 manifests as make_datasets.py writes them.
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
VERSIONS = {"sentences": "1: sentences 32/200 from debian-reference-en, 64 tokens",
            "lm_text": "1: 16/40 windows of 256 tokens from debian-handbook",
            "lm_text_1024": "1: 16/40 windows of 1024 tokens from debian-handbook",
            "lm_text_all_calib": "1: all/40 windows of 256 tokens from debian-handbook"}
HANDBOOK = "/usr/share/doc/debian-handbook/html/en-US"
SEQ = 64
LM_WINDOW, LM_CALIB, LM_EVAL = 256, 16, 40


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


def handbook_pages(root):
    """The paragraphs of each page of the handbook, pages in the order of
    its table of contents (index.html), each page once."""
    import html
    if not os.path.exists(os.path.join(root, "index.html")):
        raise SystemExit("error: %s missing: install debian-handbook (scripts/bootstrap does)" % root)
    index = open(os.path.join(root, "index.html"), encoding="utf-8").read()
    order = []
    for name in re.findall(r'href="([A-Za-z0-9_.-]+\.html)', index):
        if name not in order and name != "index.html":
            order.append(name)
    pages = []
    for name in order:
        text = open(os.path.join(root, name), encoding="utf-8").read()
        paras = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", p)).split())
                 for attrs, p in re.findall(r"<p([^>]*)>(.*?)</p>", text, re.S) if "title" not in attrs]
        pages.append([p for p in paras if len(p.split()) >= 6])  # prose, not captions
    return pages


def make_lm_text(out, models, name="lm_text", window=LM_WINDOW, n_calib=LM_CALIB):
    """The lm_text windows (see the module comment), `window` tokens each,
    into <out>/<name>."""
    from quantc.transformers import smollm2
    tok = smollm2.tokenizer(os.path.join(models, "smollm2"))
    pages = handbook_pages(HANDBOOK)
    half = len(pages) // 2

    def windows(texts, n):
        ids = tok.encode("\n\n".join(texts)).ids
        total = len(ids) // window
        n = total if n is None else n
        if total < n:
            raise SystemExit("%s: %d windows of %d tokens, %d wanted" % (name, total, window, n))
        picks = np.linspace(0, total - 1, n).round().astype(int)
        return [{"input_ids": np.array(ids[k * window:(k + 1) * window], np.int64)[None]} for k in picks]
    calib = windows([p for page in pages[:half] for p in page], n_calib)
    evals = windows([p for page in pages[half:] for p in page], LM_EVAL)
    write_split(os.path.join(out, name, "calib"), calib)
    write_split(os.path.join(out, name, "eval"), evals)
    return len(calib), len(evals)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(ROOT, ".cache/models"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache/data"))
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    makers = {"sentences": lambda: make_sentences(args.out, minilm_tokenizer(args.models)),
              "lm_text": lambda: make_lm_text(args.out, args.models),
              "lm_text_1024": lambda: make_lm_text(args.out, args.models, "lm_text_1024", 1024),
              "lm_text_all_calib": lambda: make_lm_text(args.out, args.models, "lm_text_all_calib",
                                                        n_calib=None)}
    for name, make in makers.items():
        stamp = os.path.join(args.out, name, ".done")
        if os.path.exists(stamp) and open(stamp).read().strip() == VERSIONS[name] and not args.force:
            continue
        if name == "sentences" and not os.path.exists(BOOK):
            raise SystemExit("error: %s missing: install debian-reference-en (scripts/bootstrap does)" % BOOK)
        shutil.rmtree(os.path.join(args.out, name), ignore_errors=True)
        n_calib, n_eval = make()
        write_manifests(args.out, [name])
        open(stamp, "w").write(VERSIONS[name] + "\n")
        print("%s: calib %d, eval %d in %s" % (name, n_calib, n_eval, os.path.join(args.out, name)))
    print("text datasets are in %s" % args.out)
    return 0


def minilm_tokenizer(models):
    from quantc.transformers import minilm
    return minilm.tokenizer(os.path.join(models, "all-minilm-l6-v2"), max_length=SEQ)


if __name__ == "__main__":
    sys.exit(main())
