"""Customer lifetime value: the BG/NBD purchase model and the Gamma-Gamma spend model.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") predicts repeat
purchases; Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves")
predicts the average order value. Both are fitted by maximum likelihood on *compressed*
sufficient statistics: every customer with the same (frequency, recency, age) contributes the
same likelihood term, so the fit runs on unique rows weighted by their counts and its cost does
not grow with the number of customers (a SQL ``GROUP BY ... COUNT(*)`` can feed ``weights``).

Conventions (as in the papers and the ``lifetimes`` package): ``frequency`` x is the number of
*repeat* purchases, ``recency`` t_x the time of the last purchase and ``age`` T the time of
observation, both measured from the first purchase in one time unit of your choice (days,
weeks); ``monetary`` is the mean value of the repeat purchases. Fits raise
:class:`InsufficientDataError` (a ``ValueError``) when there is nothing to learn from; data that
cannot identify the model (no repeat buyers, one customer, identical customers) still fits, with
estimates held inside a parameter box, ``degenerate=True``, and finite predictions.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from scipy import optimize, special
from threadpoolctl import threadpool_limits

# Parameters are estimated as logs inside this box (after rescaling time/money to order one):
# degenerate data drives the MLE to 0 or infinity, and the box keeps every output finite.
LOG_BOUND = float(np.log(1e6))
DEGENERATE_LOG = float(np.log(1e4))

# Tanh-sinh nodes on (0, 1), used only where the closed form of E[X(t)] breaks down.
_TS_S = np.arange(-170, 171) / 32.0
_TS_Q = 0.5 * np.pi * np.sinh(_TS_S)
_TS_U, _TS_UC = special.expit(2 * _TS_Q), special.expit(-2 * _TS_Q)  # node and 1 - node
_TS_W = np.cosh(_TS_S) * np.exp(-2 * np.abs(_TS_Q)) / (1 + np.exp(-2 * np.abs(_TS_Q))) ** 2
_TS_W /= _TS_W.sum()


class InsufficientDataError(ValueError):
    """Raised by a fit that has no usable customers (no rows; for Gamma-Gamma, no repeat buyer
    with positive spend). Callers can fall back, e.g. pass ``None`` as Gamma-Gamma params."""


class _Params:
    """Shared behaviour of the fitted-parameter dataclasses."""

    def to_dict(self) -> dict:
        """Plain dict of the fields, e.g. for JSON storage."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class BetaGeoParams(_Params):
    """Fitted BG/NBD model: purchase rates ~ Gamma(r, alpha) (alpha in the data's time unit),
    dropout probabilities ~ Beta(a, b). ``degenerate`` is True when the data cannot pin the
    model down (no repeat purchase, or an estimate beyond [1e-4, 1e4] on rescaled data)."""

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    n_customers: int
    degenerate: bool = False


@dataclasses.dataclass(frozen=True)
class GammaGammaParams(_Params):
    """Fitted Gamma-Gamma model: order values ~ Gamma(p, nu), nu ~ Gamma(q, gamma) (gamma in
    money units). ``degenerate`` as for :class:`BetaGeoParams` (e.g. a single spend level)."""

    p: float
    q: float
    gamma: float
    loglik: float
    n_customers: int
    degenerate: bool = False


class Compressed(NamedTuple):
    """Unique rows of the input columns, their counts, and ``inverse`` so that
    ``columns[k][inverse]`` reproduces the k-th input column."""

    columns: tuple[np.ndarray, ...]
    counts: np.ndarray
    inverse: np.ndarray


def compress(*columns, weights=None) -> Compressed:
    """Group equal rows of 1-d columns, e.g. ``compress(frequency, recency, age)``.

    Same result as ``numpy.unique(rows, axis=0, return_inverse=True, return_counts=True)``
    but about five times faster (a lexsort instead of sorting byte strings). With ``weights``
    the counts are sums of weights (for already-aggregated input)."""
    cols = [np.asarray(c, dtype=float).ravel() + 0.0 for c in columns]  # + 0.0 merges -0.0 and 0.0
    n = cols[0].size
    if any(c.size != n for c in cols):
        raise ValueError("all columns must have the same length")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise ValueError("weights must have one entry per row")
    if n == 0:
        return Compressed(tuple(cols), np.zeros(0), np.zeros(0, dtype=np.intp))
    order = np.lexsort(cols[::-1])
    new = np.zeros(n, dtype=bool)  # True where a sorted row differs from its predecessor
    new[0] = True
    for c in cols:
        s = c[order]
        new[1:] |= s[1:] != s[:-1]
    group = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group
    first = order[new]
    counts = np.bincount(group) if weights is None else np.bincount(group, weights=w[order])
    return Compressed(tuple(c[first] for c in cols), counts, inverse)


