"""European BSM prices, Greeks and implied volatility (pricing.black_scholes, pricing.lets_be_rational).

Reference vectors are the ones collected in shared/reference/greeks.md section 2; each test names
its source. Units: our theta is per calendar day, vega and rho per 1 point; QuantLib/Haug/Hull
quote theta per year and vega/rho per 1.00, so those are converted (x365, x100) before comparing.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.lets_be_rational import _f_lower_map, normalised_black_otm, normalised_implied_vol
from pricing.black_scholes import GREEK_NAMES, bs_greeks, bs_price, implied_volatility

HYPOTHESIS = settings(derandomize=True, max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])
MINUTE = 1.0 / (365.0 * 24.0 * 60.0)

# --- reference vectors ----------------------------------------------------------------------------

# Haug (1998) "Option pricing formulas" pp. 2-8, 24, 27, as in lballabio/QuantLib
# test-suite/europeanoption.cpp EuropeanOptionTest::testValues (tolerance 1e-4; QuantLib builds T
# as round(T*360) days on Actual360, which is exact for these T).
# (is_call, strike, spot, q, r, t, vol, value)
HAUG_VALUES = [
    (True, 65.0, 60.0, 0.00, 0.08, 0.25, 0.30, 2.1334),
    (False, 95.0, 100.0, 0.05, 0.10, 0.50, 0.20, 2.4648),
    (False, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291),
    (False, 70.0, 75.0, 0.05, 0.10, 0.50, 0.35, 4.0870),
    (True, 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 0.0205),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (True, 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 9.9413),
    (True, 100.0, 90.0, 0.10, 0.10, 0.10, 0.25, 0.3150),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (True, 100.0, 110.0, 0.10, 0.10, 0.10, 0.25, 10.3556),
    (True, 100.0, 90.0, 0.10, 0.10, 0.10, 0.35, 0.9474),
    (True, 100.0, 100.0, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (True, 100.0, 110.0, 0.10, 0.10, 0.10, 0.35, 11.1381),
    (True, 100.0, 90.0, 0.10, 0.10, 0.50, 0.15, 0.8069),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (True, 100.0, 110.0, 0.10, 0.10, 0.50, 0.15, 10.5769),
    (True, 100.0, 90.0, 0.10, 0.10, 0.50, 0.25, 2.7026),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (True, 100.0, 110.0, 0.10, 0.10, 0.50, 0.25, 12.7857),
    (True, 100.0, 90.0, 0.10, 0.10, 0.50, 0.35, 4.9329),
    (True, 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (True, 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (False, 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 9.9210),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (False, 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 0.0408),
    (False, 100.0, 90.0, 0.10, 0.10, 0.10, 0.25, 10.2155),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (False, 100.0, 110.0, 0.10, 0.10, 0.10, 0.25, 0.4551),
    (False, 100.0, 90.0, 0.10, 0.10, 0.10, 0.35, 10.8479),
    (False, 100.0, 100.0, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (False, 100.0, 110.0, 0.10, 0.10, 0.10, 0.35, 1.2376),
    (False, 100.0, 90.0, 0.10, 0.10, 0.50, 0.15, 10.3192),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (False, 100.0, 110.0, 0.10, 0.10, 0.50, 0.15, 1.0646),
    (False, 100.0, 90.0, 0.10, 0.10, 0.50, 0.25, 12.2149),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (False, 100.0, 110.0, 0.10, 0.10, 0.50, 0.25, 3.2734),
    (False, 100.0, 90.0, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (False, 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (False, 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 5.7963),
    (True, 40.0, 42.0, 0.08, 0.04, 0.75, 0.35, 5.0975),
]


@pytest.mark.parametrize("is_call, strike, spot, q, r, t, vol, expected", HAUG_VALUES)
def test_haug_prices_quantlib_suite(is_call: bool, strike: float, spot: float, q: float, r: float, t: float,
                                    vol: float, expected: float) -> None:
    """Haug 1998 pp. 2-8/24/27 via QuantLib europeanoption.cpp testValues, tolerance 1e-4."""
    assert float(bs_price(spot, strike, t, r, q, vol, is_call)) == pytest.approx(expected, abs=1e-4)


def test_haug_greeks_quantlib_suite() -> None:
    """Haug 1998 pp. 11-16 via QuantLib europeanoption.cpp testGreekValues (tolerance 1e-4).

    QuantLib units: theta per year, vega and rho per 1.00 -> ours x365 and x100.
    """
    call = bs_greeks(105.0, 100.0, 0.5, 0.10, 0.10, 0.36, True)
    put = bs_greeks(105.0, 100.0, 0.5, 0.10, 0.10, 0.36, False)
    assert float(call["delta"]) == pytest.approx(0.5946, abs=1e-4)
    assert float(put["delta"]) == pytest.approx(-0.3566, abs=1e-4)
    for is_call in (True, False):
        g = bs_greeks(55.0, 60.0, 0.75, 0.10, 0.0, 0.30, is_call)
        assert float(g["gamma"]) == pytest.approx(0.0278, abs=1e-4)
        assert float(g["vega"]) * 100 == pytest.approx(18.9358, abs=1e-4)
    theta = bs_greeks(430.0, 405.0, 1.0 / 12.0, 0.07, 0.05, 0.20, False)["theta"]
    assert float(theta) * 365 == pytest.approx(-31.1924, abs=1e-4)
    assert float(theta) == pytest.approx(-0.0855, abs=1e-4)
    rho = bs_greeks(72.0, 75.0, 1.0, 0.09, 0.0, 0.19, True)["rho"]
    assert float(rho) * 100 == pytest.approx(38.7325, abs=1e-4)


def test_hull_worked_example_greeks() -> None:
    """Hull, Options Futures and Other Derivatives: S=49, K=50, r=5%, T=20 weeks, vol 20% call.

    Book values (rounded): delta 0.522, gamma 0.066, theta -4.31/yr, vega 12.1, rho 8.91 (per 1.00);
    exact values from the vollib/py_vollib docstrings: theta -0.0117956/day, vega 0.121052, rho 0.089066.
    """
    g = bs_greeks(49.0, 50.0, 0.3846, 0.05, 0.0, 0.20, True)
    assert float(g["delta"]) == pytest.approx(0.522, abs=1e-3)
    assert float(g["gamma"]) == pytest.approx(0.066, abs=1e-3)
    assert float(g["theta"]) * 365 == pytest.approx(-4.31, abs=0.01)
    assert float(g["vega"]) * 100 == pytest.approx(12.1, abs=0.05)
    assert float(g["rho"]) * 100 == pytest.approx(8.91, abs=0.01)
    assert float(g["theta"]) == pytest.approx(-0.0117956, abs=1e-7)
    assert float(g["vega"]) == pytest.approx(0.121052, abs=1e-6)
    assert float(g["rho"]) == pytest.approx(0.089066, abs=1e-6)


def test_hull_prices() -> None:
    """Hull S=42, K=40, r=10%, T=0.5, vol 20%: call 4.7594, put 0.8086 (public test files, tol 1e-4)."""
    prices = bs_price(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, np.array([True, False]))
    np.testing.assert_allclose(prices, [4.759422, 0.808599], atol=1e-4)


# LEAN Tests/Indicators/{ImpliedVolatility,Delta,Gamma,Vega,Theta,Rho}Tests.cs ComparesAgainstExternalData2,
# "reference values from QuantLib": SPY, K=450, T=days/365. IV, vega, rho use r=5.3%, q=1.53%; delta, gamma,
# theta use r=4.03%, q=0 (IV re-solved with those). (price, spot, is_call, days, iv, delta, gamma, vega, theta, rho)
LEAN_QUANTLIB = [
    (23.753, 450, True, 60, 0.309, 0.546, 0.0071, 0.7215, -0.2092, 0.3628),
    (35.830, 450, False, 60, 0.515, -0.446, 0.0042, 0.7195, -0.2835, -0.3885),
    (33.928, 470, True, 60, 0.279, 0.693, 0.0067, 0.6705, -0.1858, 0.4761),
    (6.428, 470, False, 60, 0.205, -0.260, 0.0083, 0.6181, -0.0918, -0.2119),
    (3.219, 430, True, 60, 0.133, 0.243, 0.0136, 0.5429, -0.0712, 0.1652),
    (47.701, 430, False, 60, 0.545, -0.526, 0.0042, 0.6922, -0.2852, -0.4498),
    (16.528, 450, True, 180, 0.097, 0.632, 0.0128, 1.1932, -0.0601, 1.2862),
    (21.784, 450, False, 180, 0.207, -0.417, 0.0059, 1.2263, -0.0483, -1.0337),
    (35.207, 470, True, 180, 0.140, 0.765, 0.0070, 1.0370, -0.0733, 1.5558),
    (0.409, 470, False, 180, 0.055, -0.052, 0.0057, 0.3528, -0.0027, -0.1235),
    (2.642, 430, True, 180, 0.057, 0.263, 0.0193, 0.9707, -0.0274, 0.5326),
    (27.772, 430, False, 180, 0.177, -0.556, 0.0073, 1.1816, -0.0297, -1.3178),
]


def test_lean_quantlib_reference_table() -> None:
    """LEAN indicator tests' QuantLib table (greeks.md 2.3), to the printed digits.

    Tolerances are half a unit of the last printed digit, widened where the Greek is evaluated at
    our IV rather than theirs (a 5e-4 IV rounding moves gamma by up to ~7e-5).
    """
    table = np.array([row for row in LEAN_QUANTLIB], dtype=object)
    price = table[:, 0].astype(float)
    spot = table[:, 1].astype(float)
    is_call = table[:, 2].astype(bool)
    t = table[:, 3].astype(float) / 365.0
    iv = implied_volatility(price, spot, 450.0, t, 0.053, 0.0153, is_call)
    g = bs_greeks(spot, 450.0, t, 0.053, 0.0153, iv, is_call)
    np.testing.assert_allclose(iv, table[:, 4].astype(float), atol=5e-4)
    np.testing.assert_allclose(g["vega"], table[:, 7].astype(float), atol=1e-4)
    np.testing.assert_allclose(g["rho"], table[:, 9].astype(float), atol=1e-4)
    iv0 = implied_volatility(price, spot, 450.0, t, 0.0403, 0.0, is_call)
    g0 = bs_greeks(spot, 450.0, t, 0.0403, 0.0, iv0, is_call)
    np.testing.assert_allclose(g0["delta"], table[:, 5].astype(float), atol=5e-4)
    np.testing.assert_allclose(g0["gamma"], table[:, 6].astype(float), atol=1e-4)
    np.testing.assert_allclose(g0["theta"], table[:, 8].astype(float), atol=2e-4)


# --- identities --------------------------------------------------------------------------------------

option_params = st.tuples(
    st.floats(1.0, 5000.0),                       # spot
    st.floats(-2.5, 2.5),                         # log-moneyness in standard deviations
    st.one_of(st.floats(1.0 * MINUTE, 390.0 * MINUTE), st.floats(1.0 / 365.0, 3.0)),  # t: 0DTE or 1d-3y
    st.floats(-0.01, 0.10),                       # rate
    st.floats(0.0, 0.05),                         # div
    st.floats(0.03, 1.5),                         # vol
)


def _strike(spot: float, z: float, t: float, vol: float) -> float:
    return spot * math.exp(z * vol * math.sqrt(t))


@HYPOTHESIS
@given(option_params)
def test_put_call_parity(params: tuple[float, float, float, float, float, float]) -> None:
    """C - P = S e^{-qt} - K e^{-rt} (model-free identity)."""
    spot, z, t, r, q, vol = params
    k = _strike(spot, z, t, vol)
    call, put = bs_price(spot, k, t, r, q, vol, np.array([True, False]))
    forward_value = spot * math.exp(-q * t) - k * math.exp(-r * t)
    assert call - put == pytest.approx(forward_value, abs=1e-12 * max(spot, k))


@HYPOTHESIS
@given(option_params, st.booleans())
def test_greeks_match_finite_differences(params: tuple[float, float, float, float, float, float],
                                         is_call: bool) -> None:
    """Analytic Greeks vs central differences of bs_price, in our units (theta per day, vega/rho per point)."""
    spot, z, t, r, q, vol = params
    k = _strike(spot, z, t, vol)
    g = {name: float(v) for name, v in bs_greeks(spot, k, t, r, q, vol, is_call).items()}
    sd = vol * math.sqrt(t)

    def price(s: float = spot, tt: float = t, rr: float = r, v: float = vol) -> float:
        return float(bs_price(s, k, tt, rr, q, v, is_call))

    hs = 3e-4 * sd * spot
    delta = (price(s=spot + hs) - price(s=spot - hs)) / (2 * hs)
    gamma = (price(s=spot + hs) - 2 * price() + price(s=spot - hs)) / hs**2
    hv = 1e-4 * vol
    vega = (price(v=vol + hv) - price(v=vol - hv)) / (2 * hv) / 100
    hr = 3e-4 * sd / t  # moves d2 by 3e-4: truncation ~1e-7 relative
    rho = (price(rr=r + hr) - price(rr=r - hr)) / (2 * hr) / 100
    ht = 1e-4 * t
    theta = -(price(tt=t + ht) - price(tt=t - ht)) / (2 * ht) / 365
    # Each price carries ~1e-15 * max(S, K) of rounding (ITM = forward intrinsic + time value), so a
    # difference quotient with step h is only good to ~1e-15 * max(S, K) / h: that is the tolerance.
    noise = 2e-15 * max(spot, k)
    assert g["delta"] == pytest.approx(delta, rel=1e-5, abs=noise / hs)
    assert g["gamma"] == pytest.approx(gamma, rel=1e-4, abs=4 * noise / hs**2)
    assert g["vega"] == pytest.approx(vega, rel=1e-6, abs=noise / hv / 100)
    assert g["rho"] == pytest.approx(rho, rel=1e-5, abs=noise / hr / 100)
    assert g["theta"] == pytest.approx(theta, rel=1e-5, abs=noise / ht / 365)


def test_put_rho_sign_and_formula() -> None:
    """Put rho = -K t e^{-rt} N(-d2)/100 (the spec sketch had the call formula for puts)."""
    s, k, t, r, q, vol = 100.0, 105.0, 0.75, 0.04, 0.01, 0.25
    d2 = (math.log(s / k) + (r - q - 0.5 * vol**2) * t) / (vol * math.sqrt(t))
    expected = -k * t * math.exp(-r * t) * 0.5 * math.erfc(d2 / math.sqrt(2)) / 100
    assert float(bs_greeks(s, k, t, r, q, vol, False)["rho"]) == pytest.approx(expected, rel=1e-13)
    assert float(bs_greeks(s, k, t, r, q, vol, False)["rho"]) < 0


# --- edge cases ----------------------------------------------------------------------------------------

def test_expired_and_at_expiry_limits() -> None:
    """t <= 0: intrinsic price, delta step (+-0.5 at the strike), other Greeks exactly 0."""
    spots = np.array([90.0, 100.0, 110.0])
    for t in (0.0, -1.0 / 365):
        np.testing.assert_array_equal(bs_price(spots, 100.0, t, 0.05, 0.01, 0.2, True), [0.0, 0.0, 10.0])
        np.testing.assert_array_equal(bs_price(spots, 100.0, t, 0.05, 0.01, 0.2, False), [10.0, 0.0, 0.0])
        call = bs_greeks(spots, 100.0, t, 0.05, 0.01, 0.2, True)
        put = bs_greeks(spots, 100.0, t, 0.05, 0.01, 0.2, False)
        np.testing.assert_array_equal(call["delta"], [0.0, 0.5, 1.0])
        np.testing.assert_array_equal(put["delta"], [-1.0, -0.5, 0.0])
        for name in ("gamma", "theta", "vega", "rho"):
            np.testing.assert_array_equal(call[name], 0.0)
            np.testing.assert_array_equal(put[name], 0.0)
        assert np.isnan(implied_volatility(5.0, 100.0, 100.0, t, 0.05, 0.0, True))


def test_zero_vol_is_the_deterministic_limit() -> None:
    """vol == 0, t > 0: discounted forward intrinsic; gamma 0; delta/rho/theta their limits."""
    s, t, r, q = 100.0, 0.5, 0.05, 0.01
    forward = s * math.exp((r - q) * t)
    for k in (90.0, 110.0):
        call = float(bs_price(s, k, t, r, q, 0.0, True))
        assert call == pytest.approx(max(forward - k, 0.0) * math.exp(-r * t), rel=1e-14, abs=1e-14)
        g = bs_greeks(s, k, t, r, q, 0.0, True)
        assert float(g["gamma"]) == 0.0 and float(g["vega"]) == 0.0
        itm = forward > k
        assert float(g["delta"]) == pytest.approx(math.exp(-q * t) if itm else 0.0)
        assert float(g["rho"]) == pytest.approx(k * t * math.exp(-r * t) / 100 if itm else 0.0)
        theta = (q * s * math.exp(-q * t) - r * k * math.exp(-r * t)) / 365 if itm else 0.0
        assert float(g["theta"]) == pytest.approx(theta, abs=1e-15)


def test_invalid_inputs_give_nan_not_exceptions() -> None:
    """NaN, non-positive spot/strike and negative vol -> NaN everywhere (no exception)."""
    bad = [(np.nan, 100.0, 0.1, 0.2), (-1.0, 100.0, 0.1, 0.2), (100.0, 0.0, 0.1, 0.2), (100.0, 100.0, np.nan, 0.2),
           (100.0, 100.0, 0.1, -0.2), (100.0, 100.0, 0.1, np.nan), (np.inf, 100.0, 0.1, 0.2)]
    for s, k, t, vol in bad:
        assert np.isnan(bs_price(s, k, t, 0.05, 0.0, vol, True))
        for value in bs_greeks(s, k, t, 0.05, 0.0, vol, True).values():
            assert np.isnan(value)
        if not vol < 0 and not np.isnan(vol):  # vol does not enter the IV
            assert np.isnan(implied_volatility(5.0, s, k, t, 0.05, 0.0, True))


def test_tiny_time_greeks_are_finite() -> None:
    """Seconds to expiry: no inf/NaN; ATM gamma and theta large but finite, OTM ones ~0."""
    t = np.array([1e-12, 1.0 / (365 * 24 * 3600), MINUTE, 30 * MINUTE])
    for strike in (100.0, 100.5, 99.5):
        for is_call in (True, False):
            g = bs_greeks(100.0, strike, t, 0.05, 0.01, 0.2, is_call)
            for name in GREEK_NAMES:
                assert np.all(np.isfinite(g[name])), (name, strike, is_call)
            assert np.all(np.isfinite(bs_price(100.0, strike, t, 0.05, 0.01, 0.2, is_call)))
    atm = bs_greeks(100.0, 100.0, MINUTE, 0.0, 0.0, 0.2, True)
    # gamma = phi(d1)/(S vol sqrt t): about 14.5 per $ at 1 minute for S=100, vol 20%
    assert float(atm["gamma"]) == pytest.approx(1 / (math.sqrt(2 * math.pi) * 100 * 0.2 * math.sqrt(MINUTE)), rel=1e-3)


def test_broadcasting_and_scalar_shapes() -> None:
    """Scalars give 0-d arrays; arrays broadcast (a chain of strikes against one spot)."""
    price = bs_price(100.0, 100.0, 0.5, 0.01, 0.0, 0.2, True)
    assert isinstance(price, np.ndarray) and price.shape == ()
    strikes = np.linspace(80, 120, 5)
    rights = np.array([[True], [False]])
    prices = bs_price(100.0, strikes, 0.5, 0.01, 0.0, 0.2, rights)
    assert prices.shape == (2, 5)
    greeks = bs_greeks(100.0, strikes, 0.5, 0.01, 0.0, 0.2, rights)
    assert set(greeks) == set(GREEK_NAMES) and all(g.shape == (2, 5) for g in greeks.values())
    iv = implied_volatility(prices, 100.0, strikes, 0.5, 0.01, 0.0, rights)
    np.testing.assert_allclose(iv, 0.2, rtol=1e-13)


def test_large_arrays_are_chunked_consistently() -> None:
    """Results do not depend on the internal block size (arrays larger than CHUNK_SIZE)."""
    rng = np.random.default_rng(3)
    n = 12001
    s = rng.uniform(50, 150, n)
    k = rng.uniform(50, 150, n)
    t = rng.uniform(1e-4, 2, n)
    vol = rng.uniform(0.05, 1, n)
    c = rng.random(n) < 0.5
    full = bs_price(s, k, t, 0.03, 0.01, vol, c)
    pieces = np.concatenate([bs_price(s[i:i + 1000], k[i:i + 1000], t[i:i + 1000], 0.03, 0.01, vol[i:i + 1000],
                                      c[i:i + 1000]) for i in range(0, n, 1000)])
    np.testing.assert_array_equal(full, pieces)


# --- implied volatility ----------------------------------------------------------------------------------

def _random_grid(n: int, seed: int, z_max: float) -> dict[str, np.ndarray]:
    """SPY-like grid incl. 0DTE (minutes), deep ITM/OTM up to z_max standard deviations."""
    rng = np.random.default_rng(seed)
    t = np.where(rng.random(n) < 0.3, rng.uniform(1, 390, n) * MINUTE, np.exp(rng.uniform(np.log(1 / 365), np.log(3), n)))
    vol = np.exp(rng.uniform(np.log(0.02), np.log(3.0), n))
    spot = rng.uniform(10, 5000, n)
    z = rng.uniform(-z_max, z_max, n)
    return dict(spot=spot, strike=spot * np.exp(z * vol * np.sqrt(t)), t=t, rate=rng.uniform(-0.01, 0.08, n),
                div=rng.uniform(0, 0.05, n), vol=vol, is_call=rng.random(n) < 0.5)


def test_iv_round_trip_large_grid() -> None:
    """100k options, 30% 0DTE, up to 8 sd ITM/OTM: price(iv) == price to 1e-12 relative everywhere,
    and iv == true vol wherever vega is not negligible.

    The input price is known to ~1e-16 relative, so the vol is determined to ~1e-16 * price /
    (vega * vol) relative: with vega * vol >= 1e-6 * price (a 1% vol change moves the price by at
    least 1e-8 of itself; 79% of this deliberately extreme grid, all but deep ITM/OTM wings) that
    bound is 2.2e-10, asserted as 5e-10."""
    o = _random_grid(100_000, seed=11, z_max=8.0)
    price = bs_price(o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["vol"], o["is_call"])
    keep = price > 1e-250  # below that the price itself underflows
    s, k, t, r, q = (o[name][keep] for name in ("spot", "strike", "t", "rate", "div"))
    price, vol, is_call = price[keep], o["vol"][keep], o["is_call"][keep]
    iv = implied_volatility(price, s, k, t, r, q, is_call)
    assert np.all(np.isfinite(iv))
    repriced = bs_price(s, k, t, r, q, iv, is_call)
    assert np.max(np.abs(repriced - price) / price) < 1e-12
    vega = bs_greeks(s, k, t, r, q, vol, is_call)["vega"] * 100
    informative = vega * vol >= 1e-6 * price
    rel_vol = np.abs(iv - vol)[informative] / vol[informative]
    assert np.max(rel_vol) < 5e-10
    assert informative.mean() > 0.75


@HYPOTHESIS
@given(option_params, st.booleans())
def test_iv_round_trip_hypothesis(params: tuple[float, float, float, float, float, float], is_call: bool) -> None:
    """Property: implied_volatility(bs_price(vol)) recovers vol (relative 1e-10) and the price (1e-12)."""
    spot, z, t, r, q, vol = params
    k = _strike(spot, z, t, vol)
    price = float(bs_price(spot, k, t, r, q, vol, is_call))
    iv = float(implied_volatility(price, spot, k, t, r, q, is_call))
    assert float(bs_price(spot, k, t, r, q, iv, is_call)) == pytest.approx(price, rel=1e-12)
    assert iv == pytest.approx(vol, rel=1e-10)


def test_iv_zero_dte_minutes() -> None:
    """0DTE with 1, 5, 60 minutes left (SPY 500, strikes +-1%): OTM options recover vol to 1e-10;
    every option (ITM ones have time values far below 1e-16 of their price) reprices exactly."""
    t = np.array([1.0, 5.0, 60.0])[:, None] * MINUTE
    strikes = np.array([495.0, 499.0, 500.0, 501.0, 505.0])[None, :]
    otm_call = strikes >= 500.0
    price = bs_price(500.0, strikes, t, 0.05, 0.013, 0.15, otm_call)
    iv = implied_volatility(price, 500.0, strikes, t, 0.05, 0.013, otm_call)
    ok = price > 1e-280  # 1% OTM with one minute left is a 48-sd event: the price underflows
    assert ok.sum() >= 11
    np.testing.assert_allclose(iv[ok], 0.15, rtol=1e-10)
    itm = bs_price(500.0, strikes, t, 0.05, 0.013, 0.15, ~otm_call)
    iv_itm = implied_volatility(itm, 500.0, strikes, t, 0.05, 0.013, ~otm_call)
    np.testing.assert_allclose(bs_price(500.0, strikes, t, 0.05, 0.013, iv_itm, ~otm_call), itm, rtol=1e-14)


def test_iv_nan_outside_no_arbitrage_bounds() -> None:
    """NaN below the forward intrinsic e^{-rt}(F-K)^+, at/above the upper bound, negative price or t<=0;
    0.0 exactly at the lower bound (the zero-volatility limit); never 0.20, never an exception."""
    s, k, t, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    lower_call = s * math.exp(-q * t) - k * math.exp(-r * t)
    lower_put = 0.0
    cases = [
        (lower_call - 1e-6, True, np.nan), (s * math.exp(-q * t), True, np.nan), (s * 2, True, np.nan),
        (-0.01, False, np.nan), (k * math.exp(-r * t), False, np.nan), (np.nan, True, np.nan),
        (lower_call, True, 0.0), (lower_put, False, 0.0),
    ]
    for price, is_call, expected in cases:
        iv = float(implied_volatility(price, s, k, t, r, q, is_call))
        assert (np.isnan(iv) if np.isnan(expected) else iv == expected), (price, is_call, iv)
    # an American-style ITM put price below European lower bound but above spot intrinsic: still a valid IV
    assert np.isfinite(implied_volatility(99.0, 500.0, 600.0, 0.1, 0.05, 0.013, False))


def test_iv_extreme_but_valid_inputs() -> None:
    """Deep OTM (price 1e-200), huge vol (500%), long maturity and near-upper-bound prices converge."""
    cases = [(100.0, 300.0, 0.1, 0.3), (100.0, 100.0, 10.0, 2.0), (100.0, 20.0, 1.0, 0.05), (100.0, 101.0, 1e-9, 0.2)]
    for s, k, t, vol in cases:
        for is_call in (True, False):
            price = float(bs_price(s, k, t, 0.02, 0.01, vol, is_call))
            if price < 1e-280:
                continue
            iv = float(implied_volatility(price, s, k, t, 0.02, 0.01, is_call))
            assert float(bs_price(s, k, t, 0.02, 0.01, iv, is_call)) == pytest.approx(price, rel=1e-12)


# --- normalised Black internals ---------------------------------------------------------------------------

def test_normalised_black_against_mpmath() -> None:
    """All four of Jaeckel's regions against 50-digit arithmetic (relative 1e-13)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    cases = [(-30.0, 0.5), (-12.0, 0.9), (-5.0, 0.01), (-0.001, 1e-5), (-1e-8, 1e-9), (-0.5, 0.3), (-2.0, 1.0),
             (-0.1, 3.0), (0.0, 0.2), (0.0, 4.0), (-50.0, 2.0), (-3.0, 0.1), (-0.05, 0.4)]
    x = np.array([c[0] for c in cases])
    s = np.array([c[1] for c in cases])
    ours = normalised_black_otm(x, s)
    for (xi, si), value in zip(cases, ours):
        xm, sm = mpmath.mpf(xi), mpmath.mpf(si)
        exact = mpmath.exp(xm / 2) * mpmath.ncdf(xm / sm + sm / 2) - mpmath.exp(-xm / 2) * mpmath.ncdf(xm / sm - sm / 2)
        assert value == pytest.approx(float(exact), rel=1e-13), (xi, si)


