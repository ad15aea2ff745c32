"""The Friday 0DTE credit spread: rule, strikes by delta, credit, size and exits (synthetic chain
priced by Black-Scholes at 15% vol with a 0.10 wide quote; and one replay scenario end to end)."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from core.market import ChainColumns, ContractSpec, MarketSnapshot, SeriesTracker
from core.settings import load_settings
from pricing.chain import PricingInputs
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import bs_price
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
    from pricing.black_scholes import bs_greeks

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


def test_the_replay_sends_the_0dte_condor_as_one_combo_limit_and_cancels_it_unfilled(tmp_path):
    """The progressive Friday's condor leaves at 10:30 as one combo limit order (four legs, one group).
    Under LEAN's combo-limit rule a bought group (positive quantity, signed legs) fills only when the
    sum of its legs' own-side bar *lows* is strictly below the limit: the short legs are read at their
    bid bars' lows, so a credit at the natural price or better does not fill on these quotes, and the
    desk cancels the entry after 10 minutes."""
    from replay.engine import double as ld
    from replay.engine.results import statistics
    from replay.engine.runner import ReplayConfig, run_replay
    from replay.scenarios import write_scenario

    info = write_scenario("gap-friday", tmp_path)
    wider = {"start-date": "2021-06-25", "zero-dte-short-delta-min": "0.25", "zero-dte-short-delta-max": "0.35"}
    run = run_replay(ReplayConfig(tmp_path, {**info.parameters, **wider}))
    entries = run.algorithm.transactions.get_orders(lambda o: o.tag == "0DTE Iron Condor")
    assert len(entries) == 4 and len({o.group_order_manager.id for o in entries}) == 1
    assert entries[0].time.time() == time(10, 30) and {o.type for o in entries} == {ld.OrderType.COMBO_LIMIT}
    assert sorted(o.quantity for o in entries) == [-2, -2, 2, 2]
    assert all(o.status is ld.OrderStatus.CANCELED for o in entries)
    assert "[Section 9B] 0DTE Iron Condor: entry not filled within 10 min, cancelling" in run.algorithm.logs
    assert not [f for f in run.broker.fills if f.tag.startswith("0DTE")]
    assert "0DTE progressive Fridays" not in statistics(run)["Runtime Statistics"]  # no trade to report


def test_in_manual_mode_the_0dte_trade_is_only_suggested(tmp_path):
    from replay.engine.runner import ReplayConfig, run_replay
    from replay.scenarios import write_scenario

    info = write_scenario("gap-friday", tmp_path)
    halted = {"start-date": "2021-06-25", "zero-dte-short-delta-min": "0.25", "zero-dte-short-delta-max": "0.35",
              "manual-extreme-vix": "1"}  # any VIX halts at the first bar
    run = run_replay(ReplayConfig(tmp_path, {**info.parameters, **halted}))
    assert not run.algorithm.transactions.get_orders(lambda o: o.tag.startswith("0DTE"))
    suggestions = [s for s in run.algorithm.desk.manual_mode.pending_trades if s.intent.strategy.startswith("0DTE")]
    assert len(suggestions) == 1 and suggestions[0].refused_because.startswith("MANUAL: Extreme VIX")


def test_a_stream_move_signal_runs_the_entry_check_between_bars(monkeypatch):
    from replay.engine import double as ld
    from streaming import TastytradeWebSocket, ZeroDteMove

    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", "r")
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", "c")
    monkeypatch.setattr(TastytradeWebSocket, "connect", lambda self: None)
    algo = ld.start_algorithm(live_mode=True)
    assert [e.time_rule.name for e in algo.schedule.events] == [f"Every {timedelta(seconds=20)}"]
    checked = []
    algo.desk.last_market = _snapshot(4000.0, 3960.0)
    algo.time = NOW
    monkeypatch.setattr(algo.desk.trading, "run_zero_dte", lambda market, *rest: checked.append(market))
    monkeypatch.setattr(algo.websocket, "drain_signals", lambda: [ZeroDteMove("SPX", 4000.0, 3960.0, 1.01, NOW)])
    algo.schedule.events[0].callback()
    assert checked == [algo.desk.last_market]
    monkeypatch.setattr(algo.websocket, "drain_signals", lambda: [])
    algo.schedule.events[0].callback()
    assert len(checked) == 1  # no signal, no extra check


@pytest.mark.lean_data
def test_real_spxw_friday_chain_gives_listed_legs_at_the_files_prices(lean_data_dir):
    """SPXW 2021-01-08 (Friday) at 11:00 from LEAN's sample data. SPX itself has no bars that day, so the
    spot comes from put-call parity of the listed 0DTE 3800 pair and the open is set 1% higher (a
    down-move: the rule fades it with a put credit spread). The only listed same-day strikes are 3700
    and 3800: the legs must be those files' contracts and the credit the files' mids."""
    import csv
    import io
    import zipfile

    from replay.data import LeanDataReader, SecurityType, chain_dense

    reader = LeanDataReader(lean_data_dir)
    day = date(2021, 1, 8)
    chain_day = reader.option_chain("spxw", day, SecurityType.INDEX_OPTION)
    dense = chain_dense(chain_day)
    slot = dense.grid.slot_of_end(11 * 3_600_000)
    c = chain_day.contracts
    contracts = [ContractSpec("SPX", "SPXW", e.astype(date), float(k), bool(call), 100.0)
                 for e, k, call in zip(c.expiry, c.strike, c.is_call)]
    rows = [(dense.bid[i, slot], dense.ask[i, slot], float("nan"), 0.0, 0.0, float("nan"), 0.0)
            for i in range(len(contracts))]
    chain = ChainColumns.from_rows(contracts, rows)
    mid = {(k.strike, k.is_call, k.expiry): (b + a) / 2 for k, (b, a, *_r) in zip(contracts, rows)}
    spot = mid[(3800.0, True, day)] - mid[(3800.0, False, day)] + 3800.0
    now = datetime(2021, 1, 8, 11, 0)
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(now.replace(hour=9, minute=31), spot * 1.01, open_price=spot * 1.01)
    tracker.record(now, spot)
    empty = SeriesTracker("X", timedelta(minutes=5)).state(now)
    snap = MarketSnapshot(now, tracker.state(now), empty, empty, empty, chain, (), 1_000_000.0)
    rules = load_settings({"zero-dte-short-delta-min": "0.05", "zero-dte-short-delta-max": "0.6",
                           "zero-dte-wing-pct": "2.6"}.get).zero_dte
    market = PricingInputs(now, spot, 0.0025, 0.0, False)
    plan = plan_zero_dte(snap, market, rules, SETTINGS.friday.zero_dte(False), False, 0.0, 100_000.0)
    assert not isinstance(plan, str), plan
    assert plan.kind == "0DTE Put Credit Spread"
    legs = {leg.quantity: leg.contract for leg in plan.intent.legs}
    assert (legs[-1].strike, legs[1].strike, legs[-1].expiry) == (3800.0, 3700.0, day)

    def raw_mid(strike: int) -> float:  # the last quote bar started before 11:00, straight from the zip
        path = lean_data_dir / "indexoption/usa/minute/spxw/20210108_quote_european.zip"
        member = f"20210108_spxw_minute_quote_european_put_{strike * 10000}_20210108.csv"
        with zipfile.ZipFile(path) as archive:
            bars = [r for r in csv.reader(io.TextIOWrapper(archive.open(member), "utf-8"))
                    if int(r[0]) < 11 * 3_600_000]
        bid = next(float(r[4]) for r in reversed(bars) if r[4]) / 10_000
        ask = next(float(r[9]) for r in reversed(bars) if r[9]) / 10_000
        return (bid + ask) / 2

    assert plan.credit_mid == pytest.approx(raw_mid(3800) - raw_mid(3700), abs=1e-9)