def _rft(x, t_x, T):
    """Validate and broadcast (frequency, recency, age) to float arrays."""
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("frequency, recency and age must be finite numbers")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("frequency must be a non-negative whole number of repeat purchases")
    if (t_x < 0).any() or (t_x > T).any():
        raise ValueError("recency and age must satisfy 0 <= recency <= age")
    return x, t_x, T


def _weights(w, n):
    w = np.ones(n) if w is None else np.broadcast_to(np.asarray(w, dtype=float), (n,))
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return w


def _maximise(negll, n_params):
    """Minimise a mean negative log-likelihood over log-parameters from a fixed start (all
    parameters 1 on the rescaled data, so the result is deterministic).

    The optimiser's linear algebra runs on one BLAS thread: its vectors are tiny, and
    OpenBLAS's idle workers otherwise spin after each call, taking the cores the database
    needs while a fit runs beside other definitions (see `_dot`)."""
    with threadpool_limits(limits=1, user_api="blas"):
        bounds = [(-LOG_BOUND, LOG_BOUND)] * n_params

        def lbfgs(start, **options):
            return optimize.minimize(
                negll, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
            )

        best = lbfgs(np.zeros(n_params))
        if not best.success:  # rare: quasi-Newton stalled on a flat or awkward surface
            nm = optimize.minimize(
                lambda v: negll(v)[0], best.x, method="Nelder-Mead", bounds=bounds,
                options={"maxiter": 4000, "xatol": 1e-10, "fatol": 1e-14},
            )  # fmt: skip
            best = nm if nm.fun < best.fun else best
        # Polish with tight tolerances; L-BFGS-B restarts with a fresh curvature estimate.
        polish = lbfgs(best.x, ftol=1e-15, gtol=1e-10, maxiter=2000)
        theta = polish.x if polish.fun <= best.fun else best.x
        # Beyond [1e-4, 1e4] on the rescaled data the likelihood is flat or still climbing towards
        # the box: the data cannot pin the model down, which callers should be told.
        return np.exp(theta), bool((np.abs(theta) > DEGENERATE_LOG).any())


def _dot(weights, values) -> float:
    """The weighted sum of values. Not `weights @ values`: at fit sizes BLAS spreads a dot
    product over worker threads that then spin between calls, taking the cores the
    database needs while a fit runs beside other definitions (with `_maximise`'s limit, a
    million-customer order file classified in about 10-11 s instead of 13-15 s on 2
    cores)."""
    return float(np.add.reduce(weights * values))


class _Rows(NamedTuple):
    """Fit data with per-distinct-frequency bookkeeping: special functions of x are evaluated
    once per distinct x (a few hundred values) instead of once per row."""

    x: np.ndarray
    w: np.ndarray
    xu: np.ndarray  # distinct frequencies
    xi: np.ndarray  # row -> index into xu
    wx: np.ndarray  # total weight per distinct frequency


def _rows(x, w) -> _Rows:
    xu, xi = np.unique(x, return_inverse=True)
    return _Rows(x, w, xu, xi.ravel(), np.bincount(xi.ravel(), weights=w, minlength=xu.size))


