#!/usr/bin/env python3
"""quantc.metrics and quantc.stats against references computed another way:
hand-worked cases and direct numpy formulas (not the modules themselves)."""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from quantc import metrics, stats  # noqa: E402

failures = []
checks = [0]


def check(name, got, want, tol=1e-12):
    checks[0] += 1
    ok = not (abs(got - want) > tol) and not (math.isnan(got) != math.isnan(want))
    print("%-44s got %-12.6g want %-12.6g %s" % (name, got, want, "ok" if ok else "FAIL"))
    if not ok:
        failures.append(name)


# Edit distance: classic pairs.
for a, b, d in (("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("same", "same", 0)):
    check("edit_distance(%r, %r)" % (a, b), metrics.edit_distance(a, b), d)

# SQNR: energies summed over samples, then 10 log10(S / N).
rng = np.random.default_rng(0)
refs = [rng.standard_normal(50) for _ in range(3)]
outs = [r + 0.1 * rng.standard_normal(50) for r in refs]
m = metrics.Sqnr()
want = 10 * np.log10(sum(np.sum(r ** 2) for r in refs) / sum(np.sum((o - r) ** 2) for o, r in zip(outs, refs)))
check("Sqnr over 3 samples", m.aggregate(metrics.evaluate(m, outs, refs, None))["sqnr_db"], want, 1e-9)
nan_out = [o.copy() for o in outs]
nan_out[1][3] = np.nan
check("Sqnr with a NaN output is NaN", m.aggregate(metrics.evaluate(m, nan_out, refs, None))["sqnr_db"],
      float("nan"))

# Box matching: one exact, one IoU 1/3 (unmatched at 0.5), one spurious.
gt = [[0, 0, 10, 10], [20, 0, 30, 10]]
pred = [[0, 0, 10, 10], [25, 0, 35, 10], [50, 50, 60, 60]]
check("box_iou half-shifted", metrics.box_iou(gt[1], pred[1]), 50 / 150)
check("match_boxes", metrics.match_boxes(pred, gt), 1)

# VadStream: 6 chunks; speech samples [512, 2048) -> chunks 1, 2, 3.
v = metrics.VadStream()
out = np.array([0.9, 0.9, 0.1, 0.9, 0.1, 0.1])   # pred 0,1,3
ref = np.array([0.1, 0.9, 0.9, 0.9, 0.1, 0.1])   # float 1,2,3
c = metrics.evaluate(v, [out], [ref], [json.dumps([512, 2048])])
agg = v.aggregate(c)
check("VadStream F1 vs truth (tp2 fp1 fn1)", agg["f1_truth"], 2 * 2 / (2 * 2 + 1 + 1))
check("VadStream F1 vs float (tp2 fp1 fn1)", agg["f1_vs_float"], 4 / 6)

# WakeRoc: AUC as the fraction of (positive, negative) pairs ordered
# correctly, ties half, counted pair by pair here.
w = metrics.WakeRoc("alexa")
scores = [0.9, 0.4, 0.4, 0.8, 0.1, 0.4]
truth = [1, 1, 0, 0, 0, 1]
labels = [json.dumps({"alexa": y, "hey_mycroft": 0}) for y in truth]
fl = [0.9, 0.6, 0.2, 0.2, 0.1, 0.7]
c = metrics.evaluate(w, [np.array([s]) for s in scores], [np.array([f]) for f in fl], labels)
pos = [s for s, y in zip(scores, truth) if y]
neg = [s for s, y in zip(scores, truth) if not y]
pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
agg = w.aggregate(c)
check("WakeRoc AUC (pairs, ties half)", agg["auc"], pairs / (len(pos) * len(neg)))
check("WakeRoc AUC hand value 6/9", agg["auc"], 6 / 9)  # 0.9 beats 3; each 0.4: 1 + tie
check("WakeRoc accuracy at 0.5", agg["acc"], 3 / 6)  # right: 0.9 (pos), 0.4 0.1 (neg)
check("WakeRoc agreement with float", agg["agree"], 3 / 6)  # samples 0, 2, 4
check("WakeRoc positive rate", agg["pos_rate"], 0.5)
c2 = metrics.evaluate(w, [np.array([s]) for s in scores[:5]] + [np.array([np.nan])], [np.array([f]) for f in fl],
                      labels)
check("WakeRoc AUC with a NaN score is NaN", w.aggregate(c2)["auc"], float("nan"))

# Paired bootstrap: identical candidates differ by exactly 0; a constant
# shift of every sample's value shifts the whole interval by it.
mean = lambda c: float(np.mean(c[:, 0]))  # noqa: E731
a = rng.standard_normal((200, 1))
d, lo, hi = stats.paired_difference_ci(mean, a, a)
check("paired CI of identical rows: low", lo, 0.0)
check("paired CI of identical rows: high", hi, 0.0)
d, lo, hi = stats.paired_difference_ci(mean, a + 0.25, a)
check("paired CI of a constant shift: low", lo, 0.25, 1e-12)
check("paired CI of a constant shift: high", hi, 0.25, 1e-12)
# Unpaired interval of a mean against the normal approximation.
v_, lo, hi = stats.ci(mean, a, resamples=4000)
se = float(np.std(a[:, 0]) / np.sqrt(len(a)))
check("bootstrap CI half-width ~ 1.96 se", (hi - lo) / 2, 1.96 * se, 0.15 * 1.96 * se)
d, lo, hi = stats.paired_difference_ci(mean, np.full((5, 1), np.nan), np.zeros((5, 1)))
check("paired CI with NaN is NaN", lo, float("nan"))

# Embedding (MiniLM pairs): Spearman against scipy.stats.spearmanr (ties
# included), mean cosine by hand, related-pair AUC counted pair by pair.
from scipy.stats import spearmanr  # noqa: E402
em = metrics.Embedding()
sq = np.array([0.9, 0.2, 0.5, 0.5, 0.7, 0.1])
sf = np.array([0.8, 0.3, 0.4, 0.6, 0.7, 0.0])
rl = np.array([1, 0, 1, 0, 1, 0])
ce = np.stack([np.full(6, 0.99), np.full(6, 0.97), sq, sf, rl], 1)
ea = em.aggregate(ce)
check("Embedding spearman vs scipy", ea["spearman"], float(spearmanr(sq, sf).statistic), 1e-12)
check("Embedding mean cosine", ea["cos"], 0.98, 1e-12)
pos, neg = sq[rl == 1], sq[rl == 0]
check("Embedding related AUC pair by pair", ea["related_auc"],
      float(np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg])), 1e-12)
