"""main.py driven through the LEAN double: subscriptions, the per-bar pipeline, the order gate, events."""
from __future__ import annotations

import types
from datetime import date, datetime

import pytest

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg
from core.params import SettingsError
from desk.interface import EntryPurpose, SendOrder
from replay.engine import double as ld
from risk.manual_mode import AutomationState
from tests.lean_fixtures import DailyHistory, bar_slice, hold, spx_contract

FRIDAY = date(2021, 1, 8)


def _at(hour: int, minute: int, day: date = FRIDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


@pytest.fixture
def algo():
    """The default algorithm with a flat 0.25% risk-free curve (LEAN's rate for January 2021)."""
    algorithm = ld.start_algorithm()
    algorithm.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.0025)
    return algorithm


def _pair(algo, expiry=FRIDAY, strike=3700.0, greeks=None):
    call = spx_contract(algo, expiry, strike, ld.OptionRight.CALL, 10.0, 10.5, volume=50, greeks=greeks)
    put = spx_contract(algo, expiry, strike, ld.OptionRight.PUT, 11.0, 11.6, volume=40, greeks=greeks)
    return call, put


# --- initialize ---------------------------------------------------------------------------------

def test_default_subscriptions_index_with_weekly_0dte_filter(algo):
    assert algo.start_date == date(2021, 1, 4) and algo.end_date == date(2021, 1, 8)
    assert algo.time_zone == "America/New_York"
    assert algo.brokerage == (ld.BrokerageName.TASTYTRADE, ld.AccountType.MARGIN)
    assert algo.underlying_symbol.security_type is ld.SecurityType.INDEX
    assert algo.option_symbol.security_type is ld.SecurityType.INDEX_OPTION
    assert algo.option_symbol.value == "?SPXW" and algo.option_symbol.underlying == algo.underlying_symbol
    assert algo.vix_symbol.value == "VIX" and algo.vix9d_symbol.value == "VIX9D"
    assert algo.future.options["extended_market_hours"] is True
    assert algo.benchmark == algo.underlying_symbol


def test_the_chain_filter_keeps_weeklies_0dte_and_40_strikes_each_side(algo):
    """main.py's filter run by the replay's LEAN universe on a synthetic listing: 100 strikes, four expiries."""
    from replay.engine.market_data import BaseData
    from replay.engine.universe import OptionFilterUniverse, OptionUniverseRow, apply_filter

    spx = algo.underlying_symbol
    expiries = [date(2021, 1, 8), date(2021, 1, 15), date(2021, 2, 19), date(2021, 3, 19)]
    rows = [OptionUniverseRow(ld.option_symbol("SPXW", spx, e, 3500.0 + 5 * k, ld.OptionRight.CALL), {}, None)
            for e in expiries for k in range(100)]
    universe = OptionFilterUniverse(rows, BaseData(spx, _at(0, 0), 3752.0), _at(0, 0), lambda day: day)
    chosen = apply_filter(algo.securities[algo.option_symbol].contract_filter, universe)
    assert {s.expiry for s in chosen} == {date(2021, 1, 8), date(2021, 1, 15), date(2021, 2, 19)}  # 0..45 days
    strikes = sorted({s.strike for s in chosen})
    assert len(strikes) == 80 and strikes[0] == 3555.0 and strikes[-1] == 3950.0  # 40 strikes below 3752, 40 from it


def test_equity_underlying_subscribes_equity_options():
    algo = ld.start_algorithm({"underlying": "SPY", "underlying-type": "equity", "option-ticker": "SPY",
                               "futures-enabled": "false"})
    assert algo.underlying_symbol.security_type is ld.SecurityType.EQUITY
    assert algo.option_symbol.security_type is ld.SecurityType.OPTION
    assert algo.future is None


def test_bad_parameter_stops_initialize_naming_it():
    with pytest.raises(SettingsError, match="greeks-delta-limit='abc'"):
        ld.start_algorithm({"greeks-delta-limit": "abc"})


def test_backtest_logs_websocket_disabled(algo):
    assert algo.websocket is None
    assert "WebSocket streaming disabled in backtest mode" in algo.logs