def _bg_loglik(prm, d: _Rows, t_x, T):
    """Weighted BG/NBD log-likelihood and its gradient with respect to (r, alpha, a, b).

    Per row: L = A * [B(a, b+x)/B(a, b) (alpha+T)^-(r+x) + [x>0] B(a+1, b+x-1)/B(a, b)
    (alpha+t_x)^-(r+x)]; the second term is the first times exp(D), D the log-odds of having
    dropped out after t_x, so log L = log(first) + log1p(exp(D)) with no overflow."""
    r, alpha, a, b = prm
    x, w, xu, xi, wx = d
    rep = x > 0
    bx1 = b + np.maximum(xu, 1) - 1  # b + x - 1, kept positive where x = 0 masks it anyway
    lg_u = special.gammaln(r + xu) - special.gammaln(r) + special.betaln(a, b + xu)
    lg_u -= special.betaln(a, b)
    la_T, la_tx = np.log(alpha + T), np.log(alpha + t_x)
    D = (np.log(a) - np.log(bx1))[xi] + (r + x) * (la_T - la_tx)
    w3 = np.where(rep, special.expit(D), 0.0)  # posterior P(dropped out | data)
    w2 = 1.0 - w3
    per_row = r * np.log(alpha) - (r + x) * la_T + np.where(rep, np.logaddexp(0, D), 0)
    ll = _dot(wx, lg_u) + _dot(w, per_row)
    dab = special.digamma(a + b) - special.digamma(a + b + xu)
    grad = np.array(
        [
            _dot(wx, special.digamma(r + xu) - special.digamma(r)) + w.sum() * np.log(alpha)
            - _dot(w, w2 * la_T + w3 * la_tx),
            w.sum() * r / alpha - _dot(w, (r + x) * (w2 / (alpha + T) + w3 / (alpha + t_x))),
            _dot(wx, dab) + _dot(w, w3) / a,
            _dot(wx, dab + special.digamma(b + xu) - special.digamma(b)) - _dot(w, w3 / bx1[xi]),
        ]
    )  # fmt: skip
    return float(ll), grad


def fit_beta_geo(frequency, recency, age, weights=None, *, compress_rows=True) -> BetaGeoParams:
    """Fit BG/NBD by maximum likelihood on (x, t_x, T) per customer or per unique row.

    ``weights`` (default 1) are counts of customers per row. Rows are compressed to unique
    triples first unless ``compress_rows=False`` (same result, used to check just that).
    Raises :class:`InsufficientDataError` when there are no customers; without any repeat
    purchase the estimates sit on the parameter box (``degenerate=True``) and predict ~0
    future purchases."""
    x, t_x, T = (v.ravel() for v in _rft(frequency, recency, age))
    w = _weights(weights, x.size)
    keep = w > 0
    x, t_x, T, w = x[keep], t_x[keep], T[keep], w[keep]
    if x.size == 0:
        raise InsufficientDataError("BG/NBD needs at least one customer")
    if compress_rows:
        c = compress(x, t_x, T, weights=w)
        (x, t_x, T), w = c.columns, c.counts
    # Rescale time so alpha is of order one whatever the unit; alpha scales back exactly.
    scale = float(T.max()) if T.max() > 0 else 1.0
    ts, Ts, total, d = t_x / scale, T / scale, w.sum(), _rows(x, w)

    def negll(theta):
        prm = np.exp(theta)
        ll, grad = _bg_loglik(prm, d, ts, Ts)
        return -ll / total, -grad * prm / total

    (r, alpha, a, b), at_bound = _maximise(negll, 4)
    prm = np.array([r, alpha * scale, a, b])
    loglik = _bg_loglik(prm, d, t_x, T)[0]  # reported in the caller's time unit
    return BetaGeoParams(
        *map(float, prm), float(loglik), round(total), at_bound or not (x > 0).any()
    )


def _gg_loglik(prm, d: _Rows, log_m, m):
    """Weighted Gamma-Gamma log-likelihood of mean spend m over x purchases, and its gradient:
    x * mean ~ Gamma(p x, nu), nu ~ Gamma(q, gamma), integrated over nu."""
    p, q, g = prm
    x, w, xu, xi, wx = d
    pxu, px = p * xu, p * x
    lgx = np.log(xu)
    lg_u = special.gammaln(pxu + q) - special.gammaln(pxu) - special.gammaln(q) + pxu * lgx
    lgm = np.log(g + x * m)
    ll = _dot(wx, lg_u) + _dot(w, q * np.log(g) + (px - 1) * log_m - (px + q) * lgm)
    dg = special.digamma(pxu + q)
    grad = np.array(
        [
            _dot(wx, xu * (dg - special.digamma(pxu) + lgx)) + _dot(w, x * (log_m - lgm)),
            _dot(wx, dg - special.digamma(q)) + _dot(w, np.log(g) - lgm),
            w.sum() * q / g - _dot(w, (px + q) / (g + x * m)),
        ]
    )
    return float(ll), grad


