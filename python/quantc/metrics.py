"""Task metrics of `quantc eval`, as per-sample components and an
aggregate, so that every number can carry a bootstrap interval
(quantc.stats).

A metric object has `keys` (the first is the one compared and gated),
`components(out, ref, label) -> list of floats` for one sample (`out`:
the candidate's first output, `ref`: the float model's, `label`: the
ground truth or None) and `aggregate([n, k] array) -> {key: value}`.
Higher is better for every first key, except where the metric sets
`lower_is_better = True` (perplexity). A metric whose raw output is large
(an LLM's logits) may define `reduce(out, feeds)`, which `quantc eval`
applies to each output as soon as it is computed, so that only the
reduced array is kept.
"""
import json

import numpy as np


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def _sum(c, j):
    return float(np.sum(c[:, j])) if len(c) else float("nan")


def _mean(c, j):
    return float(np.mean(c[:, j])) if len(c) else float("nan")


class Rec:
    """Text recognition: CTC greedy decoding with PP-OCR's dictionary;
    character accuracy = 1 - edit distance / length over all lines, and
    exact-line accuracy, against the rendered text."""
    keys = ("char_acc", "line_acc")

    def __init__(self, keys_path):
        keys = open(keys_path, encoding="utf-8").read().splitlines()
        self.chars = ["<blank>"] + keys + [" "]

    def decode(self, probs):
        idx = probs[0].argmax(-1)
        out, last = [], 0
        for i in idx:
            if i != last and i != 0:
                out.append(self.chars[i])
            last = i
        return "".join(out)

    def components(self, out, ref, label):
        text = self.decode(out)
        return [edit_distance(text, label), len(label), float(text == label)]

    def aggregate(self, c):
        return {"char_acc": 1 - _sum(c, 0) / _sum(c, 1) if len(c) else float("nan"), "line_acc": _mean(c, 2)}


class Cls:
    """Direction classifier: accuracy against the truth (0 upright, 1
    rotated 180 degrees) and agreement with float's prediction."""
    keys = ("acc", "agree")

    def components(self, out, ref, label):
        p, f = int(out.reshape(-1).argmax()), int(ref.reshape(-1).argmax())
        return [float(p == int(label)), float(p == f)]

    def aggregate(self, c):
        return {"acc": _mean(c, 0), "agree": _mean(c, 1)}


def connected_boxes(mask, prob, min_area=9, box_thresh=0.6):
    """Boxes [x0, y0, x1, y1] of the 8-connected regions of `mask` whose mean
    probability reaches `box_thresh` (PP-OCR's DB post-processing on
    axis-aligned boxes)."""
    from scipy import ndimage
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = []
    for k, sl in enumerate(ndimage.find_objects(lab), 1):
        if sl is None:
            continue
        region = lab[sl] == k
        area = int(region.sum())
        if area < min_area or float(prob[sl][region].mean()) < box_thresh:
            continue
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        # DB's unclip: grow by area * ratio / perimeter (ratio 1.5).
        w, h = x1 - x0, y1 - y0
        d = w * h * 1.5 / (2.0 * (w + h))
        boxes.append([x0 - d, y0 - d, x1 + d, y1 + d])
    return boxes


def box_iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def match_boxes(pred, gt, thresh=0.5):
    """One-to-one matches with IoU >= thresh, greedily by IoU."""
    pairs = sorted(((box_iou(p, g), i, j) for i, p in enumerate(pred) for j, g in enumerate(gt)), reverse=True)
    used_p, used_g, tp = set(), set(), 0
    for iou, i, j in pairs:
        if iou < thresh:
            break
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            tp += 1
    return tp


