"""The faults of a trading day, one at a time, against the DXLink double over a real socket.

Each test names the rule of issue 17 it proves: transient auth trouble never stops the feed, ERROR
frames are not fatal, silence is reported as stale before the link is given up, the cache is bounded
by the subscription, one bad record costs only itself, and no part of a secret reaches a log line.
Timings are shrunk through StreamSettings; waits are on conditions, never fixed sleeps.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from streaming import (
    ConnectionChanged,
    ConnectionState,
    LogLine,
    Signal,
    StreamSettings,
    TastytradeConfig,
    TastytradeWebSocket,
)
from streaming.auth import HttpRequest, HttpResponse
from tests.dxlink_server import DxLinkServerDouble, quote
from tests.test_streaming_client import (  # noqa: F401 - server and streams are the client tests' fixtures
    FAST,
    Signals,
    server,
    start,
    streams,
    subscribed,
    wait_until,
)

QUIET = StreamSettings(**{**FAST.__dict__, "keepalive_timeout_seconds": 0.3, "dead_link_seconds": 1.2})


def states(signals: list[Signal]) -> list[ConnectionState]:
    return [s.state for s in signals if isinstance(s, ConnectionChanged)]


class BlippingRest:
    """tastytrade's REST API for the double: every call answers 401 while ``down`` is set."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.down = threading.Event()
        self.calls: list[tuple[str, int]] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.url.rsplit("/", 1)[1]
        if self.down.is_set():
            self.calls.append((path, 401))
            return HttpResponse(401, b'{"error":{"code":"unauthorized","message":"try later"}}')
        self.calls.append((path, 200))
        if path == "token":
            return HttpResponse(200, json.dumps({"access_token": "access-tok-123456", "expires_in": 900}).encode())
        body = {"data": {"token": "good-token", "dxlink-url": self.url, "level": "api"}}
        return HttpResponse(200, json.dumps(body).encode())


def oauth_stream(server: DxLinkServerDouble, rest: Callable[[HttpRequest], HttpResponse]) -> TastytradeWebSocket:
    config = TastytradeConfig("refresh-tok-123456", "client-secret-123456")
    return TastytradeWebSocket(config, ["SPY", "SPX"], settings=FAST, http_transport=rest)


