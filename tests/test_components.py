"""The five components' foundation behaviour on plain values (no LEAN)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from analysis.progressive_friday import FridayInputs, ProgressiveFridayAnalysis
from core.market import BookPosition, ChainColumns, ContractSpec, MarketSnapshot, Reading, SeriesTracker
from core.settings import load_settings
from pricing.chain import (
    SOURCE_EXPIRED, SOURCE_LEAN, SOURCE_MID, ContractGreeks, PricingInputs, greeks_for)
from risk.greeks_monitor import GreeksMonitor
from strategies.section9b import Section9BStrategies

SETTINGS = load_settings(lambda name: None)
NOW = datetime(2021, 1, 8, 10, 40)
MISSING = Reading.missing("no data")


class Recorder:
    def __init__(self) -> None:
        self.logs: list[str] = []
        self.cancels = 0
        self.alerts: list[tuple[str, str]] = []

    def _cancel(self) -> None:
        self.cancels += 1


# --- GreeksMonitor -------------------------------------------------------------------------------

CALL = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3700.0, True, 100.0)
PUT = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3650.0, False, 100.0)


def _cg(delta, gamma=0.0, theta=0.0, vega=0.0, rho=0.0):
    return ContractGreeks(delta, gamma, theta, vega, rho, 0.2, "test")


def _monitor():
    recorder = Recorder()
    breaches: list[str] = []
    return GreeksMonitor(SETTINGS.greeks, breaches.append, recorder.logs.append), breaches, recorder


def test_position_greeks_scale_by_multiplier_and_quantity_and_add_in_reference_shares():
    monitor, _, _ = _monitor()
    positions = [BookPosition("call", -2, 100.0, CALL, "SPX", 3700.0),
                 BookPosition("/ES", 1, 50.0, None, "/ES", 3690.0)]
    book = monitor.calculate_portfolio_greeks(positions, {CALL: _cg(0.4, 0.002, -0.5, 1.5, 0.2)}, Reading(370.0))
    call, future = book.positions
    assert (call.delta_shares, call.gamma_shares) == (pytest.approx(-80.0), pytest.approx(-0.4))  # SPX units
    assert future.delta_shares == 50.0
    assert book.dollar_delta == pytest.approx(-80 * 3700.0 + 50 * 3690.0)
    assert book.theta_dollars_per_day == pytest.approx(100.0)
    assert book.vega_dollars_per_point == pytest.approx(-300.0)
    assert book.rho_dollars_per_point == pytest.approx(-40.0)
    # SPX options and an E-mini future add up in SPY shares: delta x price / SPY price
    assert book.delta.value == pytest.approx((-80 * 3700.0 + 50 * 3690.0) / 370.0)
    assert book.gamma.value == pytest.approx(-0.4 * (3700.0 / 370.0) ** 2)  # per $1 of SPY
    assert book.dollar_gamma_per_pct == pytest.approx(-0.4 * 3700.0 ** 2 / 100)
    assert book.delta_reading().value == book.delta.value


def test_one_unit_whatever_is_held():
    """One SPX call reads the same exposure alone as beside one SPY share (the old mixed-unit bug:
    50 SPX deltas alone, 501 SPY shares once a share was added)."""
    monitor, _, _ = _monitor()
    spx_call = BookPosition("call", 1, 100.0, CALL, "SPX", 3700.0)
    alone = monitor.calculate_portfolio_greeks([spx_call], {CALL: _cg(0.5)}, Reading(370.0))
    assert alone.delta.value == pytest.approx(500.0)  # 50 SPX deltas = $185,000 = 500 SPY shares
    both = monitor.calculate_portfolio_greeks(
        [spx_call, BookPosition("SPY", 1, 1.0, None, "SPY", 370.0)], {CALL: _cg(0.5)}, Reading(370.0))
    assert both.delta.value == pytest.approx(501.0)
    assert monitor.limit_alerts(alone)[0] == "DELTA LIMIT: 500.00 SPY shares (max: 100)"


def test_reference_shares_need_the_reference_price_and_a_beta():
    monitor, _, _ = _monitor()
    positions = [BookPosition("call", -2, 100.0, CALL, "SPX", 3700.0), BookPosition("SPY", 100, 1.0, None, "SPY", 370.0)]
    book = monitor.calculate_portfolio_greeks(positions, {CALL: _cg(0.4)}, Reading.missing("no SPY data"))
    assert not book.delta_reading().available and not book.measurable
    assert book.delta.reason == "beta reference price no SPY data"
    goog = ContractSpec("GOOG", "GOOG", date(2015, 12, 24), 750.0, True, 100.0)
    book = monitor.calculate_portfolio_greeks(
        [BookPosition("goog call", 1, 100.0, goog, "GOOG", 750.0)], {goog: _cg(0.5)}, Reading(205.0))
    assert book.delta.reason == "no beta to the reference for GOOG" and not book.measurable


def test_missing_or_nan_greeks_fail_closed():
    monitor, _, _ = _monitor()
    positions = [BookPosition("call", 1, 100.0, CALL), BookPosition("put", 1, 100.0, PUT)]
    book = monitor.calculate_portfolio_greeks(positions, {CALL: _cg(float("nan"))})
    assert book.missing == ("call", "put")
    assert not book.delta_reading().available


def test_alerts_and_two_breaches_hand_over_to_manual_mode():
    monitor, breaches, recorder = _monitor()
    positions = [BookPosition("put", -10, 100.0, PUT, "SPX", 3700.0)]
    book = monitor.calculate_portfolio_greeks(positions, {PUT: _cg(-0.2, 0.03, -0.6, 1.2, -0.1)}, Reading(370.0))
    alerts = monitor.monitor_greeks_limits(book)
    assert alerts == ["DELTA LIMIT: 2000.00 SPY shares (max: 100)",  # 200 SPX deltas x 3700 / 370
                      "GAMMA LIMIT: -3000.00 SPY shares per $1 (max: 20)",  # -30 x (3700 / 370)^2
                      "VEGA EXPOSURE: $-1200.00 per 1% IV (max: 1000)"]
    assert len(breaches) == 1 and "GREEKS RISK ALERT" in recorder.logs[0]
    hedges = monitor.suggest_hedge(book)
    assert hedges[0] == "Delta Hedge: Sell 2000 SPY shares (beta-weighted)"
    assert "Consider long volatility" in hedges[-1]


def test_theta_limit_is_a_floor():
    monitor, breaches, _ = _monitor()
    book = monitor.calculate_portfolio_greeks([BookPosition("call", 10, 100.0, CALL)], {CALL: _cg(0.01, 0, -0.6)})
    assert monitor.monitor_greeks_limits(book) == ["THETA DECAY: $-600.00/day (limit: -500)"] and breaches == []


# --- per-contract Greeks from the chain -----------------------------------------------------------

def _chain(rows):
    contracts = [r[0] for r in rows]
    return ChainColumns.from_rows(contracts, [r[1:] for r in rows])


def test_contract_greeks_from_mid_and_marked_fallbacks():
    from pricing.expiry import year_fraction_to_expiry
    from pricing.black_scholes import bs_greeks, implied_volatility

    crossed = ContractSpec("SPX", "SPXW", date(2021, 1, 15), 3700.0, True, 100.0)
    dead = ContractSpec("SPX", "SPXW", date(2021, 1, 15), 3800.0, True, 100.0)
    chain = _chain([(CALL, 10.0, 10.5, 10.2, 0, 0, 0.31), (PUT, 0.0, 0.3, 0.1, 0, 0, 0.4),
                    (crossed, 30.0, 29.0, 29.5, 0, 0, 0.22), (dead, float("nan"), float("nan"), 1.0, 0, 0, float("nan"))])
    market = PricingInputs(NOW, 3700.0, 0.01, 0.0, american=False)
    got = greeks_for([CALL, PUT, crossed, dead], chain, market)
    t = float(year_fraction_to_expiry(NOW, date(2021, 1, 8)))
    vol = float(implied_volatility(10.25, 3700.0, 3700.0, t, 0.01, 0.0, True))
    assert got[CALL].source == SOURCE_MID and got[CALL].iv == pytest.approx(vol, rel=1e-12)
    assert got[CALL].delta == pytest.approx(float(bs_greeks(3700.0, 3700.0, t, 0.01, 0.0, vol, True)["delta"]))
    assert got[PUT].source == SOURCE_LEAN and got[PUT].iv == 0.4  # zero bid: LEAN's IV, marked
    assert got[crossed].source == SOURCE_LEAN and got[crossed].iv == 0.22  # crossed quote
    assert dead not in got  # neither a usable quote nor LEAN's IV: unavailable, never assumed


def test_deep_itm_with_no_time_value_takes_the_zero_vol_limit():
    from pricing.chain import SOURCE_NO_TIME_VALUE

    chain = _chain([(PUT, 49.6, 50.2, 49.9, 0, 0, float("nan"))])  # 3650 put, spot 3600: intrinsic 50
    got = greeks_for([PUT], chain, PricingInputs(datetime(2021, 1, 8, 15, 30), 3600.0, 0.01, 0.0, False))[PUT]
    assert got.source == SOURCE_NO_TIME_VALUE and got.iv == 0.0
    assert got.delta == pytest.approx(-1.0) and got.gamma == 0.0
    above = _chain([(PUT, 3700.0, 3710.0, 3705.0, 0, 0, float("nan"))])  # above any no-arbitrage price
    assert greeks_for([PUT], above, PricingInputs(NOW, 3600.0, 0.01, 0.0, False)) == {}


def test_0dte_theta_is_capped_at_the_time_value_left():
    from pricing.black_scholes import bs_price

    chain = _chain([(CALL, 2.0, 2.2, 2.1, 0, 0, float("nan"))])  # ATM call, 30 minutes to the close
    now = datetime(2021, 1, 8, 15, 30)
    got = greeks_for([CALL], chain, PricingInputs(now, 3700.0, 0.01, 0.0, False))[CALL]
    time_value = float(bs_price(3700.0, 3700.0, 30 / 525600, 0.01, 0.0, got.iv, True))
    assert got.theta_per_day == pytest.approx(-time_value, rel=1e-9)  # not the one-day rate


def test_contract_greeks_after_expiry_are_the_exact_limits():
    chain = _chain([(CALL, 10.0, 10.5, 10.2, 0, 0, 0.31)])
    market = PricingInputs(datetime(2021, 1, 8, 16, 5), 3710.0, 0.01, 0.0, american=False)
    got = greeks_for([CALL], chain, market)[CALL]
    assert (got.delta, got.gamma, got.theta_per_day, got.source) == (1.0, 0.0, 0.0, SOURCE_EXPIRED)


def test_contract_greeks_american_for_equity_options():
    from pricing.american import american_implied_volatility

    goog = ContractSpec("GOOG", "GOOG", date(2016, 1, 15), 740.0, False, 100.0)
    chain = _chain([(goog, 20.0, 20.6, 20.3, 0, 0, 0.3)])
    now = datetime(2015, 12, 24, 11, 0)
    got = greeks_for([goog], chain, PricingInputs(now, 748.0, 0.01, 0.0, american=True))[goog]
    from pricing.expiry import year_fraction_to_expiry

    t = float(year_fraction_to_expiry(now, date(2016, 1, 15)))
    assert got.iv == pytest.approx(float(american_implied_volatility(20.3, 748.0, 740.0, t, 0.01, 0.0, False)))
    assert -1 < got.delta < 0 and got.source == SOURCE_MID


def test_no_spot_means_no_greeks():
    chain = _chain([(CALL, 10.0, 10.5, 10.2, 0, 0, 0.31)])
    assert greeks_for([CALL], chain, PricingInputs(NOW, None, 0.01, 0.0, False)) == {}


# --- ProgressiveFridayAnalysis -----------------------------------------------------------------

def _friday():
    return ProgressiveFridayAnalysis(SETTINGS.friday)


@pytest.mark.parametrize("gap, points", [
    (0.0, 1), (0.29, 1), (0.3, 2), (-0.8, 2), (0.81, 0), (1.5, 0), (-1.51, -1)])
def test_gap_thresholds(gap, points):
    assert _friday().gap_signal(Reading(gap)).points == points


@pytest.mark.parametrize("ratio, points", [(1.51, 2), (1.5, 1), (1.21, 1), (1.2, 0), (0.7, 0), (0.69, -1)])
def test_volume_thresholds(ratio, points):
    assert _friday().volume_signal(Reading(ratio)).points == points


@pytest.mark.parametrize("vix9d, vix, label, points", [
    (21.1, 20.0, "BACKWARDATION", 2), (18.9, 20.0, "CONTANGO", 1), (20.0, 20.0, "FLAT", 0)])
def test_vix_term_structure(vix9d, vix, label, points):
    signal = _friday().vix_structure_signal(Reading(vix9d), Reading(vix))
    assert (signal.label, signal.points) == (label, points)
    assert signal.reading.value == pytest.approx(vix9d / vix)


def test_missing_vix9d_is_unknown_and_neutral():
    signal = _friday().vix_structure_signal(Reading.missing("no VIX9D data"), Reading(20.0))
    assert (signal.label, signal.points, signal.available) == ("UNKNOWN", 0, False)
    assert signal.reading.reason == "no VIX9D data"


@pytest.mark.parametrize("move, points", [(0.2, 2), (-0.5, 2), (0.1, 0), (0.9, 0), (1.01, -1)])
def test_momentum_thresholds(move, points):
    assert _friday().momentum_signal(Reading(move)).points == points


def test_score_arithmetic_half_weights_and_clamp():
    analysis = _friday().analyze_friday_pattern(NOW, FridayInputs(
        gap_pct=Reading(0.5), volume_ratio=Reading(1.6), vix9d=Reading(21.0), vix=Reading(19.0),
        put_call_ratio=Reading(1.3), breadth=Reading(2.5), premarket_move_pct=Reading(0.3)))
    assert analysis.score == 10.0  # 5 + 2+2+2+2 + 0.5*2 + 0.5*2 = 15, clamped
    assert analysis.is_progressive and analysis.confidence == "HIGH"
    low = _friday().analyze_friday_pattern(NOW, FridayInputs(
        gap_pct=Reading(2.0), volume_ratio=Reading(0.5), vix9d=MISSING, vix=MISSING,
        put_call_ratio=Reading(0.5), breadth=Reading(0.4), premarket_move_pct=Reading(1.5)))
    assert low.score == 1.0 and low.confidence == "LOW"  # 5 - 1 - 1 - 1 - 0.5 - 0.5
    assert low.available_signals() == ["gap", "volume", "pc_ratio", "breadth", "momentum"]


def test_unavailable_signals_score_neutral():
    analysis = _friday().analyze_friday_pattern(NOW, FridayInputs(*([MISSING] * 7)))
    assert analysis.score == SETTINGS.friday.base_score and not analysis.is_progressive
    assert "Signals measured: 0/6" in analysis.render()


# --- Section9BStrategies -----------------------------------------------------------------------

def _snapshot(when=NOW, spx_open=3700.0, spx=3700.0, vix: Reading = MISSING, expiry=date(2021, 1, 8)):
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(when.replace(hour=9, minute=31), spx_open)
    tracker.record(when, spx)
    vix_tracker = SeriesTracker("VIX", timedelta(minutes=5))
    if vix.value is not None:
        vix_tracker.record(when, vix.value)
    contract = ContractSpec("SPX", "SPXW", expiry, 3700.0, True, 100.0)
    chain = ChainColumns.from_rows([contract], [(1.0, 1.2, 1.1, 0.0, 0.0, 0.2)])
    empty = SeriesTracker("X", timedelta(minutes=5)).state(when)
    return MarketSnapshot(when, tracker.state(when), vix_tracker.state(when), empty, empty, chain, (), 1e5)


def _verdicts(snap):
    verdicts, opportunities = Section9BStrategies(SETTINGS.section9b).analyze_all_section9b(snap)
    assert opportunities == []
    return {v.strategy: v.reason for v in verdicts}


def test_section9b_gates_report_reasons():
    reasons = _verdicts(_snapshot(when=datetime(2021, 1, 7, 11, 0)))
    assert reasons["Enhanced Butterfly"] == "Butterfly only on Friday"
    assert reasons["Batman Spread"] == "Batman spreads on Fridays only"
    assert reasons["Diagonal Spread"] == "VIX unavailable (no data received)"
    assert _verdicts(_snapshot(when=datetime(2021, 1, 8, 10, 30)))["Enhanced Butterfly"] == "Wait until 10:35"
    assert _verdicts(_snapshot(spx=3730.0))["Enhanced Butterfly"] == "Insufficient movement: 0.81% (need 1%)"
    assert (_verdicts(_snapshot(spx=3740.0, expiry=date(2021, 1, 15)))["Enhanced Butterfly"]
            == "No 0DTE options available")
    assert _verdicts(_snapshot(spx=3740.0))["Enhanced Butterfly"] == "VIX unavailable (no data received)"


@pytest.mark.parametrize("vix, strategy, reason", [
    (14.0, "Diagonal Spread", "VIX too low: 14.00 < 15"),
    (36.0, "Diagonal Spread", "VIX too high: 36.00 > 35"),
    (20.0, "Diagonal Spread", "IV term structure needs pricing inputs (rate, dividend yield) not given"),
    (19.9, "Ratio Spread", "VIX too low: 19.90 < 20"),
    (17.0, "Broken Wing Butterfly", "VIX too low: 17.00 < 18"),
    (21.0, "Batman Spread", "VIX too low: 21.00 < 22"),
    (22.0, "Batman Spread",
     "No suitable expiration: nearest expiry to 10 DTE is 2021-01-08 (0 DTE), outside 5..20 DTE"),
])
def test_section9b_vix_gates(vix, strategy, reason):
    assert _verdicts(_snapshot(vix=Reading(vix)))[strategy] == reason


# --- SeriesTracker / ChainColumns ---------------------------------------------------------------

def test_tracker_day_roll_previous_close_and_staleness():
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(datetime(2021, 1, 7, 15, 59), 3800.0)
    tracker.begin_day(date(2021, 1, 8), date(2021, 1, 7))
    tracker.record(datetime(2021, 1, 8, 9, 31), 3810.0, volume=5)
    state = tracker.state(datetime(2021, 1, 8, 9, 33))
    assert (state.previous_close.value, state.day_open.value, state.price.value) == (3800.0, 3810.0, 3810.0)
    assert not tracker.state(datetime(2021, 1, 8, 9, 40)).price.available  # 9 minutes old: stale
    tracker.record(datetime(2021, 1, 8, 9, 41), float("nan"))  # ignored, not recorded
    assert "stale since 09:31" in tracker.state(datetime(2021, 1, 8, 9, 41)).price.reason


def test_previous_close_only_from_the_previous_session():
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(datetime(2021, 1, 6, 15, 59), 3750.0)  # Wednesday; Thursday had no data
    tracker.begin_day(date(2021, 1, 8), date(2021, 1, 7))
    assert (tracker.state(datetime(2021, 1, 8, 9, 31)).previous_close.reason
            == "no SPX close for the previous session 2021-01-07")
    tracker.begin_day(date(2021, 1, 8), date(2021, 1, 7), (date(2021, 1, 7), 3800.0))
    assert tracker.state(datetime(2021, 1, 8, 9, 31)).previous_close.value == 3800.0
    tracker.begin_day(date(2021, 1, 8), date(2021, 1, 7), (date(2021, 1, 6), 3750.0))  # stale history
    assert not tracker.state(datetime(2021, 1, 8, 9, 31)).previous_close.available


def test_day_open_is_the_first_bars_open():
    tracker = SeriesTracker("SPX", timedelta(minutes=5))
    tracker.record(datetime(2021, 1, 8, 9, 31), 3812.0, open_price=3805.0)
    tracker.record(datetime(2021, 1, 8, 9, 32), 3815.0, open_price=3812.0)
    assert tracker.state(datetime(2021, 1, 8, 9, 32)).day_open.value == 3805.0


def test_chain_columns_arrays_align():
    contracts = [CALL, PUT]
    chain = ChainColumns.from_rows(contracts, [(1.0, 1.1, float("nan"), 5, 10, 0.2), (2.0, 2.2, 2.1, 7, 3, 0.25)])
    assert len(chain) == 2 and chain.is_call.tolist() == [True, False]
    assert chain.expiry.dtype == np.dtype("datetime64[D]") and chain.has_expiry(date(2021, 1, 8))
    assert chain.expiries() == [date(2021, 1, 8)]
    assert np.isnan(chain.last[0]) and chain.volume.tolist() == [5.0, 7.0]
    assert len(ChainColumns.empty()) == 0


def test_a_short_volume_baseline_says_how_many_sessions_it_had():
    from analysis.progressive_friday import opening_volume_ratio

    now = datetime(2021, 1, 8, 10, 30)
    one = opening_volume_ratio(now, time(10, 0), 1e6, [5e5], 20)
    assert one.value is None and one.reason == "1 earlier session with opening volume (need 5)"
    four = opening_volume_ratio(now, time(10, 0), 1e6, [5e5, 0.0, 4e5, 3e5, 2e5], 20)
    assert four.reason == "4 earlier sessions with opening volume (need 5)"  # a zero-volume session is no baseline
