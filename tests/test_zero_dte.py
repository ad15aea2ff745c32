"""The Friday 0DTE credit spread: rule, strikes by delta, credit, size and exits (synthetic chain
priced by Black-Scholes at 15% vol with a 0.10 wide quote; and one replay scenario end to end)."""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from core.market import ChainColumns, ContractSpec, MarketSnapshot, Reading, SeriesTracker
from core.settings import load_settings
from pricing.chain import PricingInputs
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import bs_price
from strategies.zero_dte import plan_zero_dte

SETTINGS = load_settings(lambda name: None)
FRIDAY = date(2021, 6, 25)
NOW = datetime(2021, 6, 25, 11, 0)


def _snapshot(spot: float, open_price: float, now: datetime = NOW, step: float = 5.0) -> MarketSnapshot:
    strikes = np.arange(3850.0, 4150.0 + 1, step)
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


@pytest.mark.parametrize("open_price, expected", [
    (3975.0, "0DTE Call Credit Spread"),  # +0.63%: between 0.5% and 1%, an up-move is faded with calls
    (4025.0, "0DTE Put Credit Spread"),   # -0.62%
    (3980.1, "0DTE Iron Condor"),         # +0.4999%: not beyond the threshold
])
def test_the_move_threshold_and_its_direction(open_price, expected):
    plan = _plan(_snapshot(4000.0, open_price))
    assert not isinstance(plan, str) and plan.kind == expected


def test_the_short_strike_is_the_delta_nearest_the_middle_of_the_band():
    """Not merely inside [0.15, 0.25]: the nearest to 0.20 (the band's middle). Strikes every point, so
    several lie inside the band."""
    from pricing.black_scholes import bs_greeks

    plan = _plan(_snapshot(4000.0, 3990.0, step=1.0))
    assert not isinstance(plan, str)
    t = float(year_fraction_to_expiry(NOW, FRIDAY))
    for leg in plan.intent.legs:
        if leg.quantity > 0:
            continue
        c = leg.contract
        delta = lambda k: abs(float(bs_greeks(4000.0, k, t, 0.0025, 0.0, 0.15, c.is_call)["delta"]))  # noqa: E731
        listed = np.arange(3850.0, 4150.0 + 1, 1.0)
        inside = [k for k in listed if 0.15 <= delta(k) <= 0.25]
        assert len(inside) >= 5
        assert c.strike == min(inside, key=lambda k: abs(delta(k) - 0.20))


def test_an_iron_condor_can_lose_at_most_its_wider_side_less_the_credit_at_the_limit():
    """Only one side can finish in the money: the max loss is the wider side's width less the credit
    the limit asks (the least the order can fill for), never width + credit or the narrower side."""
    snap = _snapshot(4000.0, 3990.0)
    rules = dataclasses.replace(SETTINGS.zero_dte, wing_pct=0.75)
    market = PricingInputs(snap.time, 4000.0, 0.0025, 0.0, False)
    wide = dataclasses.replace(rules, wing_pct=1.0)  # 40-point wings on both sides
    for case in (rules, wide):
        plan = plan_zero_dte(snap, market, case, SETTINGS.friday.zero_dte(False), False, 0.1, 50_000.0)
        assert not isinstance(plan, str)
        legs = {(leg.contract.is_call, leg.quantity): leg.contract.strike for leg in plan.intent.legs}
        widths = (legs[(False, -1)] - legs[(False, 1)], legs[(True, 1)] - legs[(True, -1)])
        credit = -plan.intent.limit_price
        assert plan.max_loss_per_unit == pytest.approx((max(widths) - credit) * 100.0)
        assert plan.intent.max_loss == pytest.approx(plan.max_loss_per_unit * plan.intent.units)
        assert plan.intent.value_range == (-max(widths), 0.0)


