"""American option prices, Greeks and implied volatility (Andersen-Lake-Offengenden), vectorised.

Why: SPY and single-stock options are American. Bjerksund-Stensland (LEAN's old default) is
0.5-1.5% low for puts and LEAN's 200-step forward tree mis-places its nodes (greeks.md 2.5, 3),
so neither is good enough to back out implied volatility. This module implements the
integral-equation method that QuantLib's ``QdFpAmericanEngine`` uses:

    L. Andersen, M. Lake, D. Offengenden, "High-performance American option pricing",
    Journal of Computational Finance 20(1), 2016, pp. 39-87.

Outline, for a put (calls use the McDonald-Schroder symmetry C(S, K, r, q) = P(K, S, q, r)):
  * exercise boundary B(tau) on Chebyshev-Lobatto nodes in sqrt(tau), represented as
    H = ln(B/X)^2 with X = K min(1, r/q) (its tau -> 0 limit), interpolated in between;
  * B solved from the fixed-point system "FP-B" (ALO eq. 4.10-4.12, the smooth-pasting form)
        B = K e^{-(r-q) tau} N(tau, B) / D(tau, B),
    whose integrals over u in [0, tau] are taken with Gauss-Legendre after the substitution
    tau - u = tau (1+y)^2 / 4, which removes the 1/sqrt(tau - u) singularity;
  * the price is the European price plus the early-exercise premium integral (ALO eq. 2.7).
The initial boundary is Bjerksund-Stensland's (1993) exponential approximation, a cheap and
robust start for the fixed point (ALO use QD+; the fixed point converges from either).

Accuracy (tests/test_pricing_american.py, against QuantLib 1.44 ``QdFpAmericanEngine``
high-precision scheme): the default scheme is within ~1e-5 relative (one-cent floor) on SPY-like
chains incl. 0DTE, far inside the 1e-3 requirement. Cost, vectorised on one core: ~0.04 ms per
price, ~0.15 ms per implied volatility, ~0.25 ms for the five Greeks.

Domain (:func:`in_domain`), where prices and implied vols are checked against QuantLib's
high-precision QdFp engine to 1e-4 relative (a one-cent floor; measured worst 3e-5 over ~1,200 random
options, tests/test_pricing_american.py): 0 <= r <= 30%, 0 <= q <= 30%, t <= 3 years, vol <= 500%, and
the early-exercise carry small against the volatility: c = e^2 t / vol^2 <= 2 with e the rate that
drives early exercise (r for a put, q for a call). Beyond c ~ 4 the FP-B fixed point stops converging
(low volatility with a high rate or dividend over months: errors of 1-30% were measured). Outside the
domain every result is NaN: a wrong finite number is worse than none.

Conventions are those of :mod:`pricing.black_scholes` (t in years, Greeks per share, theta per calendar
day, vega and rho per 1 point). Edge cases:
  * t <= 0: intrinsic value max(+-(S-K), 0); Greeks as in :func:`pricing.black_scholes.bs_greeks`.
  * vol == 0: the exact deterministic value max over exercise dates of the discounted payoff.
  * the put's rate r <= 0 (or the call's dividend q <= 0): early exercise is never optimal
    (exact for r == 0 puts / q == 0 calls; with negative rates a double boundary can appear,
    which is not modelled), so the European price is returned exactly.
  * spot inside the exercise region: the intrinsic value, delta -+1, gamma 0, theta 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from pricing.black_scholes import (DAYS_PER_YEAR, GREEK_NAMES, Greeks, bs_greeks, bs_price, implied_volatility)

FloatArray = NDArray[np.float64]

_ONE_OVER_SQRT_TWO_PI: Final = 1.0 / math.sqrt(2.0 * math.pi)
#: Options priced together in one vectorised block (arrays of block * nodes * quad_points).
_BLOCK: Final = 64


@dataclass(frozen=True)
class AloScheme:
    """Discretisation of the ALO method (names as in QuantLib's QdFpLegendreScheme).

    nodes: Chebyshev intervals for the boundary in sqrt(tau) (nodes + 1 collocation points);
    quad_points: Gauss-Legendre points for the boundary integrals; iterations: FP-B fixed-point
    iterations; final_points: Gauss-Legendre points for the early-exercise premium.
    """

    nodes: int = 12
    quad_points: int = 24
    iterations: int = 8
    final_points: int = 48


DEFAULT_SCHEME: Final = AloScheme()
#: Roughly QuantLib's "accurate" scheme: for reference checks of the default.
ACCURATE_SCHEME: Final = AloScheme(nodes=24, quad_points=48, iterations=16, final_points=96)


@dataclass(frozen=True)
class _Grid:
    """Constant matrices of a scheme: node positions, quadrature and interpolation operators."""

    xi: FloatArray             # sqrt(tau / T) at the nodes, xi[0] = 0, xi[-1] = 1
    quad_y: FloatArray         # Gauss-Legendre abscissae on (-1, 1)
    quad_w: FloatArray
    boundary_interp: FloatArray  # (nodes * quad_points, nodes + 1): H at (node, quad point)
    final_y: FloatArray
    final_w: FloatArray
    final_interp: FloatArray   # (final_points, nodes + 1): H at the premium quadrature points


def _barycentric_matrix(nodes_z: FloatArray, points_z: FloatArray) -> FloatArray:
    """Interpolation matrix for Chebyshev-Lobatto nodes (barycentric formula, Berrut-Trefethen 2004)."""
    n = nodes_z.shape[0] - 1
    weights = np.where(np.arange(n + 1) % 2 == 0, 1.0, -1.0)
    weights[0] *= 0.5
    weights[-1] *= 0.5
    diff = points_z[:, None] - nodes_z[None, :]
    exact = diff == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = weights / diff
    matrix = terms / terms.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    matrix[rows] = exact[rows].astype(np.float64)
    return matrix


@lru_cache(maxsize=8)
def _grid(scheme: AloScheme) -> _Grid:
    """Build (once per scheme) the node positions and the constant interpolation matrices."""
    n = scheme.nodes
    z_nodes = -np.cos(np.pi * np.arange(n + 1) / n)
    xi = 0.5 * (1.0 + z_nodes)
    quad_y, quad_w = np.polynomial.legendre.leggauss(scheme.quad_points)
    # Boundary point behind node j at quadrature point k: tau_j - u = tau_j (1+y_k)^2/4.
    shrink = np.sqrt(1.0 - 0.25 * (1.0 + quad_y) ** 2)
    xi_points = (xi[1:, None] * shrink[None, :]).reshape(-1)
    boundary_interp = _barycentric_matrix(z_nodes, 2.0 * xi_points - 1.0)
    final_y, final_w = np.polynomial.legendre.leggauss(scheme.final_points)
    final_xi = np.sqrt(1.0 - 0.25 * (1.0 + final_y) ** 2)
    final_interp = _barycentric_matrix(z_nodes, 2.0 * final_xi - 1.0)
    return _Grid(xi, quad_y, quad_w, boundary_interp, final_y, final_w, final_interp)


def _pdf(d: FloatArray) -> FloatArray:
    return _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * d * d)


def _boundary_limit(k: FloatArray, r: FloatArray, q: FloatArray) -> FloatArray:
    """X = lim_{tau -> 0} B(tau) = K min(1, r/q) for a put (K when q <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return k * np.where(q > 0.0, np.minimum(1.0, r / q), 1.0)


def _initial_boundary(k: FloatArray, tau: FloatArray, r: FloatArray, q: FloatArray,
                      vol: FloatArray) -> FloatArray:
    """Bjerksund-Stensland (1993) put boundary, via the call with S<->K, r<->q (Haug 2007, 1.6)."""
    v2 = vol * vol
    b = q - r                                   # cost of carry of the symmetric call
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * q / v2)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_inf = np.where(beta > 1.0, beta / (beta - 1.0), np.inf)
        b_zero = np.maximum(1.0, q / r)
        h = -(b * tau + 2.0 * vol * np.sqrt(tau)) * b_zero / (b_inf - b_zero)
        trigger = b_zero + (b_inf - b_zero) * (-np.expm1(h))
        trigger = np.where(np.isfinite(trigger), trigger, b_zero)
    return k / trigger


def _solve_boundary(k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray, vol: FloatArray,
                    grid: _Grid, iterations: int) -> FloatArray:
    """FP-B fixed point for the put boundary; returns H = ln(B/X)^2 at the nodes, shape (N, n+1).

    Arguments are (N,) arrays with r > 0, vol > 0, t > 0.
    """
    x_limit = _boundary_limit(k, r, q)
    xi = grid.xi[1:]                                     # nodes with tau > 0
    tau = t[:, None] * xi[None, :] ** 2                  # (N, n)
    sqrt_tau = np.sqrt(tau)
    kk, rr, qq, vv, xx = (a[:, None] for a in (k, r, q, vol, x_limit))
    boundary = np.minimum(_initial_boundary(kk, tau, rr, qq, vv), xx)
    h_nodes = np.zeros((k.shape[0], xi.shape[0] + 1))
    h_nodes[:, 1:] = np.log(boundary / xx) ** 2
    y = grid.quad_y
    half_y = 0.5 * (1.0 + y)                             # sqrt(v / tau)
    v_frac = half_y * half_y                             # v / tau
    w = grid.quad_w
    rrr, qqq, vvv = (a[:, :, None] for a in (rr, qq, vv))
    v = tau[:, :, None] * v_frac                          # time from now to the boundary point
    u = tau[:, :, None] - v                               # its time to maturity
    sd_v = vvv * sqrt_tau[:, :, None] * half_y           # vol sqrt(v)
    drift_minus = (rrr - qqq - 0.5 * vvv * vvv) * v
    drift_plus = drift_minus + vvv * vvv * v
    growth_r = np.exp(rrr * u)
    growth_q = np.exp(qqq * u)
    sd_tau = vv * sqrt_tau
    leading_drift = (rr - qq - 0.5 * vv * vv) * tau
    forward_factor = kk * np.exp(-(rr - qq) * tau)
    log_x_over_k = np.log(xx / kk)
    for _ in range(iterations):
        root_h = np.sqrt(h_nodes)
        root_at = np.sqrt(np.maximum(h_nodes @ grid.boundary_interp.T, 0.0)).reshape(tau.shape + (y.shape[0],))
        ln_b_over_bu = root_at - root_h[:, 1:, None]    # ln(B(tau_j) / B(u))
        d_minus = (ln_b_over_bu + drift_minus) / sd_v
        d_plus = (ln_b_over_bu + drift_plus) / sd_v
        n_integral = rr * sqrt_tau / vv * ((growth_r * _pdf(d_minus)) @ w)
        d_integral = qq * (sqrt_tau / vv * ((growth_q * _pdf(d_plus)) @ w)
                           + tau * ((growth_q * ndtr(d_plus)) @ (w * half_y)))
        d0_minus = (log_x_over_k - root_h[:, 1:] + leading_drift) / sd_tau
        d0_plus = d0_minus + sd_tau
        numerator = _pdf(d0_minus) / sd_tau + n_integral
        denominator = _pdf(d0_plus) / sd_tau + ndtr(d0_plus) + d_integral
        # Plain fixed-point step (ALO's FP-B is a contraction; Jacobi-Newton was tried and found
        # less robust here). Convergence slows as r -> 0, but the price error is second order in
        # the boundary error and the early-exercise premium itself vanishes like r K t there.
        boundary = np.clip(forward_factor * numerator / denominator, 1e-300 * xx, xx)
        boundary = np.where(np.isfinite(boundary), boundary, xx)
        h_nodes[:, 1:] = np.log(boundary / xx) ** 2
    return h_nodes


def _premium(spot: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray, vol: FloatArray,
             h_nodes: FloatArray, x_limit: FloatArray, grid: _Grid) -> FloatArray:
    """Early-exercise premium of the put (ALO eq. 2.7); spot may be (N,) or (N, m) (spot bumps)."""
    y = grid.final_y
    half_y = 0.5 * (1.0 + y)
    v = t[:, None] * half_y * half_y                     # (N, p) time from now
    root_b = np.sqrt(np.maximum(h_nodes @ grid.final_interp.T, 0.0))
    ln_boundary = np.log(x_limit)[:, None] - root_b      # ln B(T - v)
    sd = vol[:, None] * np.sqrt(v)
    rr, qq, kk = r[:, None], q[:, None], k[:, None]
    weights = grid.final_w * half_y * t[:, None]         # dv = T (1+y)/2 dy
    spot2 = spot if spot.ndim == 2 else spot[:, None]
    out = np.empty(spot2.shape)
    for j in range(spot2.shape[1]):
        s = spot2[:, j:j + 1]
        d_minus = (np.log(s) - ln_boundary + (rr - qq - 0.5 * vol[:, None] ** 2) * v) / sd
        d_plus = d_minus + sd
        integrand = rr * kk * np.exp(-rr * v) * ndtr(-d_minus) - qq * s * np.exp(-qq * v) * ndtr(-d_plus)
        out[:, j] = (integrand * weights).sum(axis=1)
    return out if spot.ndim == 2 else out[:, 0]


def _deterministic_put(s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray) -> FloatArray:
    """Zero-volatility American put: max over exercise times tau in [0, t] of K e^{-r tau} - S e^{-q tau}."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_star = np.log((r * k) / (q * s)) / (r - q)
    tau_star = np.where(np.isfinite(tau_star), np.clip(tau_star, 0.0, t), 0.0)
    candidates = [k * np.exp(-r * tau) - s * np.exp(-q * tau) for tau in (np.zeros_like(t), t, tau_star)]
    return np.maximum(np.maximum(np.maximum(candidates[0], candidates[1]), candidates[2]), 0.0)


def _put_prices(s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray, vol: FloatArray,
                scheme: AloScheme, spot_bumps: FloatArray | None = None) -> FloatArray:
    """American put prices for (N,) arrays of valid inputs with t > 0, vol > 0, r > 0.

    With ``spot_bumps`` (shape (N, m)), prices at those spots instead, reusing the boundary
    (which does not depend on spot): this is how delta and gamma are differenced.
    """
    grid = _grid(scheme)
    spots = s[:, None] if spot_bumps is None else spot_bumps
    out = np.empty(spots.shape)
    for start in range(0, s.shape[0], _BLOCK):
        blk = slice(start, start + _BLOCK)
        kb, tb, rb, qb, vb = k[blk], t[blk], r[blk], q[blk], vol[blk]
        h_nodes = _solve_boundary(kb, tb, rb, qb, vb, grid, scheme.iterations)
        x_limit = _boundary_limit(kb, rb, qb)
        sb = spots[blk]
        m = sb.shape[1]
        rep = (lambda a: np.repeat(a, m))
        european = bs_price(sb.reshape(-1), rep(kb), rep(tb), rep(rb), rep(qb), rep(vb), False).reshape(sb.shape)
        premium = _premium(sb, kb, tb, rb, qb, vb, h_nodes, x_limit, grid)
        boundary_now = x_limit * np.exp(-np.sqrt(h_nodes[:, -1]))
        exercise = sb <= boundary_now[:, None]
        intrinsic = kb[:, None] - sb
        # Never below the European value: where r -> 0 the boundary converges slowly, and a spot
        # just above the true boundary could otherwise be classed as exercised (the premium there
        # is ~ r K t, so the price error of that case is negligible, the bound violation is not).
        value = np.maximum(european + premium, intrinsic)
        out[blk] = np.where(exercise, np.maximum(intrinsic, european), value)
    return out if spot_bumps is not None else out[:, 0]


def _broadcast(*values: ArrayLike) -> tuple[tuple[int, ...], list[FloatArray]]:
    arrays = np.broadcast_arrays(*[np.asarray(v) for v in values])
    return arrays[0].shape, [np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in arrays]


def _as_put(s: FloatArray, k: FloatArray, r: FloatArray, q: FloatArray,
            call: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """McDonald-Schroder symmetry: a call (S, K, r, q) is the put (K, S, q, r)."""
    return np.where(call, k, s), np.where(call, s, k), np.where(call, q, r), np.where(call, r, q)


MAX_RATE: Final = 0.30
MAX_YEARS: Final = 3.0
MAX_VOL: Final = 5.0
MAX_CARRY_RATIO: Final = 2.0


def in_domain(t: FloatArray, r: FloatArray, q: FloatArray, vol: FloatArray, call: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Where the prices are validated (module docstring); t <= 0 (intrinsic) and vol 0 (exact) included."""
    early = np.where(call, q, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        carry = np.where(early > 0.0, early * early * np.maximum(t, 0.0) / (vol * vol), 0.0)
    return ((r >= 0.0) & (r <= MAX_RATE) & (q >= 0.0) & (q <= MAX_RATE) & (t <= MAX_YEARS) & (vol <= MAX_VOL)
            & ((carry <= MAX_CARRY_RATIO) | (vol == 0.0)))


def _flags(c: FloatArray) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(is a call, the flag is a boolean-like 0 or 1): a NaN or 2 is neither a call nor a put."""
    return c == 1.0, (c == 0.0) | (c == 1.0)


def _american_flat(s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray, vol: FloatArray,
                   call: NDArray[np.bool_], scheme: AloScheme) -> FloatArray:
    """american_price on flat arrays (after broadcasting); NaN outside :func:`in_domain`."""
    price = bs_price(s, k, t, r, q, vol, call)       # European, NaN for invalid inputs, intrinsic at t <= 0
    price[~in_domain(t, r, q, vol, call)] = np.nan
    ps, pk, pr, pq = _as_put(s, k, r, q, call)
    live = np.isfinite(price) & (t > 0.0) & (pr > 0.0)
    zero_vol = live & (vol == 0.0)
    if zero_vol.any():
        idx = np.flatnonzero(zero_vol)
        price[idx] = _deterministic_put(ps[idx], pk[idx], t[idx], pr[idx], pq[idx])
    idx = np.flatnonzero(live & (vol > 0.0))
    if idx.size:
        price[idx] = _put_prices(ps[idx], pk[idx], t[idx], pr[idx], pq[idx], vol[idx], scheme)
    return price


def american_price(spot: ArrayLike, strike: ArrayLike, t: ArrayLike, rate: ArrayLike, div: ArrayLike,
                   vol: ArrayLike, is_call: ArrayLike, scheme: AloScheme = DEFAULT_SCHEME) -> FloatArray:
    """American option price per share (ALO integral-equation method), same signature as bs_price.

    Broadcasts like :func:`pricing.black_scholes.bs_price`; scalar inputs give a 0-d array. Never below
    the European price or the intrinsic value; equal to the European price where early exercise
    is never optimal (calls without dividends, puts with r <= 0).
    """
    shape, (s, k, tt, r, q, v, c) = _broadcast(spot, strike, t, rate, div, vol, is_call)
    call, flag_ok = _flags(c)
    return np.where(flag_ok, _american_flat(s, k, tt, r, q, v, call, scheme), np.nan).reshape(shape)


def american_greeks(spot: ArrayLike, strike: ArrayLike, t: ArrayLike, rate: ArrayLike, div: ArrayLike,
                    vol: ArrayLike, is_call: ArrayLike, scheme: AloScheme = DEFAULT_SCHEME) -> Greeks:
    """American Greeks (same units and keys as :func:`pricing.black_scholes.bs_greeks`) by finite differences.

    delta, gamma: central differences in spot with a step of 1% of a standard deviation
    (S vol sqrt(t) / 100), re-using the exercise boundary (it does not depend on spot).
    theta: from the Black-Scholes PDE in the continuation region, theta = r V - (r-q) S delta
    - vol^2 S^2 gamma / 2 (per year, then /365); 0 in the exercise region.
    vega, rho: central differences with steps of 0.1% of vol and 1 basis point, each re-solving
    the boundary. Where early exercise is never optimal the analytic European Greeks are returned.
    """
    shape, (s, k, tt, r, q, v, c) = _broadcast(spot, strike, t, rate, div, vol, is_call)
    call, flag_ok = _flags(c)
    greeks = {name: value.reshape(-1) for name, value in bs_greeks(s, k, tt, r, q, v, call).items()}
    outside = ~(flag_ok & in_domain(tt, r, q, v, call))
    for name in GREEK_NAMES:
        greeks[name][outside] = np.nan
    ps, pk, pr, pq = _as_put(s, k, r, q, call)
    live = np.isfinite(greeks["delta"]) & (tt > 0.0) & (pr > 0.0) & (v > 0.0)
    idx = np.flatnonzero(live)
    if idx.size:
        values = _american_greeks_live(s[idx], k[idx], tt[idx], r[idx], q[idx], v[idx], call[idx], scheme)
        for name in GREEK_NAMES:
            greeks[name][idx] = values[name]
    return {name: greeks[name].reshape(shape) for name in GREEK_NAMES}


def _american_greeks_live(s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
                          vol: FloatArray, call: NDArray[np.bool_], scheme: AloScheme) -> dict[str, FloatArray]:
    """Finite-difference Greeks for options with possible early exercise (all inputs valid, t > 0)."""
    ps, pk, pr, pq = _as_put(s, k, r, q, call)
    # Spot bumps S -> S f. For a call, C(S) = P(spot=K, strike=S) and the price is homogeneous of
    # degree 1, so C(S f) = f P(K/f, S): the boundary of P(., S) is shared by all bumps.
    step = 0.01 * vol * np.sqrt(t)                          # relative spot step
    factors = np.stack([1.0 - step, np.ones_like(step), 1.0 + step], axis=1)   # S multipliers
    put_spots = np.where(call[:, None], ps[:, None] / factors, ps[:, None] * factors)
    put_values = _put_prices(ps, pk, t, pr, pq, vol, scheme, spot_bumps=put_spots)
    values = np.where(call[:, None], put_values * factors, put_values)
    ds = s * step
    price = values[:, 1]
    delta = (values[:, 2] - values[:, 0]) / (2.0 * ds)
    gamma = (values[:, 2] - 2.0 * price + values[:, 0]) / (ds * ds)
    theta_year = r * price - (r - q) * s * delta - 0.5 * vol * vol * s * s * gamma
    exercised = np.abs(price - np.where(call, s - k, k - s)) <= 1e-12 * np.maximum(s, k)
    theta_year = np.where(exercised, 0.0, theta_year)
    d_vol = 1e-3 * vol
    d_rate = 1e-4
    up_v = _american_flat(s, k, t, r, q, vol + d_vol, call, scheme)
    down_v = _american_flat(s, k, t, r, q, vol - d_vol, call, scheme)
    up_r = _american_flat(s, k, t, r + d_rate, q, vol, call, scheme)
    down_r = _american_flat(s, k, t, r - d_rate, q, vol, call, scheme)
    return {
        "delta": delta,
        "gamma": gamma,
        "theta": theta_year / DAYS_PER_YEAR,
        "vega": (up_v - down_v) / (2.0 * d_vol) / 100.0,
        "rho": (up_r - down_r) / (2.0 * d_rate) / 100.0,
    }


def american_implied_volatility(price: ArrayLike, spot: ArrayLike, strike: ArrayLike, t: ArrayLike,
                                rate: ArrayLike, div: ArrayLike, is_call: ArrayLike,
                                scheme: AloScheme = DEFAULT_SCHEME) -> FloatArray:
    """Volatility at which :func:`american_price` equals ``price`` (NaN where none exists).

    Method: start from the European implied volatility of the price (an upper bound for puts),
    take one "de-Americanisation" step (European IV of price minus the early-exercise premium at
    the first guess), then safeguarded secant steps inside the bracket of volatilities the domain
    allows (at least e sqrt(t / 2), at most 5) until the price matches to 1e-10 relative. Where early
    exercise is never optimal this is exactly :func:`pricing.black_scholes.implied_volatility`.

    NaN where t <= 0, inputs are invalid, the price is at or above the upper bound (S for calls,
    K for puts), at or below the zero-volatility American value (no identifiable time value:
    e.g. a deep ITM put quoted at intrinsic is consistent with a whole range of volatilities), or
    no volatility inside the domain reproduces it (never the bracket's end as if it did).
    """
    shape, (p, s, k, tt, r, q, c) = _broadcast(price, spot, strike, t, rate, div, is_call)
    call, flag_ok = _flags(c)
    result = implied_volatility(p, s, k, tt, r, q, call)
    result[~flag_ok | ~in_domain(tt, r, q, np.where(np.isfinite(result), result, MAX_VOL), call)] = np.nan
    ps, pk, pr, pq = _as_put(s, k, r, q, call)
    valid = (s > 0.0) & (k > 0.0) & (tt > 0.0) & np.isfinite(p) & np.isfinite(r) & np.isfinite(q) & np.isfinite(tt)
    valid &= flag_ok & in_domain(tt, r, q, np.full_like(tt, MAX_VOL), call)
    early = valid & (pr > 0.0)
    idx = np.flatnonzero(early)
    if idx.size:
        result[idx] = _american_iv_live(p[idx], s[idx], k[idx], tt[idx], r[idx], q[idx], call[idx],
                                        result[idx], scheme)
    return result.reshape(shape)


_VOL_LOW: Final = 1e-4
_VOL_HIGH: Final = MAX_VOL
_IV_RELATIVE_TOLERANCE: Final = 1e-10
_IV_MAX_ITERATIONS: Final = 40


def _american_iv_live(p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
                      call: NDArray[np.bool_], european_iv: FloatArray, scheme: AloScheme) -> FloatArray:
    """Bracketed secant iteration on vol for options that may be exercised early."""
    ps, pk, pr, pq = _as_put(s, k, r, q, call)
    floor_value = _deterministic_put(ps, pk, t, pr, pq)
    upper = np.where(call, s, k)
    ok = (p > floor_value + 1e-9 * np.maximum(p, 1.0)) & (p < upper)  # a time value above the pricing noise
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    solved = np.full(idx.shape, np.nan)

    def price_at(sel: NDArray[np.intp], vol: FloatArray) -> FloatArray:
        return _american_flat(s[sel], k[sel], t[sel], r[sel], q[sel], vol, call[sel], scheme)

    target = p[idx]
    lowest = np.maximum(_VOL_LOW, pr[idx] * np.sqrt(t[idx] / MAX_CARRY_RATIO))  # the domain's least vol
    lo, hi = lowest.copy(), np.full(idx.shape, _VOL_HIGH)
    v0 = np.clip(np.where(np.isfinite(european_iv[idx]), european_iv[idx], 0.5), lowest, _VOL_HIGH)
    f0 = price_at(idx, v0) - target
    premium = f0 + target - bs_price(s[idx], k[idx], t[idx], r[idx], q[idx], v0, call[idx])
    v1 = implied_volatility(target - premium, s[idx], k[idx], t[idx], r[idx], q[idx], call[idx])
    v1 = np.where(np.isfinite(v1) & (v1 > lowest), np.minimum(v1, _VOL_HIGH), np.maximum(0.5 * v0, lowest))
    lo, hi = _tighten(lo, hi, v0, f0)
    active = np.arange(idx.shape[0])
    vols = v1.copy()
    prev_v, prev_f = v0, f0
    for _ in range(_IV_MAX_ITERATIONS):
        f1 = price_at(idx[active], vols[active]) - target[active]
        lo_a, hi_a = _tighten(lo[active], hi[active], vols[active], f1)
        lo[active], hi[active] = lo_a, hi_a
        done = np.abs(f1) <= _IV_RELATIVE_TOLERANCE * target[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = vols[active] - f1 * (vols[active] - prev_v) / (f1 - prev_f)
        inside = np.isfinite(secant) & (secant > lo_a) & (secant < hi_a)
        nxt = np.where(inside, secant, np.sqrt(lo_a * hi_a))
        done |= (hi_a - lo_a) <= 1e-14 * hi_a
        solved[active[done]] = vols[active[done]]
        keep = ~done
        prev_v, prev_f = vols[active][keep], f1[keep]
        vols[active[keep]] = nxt[keep]
        active = active[keep]
        if active.size == 0:
            break
    # a bracket squeezed against one of its ends is no solution, and neither is a vol the price does not
    # depend on (deep in the exercise region every vol gives the intrinsic value): check both
    check = np.flatnonzero(np.isfinite(solved))
    if check.size:
        sel, vols = idx[check], solved[check]
        error = np.abs(price_at(sel, vols) - target[check])
        slope = price_at(sel, vols * 1.001) - price_at(sel, vols * 0.999)
        bad = (error > 1e-8 * np.maximum(target[check], 1e-4)) | ~(slope > 1e-9 * np.maximum(target[check], 1.0))
        solved[check[bad]] = np.nan
    out[idx] = solved
    return out


def _tighten(lo: FloatArray, hi: FloatArray, vol: FloatArray, f: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Shrink the bracket with a new point (price increases with vol)."""
    return np.where(f < 0.0, np.maximum(lo, vol), lo), np.where(f > 0.0, np.minimum(hi, vol), hi)
