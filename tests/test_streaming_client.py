"""TastytradeWebSocket against the DXLink server double over a real socket on 127.0.0.1.

Timings are shrunk through StreamSettings (0.5 s dead link, 0.1 s keepalive) instead of waiting for
the real 60-second values; every wait is on a condition with a generous timeout, never a fixed sleep.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import pytest

from streaming import (
    ConnectionChanged,
    ConnectionState,
    GreeksWarning,
    LogLine,
    QuoteToken,
    Signal,
    StreamSettings,
    TastytradeConfig,
    TastytradeWebSocket,
    ZeroDteMove,
)
from streaming.auth import HttpRequest, HttpResponse
from streaming.protocol import Batch
from streaming.timing import NEW_YORK, day_id
from tests.dxlink_server import DxLinkConnection, DxLinkServerDouble, quote

FAST = StreamSettings(
    poll_interval_seconds=0.02,
    keepalive_interval_seconds=0.1,
    keepalive_timeout_seconds=0.3,
    dead_link_seconds=0.5,
    handshake_timeout_seconds=2.0,
    connect_timeout_seconds=2.0,
    close_timeout_seconds=0.2,
    backoff_initial_seconds=0.02,
    backoff_max_seconds=0.1,
    stable_session_seconds=0.2,
)
OPTION = ".SPY251219C500"
ALL_PAIRS = [(kind, s) for s in ("SPY", "SPX") for kind in ("Quote", "Trade", "Summary")]


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


class ScriptedTokens:
    """Quote tokens for the double's URL: each fetch takes the next one (the last one repeats).

    ``renewable`` is what ``invalidate`` answers: whether another fetch can bring another token.
    """

    def __init__(self, url: str, tokens: Iterable[str], renewable: bool = True) -> None:
        self.url = url
        self.tokens = list(tokens)
        self.renewable = renewable
        self.fetches = 0
        self.invalidations = 0

    def fetch(self) -> QuoteToken:
        self.fetches += 1
        token = self.tokens.pop(0) if len(self.tokens) > 1 else self.tokens[0]
        return QuoteToken(token, self.url, "api", time.monotonic())

    def invalidate(self) -> bool:
        self.invalidations += 1
        return self.renewable


class Signals:
    """Accumulates what drain_signals returns, as the algorithm would."""

    def __init__(self, stream: TastytradeWebSocket) -> None:
        self.stream = stream
        self.seen: list[Signal] = []

    def pull(self) -> list[Signal]:
        self.seen.extend(self.stream.drain_signals())
        return self.seen

    def wait_for(self, predicate: Callable[[Signal], bool], timeout: float = 5.0) -> Signal:
        assert wait_until(lambda: any(predicate(s) for s in self.pull()), timeout), self.seen
        return next(s for s in self.seen if predicate(s))

    def texts(self) -> list[str]:
        return [repr(s) for s in self.pull()]


@pytest.fixture
def server() -> Iterator[DxLinkServerDouble]:
    with DxLinkServerDouble() as double:
        yield double


@pytest.fixture
def streams() -> Iterator[list[TastytradeWebSocket]]:
    opened: list[TastytradeWebSocket] = []
    yield opened
    for stream in opened:
        stream.close()


def start(
    server: DxLinkServerDouble,
    streams: list[TastytradeWebSocket],
    symbols: Iterable[str] = ("SPY", "SPX"),
    tokens: Iterable[str] = ("good-token",),
    **kwargs: Any,
) -> tuple[TastytradeWebSocket, ScriptedTokens]:
    source = ScriptedTokens(server.url, tokens)
    kwargs.setdefault("settings", FAST)
    stream = TastytradeWebSocket(None, symbols, token_source=source, **kwargs)
    streams.append(stream)
    stream.connect()
    return stream, source


def subscribed(server: DxLinkServerDouble, index: int, pairs: Iterable[tuple[str, str]] = ALL_PAIRS) -> DxLinkConnection:
    connection = server.connection(index)
    assert connection.wait_subscribed(pairs), connection.subscriptions
    return connection


def test_handshake_order_subscriptions_and_status(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    assert wait_until(lambda: stream.is_connected)
    kinds = [m["type"] for m in connection.received]
    assert kinds[:4] == ["SETUP", "AUTH", "CHANNEL_REQUEST", "FEED_SETUP"]
    assert set(kinds[4:]) <= {"FEED_SUBSCRIPTION", "KEEPALIVE"}
    assert connection.received[1]["token"] == "good-token"
    setup = connection.received[3]
    assert setup["acceptDataFormat"] == "COMPACT" and set(setup["acceptEventFields"]) == {"Quote", "Trade", "Greeks", "Summary"}
    assert connection.headers["user-agent"] == "tom-king-framework/1.0"
    assert connection.headers[":request"].startswith("GET /realtime ")
    assert server.all_violations() == []
    status = stream.status()
    assert status.state is ConnectionState.CONNECTED and status.connected_since is not None
    assert status.reconnect_count == 0 and status.last_error is None and status.subscriptions == 6


def test_events_reach_the_cache_with_nan_kept(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.send_events("Quote", [quote("SPY", 576.88, 576.9, 200.0, 300.0), quote("SPX", 5931.2, 5933.1, "NaN", "NaN")])
    connection.send_events("Trade", [{"eventSymbol": "SPX", "price": 5932.0, "size": "NaN", "dayVolume": "Infinity"}])
    connection.send_events("Summary", [{"eventSymbol": "SPY", "dayId": 20441, "dayOpenPrice": 575.0, "prevDayClosePrice": 574.0}])
    assert wait_until(lambda: stream.get_day_summary("SPY") is not None)
    spy, spx = stream.get_real_time_quote("SPY"), stream.get_real_time_quote("SPX")
    assert spy is not None and spy.mid == pytest.approx(576.89) and spy.spread == pytest.approx(0.02)
    assert spx is not None and spx.bid == 5931.2 and math.isnan(spx.bid_size)
    trade = stream.get_real_time_trade("SPX")
    assert trade is not None and trade.price == 5932.0 and math.isnan(trade.size) and math.isnan(trade.day_volume)
    summary = stream.get_day_summary("SPY")
    assert summary is not None and summary.day_open == 575.0 and summary.prev_close == 574.0
    status = stream.status()
    assert status.seconds_since_market_event is not None and status.seconds_since_market_event < 5


def test_layout_is_read_from_feed_config(streams: list[TastytradeWebSocket]) -> None:
    layout = ["eventSymbol", "eventTime", "askPrice", "bidPrice", "askSize", "bidSize", "sequence"]
    with DxLinkServerDouble(field_overrides={"Quote": layout}) as server:
        stream, _ = start(server, streams)
        connection = subscribed(server, 0)
        connection.send_events("Quote", [quote("SPY", 1.0, 2.0, 3.0, 4.0)])
        assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
        spy = stream.get_real_time_quote("SPY")
        assert spy is not None and (spy.bid, spy.ask, spy.bid_size, spy.ask_size) == (1.0, 2.0, 3.0, 4.0)
        connection.set_layout("Quote", ["eventType", "eventSymbol", "bidPrice", "askPrice"])  # changed mid-session
        connection.send_events("Quote", [quote("SPY", 5.0, 6.0)])
        assert wait_until(lambda: (q := stream.get_real_time_quote("SPY")) is not None and q.bid == 5.0)


def test_full_format_switch_mid_session(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams, symbols=("SPY", OPTION))
    connection = subscribed(server, 0, [("Quote", "SPY"), ("Greeks", OPTION)])
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    connection.switch_to_full()
    connection.send_events("Greeks", [{"eventSymbol": OPTION, "delta": 0.52, "gamma": "NaN", "volatility": 0.18}])
    connection.send_events("Quote", [quote("SPY", 2.0, 2.1)])
    assert wait_until(lambda: (q := stream.get_real_time_quote("SPY")) is not None and q.bid == 2.0)
    greeks = stream.get_real_time_greeks(OPTION)
    assert greeks is not None and greeks.delta == 0.52 and greeks.implied_volatility == 0.18 and math.isnan(greeks.gamma)
    Signals(stream).wait_for(lambda s: isinstance(s, LogLine) and "from COMPACT to FULL" in s.message)
    assert len(server.connections) == 1


def test_drop_reconnects_resubscribes_and_loses_nothing(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    received: list[tuple[str, str, float]] = []

    def sink(batches: list[Batch]) -> None:
        received.extend((b.event_type, symbol, first) for b in batches for symbol, first, *_ in b.rows())

    stream, tokens = start(server, streams, batch_sink=sink)
    first = subscribed(server, 0)
    first.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: len(received) == 1)
    first.drop()
    second = subscribed(server, 1)
    sent: list[tuple[str, str, float]] = []
    for n in range(40):
        records = [quote("SPY", 100.0 + n, 101.0 + n), quote("SPX", 5000.0 + n, 5001.0 + n, "NaN", "NaN")]
        second.send_events("Quote", records)
        sent.extend(("Quote", r["eventSymbol"], r["bidPrice"]) for r in records)
    assert wait_until(lambda: len(received) >= 1 + len(sent))
    assert received[1:] == sent
    spy = stream.get_real_time_quote("SPY")
    assert spy is not None and spy.bid == 139.0
    status = stream.status()
    assert status.state is ConnectionState.CONNECTED and status.reconnect_count == 1
    assert status.last_error is not None and "connection lost" in status.last_error
    assert tokens.fetches == 2  # a fresh token for each connect
    assert server.all_violations() == []


def test_silence_is_a_dead_link(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    subscribed(server, 0).go_silent()
    subscribed(server, 1)
    last_error = stream.status().last_error
    assert last_error is not None and "dead link" in last_error
    assert stream.status().reconnect_count == 1


def test_keepalives_keep_the_server_happy(streams: list[TastytradeWebSocket]) -> None:
    with DxLinkServerDouble(keepalive_interval_seconds=None, client_timeout_seconds=0.35) as server:
        # No server keepalives here, so the client's dead-link limit must be longer than the test.
        settings = StreamSettings(**{**FAST.__dict__, "dead_link_seconds": 30.0})
        start(server, streams, settings=settings)
        connection = subscribed(server, 0)
        assert connection.wait_for(lambda c: len(c.messages_of("KEEPALIVE")) >= 6)
        assert connection.violations == [] and len(server.connections) == 1


def test_error_frames_are_logged_and_the_session_continues(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    for n in range(4):  # within the default limit of 5 per minute
        connection.send_error("BAD_ACTION", f"subscription {n} refused")
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    signals = Signals(stream)
    warning = signals.wait_for(lambda s: isinstance(s, LogLine) and "DXLink ERROR BAD_ACTION" in s.message)
    assert isinstance(warning, LogLine) and warning.message.endswith("subscription 0 refused")  # then rate-limited
    assert sum("DXLink ERROR" in text for text in signals.texts()) == 1
    assert stream.status().error_frames == 4 and stream.is_connected
    assert len(server.connections) == 1 and stream.status().reconnect_count == 0


def test_error_burst_reconnects_with_backoff(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "error_limit": 2, "error_window_seconds": 5.0})
    stream, _ = start(server, streams, settings=settings)
    first = subscribed(server, 0)
    first.send_error("BAD_ACTION", "no")
    first.send_error("BAD_ACTION", "no")
    time.sleep(0.1)
    assert len(server.connections) == 1  # two are tolerated
    first.send_error("INVALID_MESSAGE", "still no")
    subscribed(server, 1)
    change = Signals(stream).wait_for(
        lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.RECONNECTING
    )
    assert isinstance(change, ConnectionChanged)
    assert "more than 2 DXLink ERROR frames within 5 s (last: DXLink ERROR INVALID_MESSAGE" in change.reason
    assert stream.status().error_frames == 3 and len(server.connections) == 2


def test_service_restart_close_reconnects(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    subscribed(server, 0).close(1012, "Reconnection is required")
    subscribed(server, 1)
    last_error = stream.status().last_error
    assert last_error is not None and "code 1012" in last_error


def test_message_too_big_halves_subscription_frames(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    symbols = ["SPY", "QQQ", "IWM", "DIA"]
    pairs = [(kind, s) for s in symbols for kind in ("Quote", "Trade", "Summary")]
    settings = StreamSettings(**{**FAST.__dict__, "subscription_chunk_size": 4})
    stream, _ = start(server, streams, symbols=symbols, settings=settings)
    first = subscribed(server, 0, pairs)
    assert len(first.messages_of("FEED_SUBSCRIPTION")) == 3
    first.close(1009, "message too big")
    second = subscribed(server, 1, pairs)
    assert len(second.messages_of("FEED_SUBSCRIPTION")) == 6
    Signals(stream).wait_for(lambda s: isinstance(s, LogLine) and "1009" in s.message)


def test_rejected_token_is_refreshed_once(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, tokens = start(server, streams, tokens=("bad-token", "good-token"))
    subscribed(server, 1)
    assert wait_until(lambda: stream.is_connected)
    assert tokens.invalidations == 1 and tokens.fetches == 2 and server.rejected_auths == 1


def test_fixed_token_rejected_twice_fails_clearly(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    source = ScriptedTokens(server.url, ["bad-token"], renewable=False)
    stream = TastytradeWebSocket(None, ["SPY"], token_source=source, settings=FAST)
    streams.append(stream)
    stream.connect()
    signals = Signals(stream)
    signals.wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    status = stream.status()
    assert status.state is ConnectionState.FAILED and not stream.is_connected
    assert status.last_error is not None and "fixed quote token was rejected again" in status.last_error
    assert server.rejected_auths == 2 and source.fetches == 2
    assert any(isinstance(s, LogLine) and s.level == "error" for s in signals.pull())
    time.sleep(0.2)
    assert len(server.connections) == 2  # no further attempts


def test_renewable_token_rejections_are_retried_with_backoff(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, tokens = start(server, streams, tokens=("bad-1", "bad-2", "bad-3", "bad-4", "good-token"))
    subscribed(server, 4)
    assert wait_until(lambda: stream.is_connected)
    assert tokens.invalidations == 4 and server.rejected_auths == 4
    states = [s.state for s in Signals(stream).pull() if isinstance(s, ConnectionChanged)]
    assert ConnectionState.FAILED not in states and states.count(ConnectionState.RECONNECTING) == 4
    delays = [float(s.reason.rsplit(" in ", 1)[1].split()[0]) for s in Signals(stream).seen
              if isinstance(s, ConnectionChanged) and s.state is ConnectionState.RECONNECTING]
    assert all(delay > 0 for delay in delays)  # never straight back


def test_http_error_on_upgrade_backs_off_and_retries(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    server.reject_upgrades = 2
    stream, _ = start(server, streams)
    subscribed(server, 0)  # the first connection that got through the upgrade
    assert wait_until(lambda: stream.is_connected)
    assert stream.status().reconnect_count == 2
    assert any("HTTP 502" in text for text in Signals(stream).texts())


def test_malformed_frames_are_logged_and_the_link_survives(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.send_raw_text("not json {")
    connection.send_raw_text("[1, 2, 3]")
    connection.send_json({"type": "FEED_DATA", "channel": 1, "data": "garbage"})
    connection.send_json({"type": "FEED_DATA", "channel": 1, "data": ["Quote", ["Quote", "SPY", 1.0]]})
    connection.send_json({"type": "FEED_DATA", "channel": 1, "data": ["Quote", ["Quote", "SPY", {"x": 1}, 2.0, 3.0, 4.0]]})
    connection.send_json({"type": "MYSTERY", "channel": 0})
    connection.send_json({"type": "FEED_CONFIG", "channel": 1, "eventFields": "nonsense"})
    connection.send_events("Quote", [quote("SPX", 7.0, 8.0)])
    assert wait_until(lambda: stream.get_real_time_quote("SPX") is not None)
    spy = stream.get_real_time_quote("SPY")
    assert spy is not None and math.isnan(spy.bid) and spy.ask == 2.0  # the bad field is NaN, the event kept
    warnings = [s.message for s in Signals(stream).pull() if isinstance(s, LogLine) and s.level == "warning"]
    assert len(warnings) >= 6
    assert len(server.connections) == 1 and stream.is_connected


def test_token_is_renewed_before_it_expires(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "token_max_age_seconds": 0.4, "token_quiet_refresh_age_seconds": 0.4})
    stream, tokens = start(server, streams, settings=settings)
    subscribed(server, 0)
    subscribed(server, 1)
    assert tokens.fetches >= 2
    assert stream.status().last_error is None  # a planned renewal is not an error
    Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and "renewing the quote token" in s.reason)


def test_positions_drive_greeks_subscriptions_and_warnings(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams, symbols=("SPY",))
    connection = subscribed(server, 0, [("Quote", "SPY")])
    stream.set_positions({OPTION: 2 * 100, "SPY": -10})
    assert connection.wait_subscribed([("Greeks", OPTION), ("Quote", OPTION)])
    greeks = {"eventSymbol": OPTION, "price": 3.1, "volatility": 0.2, "delta": 0.35, "gamma": 0.06, "theta": -0.5, "rho": 0.1, "vega": 0.4}
    connection.send_events("Greeks", [greeks])
    signals = Signals(stream)
    signals.wait_for(lambda s: isinstance(s, GreeksWarning) and s.greek == "gamma")
    delta = signals.wait_for(lambda s: isinstance(s, GreeksWarning) and s.greek == "delta")
    assert isinstance(delta, GreeksWarning) and delta.value == pytest.approx(200 * 0.35 - 10)
    assert stream.portfolio_greeks().gamma == pytest.approx(12.0)
    assert {w.greek for w in stream.check_greeks_limits()} == {"delta", "gamma"}
    connection.send_events("Greeks", [greeks])
    connection.send_events("Quote", [quote("SPY", 9.0, 9.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    assert sum(isinstance(s, GreeksWarning) for s in signals.pull()) == 2  # crossing only, no repeats
    stream.set_positions({})
    assert connection.wait_for(lambda c: ("Greeks", OPTION) not in c.subscriptions)


class FridayClock:
    """Real monotonic time, wall clock pinned to a Friday in the 0DTE window."""

    def __init__(self, wall: datetime) -> None:
        self.wall = wall.timestamp()

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return self.wall


def test_zero_dte_move_signal(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    friday = datetime(2025, 12, 19, 11, 30, tzinfo=NEW_YORK)
    stream, _ = start(server, streams, symbols=("SPY",), clock=FridayClock(friday), move_threshold_pct=0.5)
    connection = subscribed(server, 0, [("Quote", "SPY"), ("Summary", "SPY")])
    today = day_id(friday.date())
    connection.send_events("Summary", [{"eventSymbol": "SPY", "dayId": today, "dayOpenPrice": 500.0, "prevDayClosePrice": 498.0}])
    connection.send_events("Quote", [quote("SPY", 501.0, 501.2)])
    connection.send_events("Quote", [quote("SPY", 502.9, 503.1)])
    move = Signals(stream).wait_for(lambda s: isinstance(s, ZeroDteMove))
    assert isinstance(move, ZeroDteMove) and move.symbol == "SPY" and move.move_pct == pytest.approx(0.6)
    assert stream.check_0dte_entry("SPY") is not None


def test_close_stops_promptly(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    began = time.monotonic()
    stream.close()
    assert time.monotonic() - began < 1.5
    assert stream.status().state is ConnectionState.CLOSED
    assert connection.closed.wait(2.0)


REFRESH = "refresh-SECRET-aaaa1111"
CLIENT_SECRET = "client-SECRET-bbbb2222"
ACCESS = "access-SECRET-cccc3333"
QUOTE = "quote-SECRET-dddd4444"


def test_oauth_flow_and_secrets_never_leak(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    requests: list[HttpRequest] = []
    invalid_grant = threading.Event()

    def transport(request: HttpRequest) -> HttpResponse:
        requests.append(request)
        if request.url.endswith("/oauth/token"):
            if invalid_grant.is_set():
                return HttpResponse(401, json.dumps({"error": "invalid_grant", "error_description": REFRESH}).encode())
            return HttpResponse(200, json.dumps({"access_token": ACCESS, "expires_in": 900}).encode())
        body = {"data": {"token": QUOTE, "dxlink-url": server.url, "level": "api"}}
        return HttpResponse(200, json.dumps(body).encode())

    server.valid_tokens = {QUOTE}
    config = TastytradeConfig(REFRESH, CLIENT_SECRET, client_id="client-id-eeee5555")
    stream = TastytradeWebSocket(config, ["SPY", "SPX"], settings=FAST, http_transport=transport)
    streams.append(stream)
    stream.connect()
    first = subscribed(server, 0)  # reached the URL that /api-quote-tokens returned
    assert first.token == QUOTE
    first.send_error("UNKNOWN", f"bad token {QUOTE} / {ACCESS}")  # a server echoing secrets
    first.close(1011, f"closing for {QUOTE}")
    subscribed(server, 1)
    invalid_grant.set()  # the refresh token is revoked: the next refresh gets invalid_grant
    server.connection(1).send_json({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"})
    signals = Signals(stream)
    signals.wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    assert [r.url.rsplit("/", 1)[1] for r in requests].count("api-quote-tokens") >= 2  # one per connect

    texts = signals.texts() + [repr(stream.status()), str(stream.status()), repr(stream), repr(config), caplog.text]
    joined = "\n".join(texts)
    assert "DXLink ERROR UNKNOWN" in joined and "***" in joined and "invalid_grant" in joined
    for secret in (REFRESH, CLIENT_SECRET, ACCESS, QUOTE, "client-id-eeee5555"):
        assert secret not in joined


def test_constructor_needs_exactly_one_credential_source(server: DxLinkServerDouble) -> None:
    with pytest.raises(ValueError):
        TastytradeWebSocket(None, ["SPY"])
    with pytest.raises(ValueError):
        TastytradeWebSocket(TastytradeConfig(REFRESH, CLIENT_SECRET), ["SPY"], token_source=ScriptedTokens(server.url, ["t"]))


def test_from_settings_uses_the_algorithm_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import dataclass
    from datetime import time as clock_time

    @dataclass(frozen=True)
    class Params:
        environment: str = "sandbox"
        move_threshold_pct: float = 0.25
        signal_start: clock_time = clock_time(11, 0)
        signal_end: clock_time = clock_time(12, 0)
        delta_warning: float = 5.0
        gamma_warning: float = 1.0
        max_quote_age_seconds: float = 30.0
        error_limit: int = 3
        error_window_seconds: float = 10.0
        keepalive_timeout_seconds: float = 15.0
        dead_link_seconds: float = 45.0

    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", REFRESH)
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", CLIENT_SECRET)
    friday = datetime(2025, 12, 19, 11, 30, tzinfo=NEW_YORK)
    stream = TastytradeWebSocket.from_settings(Params(), ["SPX"], clock=FridayClock(friday))
    cache = stream._cache  # the stream is not connected: feed its cache directly
    now = time.monotonic()
    cache.apply(Batch("Summary", ["SPX"], ([float(day_id(friday.date()))], [6000.0], [6000.0], [0.0])), now)
    cache.apply(Batch("Trade", ["SPX"], ([6018.0], [1.0], [1.0])), now - 31.0)
    assert stream.check_0dte_entry("SPX") is None  # the price is older than max_quote_age_seconds (30)
    cache.apply(Batch("Trade", ["SPX"], ([6018.0], [1.0], [1.0])), now)
    move = stream.check_0dte_entry("SPX")  # +0.3 % > 0.25 % inside 11:00-12:00
    assert move is not None and move.move_pct == pytest.approx(0.3)
    settings = stream._settings
    assert (settings.error_limit, settings.error_window_seconds) == (3, 10.0)
    assert (settings.keepalive_timeout_seconds, settings.dead_link_seconds) == (15.0, 45.0)
    assert stream.status().stale_after_seconds == 15.0
    stream.set_positions({"SPX": 6.0})
    assert [w.greek for w in stream.check_greeks_limits()] == ["delta"]
    monkeypatch.delenv("TASTYTRADE_REFRESH_TOKEN")
    with pytest.raises(ValueError, match="TASTYTRADE_REFRESH_TOKEN"):
        TastytradeWebSocket.from_settings(Params(), ["SPX"])