def fit_gamma_gamma(frequency, monetary, weights=None) -> GammaGammaParams:
    """Fit Gamma-Gamma by maximum likelihood on unique (frequency, mean spend) pairs.

    Only repeat buyers with positive spend are used (x > 0 and monetary > 0): the model needs
    at least one observed repeat order and a positive value (zero or negative means, e.g.
    refunds, are excluded). Raises :class:`InsufficientDataError` when none remain."""
    x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary, float))
    x, m = x.ravel(), m.ravel()
    if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any():
        raise ValueError("frequency must be >= 0 and monetary finite")
    w = _weights(weights, x.size)
    use = (x > 0) & (m > 0) & (w > 0)
    if not use.any():
        raise InsufficientDataError("Gamma-Gamma needs a repeat buyer with positive spend")
    c = compress(x[use], m[use], weights=w[use])
    (x, m), w = c.columns, c.counts
    scale = float(np.average(m, weights=w))  # money rescaled to order one; gamma scales back
    total, d, ms = w.sum(), _rows(x, w), m / scale
    log_ms = np.log(ms)

    def negll(theta):
        prm = np.exp(theta)
        ll, grad = _gg_loglik(prm, d, log_ms, ms)
        return -ll / total, -grad * prm / total

    (p, q, g), at_bound = _maximise(negll, 3)
    loglik = _gg_loglik(np.array([p, q, g * scale]), d, np.log(m), m)[0]
    return GammaGammaParams(float(p), float(q), float(g * scale), loglik, round(total), at_bound)


def probability_alive(params: BetaGeoParams, x, t_x, T):
    """P(customer still active | x, t_x, T); 1 for customers without repeat purchases (the
    model lets customers drop out only right after a repeat purchase). Vectorised."""
    x, t_x, T = _rft(x, t_x, T)
    rep = x > 0
    xs = np.where(rep, x, 1.0)
    # P = 1 / (1 + odds); odds computed as logs and passed through expit so nothing overflows.
    log_odds = (
        np.log(params.a) - np.log(params.b + xs - 1)
        + (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + t_x))
    )  # fmt: skip
    return np.where(rep, special.expit(-log_odds), 1.0)[()]


def _alive_purchases(t, R, A, a, B):
    """E[purchases in (0, t]] for a customer alive now, with rate ~ Gamma(R, A) and dropout
    ~ Beta(a, B): the BG/NBD formula (a+B-1)/(a-1) [1 - (A/(A+t))^R 2F1(R, B; a+B-1; z)]."""
    if abs(a - 1) < 1e-6:  # 0/0 at a = 1 although smooth in a: interpolate across it
        lo, hi = (_alive_purchases(t, R, A, 1 + d, B) for d in (-2e-6, 2e-6))
        return lo + (hi - lo) * (a - 1 + 2e-6) / 4e-6
    t, R, A, B = (v.astype(float) for v in np.broadcast_arrays(t, R, A, B))
    z, c, log1mz = t / (A + t), a + B - 1, -np.log1p(t / A)
    upper = R * t / A  # the expectation if nobody ever dropped out
    with np.errstate(all="ignore"):
        # Euler's transformation 2F1(R,B;c;z) = (1-z)^(c-R-B) 2F1(c-R, a-1; c; z) avoids the
        # overflow of 2F1 times an underflowing power when R is large and z near 1.
        f = special.hyp2f1(c - R, a - 1, c, z)
        k = (a - 1) * log1mz
        one_minus_s = np.where(f > 0, -np.expm1(k + np.log(np.abs(f))), 1 - np.exp(k) * f)
        e = c / (a - 1) * one_minus_s
    bad = ~np.isfinite(e) | (e < -1e-9 * upper) | (e > upper * (1 + 1e-9))
    if bad.any():  # extreme parameters (e.g. huge rates): integrate over dropout instead
        e[bad] = _alive_purchases_quad(t[bad], R[bad], A[bad], a, B[bad])
    return np.clip(e, 0.0, upper)