@pytest.fixture
def live_algo(monkeypatch):
    """Live mode with the real TastytradeWebSocket, credentials from the environment, no network."""
    from streaming import TastytradeWebSocket

    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", "refresh-secret")
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", "client-secret")
    connects: list[bool] = []
    monkeypatch.setattr(TastytradeWebSocket, "connect", lambda self: connects.append(True))
    algo = ld.start_algorithm(live_mode=True)
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.0025)
    algo.connects = connects
    return algo


def test_live_mode_creates_and_connects_the_stream(live_algo):
    assert live_algo.websocket is not None and live_algo.connects == [True]
    assert any(line.startswith("[WebSocket] streaming started for SPX, VIX, VIX9D;") for line in live_algo.logs)
    assert "WebSocket streaming disabled in backtest mode" not in live_algo.logs
    assert not any("secret" in line for line in live_algo.logs + live_algo.errors)


def test_live_mode_without_credentials_reports_and_runs(monkeypatch):
    for name in ("TASTYTRADE_REFRESH_TOKEN", "TASTYTRADE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    algo = ld.start_algorithm(live_mode=True)
    assert algo.websocket is None
    assert any(e.startswith("[WebSocket] not started:") and "TASTYTRADE_REFRESH_TOKEN" in e for e in algo.errors)


def test_stream_signals_are_drained_on_the_algorithm_thread(live_algo, monkeypatch):
    from streaming import GreeksWarning, LogLine, ZeroDteMove

    at = datetime(2021, 1, 8, 15, 40)
    signals = [LogLine("info", "subscribed 3 symbols", at), ZeroDteMove("SPX", 3725.0, 3700.0, 0.6757, at),
               GreeksWarning("delta", 62.0, 50.0, (), at)]
    monkeypatch.setattr(live_algo.websocket, "drain_signals", lambda: signals)
    ld.step(live_algo, bar_slice(live_algo, _at(10, 40), spx=3725.0))
    assert "[WebSocket] subscribed 3 symbols" in live_algo.logs
    assert "[0DTE SIGNAL] SPX moved +0.68% from the open 3700.00 - CHECK ENTRY" in live_algo.logs
    assert "[GREEKS WARNING] Portfolio Delta: 62.00 (limit 50, real-time)" in live_algo.logs


def test_fills_update_the_streams_positions(live_algo, monkeypatch):
    seen = []
    monkeypatch.setattr(live_algo.websocket, "set_positions", seen.append)
    call, put = _pair(live_algo)
    ld.step(live_algo, bar_slice(live_algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    hold(live_algo, call.symbol, -2)
    live_algo.on_order_event(ld.OrderEvent(1, call.symbol, ld.OrderStatus.FILLED))
    assert seen == [{".SPXW210108C3700": -200.0}]


def test_unimplemented_lean_member_fails_loudly(algo):
    with pytest.raises(ld.NotImplementedInDouble, match="QCAlgorithm.add_crypto"):
        algo.add_crypto("BTCUSD")


# --- per bar ------------------------------------------------------------------------------------

def test_missing_vix_is_unavailable_not_invented(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    assert not algo.errors
    assert algo.desk.manual_mode.state is AutomationState.AUTOMATIC
    assert "[Section 9B] Diagonal Spread: VIX unavailable (no data received)" in algo.logs
    friday_block = next(line for line in algo.logs if "Score:" in line)
    assert "VIX Structure: unavailable (no data received) (+0)" in friday_block  # says why, like the others


def _friday_algo(decision: str) -> object:
    algorithm = ld.start_algorithm({"friday-decision-time": decision})
    algorithm.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.0025)
    return algorithm


def test_friday_put_call_ratio_from_todays_traded_volume():
    algo = _friday_algo("10:41")
    call, put = _pair(algo)
    first = [(call, 50.0, False), (put, 40.0, False)]
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put], trades=first))
    assert algo.desk.friday.reading is None  # before the decision time nothing is read
    second = [(call, 50.0, True), (put, 20.0, False)]  # the call bar is fill-forward: not volume
    ld.step(algo, bar_slice(algo, _at(10, 41), spx=3700.0, contracts=[call, put], trades=second))
    pc = next(s for s in algo.desk.friday.reading.signals if s.name == "pc_ratio")
    assert (pc.reading.value, pc.points) == (pytest.approx(1.2), 1)  # 60 puts / 50 calls
    assert algo.runtime_statistics["Progressive Friday 2021-01-08"] == "6/10 LOW (1/6 signals, 4 needed)"