class Det:
    """Text detection: the probability map thresholded at 0.3, regions
    turned into boxes (DB post-processing, axis-aligned), matched one to
    one at IoU >= 0.5 with the line boxes the renderer drew: precision,
    recall, hmean over all pages. Also the IoU of the thresholded map with
    float's."""
    keys = ("hmean", "precision", "recall", "map_iou")

    def components(self, out, ref, label):
        prob = out.reshape(out.shape[-2:])
        pred = connected_boxes(prob > 0.3, prob)
        gt = json.loads(label)
        a, b = prob > 0.3, ref.reshape(ref.shape[-2:]) > 0.3
        return [match_boxes(pred, gt), len(pred), len(gt),
                float(np.logical_and(a, b).sum()), float(np.logical_or(a, b).sum())]

    def aggregate(self, c):
        tp, npred, ngt = _sum(c, 0), _sum(c, 1), _sum(c, 2)
        p = tp / npred if npred else 0.0
        r = tp / ngt if ngt else float("nan")
        return {"hmean": 2 * p * r / (p + r) if p + r > 0 else 0.0, "precision": p, "recall": r,
                "map_iou": _sum(c, 3) / _sum(c, 4) if _sum(c, 4) else 1.0}


class Sqnr:
    """Output SQNR against float's over all samples, dB (signal and noise
    energies summed, then divided)."""
    keys = ("sqnr_db",)

    def components(self, out, ref, label):
        r = ref.astype(np.float64).ravel()
        return [float(np.sum(r * r)), float(np.sum((out.astype(np.float64).ravel() - r) ** 2))]

    def aggregate(self, c):
        s, n = _sum(c, 0), _sum(c, 1)
        if not (np.isfinite(s) and np.isfinite(n)):
            return {"sqnr_db": float("nan")}
        return {"sqnr_db": float("inf") if n == 0 else float(10 * np.log10(s / n)) if s > 0 else float("-inf")}


class Decision:
    """Score models (wake word, VAD): fidelity = 1 - mean |score - float
    score| (scores in [0, 1]; it does not saturate while any score moves)
    and the agreement of score > 0.5 with float's."""
    keys = ("fidelity", "agree")

    def components(self, out, ref, label):
        s, f = float(out.reshape(-1)[0]), float(ref.reshape(-1)[0])
        return [1.0 - abs(s - f), float((s > 0.5) == (f > 0.5))]

    def aggregate(self, c):
        return {"fidelity": _mean(c, 0), "agree": _mean(c, 1)}


class WakeRoc:
    """Wake word over whole clips (the mel -> embedding -> head pipeline):
    a clip's score is the head's highest score over its windows. ROC-AUC
    of that score against whether the clip says the word (the probability
    that a positive clip outscores a negative one, ties counted half),
    accuracy of score > 0.5 (the model's threshold) against the truth,
    agreement of that decision with float's, and the positive rate."""
    keys = ("auc", "acc", "agree", "pos_rate")

    @staticmethod
    def strata(c):
        """Bootstrap within positives and negatives (stats): AUC needs both."""
        return np.asarray(c)[:, 1] > 0.5

    def __init__(self, word):
        self.word = word

    def components(self, out, ref, label):
        y = int(json.loads(label)[self.word])
        s, f = float(out.reshape(-1)[0]), float(ref.reshape(-1)[0])
        return [s, float(y), float((s > 0.5) == bool(y)), float((s > 0.5) == (f > 0.5))]

    def aggregate(self, c):
        nan = float("nan")
        if not len(c):
            return {"auc": nan, "acc": nan, "agree": nan, "pos_rate": nan}
        s, y = c[:, 0], c[:, 1] > 0.5
        npos, nneg = int(y.sum()), int((~y).sum())
        if not np.all(np.isfinite(s)) or npos == 0 or nneg == 0:
            auc = nan
        else:
            from scipy.stats import rankdata
            ranks = rankdata(s)  # ties get their mean rank: a tie counts half
            auc = float((ranks[y].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))
        return {"auc": auc, "acc": _mean(c, 2), "agree": _mean(c, 3), "pos_rate": _mean(c, 1)}


