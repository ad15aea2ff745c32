"""What the live algorithm streams (the spec's SPY, VIX, /ES, /MES) and how main.py reads the stream's health.

The front E-mini contracts are derived in plain code (``streaming.symbols``) from LEAN's mapped
contract; main.py is driven through the LEAN double in live mode with the real TastytradeWebSocket
(``connect`` replaced, so no network), and a stale or failed stream must count as down.
"""
from __future__ import annotations

import time
from datetime import date, datetime

import pytest

from replay.engine import double as ld
from risk.manual_mode import AutomationState
from streaming import ConnectionState, TastytradeWebSocket
from streaming.client import SessionEnd
from streaming.protocol import EndReason
from streaming.symbols import e_mini_front_expiry, e_mini_streamer_symbols, live_stream_symbols, third_friday
from tests.lean_fixtures import bar_slice

FRIDAY = date(2021, 1, 8)


def _at(hour: int, minute: int, day: date = FRIDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def test_third_friday_and_the_quarterly_front_expiry() -> None:
    assert third_friday(2026, 3) == date(2026, 3, 20)
    assert third_friday(2026, 5) == date(2026, 5, 15)  # the 1st is a Friday
    assert third_friday(2025, 11) == date(2025, 11, 21)  # the 1st is a Saturday
    assert e_mini_front_expiry(date(2026, 1, 2)) == date(2026, 3, 20)
    assert e_mini_front_expiry(date(2026, 3, 11)) == date(2026, 3, 20)  # nine days before: still March
    assert e_mini_front_expiry(date(2026, 3, 12)) == date(2026, 6, 19)  # eight days before: rolled
    assert e_mini_front_expiry(date(2025, 12, 30)) == date(2026, 3, 20)  # across the year end


def test_e_mini_symbols_follow_the_mapped_contract() -> None:
    assert e_mini_streamer_symbols(date(2026, 3, 20), date(2026, 3, 2)) == ("/ESH26:XCME", "/MESH26:XCME")
    # LEAN rolled early (open interest moved): its mapped contract wins over the calendar
    assert e_mini_streamer_symbols(date(2026, 6, 19), date(2026, 3, 10)) == ("/ESM26:XCME", "/MESM26:XCME")
    # nothing mapped yet, or a mapped contract already expired (LEAN's default date): the calendar decides
    assert e_mini_streamer_symbols(None, date(2025, 12, 1)) == ("/ESZ25:XCME", "/MESZ25:XCME")
    assert e_mini_streamer_symbols(date(1, 1, 1), date(2025, 12, 1)) == ("/ESZ25:XCME", "/MESZ25:XCME")


def test_live_stream_symbols() -> None:
    e_mini = ("/ESH26:XCME", "/MESH26:XCME")
    assert live_stream_symbols("SPX", True, e_mini) == ["SPX", "VIX", "VIX9D", "SPY", *e_mini]
    assert live_stream_symbols("$spx.x", True, e_mini)[0] == "SPX"
    assert live_stream_symbols("SPY", False, e_mini) == ["SPY", "VIX", "VIX9D", *e_mini]  # once
    assert live_stream_symbols("brk.b", False, ())[0] == "BRK/B"


@pytest.fixture
def live_algo(monkeypatch: pytest.MonkeyPatch) -> ld.QCAlgorithm:
    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", "refresh-secret")
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", "client-secret")
    monkeypatch.setattr(TastytradeWebSocket, "connect", lambda self: None)
    algo = ld.start_algorithm(live_mode=True, prepare=lambda a: setattr(a, "time", _at(9, 0)))  # live: now
    algo.risk_free_interest_rate_model = ld.InterestRateModel(lambda day: 0.0025)
    return algo


def test_live_mode_streams_the_specs_symbols_and_watches_the_e_mini(live_algo: ld.QCAlgorithm) -> None:
    stream = live_algo.websocket
    wanted = stream._book.symbols()
    assert wanted == {"SPX", "VIX", "VIX9D", "SPY", "/ESH21:XCME", "/MESH21:XCME"}  # January 2021: March front
    pairs = stream._book.snapshot()[1]
    assert {("Quote", "/ESH21:XCME"), ("Trade", "/ESH21:XCME"), ("Summary", "/ESH21:XCME")} <= pairs
    assert stream._moves.watched == {"SPX", "SPY", "/ESH21:XCME", "/MESH21:XCME"}
    assert ("[WebSocket] streaming started for SPX, VIX, VIX9D; for the 0DTE move signal SPY, /ESH21:XCME, "
            "/MESH21:XCME; held contracts follow the book") in live_algo.logs


def test_the_stream_follows_lean_through_an_e_mini_roll(live_algo: ld.QCAlgorithm) -> None:
    stream = live_algo.websocket
    live_algo.time = _at(9, 0, date(2021, 3, 11))
    live_algo.future.mapped = ld.Symbol("ES18M21", ld.SecurityType.FUTURE, expiry=date(2021, 6, 18))
    (tick,) = live_algo.schedule.events
    tick.callback()
    assert {"/ESM21:XCME", "/MESM21:XCME"} <= stream._book.symbols()
    assert not {"/ESH21:XCME", "/MESH21:XCME"} & stream._book.symbols()
    assert {"/ESM21:XCME", "/MESM21:XCME"} <= stream._moves.watched


def test_a_stale_stream_counts_as_down(live_algo: ld.QCAlgorithm) -> None:
    client = live_algo.websocket._client
    client._state = ConnectionState.CONNECTED
    client.last_inbound = time.monotonic()
    ld.step(live_algo, bar_slice(live_algo, _at(10, 0), spx=3700.0))
    ld.step(live_algo, bar_slice(live_algo, _at(10, 3), spx=3700.0))
    assert live_algo.desk.manual_mode.state is AutomationState.AUTOMATIC  # connected and fresh
    client.last_inbound = time.monotonic() - 100.0  # silent far past the 30 s keepalive timeout
    assert live_algo.websocket.status().state is ConnectionState.STALE
    ld.step(live_algo, bar_slice(live_algo, _at(10, 4), spx=3700.0))
    ld.step(live_algo, bar_slice(live_algo, _at(10, 7), spx=3700.0))
    assert live_algo.desk.manual_mode.state is AutomationState.REDUCE_ONLY
    assert live_algo.desk.manual_mode.reason == "Live stream down for 180 s (limit 120)"


def test_a_failed_stream_raises_the_stream_trigger_and_an_alert(live_algo: ld.QCAlgorithm) -> None:
    client = live_algo.websocket._client
    client._fail(SessionEnd(EndReason.AUTH_FAILED, "POST /oauth/token: HTTP 401 (invalid_grant)"))
    ld.step(live_algo, bar_slice(live_algo, _at(10, 0), spx=3700.0))
    assert any(line.startswith("[WebSocket] failed: POST /oauth/token: HTTP 401 (invalid_grant); tastytrade declared")
               for line in live_algo.logs)
    # a permanent failure does not wait out manual-websocket-down-seconds: it will not come back
    assert live_algo.desk.manual_mode.state is AutomationState.REDUCE_ONLY
    alerts = [line for line in live_algo.logs if line.startswith("[ALERT]") and "Live stream failed for good" in line]
    assert len(alerts) == 1 and "invalid_grant" in alerts[0]
    ld.step(live_algo, bar_slice(live_algo, _at(10, 3), spx=3700.0))
    assert len([line for line in live_algo.logs if line.startswith("[ALERT]") and "stream" in line]) == 1  # once


def test_the_0dte_move_signal_fires_on_the_e_mini_against_the_double() -> None:
    from streaming import ZeroDteMove
    from streaming.timing import NEW_YORK, day_id
    from tests.dxlink_server import DxLinkServerDouble, quote
    from tests.test_streaming_client import FAST, FridayClock, ScriptedTokens, Signals

    friday = datetime(2025, 12, 19, 11, 30, tzinfo=NEW_YORK)
    symbols = live_stream_symbols("SPX", True, e_mini_streamer_symbols(date(2026, 3, 20), friday.date()))
    with DxLinkServerDouble() as server:
        stream = TastytradeWebSocket(None, symbols, token_source=ScriptedTokens(server.url, ["good-token"]),
                                     settings=FAST, clock=FridayClock(friday))
        stream.connect()
        try:
            connection = server.connection(0)
            assert connection.wait_subscribed([(kind, s) for s in symbols for kind in ("Quote", "Trade", "Summary")])
            today = day_id(friday.date())
            connection.send_events("Summary", [{"eventSymbol": "/ESH26:XCME", "dayId": today, "dayOpenPrice": 6800.0}])
            connection.send_events("Quote", [quote("/ESH26:XCME", 6839.75, 6840.25)])  # +0.59 %
            move = Signals(stream).wait_for(lambda s: isinstance(s, ZeroDteMove))
        finally:
            stream.close()
    assert isinstance(move, ZeroDteMove) and move.symbol == "/ESH26:XCME"
    assert move.move_pct == pytest.approx(0.588, abs=0.001)
