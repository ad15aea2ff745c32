"""Every analyser on synthetic chains (Black-Scholes quotes, stated vols): a setup that hits every
rule, and one miss per rule with its reason. Tradeable verdicts are checked for a ready order whose
risk agrees with brute-force evaluation of the legs (brute force in tests only)."""
from __future__ import annotations

import dataclasses
import functools
import math
from datetime import date, datetime

import numpy as np
import pytest

from core.market import ChainColumns
from core.settings import load_settings
from strategies.section9b import Section9BStrategies
from strategies.verdict import StrategyAnalysis
from tests.test_strategies_chains import FRIDAY, bs_chain, market, snapshot, strikes

DEFAULTS = load_settings(lambda name: None).section9b
TODAY = FRIDAY.date()
VOLS = {TODAY: 0.20, date(2021, 1, 18): 0.26, date(2021, 1, 22): 0.25, date(2021, 1, 25): 0.24,
        date(2021, 2, 5): 0.23, date(2021, 2, 22): 0.20}
CHAIN = bs_chain(FRIDAY, 3740.0, VOLS, strikes(3400, 4100, 5))


@functools.lru_cache(maxsize=None)
def chain_for(spot: float) -> ChainColumns:
    """The standard chain quoted with the underlying at ``spot``."""
    return CHAIN if spot == 3740.0 else bs_chain(FRIDAY, spot, VOLS, strikes(3300, 4200, 5))


def run(strategy: str, chain: ChainColumns | None = None, settings=DEFAULTS, with_market: bool = True,
        **snap) -> StrategyAnalysis:
    snap.setdefault("portfolio", 1e7)
    when = snap.pop("now", FRIDAY)
    chain = chain if chain is not None else chain_for(snap.get("spot") or 3740.0)
    verdicts, opportunities = Section9BStrategies(settings).analyze_all_section9b(
        snapshot(chain, now=when, **snap), market(when, snap.get("spot") or 3740.0) if with_market else None)
    assert [v.strategy for v in opportunities] == [v.strategy for v in sorted(
        (v for v in verdicts if v.can_trade), key=lambda v: -v.score)]
    assert all(v.reason for v in verdicts)  # every verdict says why
    return {v.strategy: v for v in verdicts}[strategy]


def legs_of(verdict: StrategyAnalysis) -> list[tuple[str, float, bool, int]]:
    assert verdict.structure is not None
    return [(leg.contract.expiry.isoformat(), leg.contract.strike, leg.contract.is_call, leg.quantity)
            for leg in verdict.structure.legs]


def brute_expiry_pnl(verdict: StrategyAnalysis, prices: np.ndarray) -> np.ndarray:
    assert verdict.structure is not None and verdict.prices is not None
    total = np.full(prices.shape, -verdict.prices.limit)
    for leg in verdict.structure.legs:
        k = leg.contract.strike
        total += leg.quantity * (np.maximum(prices - k, 0) if leg.contract.is_call else np.maximum(k - prices, 0))
    return total


def assert_ready(verdict: StrategyAnalysis, chain: ChainColumns = CHAIN) -> None:
    """A tradeable verdict: listed legs with their quotes, a limit between far and natural, exact risk."""
    assert verdict.can_trade and verdict.reason.startswith("ENTER ")
    intent, structure, prices, risk = verdict.intent, verdict.structure, verdict.prices, verdict.risk
    assert intent is not None and structure is not None and prices is not None and risk is not None
    assert intent.units == 1 and intent.limit_price == prices.limit and intent.strategy == verdict.strategy
    assert prices.far - 0.05 < prices.limit <= prices.mid <= prices.natural
    for order_leg, leg in zip(intent.legs, structure.legs):
        row = chain.contracts.index(leg.contract)
        assert (order_leg.contract, order_leg.quantity) == (leg.contract, leg.quantity)
        assert (order_leg.bid, order_leg.ask) == (chain.bid[row], chain.ask[row])
    assert intent.max_loss == pytest.approx(risk.max_loss * 100)
    assert intent.profit_target == pytest.approx(0.5 * risk.max_profit)
    assert intent.stop_loss is not None and -risk.max_loss <= intent.stop_loss < 0
    assert intent.signals[-1].startswith("score: ") and verdict.score == sum(p for _, p in verdict.score_parts)
    assert verdict.greeks is not None and verdict.greeks.available
    if len(structure.expiries) == 1:
        grid = np.union1d(np.arange(0.0, 8000.0, 0.5), structure.strikes)
        pnl = brute_expiry_pnl(verdict, grid)
        assert risk.max_loss == pytest.approx(-pnl.min(), abs=1e-9)
        assert risk.max_profit == pytest.approx(pnl.max(), abs=1e-9)
        assert np.allclose(brute_expiry_pnl(verdict, np.array(risk.breakevens)), 0.0, atol=1e-9)