def test_normalised_solver_direct() -> None:
    """The normalised solver recovers s over all four initial-guess branches and the upper objective."""
    x = np.repeat([-8.0, -1.0, -1e-3, -1e-9, 0.0], 6)
    s = np.tile([1e-3, 0.05, 0.5, 2.0, 6.0, 12.0], 5)
    b = normalised_black_otm(x, s)
    ok = (b > 1e-300) & (b < np.exp(0.5 * x) * (1 - 1e-12))
    recovered = normalised_implied_vol(b[ok], x[ok])
    np.testing.assert_allclose(normalised_black_otm(x[ok], recovered), b[ok], rtol=1e-13)


def test_lower_map_derivatives() -> None:
    """df/db and d2f/db2 of Jaeckel's lower map vs finite differences (db = vega ds)."""
    x = np.array([-0.05, -0.5, -2.0, -0.001])
    s = np.array([0.02, 0.3, 0.8, 0.0004])
    _, fp, fpp = _f_lower_map(x, s)
    h = 1e-6 * s
    f_up, fp_up, _ = _f_lower_map(x, s + h)
    f_dn, fp_dn, _ = _f_lower_map(x, s - h)
    db = normalised_black_otm(x, s + h) - normalised_black_otm(x, s - h)
    np.testing.assert_allclose((f_up - f_dn) / db, fp, rtol=1e-6)
    np.testing.assert_allclose((fp_up - fp_dn) / db, fpp, rtol=1e-5)


