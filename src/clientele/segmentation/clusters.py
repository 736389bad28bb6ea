"""Clusters: k-means on standardised recency, frequency, monetary and lifetime value.

Features come from the database in one set-based query: the latest snapshot of the RFM
definition `rfm_from` (days since the last purchase, purchase days, spend) joined with the
latest snapshot of the lifetime-value definition `clv_from` (when given). Customers
without a purchase are not clustered (class ``none``). Frequency, spend and lifetime value
are skewed, so they enter as log(1 + x); every feature is then standardised (z-score).

The fit is numeric work on float32 arrays (16 bytes per customer for four features; the
distance matrix is computed in chunks), deterministic: k-means++ seeding with a fixed
seed, a few restarts, the lowest inertia wins. Beyond FIT_SAMPLE customers the centres
are fitted on a fixed random sample and every customer is then assigned to the nearest
centre in one pass, so the time of a run stays bounded at a million customers. Clusters are numbered by their centre's average spend, highest first, so "Cluster
1" is always the most valuable and labels are stable from run to run. Each cluster is
described by its centre in plain words ("Bought 12 days ago on average, 8 purchases,
spends 3,400; high value"), in the active language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from .constants import cluster_code

SEED = 20240601
RESTARTS = 3
MAX_ITERATIONS = 100
# Squared movement of all centres (in standard deviations) that ends a restart: 1e-4 of
# the total variance per feature, as is usual for k-means.
TOLERANCE = 1e-4
FIT_SAMPLE = 100_000  # centres are fitted on at most this many customers, then all assigned
SEED_SAMPLE = 50_000  # k-means++ seeds from at most this many customers
CHUNK = 200_000  # rows per distance computation (bounds memory at 1M+ customers)
FEATURES = ("recency_days", "frequency", "monetary", "clv")


@dataclass
class Fit:
    labels: np.ndarray  # cluster number per row, 1 = highest average spend
    centres: list[dict]  # per cluster (in label order): raw-unit means and size
    inertia: float
    iterations: int


def standardise(raw: np.ndarray) -> np.ndarray:
    """Rows of (recency days, frequency, monetary[, clv]) as float32 z-scores, with the
    skewed columns (all but recency) on a log scale first."""
    x = np.array(raw, dtype=np.float32, copy=True)
    x[:, 1:] = np.log1p(np.clip(x[:, 1:], 0, None))
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    x -= mean.astype(np.float32)
    x /= std.astype(np.float32)
    return x


def _nearest(x: np.ndarray, centres: np.ndarray, with_distance: bool = False):
    """Index of the nearest centre per row (and the squared distance to it), chunk by
    chunk. ||x||^2 does not change the argmin, so it is only added for the distance."""
    labels = np.empty(x.shape[0], dtype=np.intp)
    dist = np.empty(x.shape[0], dtype=np.float64) if with_distance else None
    c_norm = (centres * centres).sum(axis=1)
    for start in range(0, x.shape[0], CHUNK):
        part = x[start : start + CHUNK]
        d = part @ (-2 * centres.T)
        d += c_norm
        chosen = d.argmin(axis=1)
        labels[start : start + CHUNK] = chosen
        if with_distance:
            best = np.take_along_axis(d, chosen[:, None], axis=1)[:, 0]
            dist[start : start + CHUNK] = np.maximum(best + (part * part).sum(axis=1), 0)
    return labels, dist


def _sums(labels: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster column sums (float64), by weighted bincount (fast, no Python loop
    over rows)."""
    return np.stack(
        [np.bincount(labels, weights=x[:, j], minlength=k) for j in range(x.shape[1])], axis=1
    )


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: each next centre drawn with probability ~ squared distance."""
    if x.shape[0] > SEED_SAMPLE:
        x = x[rng.choice(x.shape[0], SEED_SAMPLE, replace=False)]
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    centres[0] = x[rng.integers(x.shape[0])]
    closest = ((x - centres[0]) ** 2).sum(axis=1).astype(np.float64)
    for i in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than k: repeat one (dropped later)
            centres[i] = centres[i - 1]
            continue
        pick = rng.choice(x.shape[0], p=closest / total)
        centres[i] = x[pick]
        closest = np.minimum(closest, ((x - centres[i]) ** 2).sum(axis=1))
    return centres


def kmeans(x: np.ndarray, k: int, *, seed: int = SEED, restarts: int = RESTARTS):
    """Lloyd's algorithm from k-means++ seeds; returns (labels 0..k-1, centres, inertia,
    iterations) of the best restart. Stops when no label changes or the centres move less
    than TOLERANCE (squared, in standard deviations). Deterministic for a given seed and
    input order."""
    rng = np.random.default_rng(seed)
    best = None
    for _restart in range(restarts):
        centres = _plus_plus(x, k, rng)
        labels = None
        iteration = 0
        while iteration < MAX_ITERATIONS:
            iteration += 1
            new_labels, _dist = _nearest(x, centres)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            sums = _sums(labels, x, k)
            sizes = np.bincount(labels, minlength=k)
            filled = sizes > 0
            moved = centres.copy()
            moved[filled] = (sums[filled] / sizes[filled, None]).astype(np.float32)
            shift = float(((moved - centres) ** 2).sum())
            centres = moved
            if shift < TOLERANCE:
                labels, _dist = _nearest(x, centres)
                break
        _labels, dist = _nearest(x, centres, with_distance=True)
        inertia = float(dist.sum())
        if best is None or inertia < best[2] - 1e-9 * max(abs(best[2]), 1):
            best = (labels, centres, inertia, iteration)
    return best


def fit(raw: np.ndarray, k: int, *, seed: int = SEED) -> Fit:
    """Cluster rows of raw features (recency days, frequency, monetary[, clv]); clusters
    numbered 1.. by average monetary value, highest first (ties: by the other means)."""
    n = raw.shape[0]
    if n == 0:
        return Fit(np.empty(0, dtype=np.int32), [], 0.0, 0)
    distinct = np.unique(raw, axis=0).shape[0] if n <= 5_000_000 else n
    k = max(1, min(k, distinct))
    x = standardise(raw)
    if n > FIT_SAMPLE:
        # Centres from a fixed random sample (plenty for at most 12 centres in 4
        # dimensions), then one pass assigns every customer: time stays bounded at 1M+.
        pick = np.sort(np.random.default_rng(seed + 1).choice(n, FIT_SAMPLE, replace=False))
        _labels, centres, _inertia, iterations = kmeans(x[pick], k, seed=seed)
        labels, dist = _nearest(x, centres, with_distance=True)
        inertia = float(dist.sum())
    else:
        labels, _centres, inertia, iterations = kmeans(x, k, seed=seed)
    used = np.unique(labels)
    # Raw-unit means per cluster, for ordering and the plain-words description.
    sizes = np.bincount(labels, minlength=k).astype(np.int64)
    sums = _sums(labels, raw, k)
    means = sums / np.maximum(sizes, 1)[:, None]
    order = sorted(used.tolist(), key=lambda c: (-means[c, 2], -means[c, 1], means[c, 0], c))
    renumber = np.zeros(k, dtype=np.int32)
    overall = float(raw[:, 2].astype(np.float64).mean())
    centres = []
    for number, c in enumerate(order, start=1):
        renumber[c] = number
        centre = {
            "code": cluster_code(number),
            "size": int(sizes[c]),
            "recency_days": float(means[c, 0]),
            "frequency": float(means[c, 1]),
            "monetary": float(means[c, 2]),
            "clv": float(means[c, 3]) if raw.shape[1] > 3 else None,
        }
        centre["value"] = _value_level(centre["monetary"], overall)
        centres.append(centre)
    return Fit(renumber[labels], centres, inertia, iterations)


def _value_level(monetary: float, overall: float) -> str:
    """high / medium / low: the centre's average spend against the average of all."""
    if overall <= 0:
        return "medium"
    if monetary >= 1.5 * overall:
        return "high"
    if monetary <= 0.5 * overall:
        return "low"
    return "medium"


def describe(centre: dict) -> str:
    """A cluster's centre in plain words, in the active language."""
    value = {
        "high": _("high value"),
        "medium": _("medium value"),
        "low": _("low value"),
    }.get(centre.get("value"), "")
    text = _("Bought %(days)s days ago on average, %(purchases)s purchases, spends %(spend)s") % {
        "days": f"{centre['recency_days']:,.0f}",
        "purchases": f"{centre['frequency']:,.0f}",
        "spend": f"{centre['monetary']:,.0f}",
    }
    if centre.get("clv") is not None:
        text += _(", lifetime value %(clv)s") % {"clv": f"{centre['clv']:,.0f}"}
    if value:
        text += _("; %(value)s") % {"value": value}
    return text


def centres_of(run) -> dict:
    """The centres of a cluster run by class code ({} for other runs)."""
    outputs = (run.outputs or {}) if run is not None else {}
    return {c["code"]: c for c in outputs.get("centres") or []}