class Embedding:
    """Sentence embeddings (MiniLM), one pair of sentences per sample: the
    Spearman correlation of the pairs' cosine similarities with float's
    (how well the ranking of similarities survives quantization), the mean
    cosine of each embedding to float's, and the ROC-AUC of the pair
    similarity for telling related pairs (consecutive sentences of one
    paragraph) from unrelated ones (the task, against the labels)."""
    keys = ("spearman", "cos", "related_auc")

    @staticmethod
    def strata(c):
        """Bootstrap within related and unrelated pairs (related_auc needs both)."""
        return np.asarray(c)[:, 4] > 0.5

    def components(self, out, ref, label):
        o, r = np.asarray(out, np.float64).reshape(2, -1), np.asarray(ref, np.float64).reshape(2, -1)

        def cos(a, b):
            return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        return [cos(o[0], r[0]), cos(o[1], r[1]), cos(o[0], o[1]), cos(r[0], r[1]),
                float(json.loads(label)["related"])]

    def aggregate(self, c):
        nan = float("nan")
        if not len(c):
            return {"spearman": nan, "cos": nan, "related_auc": nan}
        from scipy.stats import rankdata
        if not np.all(np.isfinite(c[:, :4])):
            return {"spearman": nan, "cos": nan, "related_auc": nan}
        rq, rf = rankdata(c[:, 2]), rankdata(c[:, 3])
        sq, sf = np.std(rq), np.std(rf)
        spearman = float(np.mean((rq - rq.mean()) * (rf - rf.mean())) / (sq * sf)) if sq > 0 and sf > 0 else nan
        y = c[:, 4] > 0.5
        npos, nneg = int(y.sum()), int((~y).sum())
        auc = nan
        if npos and nneg:
            ranks = rankdata(c[:, 2])
            auc = float((ranks[y].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))
        return {"spearman": spearman, "cos": float(np.mean(c[:, :2])), "related_auc": auc}


class Perplexity:
    """A causal language model on windows of text (input_ids [1, S]): each
    window's logits are reduced at once to the negative log-likelihood of
    every next token and the predicted token (`reduce`). Perplexity =
    exp(total NLL / tokens) over the windows (lower is better), and top-1
    agreement: the fraction of positions where the candidate's most likely
    next token is float's."""
    keys = ("ppl", "top1_agree")
    lower_is_better = True

    @staticmethod
    def reduce(out, feeds):
        logits = np.asarray(out, np.float64)[0, :-1]  # [S-1, vocab]: position t predicts token t+1
        target = np.asarray(feeds["input_ids"])[0, 1:]
        m = logits.max(axis=-1)
        lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=-1))
        nll = lse - logits[np.arange(len(target)), target]
        return np.stack([nll, logits.argmax(axis=-1).astype(np.float64)])

    def components(self, out, ref, label):
        o, r = np.asarray(out), np.asarray(ref)
        return [float(o[0].sum()), float(o.shape[1]), float(np.sum(o[1] == r[1]))]

    def aggregate(self, c):
        if not len(c):
            return {"ppl": float("nan"), "top1_agree": float("nan")}
        return {"ppl": float(np.exp(_sum(c, 0) / _sum(c, 1))), "top1_agree": _sum(c, 2) / _sum(c, 1)}


def _f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else 1.0


class VadStream:
    """Streaming VAD: one array of 512-sample chunk probabilities per clip.
    A chunk is speech when at least half of it lies in the labelled speech
    segment. Frame F1 of p > 0.5 against those labels and against float's
    decisions."""
    keys = ("f1_truth", "f1_vs_float")

    def components(self, out, ref, label):
        seg = json.loads(label)
        n = len(out)
        starts = np.arange(n) * 512
        truth = (np.minimum(starts + 512, seg[1]) - np.maximum(starts, seg[0]) >= 256) if seg else np.zeros(n, bool)
        pred, fpred = np.asarray(out) > 0.5, np.asarray(ref) > 0.5

        def counts(want):
            return [float(np.sum(pred & want)), float(np.sum(pred & ~want)), float(np.sum(~pred & want))]
        return counts(truth) + counts(fpred)

    def aggregate(self, c):
        if not len(c):
            return {"f1_truth": float("nan"), "f1_vs_float": float("nan")}
        t = c.sum(axis=0)
        return {"f1_truth": _f1(*t[0:3]), "f1_vs_float": _f1(*t[3:6])}


def evaluate(metric, outs, refs, labels):
    """[n, k] components of every sample. A NaN output makes its sample's
    components NaN (so the aggregate is NaN and any gate on it fails)."""
    rows = []
    for i, (o, r) in enumerate(zip(outs, refs)):
        o = np.asarray(o)
        comps = metric.components(o, np.asarray(r), labels[i] if labels else None)
        if not np.all(np.isfinite(o)):
            comps = [float("nan")] * len(comps)
        rows.append(comps)
    return np.array(rows, np.float64).reshape(len(rows), -1)
