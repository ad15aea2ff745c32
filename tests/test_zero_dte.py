"""The Friday 0DTE credit spread: rule, strikes by delta, credit, size and exits (synthetic chain
priced by Black-Scholes at 15% vol with a 0.10 wide quote; and one replay scenario end to end)."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from core.market import ChainColumns, ContractSpec, MarketSnapshot, SeriesTracker
from core.settings import load_settings
from risk.contract_greeks import PricingInputs
from risk.expiry_time import year_fraction_to_expiry
from risk.pricing import bs_price
from strategies.zero_dte import plan_zero_dte

SETTINGS = load_settings(lambda name: None)
FRIDAY = date(2021, 6, 25)
NOW = datetime(2021, 6, 25, 11, 0)


def _snapshot(spot: float, open_price: float, now: datetime = NOW) -> MarketSnapshot:
    strikes = np.arange(3850.0, 4150.0 + 1, 5.0)
    t = float(year_fraction_to_expiry(now, FRIDAY))
    contracts, rows = [], []
    for is_call in (True, False):
        for k in strikes:
            mid = float(bs_price(spot, k, t, 0.0025, 0.0, 0.15, is_call))
            contracts.append(ContractSpec("SPX", "SPXW", FRIDAY, float(k), is_call, 100.0))
            rows.append((max(mid - 0.05, 0.0), mid + 0.05, mid, 0.0, 100.0, float("nan"), 0.0))
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(now.replace(hour=9, minute=31), open_price, open_price=open_price)
    tracker.record(now, spot)
    empty = SeriesTracker("X", timedelta(minutes=5)).state(now)
    return MarketSnapshot(now, tracker.state(now), empty, empty, empty, ChainColumns.from_rows(contracts, rows),
                          (), 100_000.0)


def _plan(snap: MarketSnapshot, progressive: bool = False, mode: str = "fade", scale: float = 0.1,
          risk: float = 50_000.0):
    rules = load_settings({"zero-dte-mode": mode}.get).zero_dte
    market = PricingInputs(snap.time, snap.underlying.price.value, 0.0025, 0.0, False)
    return plan_zero_dte(snap, market, rules, SETTINGS.friday.zero_dte(progressive), progressive, scale, risk)


def test_small_move_sells_an_iron_condor_with_delta_chosen_shorts():
    plan = _plan(_snapshot(4000.0, 3990.0))  # +0.25% from the open
    assert not isinstance(plan, str) and plan.kind == "0DTE Iron Condor"
    legs = {(leg.contract.is_call, leg.quantity): leg.contract.strike for leg in plan.intent.legs}
    short_put, long_put = legs[(False, -1)], legs[(False, 1)]
    short_call, long_call = legs[(True, -1)], legs[(True, 1)]
    assert long_put < short_put < 4000.0 < short_call < long_call
    assert short_put - long_put == pytest.approx(30.0) and long_call - short_call == pytest.approx(30.0)  # 0.75%
    from risk.pricing import bs_greeks

    t = float(year_fraction_to_expiry(NOW, FRIDAY))
    for k, is_call in ((short_put, False), (short_call, True)):
        delta = abs(float(bs_greeks(4000.0, k, t, 0.0025, 0.0, 0.15, is_call)["delta"]))
        assert 0.15 <= delta <= 0.25
    natural = plan.natural_credit
    limit = -plan.intent.limit_price
    assert natural <= limit <= plan.credit_mid - 0.05 + 1e-9  # mid minus the concession, never through natural
    assert math.isclose(limit / 0.05, round(limit / 0.05))
    params = SETTINGS.friday.zero_dte(False)
    assert plan.intent.profit_target == pytest.approx(params.profit_target * limit)
    assert plan.intent.stop_loss == pytest.approx(-params.stop_loss_multiplier * limit)


@pytest.mark.parametrize("open_price, mode, kind", [
    (3960.0, "fade", "0DTE Call Credit Spread"),   # +1.0%: fade the up-move
    (4040.0, "fade", "0DTE Put Credit Spread"),    # -1.0%
    (3960.0, "trend", "0DTE Put Credit Spread"),   # trend-following sells the other side
])
def test_a_move_beyond_half_a_percent_sells_one_side(open_price, mode, kind):
    plan = _plan(_snapshot(4000.0, open_price), mode=mode)
    assert not isinstance(plan, str) and plan.kind == kind and len(plan.intent.legs) == 2


def test_progressive_fridays_size_up_within_their_contract_limit():
    normal = _plan(_snapshot(4000.0, 3990.0), progressive=False, risk=10_000.0)
    progressive = _plan(_snapshot(4000.0, 3990.0), progressive=True, risk=10_000.0)
    assert not isinstance(normal, str) and not isinstance(progressive, str)
    assert progressive.intent.units >= normal.intent.units
    assert normal.intent.units == min(5, math.floor(10_000.0 / normal.max_loss_per_unit))
    assert progressive.intent.units == min(10, math.floor(10_000.0 * 1.5 / progressive.max_loss_per_unit))


@pytest.mark.parametrize("when, scale, risk, reason", [
    (datetime(2021, 6, 25, 10, 29), 0.1, 50_000.0, "outside the entry window 10:30-13:30"),
    (NOW, 100.0, 50_000.0, "below the minimum"),
    (NOW, 0.1, 10.0, "allows no unit"),
])
def test_refusals_say_why(when, scale, risk, reason):
    plan = _plan(_snapshot(4000.0, 3990.0, now=when), scale=scale, risk=risk)
    assert isinstance(plan, str) and reason in plan


def test_not_on_a_thursday():
    snap = _snapshot(4000.0, 3990.0, now=datetime(2021, 6, 24, 11, 0))
    assert _plan(snap) == "not a Friday with a same-day expiry"


def test_the_replay_enters_manages_and_reports_a_0dte_condor(tmp_path):
    from replay.results import statistics
    from replay.runner import ReplayConfig, run_replay
    from replay.scenarios import write_scenario

    info = write_scenario("gap-friday", tmp_path)
    wider = {"start-date": "2021-06-25", "zero-dte-short-delta-min": "0.25", "zero-dte-short-delta-max": "0.35"}
    run = run_replay(ReplayConfig(tmp_path, {**info.parameters, **wider}))
    entries = [t for t in run.algorithm.orders if t.tag == "0DTE Iron Condor"]
    assert entries and entries[0].time.time() >= time(10, 30)
    exits = [f for f in run.broker.fills if f.tag == "0DTE Iron Condor exit"]
    assert exits and all(f.time.time() >= time(15, 0) for f in exits)
    stats = statistics(run)["Runtime Statistics"]
    assert stats["0DTE progressive Fridays"].startswith("1 trades, win rate")