def test_friday_analysis_needs_a_same_day_expiry(algo):
    call, put = _pair(algo, expiry=date(2021, 1, 15))
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    assert not any("Score:" in line for line in algo.logs)


def test_gap_uses_previous_daily_close_from_history():
    algo = _friday_algo("09:31")
    algo.history_source = DailyHistory({algo.underlying_symbol: [(date(2021, 1, 7), 3700, 3710, 3690, 3690.0, 0)]})
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(9, 31), spx=3715.0, contracts=[call, put]))
    block = next(line for line in algo.logs if "Score:" in line)
    assert "Gap: 0.68% (+2)" in block  # (3715 - 3690) / 3690 = 0.6775%


def test_fill_forward_bars_are_not_todays_data(algo):
    ld.step(algo, bar_slice(algo, _at(10, 0, date(2021, 1, 4)), spx=3700.0))
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, fill_forward=True, contracts=list(_pair(algo))))
    assert ("[Section 9B] Enhanced Butterfly: Move from open unavailable (SPX price no data today "
            "(last 2021-01-04 10:00))") in algo.logs
    algo.on_end_of_algorithm()
    assert any(line.startswith("[DATA] 2021-01-08: no data for SPX, VIX, VIX9D, ES, SPY") for line in algo.logs)
    assert "[DATA] SPX: days with data: 2021-01-04" in algo.logs


def test_days_without_chain_data_are_reported(algo):
    ld.step(algo, bar_slice(algo, _at(10, 0, date(2021, 1, 4)), spx=3700.0))
    ld.step(algo, bar_slice(algo, _at(10, 0, date(2021, 1, 5))))
    assert "[DATA] 2021-01-04: no SPXW option chain data" in algo.logs


def test_internal_error_halts_automation_instead_of_crashing(algo, monkeypatch):
    def broken(*_args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(algo.desk.trading.section9b, "analyze_all_section9b", broken)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0))
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert any("ZeroDivisionError" in e for e in algo.errors)
    assert algo.transactions.cancel_calls == 1


def test_held_position_greeks_feed_the_monitor_and_manual_mode(algo):
    """Greeks of a held 0DTE call from its live mid (pricing core), scaled by 100 x 3 contracts."""
    from pricing.expiry import year_fraction_to_expiry
    from pricing.black_scholes import bs_greeks, implied_volatility

    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.01)
    call, put = _pair(algo)
    hold(algo, call.symbol, 3)
    now = _at(10, 45)
    ld.step(algo, bar_slice(algo, now, spx=3700.0, contracts=[call, put], spy=370.0))
    t = float(year_fraction_to_expiry(now, FRIDAY))
    vol = implied_volatility(10.25, 3700.0, 3700.0, t, 0.01, 0.0, True)
    spx_deltas = float(bs_greeks(3700.0, 3700.0, t, 0.01, 0.0, vol, True)["delta"]) * 300
    expected = spx_deltas * 3700.0 / 370.0  # in SPY shares, the one unit of book delta
    assert 100 < spx_deltas < 200
    assert algo.desk.manual_mode.state is AutomationState.REDUCE_ONLY  # exits may still leave
    assert f"[CRITICAL] REDUCE-ONLY MODE ACTIVATED: Portfolio delta exceeded: {expected:.2f} (limit 100)" in algo.logs
    assert f"[HEDGE SUGGESTION] Delta Hedge: Sell {expected:.0f} SPY shares (beta-weighted)" in algo.logs
    assert ("Portfolio Greeks", "Delta (SPY shares)", pytest.approx(expected)) in algo.plots
    for minute, spot in ((46, 3702.0), (47, 3705.0)):  # the breach persists with other values
        ld.step(algo, bar_slice(algo, _at(10, minute), spx=spot, contracts=[call, put], spy=spot / 10))
    assert sum(line.startswith("[HEDGE SUGGESTION] Delta Hedge") for line in algo.logs) == 1
    assert sum("GREEKS RISK ALERT" in line for line in algo.logs) == 1