# ----- 1. transient vs permanent ---------------------------------------------------------------------
def test_a_401_window_at_the_token_endpoint_only_delays_the_reconnect(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    rest = BlippingRest(server.url)
    stream = oauth_stream(server, rest)
    streams.append(stream)
    stream.connect()
    subscribed(server, 0)
    rest.down.set()  # REST answers 401 to everything ...
    server.connection(0).drop()
    assert wait_until(lambda: sum(code == 401 for _, code in rest.calls) >= 3)
    time.sleep(0.3)
    rest.down.clear()  # ... and is back a while later
    subscribed(server, 1)
    assert wait_until(lambda: stream.is_connected)
    seen = Signals(stream).pull()
    assert ConnectionState.FAILED not in states(seen)
    retries = [s.reason for s in seen if isinstance(s, ConnectionChanged) and s.state is ConnectionState.RECONNECTING]
    assert any("HTTP 401" in reason for reason in retries)
    assert all(float(reason.rsplit(" in ", 1)[1].split()[0]) > 0 for reason in retries)  # never straight back
    assert len(server.connections) == 2  # the failed token fetches opened no socket


def test_dxlink_rejections_get_a_fresh_token_and_back_off(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    rest = BlippingRest(server.url)
    server.valid_tokens = set()  # DXLink says UNAUTHORIZED, twice in a row and more
    stream = oauth_stream(server, rest)
    streams.append(stream)
    stream.connect()
    assert wait_until(lambda: server.rejected_auths >= 3)
    server.valid_tokens = {"good-token"}
    assert wait_until(lambda: stream.is_connected)
    assert ConnectionState.FAILED not in states(Signals(stream).pull())
    assert [path for path, _ in rest.calls].count("token") >= 3  # each rejection dropped the access token


def test_credentials_declared_invalid_fail_for_good(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    def rest(request: HttpRequest) -> HttpResponse:
        return HttpResponse(400, b'{"error":"invalid_grant","error_description":"refresh token revoked"}')

    stream = oauth_stream(server, rest)
    streams.append(stream)
    stream.connect()
    signals = Signals(stream)
    failed = signals.wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    assert isinstance(failed, ConnectionChanged) and "HTTP 400 (invalid_grant)" in failed.reason
    assert "credentials invalid" in failed.reason
    assert any(isinstance(s, LogLine) and s.level == "error" for s in signals.seen)
    assert stream.status().last_end == "auth_failed" and server.connections == []


# ----- 3. liveness --------------------------------------------------------------------------------------
def test_setup_declares_the_keepalive_timeout_the_server_must_honour(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    start(server, streams, settings=QUIET)
    setup = subscribed(server, 0).received[0]
    assert setup == {"type": "SETUP", "channel": 0, "version": "0.1-DXF-JS/0.3.0",
                     "keepaliveTimeout": 0.3, "acceptKeepaliveTimeout": 60}  # fmt: skip


def test_silence_reads_stale_at_once_then_reconnects_at_the_dead_link_timeout(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams, settings=QUIET)
    connection = subscribed(server, 0)
    assert wait_until(lambda: stream.is_connected)
    connection.go_silent()
    silent_since = time.monotonic()
    assert wait_until(lambda: stream.status().state is ConnectionState.STALE, timeout=1.0)
    stale_after = time.monotonic() - silent_since
    assert not stream.is_connected and len(server.connections) == 1  # stale, not yet given up
    status = stream.status()
    assert status.stale_after_seconds == 0.3 and status.seconds_since_inbound is not None
    assert status.seconds_since_inbound > 0.3
    subscribed(server, 1)
    assert wait_until(lambda: stream.is_connected)
    seen = states(Signals(stream).pull())
    assert seen[seen.index(ConnectionState.STALE):][:3] == [
        ConnectionState.STALE, ConnectionState.RECONNECTING, ConnectionState.CONNECTING
    ]  # fmt: skip
    assert 0.3 < stale_after < 1.2  # stale well before the 1.2 s dead link
    assert "dead link" in (stream.status().last_error or "")


def test_a_stale_link_that_speaks_again_is_connected_again(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    settings = StreamSettings(**{**QUIET.__dict__, "dead_link_seconds": 5.0})
    stream, _ = start(server, streams, settings=settings)
    connection = subscribed(server, 0)
    assert wait_until(lambda: stream.is_connected)
    since = stream.status().connected_since
    connection.go_silent()
    signals = Signals(stream)
    change = signals.wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.STALE)
    assert isinstance(change, ConnectionChanged) and "0.3 s keepalive timeout agreed in SETUP" in change.reason
    connection.resume()
    assert wait_until(lambda: stream.is_connected)
    assert states(signals.pull())[-2:] == [ConnectionState.STALE, ConnectionState.CONNECTED]
    assert len(server.connections) == 1 and stream.status().connected_since == since


def test_quotes_carry_their_age_and_old_ones_are_not_served(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "max_quote_age_seconds": 0.3})
    stream, _ = start(server, streams, settings=settings)
    subscribed(server, 0).send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    fresh = stream.get_real_time_quote("SPY")
    assert fresh is not None and fresh.age_seconds < 0.3
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is None, timeout=2.0)
    old = stream.get_real_time_quote("SPY", max_age_seconds=60.0)
    assert old is not None and old.age_seconds > 0.3 and old.bid == 1.0


# ----- 4. a cache bounded by the subscription ------------------------------------------------------
def test_unsubscribe_forgets_the_symbol_at_once(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1), quote("SPX", 2.0, 2.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPX") is not None)
    stream.unsubscribe(["SPY"])
    assert stream.get_real_time_quote("SPY") is None  # at once, before the server even hears of it
    assert stream.get_real_time_quote("SPX") is not None
    assert connection.wait_for(lambda c: ("Quote", "SPY") not in c.subscriptions)
    connection.send_events("Quote", [quote("SPY", 3.0, 3.1), quote("SPX", 4.0, 4.1)])  # in flight
    assert wait_until(lambda: (q := stream.get_real_time_quote("SPX")) is not None and q.bid == 4.0)
    assert stream.get_real_time_quote("SPY") is None and stream.status().unrequested_events == 1


def test_unrequested_symbols_are_counted_not_cached(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    for block in range(10):
        connection.send_events("Quote", [quote(f"JUNK{block}-{n}", 1.0, 1.1) for n in range(100)])
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    status = stream.status()
    assert status.unrequested_events == 1000
    assert stream._cache.size() == 1 and stream.get_real_time_quote("JUNK0-0") is None
    warnings = [s for s in Signals(stream).pull() if isinstance(s, LogLine) and "did not subscribe" in s.message]
    assert len(warnings) == 1  # rate-limited


# ----- 5. one bad record costs only itself ----------------------------------------------------------
def test_a_list_as_symbol_drops_that_record_only(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    values = ["Quote", "SPY", 1.0, 1.1, 5.0, 6.0, "Quote", ["SPY"], 9.0, 9.1, 1.0, 1.0, "Quote", "SPX", 2.0, 2.1, "NaN", "NaN"]
    connection.send_json({"type": "FEED_DATA", "channel": 1, "data": ["Quote", values]})
    assert wait_until(lambda: stream.get_real_time_quote("SPX") is not None)
    spy = stream.get_real_time_quote("SPY")
    assert spy is not None and spy.bid == 1.0
    assert stream.status().dropped_records == 1
    lines = [s.message for s in Signals(stream).pull() if isinstance(s, LogLine)]
    assert any("1 of 3 Quote records dropped" in line for line in lines)
    assert not any("internal error" in line for line in lines) and stream.is_connected


# ----- 6. no part of a secret in any line ------------------------------------------------------------
def test_secrets_are_redacted_before_anything_is_cut(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    token = "Q" + "0123456789abcdef" * 8  # a long quote token: 129 characters
    server.valid_tokens = {token}
    stream, _ = start(server, streams, tokens=(token,))
    connection = subscribed(server, 0)
    connection.send_error("UNKNOWN", "x" * 150 + f" token {token} " + "y" * 400)  # the old cut fell inside it
    connection.send_json({"type": "ERROR", "channel": 0, "error": token, "message": "odd code"})
    connection.send_json({"type": token, "channel": 0})
    connection.send_json({"type": "AUTH_STATE", "channel": 0, "state": token})
    time.sleep(0.2)
    connection.drop()
    subscribed(server, 1)
    texts = [repr(s) for s in Signals(stream).pull()] + [repr(stream.status())]
    joined = "\n".join(texts)
    assert "DXLink ERROR UNKNOWN" in joined and "***" in joined
    assert token[:12] not in joined  # not even the beginning of it
    assert all(len(s.message) <= 400 for s in Signals(stream).seen if isinstance(s, LogLine))


def test_distinct_garbage_shares_one_report_key(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    """Server-chosen text never becomes a rate-limiter key, so a stream of odd messages neither floods
    the log nor grows the limiter's memory."""
    stream, _ = start(server, streams, settings=StreamSettings(**{**FAST.__dict__, "error_limit": 100}))
    connection = subscribed(server, 0)
    for n in range(50):
        connection.send_json({"type": f"ODD-{n}", "channel": 0})
        connection.send_json({"type": "AUTH_STATE", "channel": 0, "state": f"S{n}"})
        connection.send_json({"type": "ERROR", "channel": 0, "error": f"CODE-{n}", "message": "?"})
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    lines = [s.message for s in Signals(stream).pull() if isinstance(s, LogLine)]
    assert sum("unexpected DXLink message type" in line for line in lines) == 1
    assert sum("unknown AUTH_STATE" in line for line in lines) == 1
    assert sum("DXLink ERROR UNKNOWN" in line for line in lines) == 1
    assert len(stream._signals._last_logged) <= 4
