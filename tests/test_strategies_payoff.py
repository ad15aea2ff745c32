"""Structures: net prices by hand, and exact expiry risk checked against brute-force evaluation.

Brute force (allowed here only): the expiry P&L summed leg by leg on a dense price grid that contains
every strike, plus the P&L far beyond the last strike for unboundedness.
"""
from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.market import ContractSpec
from strategies.structures import Leg, Structure, same_expiry_profile
from strategies.verdict import NetPrices

EXPIRY = date(2021, 1, 8)


def leg(strike: float, is_call: bool, quantity: int, bid: float = 1.0, ask: float = 1.2,
        expiry: date = EXPIRY) -> Leg:
    return Leg(ContractSpec("SPX", "SPXW", expiry, strike, is_call, 100.0), quantity, bid, ask)


def brute_pnl(legs: list[tuple[float, bool, int]], entry: float, prices: np.ndarray) -> np.ndarray:
    total = np.full(prices.shape, -entry)
    for strike, is_call, quantity in legs:
        for i, s in enumerate(prices):
            total[i] += quantity * (max(s - strike, 0.0) if is_call else max(strike - s, 0.0))
    return total


def test_net_prices_by_hand():
    fly = Structure("fly", (leg(95, False, -1, 1.00, 1.10), leg(100, False, 2, 2.00, 2.20), leg(105, False, -1, 4.0, 4.3)))
    assert fly.natural() == pytest.approx(-1.00 + 4.40 - 4.0)     # buy at ask, sell at bid
    assert fly.far() == pytest.approx(-1.10 + 4.00 - 4.3)
    assert fly.mid() == pytest.approx(-1.05 + 4.20 - 4.15)
    prices = NetPrices.of(fly, 0.05)
    assert prices.limit == pytest.approx(-1.00) and prices.credit == pytest.approx(1.00)  # -1.00 exactly on tick
    assert prices.far <= prices.mid <= prices.natural


def test_limit_rounds_in_our_favour_and_never_through_natural():
    spread = Structure("v", (leg(100, True, 1, 2.00, 2.04), leg(105, True, -1, 1.00, 1.02)))
    prices = NetPrices.of(spread, 0.05)
    assert prices.mid == pytest.approx(1.01) and prices.limit == pytest.approx(1.00)
    credit = Structure("c", (leg(100, True, -1, 2.00, 2.04), leg(105, True, 1, 1.00, 1.02)))
    assert NetPrices.of(credit, 0.05).limit == pytest.approx(-1.05)  # mid -1.01 -> ask more credit
    tight = Structure("t", (leg(100, True, 1, 2.00, 2.00),))
    assert NetPrices.of(tight, 0.05).limit <= tight.natural()


def test_short_butterfly_exact_risk():
    fly = Structure("fly", (leg(95, False, -1), leg(100, False, 2), leg(105, False, -1)))
    risk = same_expiry_profile(fly, -2.0)  # 2.00 credit
    assert (risk.max_profit, risk.max_loss) == (2.0, 3.0)
    assert risk.breakevens == (97.0, 103.0)
    assert risk.reward_to_risk() == pytest.approx(2 / 3)
    assert risk.max_loss_dollars(100.0) == 300.0


def test_put_ratio_worst_case_is_at_zero_and_call_ratio_is_unbounded():
    puts = Structure("1x2 put", (leg(100, False, 1), leg(90, False, -2)))
    risk = same_expiry_profile(puts, -1.0)
    assert risk.max_loss == pytest.approx(2 * 90 - 100 - 1.0) and not risk.loss_unbounded
    assert risk.max_profit == pytest.approx(11.0) and risk.breakevens == (pytest.approx(79.0),)
    calls = Structure("1x2 call", (leg(100, True, 1), leg(110, True, -2)))
    naked = same_expiry_profile(calls, -1.0)
    assert naked.loss_unbounded and naked.max_loss_dollars(100.0) is None
    assert naked.reward_to_risk() == 0.0
    long_call = same_expiry_profile(Structure("c", (leg(100, True, 1),)), 2.0)
    assert long_call.profit_unbounded and long_call.max_loss == 2.0 and long_call.breakevens == (102.0,)


def test_one_expiry_only():
    with pytest.raises(ValueError):
        same_expiry_profile(Structure("cal", (leg(100, True, -1), leg(100, True, 1, expiry=date(2021, 2, 19)))), 1.0)


def test_structure_rejects_mixed_multipliers_and_zero_quantities():
    other = Leg(ContractSpec("SPX", "SPXW", EXPIRY, 100.0, True, 10.0), 1, 1.0, 1.1)
    with pytest.raises(ValueError):
        Structure("x", (leg(100, True, 1), other))
    with pytest.raises(ValueError):
        Structure("x", (leg(100, True, 0),))


LEGS = st.lists(st.tuples(st.sampled_from([60.0, 75.0, 80.0, 90.0, 95.0, 100.0, 105.0, 120.0, 150.0]),
                          st.booleans(), st.integers(-3, 3).filter(lambda q: q != 0)), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(LEGS, st.integers(-2000, 2000).map(lambda c: c / 100.0))
def test_exact_risk_matches_brute_force(legs, entry):
    structure = Structure("random", tuple(leg(k, c, q) for k, c, q in legs))
    risk = same_expiry_profile(structure, entry)
    grid = np.round(np.arange(0.0, 400.0001, 0.25), 10)  # every strike is on this grid
    pnl = brute_pnl(legs, entry, grid)
    far = brute_pnl(legs, entry, np.array([1e4, 2e4]))
    growing = far[1] - far[0]
    if growing > 1e-6:
        assert risk.profit_unbounded
    else:
        assert risk.max_profit == pytest.approx(pnl.max(), abs=1e-9)
    if growing < -1e-6:
        assert risk.loss_unbounded
    else:
        assert risk.max_loss == pytest.approx(-pnl.min(), abs=1e-9)
    sign_changes = np.flatnonzero(np.sign(pnl[:-1]) * np.sign(pnl[1:]) < 0)
    brute_roots = {float(grid[i]) for i in sign_changes}
    for b in risk.breakevens:
        assert brute_pnl(legs, entry, np.array([b]))[0] == pytest.approx(0.0, abs=1e-9)
    # every brute-force crossing is bracketing one of the exact breakevens
    for left in brute_roots:
        assert any(left <= b <= left + 0.25 for b in risk.breakevens)
    beyond = [b for b in risk.breakevens if b > 400]
    assert all(math.isfinite(b) for b in beyond)


def test_breakevens_on_a_flat_zero_piece_report_both_ends():
    spread = Structure("v", (leg(100, True, 1), leg(105, True, -1)))
    risk = same_expiry_profile(spread, 0.0)  # free call spread: P&L 0 below 100
    assert risk.breakevens[:2] == (0.0, 100.0)
    assert datetime(2021, 1, 8).date() == risk.valued_at