def test_an_unequal_winged_condor_counts_the_wider_wing():
    """Delist the calls 4015-4055 (the condor's call wing target is 4040): the nearest listed wing is
    4060, 50 points out against the put side's 30; the max loss follows the wider (call) side."""
    snap = _snapshot(4000.0, 3990.0)
    chain = snap.chain
    keep = [i for i, c in enumerate(chain.contracts) if not (c.is_call and 4015.0 <= c.strike <= 4055.0)]
    thinned = ChainColumns.from_rows([chain.contracts[i] for i in keep], [
        (chain.bid[i], chain.ask[i], chain.last[i], chain.volume[i], chain.open_interest[i], chain.lean_iv[i],
         chain.quote_age_minutes[i]) for i in keep])
    snap = dataclasses.replace(snap, chain=thinned)
    market = PricingInputs(snap.time, 4000.0, 0.0025, 0.0, False)
    plan = plan_zero_dte(snap, market, SETTINGS.zero_dte, SETTINGS.friday.zero_dte(False), False, 0.1, 50_000.0)
    assert not isinstance(plan, str)
    legs = {(leg.contract.is_call, leg.quantity): leg.contract.strike for leg in plan.intent.legs}
    put_width, call_width = legs[(False, -1)] - legs[(False, 1)], legs[(True, 1)] - legs[(True, -1)]
    assert (put_width, call_width) == (30.0, 50.0) and plan.intent.value_range == (-50.0, 0.0)
    assert plan.max_loss_per_unit == pytest.approx((call_width + plan.intent.limit_price) * 100.0)


def test_the_limit_is_never_through_the_natural_credit():
    """With a concession larger than the spread the limit would ask less than the natural credit: it is
    floored at the natural credit (selling below the bid side gives money away)."""
    snap = _snapshot(4000.0, 3990.0)
    rules = dataclasses.replace(SETTINGS.zero_dte, concession=5.0)
    market = PricingInputs(snap.time, 4000.0, 0.0025, 0.0, False)
    plan = plan_zero_dte(snap, market, rules, SETTINGS.friday.zero_dte(False), False, 0.01, 50_000.0)
    assert not isinstance(plan, str)
    assert -plan.intent.limit_price == pytest.approx(plan.natural_credit)
    assert plan.natural_credit > 0 and plan.natural_credit < plan.credit_mid


def test_the_wing_is_the_listed_strike_nearest_the_wing_percentage_beyond_the_short():
    """Strikes every point: a 1.875% wing at 4,000 is 75 points; a 0.01% wing (0.4 points) takes the
    next listed strike, one point beyond the short."""
    snap = _snapshot(4000.0, 3990.0, step=1.0)
    market = PricingInputs(snap.time, 4000.0, 0.0025, 0.0, False)
    for wing_pct, width in ((1.875, 75.0), (0.01, 1.0)):
        rules = dataclasses.replace(SETTINGS.zero_dte, wing_pct=wing_pct)
        plan = plan_zero_dte(snap, market, rules, SETTINGS.friday.zero_dte(False), False, 0.001, 50_000.0)
        assert not isinstance(plan, str)
        legs = {(leg.contract.is_call, leg.quantity): leg.contract.strike for leg in plan.intent.legs}
        assert legs[(False, -1)] - legs[(False, 1)] == width and legs[(True, 1)] - legs[(True, -1)] == width


def test_a_thursday_with_a_same_day_expiry_is_not_a_0dte_friday():
    snap = _snapshot(4000.0, 3990.0, now=datetime(2021, 6, 24, 11, 0))
    thursday = dataclasses.replace(snap, chain=ChainColumns.from_rows(
        [dataclasses.replace(c, expiry=date(2021, 6, 24)) for c in snap.chain.contracts],
        [(b, a, m, v, oi, iv, age) for b, a, m, v, oi, iv, age in zip(
            snap.chain.bid, snap.chain.ask, snap.chain.last, snap.chain.volume, snap.chain.open_interest,
            snap.chain.lean_iv, snap.chain.quote_age_minutes)]))
    assert thursday.has_same_day_expiry() and not thursday.is_friday()
    assert _plan(thursday) == "not a Friday with a same-day expiry"


def test_no_move_from_the_open_means_no_plan():
    snap = _snapshot(4000.0, 3990.0)
    no_open = dataclasses.replace(snap, underlying=dataclasses.replace(
        snap.underlying, day_open=Reading.missing("no data today")))
    plan = _plan(no_open)
    assert isinstance(plan, str) and plan.startswith("move from the open unavailable")


def test_a_single_unit_is_a_trade():
    """A risk budget that fits exactly one unit trades one unit (not zero)."""
    probe = _plan(_snapshot(4000.0, 3990.0))
    assert not isinstance(probe, str)
    plan = _plan(_snapshot(4000.0, 3990.0), risk=probe.max_loss_per_unit * 1.5)
    assert not isinstance(plan, str) and plan.intent.units == 1
    refused = _plan(_snapshot(4000.0, 3990.0), risk=probe.max_loss_per_unit * 0.99)
    assert isinstance(refused, str) and "allows no unit" in refused


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
    assert "[0DTE] 0DTE Iron Condor: entry not filled within 10 min, cancelling" in run.algorithm.logs
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