# --- Enhanced Butterfly -----------------------------------------------------------------------------

def test_butterfly_hit():
    verdict = run("Enhanced Butterfly", vix=20.0)
    assert_ready(verdict)
    assert legs_of(verdict) == [("2021-01-08", 3700.0, False, -1), ("2021-01-08", 3740.0, False, 2),
                                ("2021-01-08", 3780.0, False, -1)]  # wing 41.8 -> 40: puts after an up move
    assert dict(verdict.score_parts) == {"move": 30.0, "vix": 25.0, "credit": 25.0, "reward/risk": 20.0}
    assert verdict.risk.max_profit == pytest.approx(-verdict.prices.limit)  # a short fly keeps its credit
    assert verdict.risk.max_loss == pytest.approx(40.0 + verdict.prices.limit)
    assert verdict.units_within_risk == int(0.05 * 1e7 // verdict.intent.max_loss)


def test_butterfly_after_a_down_move_uses_calls():
    verdict = run("Enhanced Butterfly", spot=3660.0, vix=20.0)
    assert_ready(verdict, chain_for(3660.0))
    assert [leg[1:] for leg in legs_of(verdict)] == [(3620.0, True, -1), (3660.0, True, 2), (3700.0, True, -1)]


NARROW = bs_chain(FRIDAY, 3740.0, {TODAY: 0.2}, [3700.0, 3740.0, 3790.0])
FAR_WINGS = bs_chain(FRIDAY, 3740.0, {TODAY: 0.2}, [3240.0, 3740.0, 4240.0], half_spread=0.0)
CALM = bs_chain(FRIDAY, 3740.0, {TODAY: 3.0}, strikes(3600, 3900, 5))
ILLIQUID_BODY = bs_chain(FRIDAY, 3740.0, {TODAY: 0.2}, strikes(3600, 3900, 5), open_interest=5.0)


@pytest.mark.parametrize("overrides, reason", [
    ({"now": datetime(2021, 1, 7, 11, 0)}, "Butterfly only on Friday"),
    ({"now": datetime(2021, 1, 8, 10, 34)}, "Wait until 10:35"),
    ({"spot": None}, "Move from open unavailable (SPX price stale since 09:31)"),
    ({"spot": 3730.0}, "Insufficient movement: 0.81% (need 1%)"),
    ({"chain": bs_chain(FRIDAY, 3740.0, {date(2021, 1, 15): 0.2}, [3740.0])}, "No 0DTE options available"),
    ({"vix": None}, "VIX unavailable (no data received)"),
    ({"chain": NARROW}, "No symmetric listed wings around 3740 on 2021-01-08"),
    ({"chain": FAR_WINGS}, "Nearest listed wing 500 wider than the 415.56-point maximum"),
    ({"chain": CALM}, "Insufficient credit: "),
    ({"chain": ILLIQUID_BODY}, "At-the-money leg not tradeable: SPXW 2021-01-08 3740P: open interest 5 below 10"),
    ({"vix": 35.0, "spot": 3840.0}, "Score too low: 60/100 (need 70)"),  # move 3.8%: 15, VIX 35: 0
    ({"portfolio": 1e4}, "Max loss $1,450.00 per unit exceeds 5% of portfolio ($500.00)"),
])
def test_butterfly_misses(overrides, reason):
    overrides.setdefault("vix", 20.0)
    verdict = run("Enhanced Butterfly", **overrides)
    assert not verdict.can_trade and verdict.intent is None and verdict.reason.startswith(reason)


# --- Diagonal ---------------------------------------------------------------------------------------

def test_diagonal_hit_sells_the_front_and_buys_the_back():
    verdict = run("Diagonal Spread", vix=20.0)
    assert_ready(verdict)
    assert legs_of(verdict) == [("2021-01-22", 3740.0, True, -1), ("2021-02-22", 3740.0, True, 1)]
    assert dict(verdict.score_parts) == {"iv edge": 30.0, "vix": 25.0, "bias": 20.0, "reward/risk": 25.0}
    risk = verdict.risk
    assert risk.valued_at == date(2021, 1, 22) and risk.price_range[0] < 3740 < risk.price_range[1]
    assert verdict.prices.limit > 0  # a debit
    assert any("ATM IV front 2021-01-22 25.00% vs back 2021-02-22 20.00%" in s for s in verdict.signals)


def test_diagonal_high_vix_targets_and_bearish_puts():
    """A put diagonal one SPY point below the price (the spec's ``round(price) - 1``), scaled to SPX:
    3660 - 3660/450 = 3651.9, so the listed 3650, not the 3660 at the money."""
    verdict = run("Diagonal Spread", vix=28.0, spot=3660.0)
    assert_ready(verdict, chain_for(3660.0))
    assert legs_of(verdict) == [("2021-01-18", 3650.0, False, -1), ("2021-02-05", 3650.0, False, 1)]


@pytest.mark.parametrize("spot, is_call, listed, expected", [
    (450.3, True, range(440, 461), 450), (450.3, False, range(440, 461), 449),  # SPY: round(p), round(p) - 1
    (450.6, False, range(440, 461), 450), (3800.0, False, range(3700, 3901, 5), 3790)])
def test_diagonal_strike_follows_the_spec_scaled_to_the_listed_strikes(spot, is_call, listed, expected):
    from strategies.analysers.spreads import diagonal_target

    target = diagonal_target(spot, is_call, spot / 450.0)
    assert min(listed, key=lambda k: (abs(k - target), k)) == expected


INVERTED = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 22): 0.18, date(2021, 2, 22): 0.20}, strikes(3600, 3900, 10))
FRONT_ONLY = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 22): 0.25}, strikes(3600, 3900, 10))
FLAT = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 22): 0.205, date(2021, 2, 22): 0.20}, strikes(3600, 3900, 10))