def _alive_purchases_quad(t, R, A, a, B):
    """Same as the closed form, as E_p[(1 - (1 + p t/A)^-R) / p] over p ~ Beta(a, B), by
    tanh-sinh quadrature in the quantile of p (handles p^(a-1) and (1-p)^(B-1) end points)."""
    ub, inv = np.unique(B, return_inverse=True)  # nodes depend only on B, shared across t
    lo = special.betaincinv(a, ub[:, None], _TS_U)
    hi = special.betainccinv(a, ub[:, None], _TS_UC)
    p = np.where(_TS_U < 0.5, lo, hi)[inv.ravel()]
    ratio = (t / A)[:, None]
    with np.errstate(all="ignore"):
        g = -np.expm1(-R[:, None] * np.log1p(p * ratio)) / p
    g = np.where(p > 0, g, R[:, None] * ratio)  # limit at p -> 0
    ok = np.isfinite(g)  # betaincinv can fail at extreme parameters: drop those nodes
    # Row sums, not a matrix product: see `_dot`.
    total = (np.where(ok, g, 0.0) * _TS_W).sum(axis=1)
    return total / np.maximum((ok * _TS_W).sum(axis=1), 1e-300)


def expected_purchases(params: BetaGeoParams, t, x=0, t_x=0, T=0):
    """E[X(t) | x, t_x, T]: expected repeat purchases in the next ``t`` time units.

    With the defaults (x = t_x = T = 0, a customer acquired just now) this is the
    unconditional E[X(t)] of the population. Vectorised over broadcastable arrays."""
    x, t_x, T = _rft(x, t_x, T)
    t = np.asarray(t, dtype=float)
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("horizon t must be finite and >= 0")
    t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
    # Given the history the customer is a fresh one with updated parameters, times P(alive).
    e = _alive_purchases(t, params.r + x, params.alpha + T, params.a, params.b + x)
    return (probability_alive(params, x, t_x, T) * e)[()]


def expected_order_value(params: GammaGammaParams | None, frequency, monetary):
    """Gamma-Gamma conditional mean order value E[Z | x, mean spend] =
    p (gamma + x m) / (p x + q - 1), a credibility blend of population and own mean.

    Customers without usable spend (x = 0 or monetary <= 0) get the population mean
    p gamma / (q - 1). Fallback to the customer's own mean (negative as 0) where that mean
    is infinite (q <= 1) or when ``params`` is None (no fit was possible)."""
    x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary, float))
    if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any():
        raise ValueError("frequency must be >= 0 and monetary finite")
    own = np.maximum(m, 0.0)
    if params is None:
        return own[()]
    informative = (x > 0) & (m > 0)
    xe, me = np.where(informative, x, 0.0), np.where(informative, m, 0.0)
    den = params.p * xe + params.q - 1
    ok = den > 0
    return np.where(ok, params.p * (params.gamma + xe * me) / np.where(ok, den, 1.0), own)[()]


def lifetime_value(bg, gg, x, t_x, T, monetary, horizon, discount_rate, period=1.0):
    """Discounted expected revenue over ``horizon`` (whole) periods of ``period`` time units:
    sum_i (E[X(i period)] - E[X((i-1) period)]) * E[order value] / (1 + discount_rate)^i,
    with ``discount_rate`` per period, ``bg`` a :class:`BetaGeoParams` and ``gg`` a
    :class:`GammaGammaParams` or None (see :func:`expected_order_value`). Vectorised; equal
    (x, t_x, T) share one computation."""
    x, t_x, T = _rft(x, t_x, T)
    if int(horizon) != horizon or horizon < 0:
        raise ValueError("horizon must be a whole number of periods >= 0")
    if not (np.isfinite(discount_rate) and discount_rate > -1):
        raise ValueError("discount_rate must be > -1")
    if not (np.isfinite(period) and period > 0):
        raise ValueError("period must be > 0")
    value = expected_order_value(gg, x, monetary)
    x, t_x, T, value = np.broadcast_arrays(x, t_x, T, value)
    c = compress(x, t_x, T)
    ux, utx, uT = c.columns
    factor, prev = np.zeros(ux.size), np.zeros(ux.size)
    for i in range(1, int(horizon) + 1):
        cur = _alive_purchases(i * period, bg.r + ux, bg.alpha + uT, bg.a, bg.b + ux)
        factor += np.maximum(cur - prev, 0.0) / (1 + discount_rate) ** i
        prev = cur
    purchases = probability_alive(bg, ux, utx, uT) * factor
    return (purchases[c.inverse].reshape(x.shape) * value)[()]