# --- QuantLib cross-checks (optional dependency) -------------------------------------------------------------

def test_greeks_against_quantlib_black_calculator() -> None:
    """2,000 random options incl. 0DTE vs QuantLib BlackCalculator (explicit T): relative 1e-9.

    QuantLib's plain formula loses relative precision far out of the money, so only options worth
    more than 1e-6 of spot are compared there; our own accuracy in the tails is tested above.
    """
    ql = pytest.importorskip("QuantLib")
    o = _random_grid(2000, seed=5, z_max=3.0)
    ours = bs_greeks(o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["vol"], o["is_call"])
    price = bs_price(o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["vol"], o["is_call"])
    for i in range(2000):
        s, k, t, r, q, vol, c = (o[name][i] for name in ("spot", "strike", "t", "rate", "div", "vol", "is_call"))
        if price[i] < 1e-6 * s:
            continue
        fwd = s * math.exp((r - q) * t)
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if c else ql.Option.Put, k)
        calc = ql.BlackCalculator(payoff, fwd, vol * math.sqrt(t), math.exp(-r * t))
        assert price[i] == pytest.approx(calc.value(), rel=1e-9)
        assert ours["delta"][i] == pytest.approx(calc.delta(s), rel=1e-9, abs=1e-12)
        assert ours["gamma"][i] == pytest.approx(calc.gamma(s), rel=1e-8, abs=1e-14)
        assert ours["vega"][i] * 100 == pytest.approx(calc.vega(t), rel=1e-9, abs=1e-12)
        assert ours["rho"][i] * 100 == pytest.approx(calc.rho(t), rel=1e-8, abs=1e-12)
        assert ours["theta"][i] * 365 == pytest.approx(calc.theta(s, t), rel=1e-7, abs=1e-9 * s)


def test_iv_against_quantlib() -> None:
    """Our IV vs QuantLib blackFormulaImpliedStdDev (accuracy 1e-12 on the std-dev) on 300 options."""
    ql = pytest.importorskip("QuantLib")
    o = _random_grid(300, seed=8, z_max=2.5)
    price = bs_price(o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["vol"], o["is_call"])
    iv = implied_volatility(price, o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["is_call"])
    for i in range(300):
        s, k, t, r, q, c = (o[name][i] for name in ("spot", "strike", "t", "rate", "div", "is_call"))
        std = ql.blackFormulaImpliedStdDev(ql.Option.Call if c else ql.Option.Put, k, s * math.exp((r - q) * t),
                                           price[i], math.exp(-r * t), 0.0, 0.2 * math.sqrt(t), 1e-12, 200)
        assert iv[i] == pytest.approx(std / math.sqrt(t), rel=1e-6)