def test_stale_quotes_fall_back_to_leans_iv_marked(algo):
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.01)
    call, put = _pair(algo)
    hold(algo, call.symbol, 1)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    assert algo.desk.last_book.positions[0].source == "mid"
    later = _at(10, 46)  # six minutes of fill-forward quotes only
    ld.step(algo, bar_slice(algo, later, spx=3700.0, contracts=[call, put], fresh_quotes=False))
    row = algo.desk.last_book.positions[0]
    assert row.source == "lean-iv (quote unusable)" and row.iv == 0.2


def test_held_option_never_seen_in_the_chain_fails_closed(algo):
    """A holding outside today's chain (e.g. opened before a redeploy) is an option, not stock."""
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.01)
    symbol = ld.option_symbol("SPXW", algo.underlying_symbol, date(2021, 1, 15), 3500.0, ld.OptionRight.PUT)
    algo.add_contract(symbol)
    hold(algo, symbol, -3)
    ld.step(algo, bar_slice(algo, _at(10, 45), spx=3700.0, contracts=list(_pair(algo))))
    contract = algo._contracts[symbol]
    assert (contract.root, contract.strike, contract.is_call, contract.expiry) == (
        "SPXW", 3500.0, False, date(2021, 1, 15))
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.desk.manual_mode.reason.startswith("Greeks unavailable for SPXW  210115P03500000")
    assert not any("DELTA LIMIT" in line for line in algo.logs)  # no limits on a partial book


def test_outside_regular_hours_only_data_is_recorded(algo):
    algo.securities[algo.underlying_symbol].exchange.hours.open = False
    ld.step(algo, bar_slice(algo, datetime(2021, 1, 8, 3, 0), spx=3700.0, contracts=list(_pair(algo))))
    assert algo.desk.friday.reading is None and not any("Section 9B" in line for line in algo.logs)


def test_gap_needs_the_previous_sessions_close():
    """History whose last bar is two sessions old gives no gap (not a gap against a stale close)."""
    algo = _friday_algo("09:31")
    algo.history_source = DailyHistory({algo.underlying_symbol: [(date(2021, 1, 6), 3700, 3710, 3690, 3690.0, 0)]})
    ld.step(algo, bar_slice(algo, _at(9, 31), spx=3715.0, contracts=list(_pair(algo))))
    gap = next(s for s in algo.desk.friday.reading.signals if s.name == "gap")
    assert not gap.available and "previous session 2021-01-07" in gap.reading.reason


def test_greeks_unavailable_without_a_rate_fail_closed():
    algo = ld.start_algorithm()
    call, put = _pair(algo)
    hold(algo, call.symbol, 1)
    ld.step(algo, bar_slice(algo, _at(10, 45), spx=3700.0, contracts=[call, put]))
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert "no interest-rate data" in algo.desk.manual_mode.reason


# --- the order gate and events ---------------------------------------------------------------------

def _intent(algo, call, put, limit=-1.2):
    legs = tuple(OrderLeg(c.symbol.value, q, algo._contracts[c.symbol], c.bid_price, c.ask_price)
                 for c, q in ((call, -1), (put, -1)))
    return OrderIntent("Test Strangle", legs, 1, limit, algo.time, signals=("test",))


def _send(algo, intent):
    """Carry out a SendOrder action as main.py does for the desk's own orders; the tickets placed."""
    placed = len(algo.transactions.get_orders())
    algo._apply([SendOrder(intent, EntryPurpose(intent.strategy))])
    return algo.transactions.get_orders()[placed:]