@pytest.mark.parametrize("overrides, reason", [
    ({"vix": 14.0}, "VIX too low: 14.00 < 15"),
    ({"vix": 36.0}, "VIX too high: 36.00 > 35"),
    ({"vix": None}, "VIX unavailable (no data received)"),
    ({"with_market": False}, "IV term structure needs pricing inputs (rate, dividend yield) not given"),
    ({"chain": FRONT_ONLY}, "Cannot find suitable expirations: nearest expiry to 45 DTE is 2021-01-22 (14 DTE)"),
    ({"chain": INVERTED}, "No IV backwardation: front 18.00% <= back 20.00%"),
    ({"chain": FLAT, "spot": 3745.0, "vix": 30.0}, "Score too low: 55/100 (need 65)"),  # edge 0.5, neutral, VIX 30
])
def test_diagonal_misses(overrides, reason):
    overrides.setdefault("vix", 20.0)
    verdict = run("Diagonal Spread", **overrides)
    assert not verdict.can_trade and verdict.reason.startswith(reason)


# --- 1x2 put ratio ----------------------------------------------------------------------------------

def test_ratio_hit_and_its_worst_case():
    verdict = run("Ratio Spread", vix=28.0)
    assert_ready(verdict)
    assert legs_of(verdict) == [("2021-02-05", 3740.0, False, 1), ("2021-02-05", 3655.0, False, -2)]  # 83.1 -> 85
    credit = -verdict.prices.limit
    assert verdict.risk.max_loss == pytest.approx(2 * 3655 - 3740 - credit)  # settlement at 0
    assert verdict.risk.breakevens == (pytest.approx(3655 - 85 - credit),)
    assert "undefined risk: naked short put, worst case at 0" in verdict.signals


CHEAP_WINGS = bs_chain(FRIDAY, 3740.0, {date(2021, 2, 5): lambda k: 0.25 if k >= 3740 else 0.12}, strikes(3400, 4000, 5))


