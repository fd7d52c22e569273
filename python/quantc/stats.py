"""Confidence intervals for the evaluation tables: the paired bootstrap.

A task metric is an aggregate of per-sample components (a ratio of sums,
a mean, an SQNR of summed energies), so it is recomputed on resampled
sets of samples. Two candidates evaluated on the same samples are
compared by resampling the *same* indices for both (paired), which
removes the between-sample variance that both share.

Ranking metrics (ROC-AUC) are undefined on a resample that drew no
positive or no negative; they pass `strata` (each sample's class) and
are resampled within each class (a stratified bootstrap: every resample
keeps the class counts of the evaluation set).
"""
import numpy as np


def bootstrap_indices(n, resamples=1000, seed=0, strata=None):
    """`resamples` x `n` indices drawn with replacement (fixed seed: a
    table is reproducible run to run). With `strata` (n class labels),
    each class's samples are drawn from that class only."""
    rng = np.random.default_rng(seed)
    if strata is None:
        return rng.integers(0, n, size=(resamples, n))
    strata = np.asarray(strata)
    if strata.shape != (n,):
        raise ValueError("strata: %s labels for %d samples" % (strata.shape, n))
    idx = np.empty((resamples, n), np.int64)
    for cls in np.unique(strata):
        members = np.flatnonzero(strata == cls)
        idx[:, members] = members[rng.integers(0, len(members), size=(resamples, len(members)))]
    return idx


def paired_difference_ci(aggregate, comps_a, comps_b, level=0.95, resamples=1000, seed=0, strata=None):
    """(difference, low, high): aggregate(a) - aggregate(b) on all samples
    and the percentile interval of that difference over paired bootstrap
    resamples. `aggregate` maps an [n, k] component array to a number.
    NaN in, NaN out (never an interval that looks fine)."""
    comps_a, comps_b = np.asarray(comps_a, np.float64), np.asarray(comps_b, np.float64)
    if comps_a.shape != comps_b.shape:
        raise ValueError("paired samples differ in shape: %s vs %s" % (comps_a.shape, comps_b.shape))
    diff = aggregate(comps_a) - aggregate(comps_b)
    n = comps_a.shape[0]
    if n == 0 or not np.isfinite(diff):
        return float(diff) if n else float("nan"), float("nan"), float("nan")
    idx = bootstrap_indices(n, resamples, seed, strata)
    d = np.array([aggregate(comps_a[i]) - aggregate(comps_b[i]) for i in idx])
    if not np.all(np.isfinite(d)):
        return float(diff), float("nan"), float("nan")
    alpha = (1 - level) / 2
    return float(diff), float(np.quantile(d, alpha)), float(np.quantile(d, 1 - alpha))


def ci(aggregate, comps, level=0.95, resamples=1000, seed=0, strata=None):
    """(value, low, high) of one candidate's metric."""
    comps = np.asarray(comps, np.float64)
    value = aggregate(comps)
    n = comps.shape[0]
    if n == 0 or not np.isfinite(value):
        return float(value) if n else float("nan"), float("nan"), float("nan")
    vals = np.array([aggregate(comps[i]) for i in bootstrap_indices(n, resamples, seed, strata)])
    alpha = (1 - level) / 2
    return float(value), float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha))