def test_gate_sends_combo_limit_orders_when_automatic(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    tickets = _send(algo, _intent(algo, call, put))
    assert [(t.type, t.symbol, t.quantity, t.group_order_manager.limit_price, t.status) for t in tickets] == [
        (ld.OrderType.COMBO_LIMIT, call.symbol, -1, -1.2, ld.OrderStatus.SUBMITTED),
        (ld.OrderType.COMBO_LIMIT, put.symbol, -1, -1.2, ld.OrderStatus.SUBMITTED)]
    assert algo.desk.trading.book.live_strategies() == {"Test Strangle"}  # the trade book follows it


def test_gate_refuses_combo_market_orders(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    assert _send(algo, _intent(algo, call, put, limit=None)) == []
    assert algo.transactions.get_orders() == []
    assert "combo market orders are rejected by tastytrade" in algo.desk.manual_mode.pending_trades[0].refused_because


def test_manual_mode_turns_orders_into_suggestions(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    algo.on_command({"command": "manual", "reason": "testing"})
    assert _send(algo, _intent(algo, call, put)) == []
    assert algo.transactions.get_orders() == []
    suggestion = algo.logs[-1]
    assert "MANUAL TRADE SUGGESTION" in suggestion and "SELL 1 SPXW 2021-01-08 3700C" in suggestion
    assert "(bid 10.00 / ask 10.50)" in suggestion


def test_invalid_orders_exhaust_the_error_budget(algo):
    for i in range(3):
        algo.on_order_event(ld.OrderEvent(i, algo.underlying_symbol, ld.OrderStatus.INVALID, "rejected"))
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.transactions.cancel_calls == 1
    assert any(line.startswith("[CRITICAL] MANUAL MODE ACTIVATED: Too many order failures: 3") for line in algo.logs)


def test_a_rejected_combo_is_one_error_not_one_per_leg(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    tickets = _send(algo, _intent(algo, call, put))
    for ticket in tickets:  # the broker rejects both legs of the one combo
        algo.on_order_event(ld.OrderEvent(ticket.id, ticket.symbol, ld.OrderStatus.INVALID, "rejected"))
    assert algo.desk.manual_mode.error_count == 1 and algo.desk.manual_mode.state is AutomationState.AUTOMATIC


def test_filled_orders_do_not_count_as_errors(algo):
    algo.on_order_event(ld.OrderEvent(1, algo.underlying_symbol, ld.OrderStatus.FILLED))
    assert algo.desk.manual_mode.error_count == 0


def test_commands_status_manual_resume_unknown(algo):
    assert algo.on_command({"command": "status"}) is True
    assert algo.logs[-1].startswith("[STATUS] AUTOMATIC")
    assert algo.on_command('{"command": "manual", "reason": "news"}') is True
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.on_command(types.SimpleNamespace(command="resume")) is False  # no token
    assert "token does not match" in algo.logs[-1] and algo.desk.manual_mode.state is AutomationState.MANUAL
    token = algo.desk.manual_mode.ack_token
    assert f'"token": "{token}"' in next(line for line in algo.logs if line.startswith("[ALERT]"))
    assert algo.on_command(types.SimpleNamespace(command="resume", token=token)) is True
    assert algo.desk.manual_mode.state is AutomationState.AUTOMATIC
    assert algo.logs[-1].startswith("[RESUMED] AUTOMATIC by live command; was halted for: Manual command: news")
    assert algo.on_command({"command": "fly"}) is False


def test_contract_identity_is_reused_across_bars(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 40), spx=3700.0, contracts=[call, put]))
    first = algo._contracts[call.symbol]
    ld.step(algo, bar_slice(algo, _at(10, 41), spx=3701.0, contracts=[call, put]))
    assert algo._contracts[call.symbol] is first
    assert first == ContractSpec("SPX", "SPXW", FRIDAY, 3700.0, True, 100.0)


def _live(tmp_path, monkeypatch):
    from streaming import TastytradeWebSocket

    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", "r")
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", "c")
    monkeypatch.setattr(TastytradeWebSocket, "connect", lambda self: None)
    return ld.start_algorithm(live_mode=True, prepare=lambda a: a.use_object_store(tmp_path))


def test_a_live_restart_restores_manual_mode_before_any_order(tmp_path, monkeypatch):
    first = _live(tmp_path, monkeypatch)
    assert first.desk.manual_mode.state is AutomationState.AUTOMATIC
    assert "[MANUAL MODE] no saved record: first deploy, starting AUTOMATIC" in first.logs
    first.on_command({"command": "manual", "reason": "FOMC"})
    restarted = _live(tmp_path, monkeypatch)
    assert restarted.desk.manual_mode.state is AutomationState.MANUAL
    assert restarted.desk.manual_mode.reason == "Manual command: FOMC"
    assert restarted.desk.manual_mode.ack_token == first.desk.manual_mode.ack_token


def test_a_corrupt_live_record_starts_manual(tmp_path, monkeypatch):
    from desk.interface import manual_mode_key
    from replay.engine.services import ObjectStore

    ObjectStore(tmp_path).save(manual_mode_key(True), "{broken")
    algo = _live(tmp_path, monkeypatch)
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.desk.manual_mode.reason.startswith("unreadable manual-mode record: not JSON")


@pytest.mark.parametrize("saved, what", [
    (b'{"state": "MANUAL", "reason": "x", "ack_token": "t", "trigger_values": {}, "suggestions": []}',
     "missing since"),
    (b'{"state": "MANUAL", "reason": "x", "since": "2021-01-08T10:00:00", "ack_token": null, '
     b'"trigger_values": {}, "suggestions": []}', "ack_token is None"),
    (b"\xff\xfe\x00binary\x9c", "not JSON"),
    (b'["MANUAL"]', "not a JSON object"),
    (b'{"state": "MANUAL", "reason": "x", "since": "yesterday", "ack_token": "t", "trigger_values": {}, '
     b'"suggestions": []}', "bad time or suggestion"),
])
def test_a_live_record_that_is_not_whole_starts_manual_saying_what(tmp_path, monkeypatch, saved, what):
    from desk.interface import manual_mode_key
    from replay.engine.services import ObjectStore

    store = ObjectStore(tmp_path)
    store.save(manual_mode_key(True), "x")
    store._path(manual_mode_key(True)).write_bytes(saved)
    algo = _live(tmp_path, monkeypatch)
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.desk.manual_mode.reason.startswith(f"unreadable manual-mode record: {what}")
    assert algo.desk.manual_mode.ack_token != "None"


def test_live_resume_tokens_are_random_per_activation_and_survive_a_restart(tmp_path, monkeypatch):
    first = _live(tmp_path, monkeypatch)
    first.on_command({"command": "manual", "reason": "one"})
    token = first.desk.manual_mode.ack_token
    first.on_command({"command": "resume", "token": token})
    first.on_command({"command": "manual", "reason": "one"})
    assert first.desk.manual_mode.ack_token != token and len(token) >= 12
    restarted = _live(tmp_path, monkeypatch)
    assert restarted.desk.manual_mode.ack_token == first.desk.manual_mode.ack_token
    replays = [ld.start_algorithm() for _ in range(2)]
    for replay in replays:
        replay.on_command({"command": "manual", "reason": "one"})
    assert replays[0].desk.manual_mode.ack_token == replays[1].desk.manual_mode.ack_token  # deterministic


def test_command_text_is_cleaned_and_a_second_manual_answers_with_the_status(algo):
    algo.on_command({"command": "manual", "reason": "news\n[CRITICAL] forged line\r\x1b[31m" + "x" * 500})
    reason = algo.desk.manual_mode.reason
    assert "\n" not in reason and "\x1b" not in reason and len(reason) <= len("Manual command: ") + 200
    assert reason.startswith("Manual command: news [CRITICAL] forged line [31mxxx")
    alerts = [line for line in algo.logs if line.startswith("[ALERT]")]
    assert algo.on_command({"command": "manual", "reason": "again"}) is True
    assert algo.logs[-1].startswith("[COMMAND] already MANUAL: MANUAL since")
    assert [line for line in algo.logs if line.startswith("[ALERT]")] == alerts  # no second alert
    assert not any("\n[CRITICAL] forged" in line for line in algo.logs)


def test_backtests_never_inherit_the_live_record(tmp_path, monkeypatch):
    _live(tmp_path, monkeypatch).on_command({"command": "manual", "reason": "FOMC"})
    backtest = ld.start_algorithm(prepare=lambda a: a.use_object_store(tmp_path))
    assert backtest.desk.manual_mode.state is AutomationState.AUTOMATIC


def test_brokerage_disconnect_halts_and_reconnect_does_not_resume(algo):
    algo.on_brokerage_disconnect()
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    algo.on_brokerage_reconnect()
    assert algo.desk.manual_mode.state is AutomationState.MANUAL


def test_stale_underlying_in_session_halts(algo):
    call, put = _pair(algo)
    ld.step(algo, bar_slice(algo, _at(10, 0), spx=3700.0, contracts=[call, put]))
    ld.step(algo, bar_slice(algo, _at(10, 7), contracts=[call, put]))  # no SPX bar for 7 minutes
    assert algo.desk.manual_mode.state is AutomationState.MANUAL
    assert algo.desk.manual_mode.reason == "Stale data: no new underlying bar for 7 min (limit 5)"


def test_stream_down_too_long_goes_reduce_only(live_algo):
    ld.step(live_algo, bar_slice(live_algo, _at(10, 0), spx=3700.0))
    ld.step(live_algo, bar_slice(live_algo, _at(10, 3), spx=3700.0))  # never connected: down 180 s
    assert live_algo.desk.manual_mode.state is AutomationState.REDUCE_ONLY
    assert live_algo.desk.manual_mode.reason == "Live stream down for 180 s (limit 120)"


def test_live_without_stream_credentials_is_not_a_stream_outage(monkeypatch):
    for name in ("TASTYTRADE_REFRESH_TOKEN", "TASTYTRADE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    algo = ld.start_algorithm(live_mode=True)
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.0025)
    ld.step(algo, bar_slice(algo, _at(10, 0), spx=3700.0))
    ld.step(algo, bar_slice(algo, _at(10, 4), spx=3700.0))
    assert algo.desk.manual_mode.state is AutomationState.AUTOMATIC  # LEAN's own live feed carries the data


def test_session_check_uses_the_exchange_clock(algo):
    """Before 09:30 New York nothing but data recording runs (the double's SPX session)."""
    ld.step(algo, bar_slice(algo, datetime(2021, 1, 8, 8, 45), spx=3700.0, contracts=list(_pair(algo))))
    assert algo.desk.friday.reading is None and algo.desk.day is None


def test_es_momentum_is_unavailable_across_a_roll():
    algo = _friday_algo("09:31")
    es = algo.future.symbol
    algo.future.mapped = ld.Symbol("ESH21", ld.SecurityType.FUTURE)
    ld.step(algo, ld.Slice(_at(16, 0, date(2021, 1, 7)), bars=[ld.TradeBar(es, _at(16, 0, date(2021, 1, 7)),
                                                                            3700, 3700, 3700, 3700.0)]))
    algo.future.mapped = ld.Symbol("ESM21", ld.SecurityType.FUTURE)  # rolled overnight
    friday = bar_slice(algo, _at(9, 31), spx=3705.0, contracts=list(_pair(algo)))
    friday.bars._items[es] = ld.TradeBar(es, _at(9, 31), 3690, 3690, 3690, 3690.0)
    ld.step(algo, friday)
    momentum = next(s for s in algo.desk.friday.reading.signals if s.name == "momentum")
    assert not momentum.available and "no ES close for the previous session" in momentum.reading.reason


def test_in_reduce_only_the_delta_hedge_that_reduces_the_breach_goes_out():
    """Three SPX calls breach the delta limit (REDUCE_ONLY); with greeks-auto-hedge the suggested SPY
    hedge is sent as a market order, and the gate admits it because it moves the breached delta toward
    zero although it closes no existing contract."""
    algo = ld.start_algorithm({"greeks-auto-hedge": "true"})
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.01)
    call, put = _pair(algo)
    hold(algo, call.symbol, 3)
    ld.step(algo, bar_slice(algo, _at(10, 45), spx=3700.0, contracts=[call, put], spy=370.0))
    assert algo.desk.manual_mode.state is AutomationState.REDUCE_ONLY
    delta = algo.desk.last_book.delta.value
    (hedge,) = algo.transactions.get_orders(lambda o: o.tag == "Delta Hedge")
    assert (hedge.type, hedge.symbol, hedge.quantity) == (ld.OrderType.MARKET, algo.beta_symbol, -round(delta))
    assert any(line.startswith("[HEDGE] SELL") for line in algo.logs)
    plain = ld.start_algorithm()  # the default only suggests it
    plain.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.01)
    call, put = _pair(plain)
    hold(plain, call.symbol, 3)
    ld.step(plain, bar_slice(plain, _at(10, 45), spx=3700.0, contracts=[call, put], spy=370.0))
    assert plain.transactions.get_orders() == []
    assert any(line.startswith("[HEDGE SUGGESTION] Delta Hedge") for line in plain.logs)