@pytest.mark.parametrize("overrides, reason", [
    ({"vix": 19.9}, "VIX too low: 19.90 < 20"),
    ({"vix": None}, "VIX unavailable (no data received)"),
    ({"chain": bs_chain(FRIDAY, 3740.0, {date(2021, 1, 15): 0.2}, [3740.0])},
     "No suitable expiration: nearest expiry to 28 DTE is 2021-01-15 (7 DTE), outside 14..56 DTE"),
    ({"portfolio": 1e6}, "Max loss $354,940.00 per unit exceeds 5% of portfolio ($50,000.00)"),
    ({"chain": CHEAP_WINGS, "vix": 20.0}, "Score too low: 25/100 (need 65)"),  # a debit, little cushion
])
def test_ratio_misses(overrides, reason):
    overrides.setdefault("vix", 28.0)
    verdict = run("Ratio Spread", **overrides)
    assert not verdict.can_trade and verdict.reason.startswith(reason)


# --- Broken-wing butterfly --------------------------------------------------------------------------

def test_broken_wing_butterfly_hit_breaks_the_call_side_after_an_up_move():
    verdict = run("Broken Wing Butterfly", vix=24.0)
    assert_ready(verdict)
    assert legs_of(verdict) == [("2021-01-25", 3700.0, True, 1), ("2021-01-25", 3740.0, True, -2),
                                ("2021-01-25", 3825.0, True, 1)]
    credit = -verdict.prices.limit
    assert verdict.risk.max_loss == pytest.approx(85 - 40 - credit) and verdict.risk.max_profit == pytest.approx(40 + credit)


def test_broken_wing_butterfly_breaks_the_put_side_after_a_down_move():
    verdict = run("Broken Wing Butterfly", vix=24.0, spot=3735.0, day_open=3750.0)
    assert_ready(verdict, chain_for(3735.0))
    assert [leg[1:] for leg in legs_of(verdict)] == [(3650.0, False, 1), (3735.0, False, -2), (3775.0, False, 1)]


COARSE = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 25): 0.24}, strikes(3400, 4100, 100))
QUIET = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 25): 0.08}, strikes(3400, 4100, 5))


@pytest.mark.parametrize("overrides, reason", [
    ({"vix": 17.0}, "VIX too low: 17.00 < 18"),
    ({"vix": 36.0}, "VIX too high: 36.00 > 35"),
    ({"chain": COARSE}, "Listed strikes 3600/3700/3800 give no broken wing"),
    ({"chain": QUIET}, "Insufficient credit: "),
    ({"portfolio": 1e4}, "Max loss $"),
])
def test_broken_wing_butterfly_misses(overrides, reason):
    overrides.setdefault("vix", 24.0)
    verdict = run("Broken Wing Butterfly", **overrides)
    assert not verdict.can_trade and verdict.reason.startswith(reason)


# --- Batman -----------------------------------------------------------------------------------------

def test_batman_hit_two_broken_butterflies_for_a_credit():
    verdict = run("Batman Spread", vix=28.0)
    assert_ready(verdict)
    assert legs_of(verdict) == [
        ("2021-01-18", 3740.0, False, 1), ("2021-01-18", 3700.0, False, -2), ("2021-01-18", 3575.0, False, 1),
        ("2021-01-18", 3740.0, True, 1), ("2021-01-18", 3780.0, True, -2), ("2021-01-18", 3905.0, True, 1)]
    credit = -verdict.prices.limit
    pnl = brute_expiry_pnl(verdict, np.array([3700.0, 3740.0, 3780.0]))
    assert pnl == pytest.approx([40 + credit, credit, 40 + credit])  # the ears and the dip between
    assert verdict.risk.max_loss == pytest.approx(85 - credit)