o = np.array([[1.0, 0.0], [0.0, 1.0]])
cc = em.components(o, np.array([[1.0, 1.0], [0.0, 1.0]]), json.dumps({"related": 1}))
check("Embedding components: cos to float", cc[0], 1 / math.sqrt(2), 1e-12)
check("Embedding components: pair similarity", cc[2], 0.0, 1e-12)
check("Embedding with NaN is NaN", em.aggregate(np.where(np.arange(5) == 2, np.nan, ce))["spearman"], float("nan"))

# Stratified bootstrap: every resample keeps each class's count and draws
# a class's samples from that class only; with 2 positives in 60 an AUC
# interval exists (unstratified, ~13% of resamples draw no positive).
y = np.zeros(60)
y[[7, 41]] = 1
idx = stats.bootstrap_indices(60, 300, 1, strata=y > 0.5)
check("stratified: positives per resample", float(np.ptp(y[idx].sum(axis=1))) + float(y[idx].sum(axis=1)[0]), 2.0)
check("stratified: positives drawn from positives", float(np.all(y[idx[:, [7, 41]]] == 1)), 1.0)
sc = np.where(y > 0.5, 0.9, rng.uniform(0, 1, 60))
cw = np.stack([sc, y, np.zeros(60), np.zeros(60)], 1)
aucf = lambda c: w.aggregate(c)["auc"]  # noqa: E731
_, lo, hi = stats.ci(aucf, cw, strata=metrics.WakeRoc.strata(cw))
check("stratified AUC CI is finite", float(np.isfinite(lo) and np.isfinite(hi) and lo <= hi), 1.0)
_, lo, hi = stats.ci(aucf, cw)
check("unstratified AUC CI with 2 positives is NaN", lo, float("nan"))

# Perplexity against scipy's log_softmax: windows reduced one by one
# (reduce), perplexity over all their tokens, top-1 agreement with float.
from scipy.special import log_softmax  # noqa: E402
pm = metrics.Perplexity()
ids = [rng.integers(0, 11, (1, 6)) for _ in range(3)]
lg = [rng.normal(0, 3, (1, 6, 11)) for _ in range(3)]
lg_ref = [x + rng.normal(0, 1, x.shape) for x in lg]
nll = np.concatenate([-log_softmax(x[0].astype(np.float32).astype(np.float64), -1)[np.arange(5), i[0, 1:]] for x, i in zip(lg, ids)])
red = [pm.reduce(x.astype(np.float32), {"input_ids": i}) for x, i in zip(lg, ids)]
red_ref = [pm.reduce(x.astype(np.float32), {"input_ids": i}) for x, i in zip(lg_ref, ids)]
pc = metrics.evaluate(pm, red, red_ref, None)
check("Perplexity vs scipy log_softmax", pm.aggregate(pc)["ppl"], float(np.exp(nll.mean())), 1e-9)
agree = np.mean(np.concatenate([x[0, :5].argmax(-1) == y[0, :5].argmax(-1) for x, y in zip(lg, lg_ref)]))
check("Perplexity top-1 agreement with float", pm.aggregate(pc)["top1_agree"], float(agree))
nan_lg = lg[0].copy()
nan_lg[0, 2, 3] = np.nan
pn = metrics.evaluate(pm, [pm.reduce(nan_lg, {"input_ids": ids[0]})] + red[1:], red_ref, None)
check("Perplexity with a NaN logit is NaN", pm.aggregate(pn)["ppl"], float("nan"))

# quantc eval chooses the lowest perplexity (lower_is_better), not the highest.
from quantc import eval as qeval  # noqa: E402
ev = object.__new__(qeval.Evaluation)
ev.metric, ev.key, ev.n_val = pm, "ppl", 3
ev.sign = -1.0 if pm.lower_is_better else 1.0
ev.rows = []
for label, scale in (("worse", 2.0), ("better", 1.0)):
    r = qeval.Row(label, "matched", "quantc", "ORT literal")
    r.comps = np.array([[scale * 5, 5, 5]] * 6, np.float64)
    ev.rows.append(r)
check("choose: the lower perplexity", float(ev.choose("matched", "quantc").label == "better"), 1.0)

print("%d passed, %d failed" % (checks[0] - len(failures), len(failures)))
sys.exit(1 if failures else 0)