@pytest.mark.parametrize("overrides, reason", [
    ({"now": datetime(2021, 1, 7, 11, 0)}, "Batman spreads on Fridays only"),
    ({"vix": 21.0}, "VIX too low: 21.00 < 22"),
    ({"chain": bs_chain(FRIDAY, 3740.0, {date(2021, 1, 18): 0.26}, strikes(3700, 3800, 20))},
     "No liquid 2021-01-18 put listed below 3700"),
    ({"chain": bs_chain(FRIDAY, 3740.0, {date(2021, 1, 18): 0.12}, strikes(3400, 4100, 5))},
     "Insufficient credit: -4.20 (need 12.47)"),
    ({"chain": bs_chain(FRIDAY, 3740.0, {date(2021, 1, 18): 0.18}, strikes(3400, 4100, 5)), "vix": 22.0},
     "Score too low: 55/100 (need 75)"),
])
def test_batman_misses(overrides, reason):
    overrides.setdefault("vix", 28.0)
    verdict = run("Batman Spread", **overrides)
    assert not verdict.can_trade and verdict.reason.startswith(reason)


# --- Broken-wing condor -----------------------------------------------------------------------------

SKEWED = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 25): lambda k: 0.20 - 0.8 * math.log(k / 3740.0)},
                  strikes(3400, 4100, 5))


def test_broken_wing_condor_hit():
    verdict = run("Broken Wing Condor", chain=SKEWED, vix=24.0)
    assert_ready(verdict, SKEWED)
    assert legs_of(verdict) == [("2021-01-25", 3700.0, True, 1), ("2021-01-25", 3740.0, True, -1),
                                ("2021-01-25", 3780.0, True, -1), ("2021-01-25", 3865.0, True, 1)]
    credit = -verdict.prices.limit
    assert verdict.risk.max_profit == pytest.approx(40 + credit) and verdict.risk.max_loss == pytest.approx(45 - credit)
    assert any(s.startswith("P(profit) 70.") for s in verdict.signals)


@pytest.mark.parametrize("overrides, reason", [
    ({"vix": 17.0}, "VIX too low: 17.00 < 18"),
    ({"with_market": False}, "Probability of profit needs pricing inputs (rate, dividend yield) not given"),
    ({"chain": CHAIN}, "Probability of profit 68.1% below 70%"),
    ({"chain": QUIET}, "Insufficient credit: "),
    ({"chain": COARSE}, "Listed strikes 3600/3700/3800/3900 give no broken wing"),
])
def test_broken_wing_condor_misses(overrides, reason):
    overrides.setdefault("vix", 24.0)
    overrides.setdefault("chain", SKEWED)
    verdict = run("Broken Wing Condor", **overrides)
    assert not verdict.can_trade and verdict.reason.startswith(reason)


# --- all together -----------------------------------------------------------------------------------

def test_all_verdicts_in_order_and_opportunities_best_first():
    strategies = Section9BStrategies(DEFAULTS)
    snap = snapshot(CHAIN, vix=24.0, portfolio=1e7)
    verdicts, opportunities = strategies.analyze_all_section9b(snap, market())
    assert [v.strategy for v in verdicts] == ["Enhanced Butterfly", "Diagonal Spread", "Ratio Spread",
                                              "Broken Wing Butterfly", "Batman Spread", "Broken Wing Condor"]
    assert opportunities and [v.score for v in opportunities] == sorted((v.score for v in opportunities), reverse=True)
    for v in opportunities:
        assert_ready(v)
    single = strategies.analyze_broken_wing_butterfly(snap, market())
    assert single == {v.strategy: v for v in verdicts}["Broken Wing Butterfly"]


def test_without_pricing_inputs_greeks_read_unavailable_but_same_expiry_analysers_still_price():
    verdict = run("Enhanced Butterfly", vix=20.0, with_market=False)
    assert verdict.can_trade and verdict.greeks is not None and not verdict.greeks.available
    assert verdict.greeks.reason == "pricing inputs (rate, dividend yield) not given"


def test_illiquid_wings_snap_to_liquid_listed_strikes():
    """The 40-point wings made illiquid: the nearest symmetric liquid distance is 35 (0DTE puts below
    3700 have no bid in this chain, so 45 is not available)."""
    wide = dataclasses.replace(CHAIN, ask=np.where((CHAIN.strike == 3700) | (CHAIN.strike == 3780),
                                                   CHAIN.ask + 50, CHAIN.ask))
    verdict = run("Enhanced Butterfly", chain=wide, vix=20.0)
    assert [leg[1] for leg in legs_of(verdict)] == [3705.0, 3740.0, 3775.0]
