"""The connection thread's rules, one by one, against the DXLink double: back-off and when it resets,
when repeated rejections are final, closing, liveness from DXLink messages only, and the frames a
server can send that are not DXLink messages at all."""
from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from streaming import ConnectionChanged, ConnectionState, LogLine, QuoteToken, StreamSettings, TastytradeWebSocket
from streaming.auth import TokenUnavailableError
from streaming.client import SessionEnd
from streaming.protocol import EndReason
from tests.dxlink_server import OP_BINARY, OP_PING, OP_TEXT, DxLinkServerDouble, quote
from tests.test_streaming_client import (  # noqa: F401 - server and streams are the client tests' fixtures
    FAST,
    ScriptedTokens,
    Signals,
    server,
    start,
    streams,
    subscribed,
    wait_until,
)


def delays(stream: TastytradeWebSocket) -> list[float]:
    """The back-off of the reconnects signalled since the last call, from the RECONNECTING reasons
    ("...; reconnecting in 0.04 s"); it drains the stream's signals."""
    return [float(s.reason.rsplit(" in ", 1)[1].split()[0]) for s in Signals(stream).pull()
            if isinstance(s, ConnectionChanged) and s.state is ConnectionState.RECONNECTING]


def open_stream(server: DxLinkServerDouble, streams: list[TastytradeWebSocket], source: object,
                settings: StreamSettings = FAST) -> TastytradeWebSocket:
    stream = TastytradeWebSocket(None, ["SPY", "SPX"], token_source=source, settings=settings)  # type: ignore[arg-type]
    streams.append(stream)
    stream.connect()
    return stream


# ----- back-off -----------------------------------------------------------------------------------------
def test_failures_back_off_exponentially_and_a_stable_session_resets_it(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    server.reject_upgrades = 3  # HTTP 502 on the upgrade: failures before any session
    stream, _ = start(server, streams)
    subscribed(server, 0)
    first = delays(stream)
    assert len(first) == 3
    for n, delay in enumerate(first):  # 0.02, 0.04, 0.08, each cut by up to 20 % (printed to 0.01 s)
        assert 0.8 * 0.02 * 2**n - 0.005 <= delay <= 0.02 * 2**n + 0.005
    time.sleep(0.3)  # longer than stable_session_seconds (0.2)
    server.connection(0).drop()
    subscribed(server, 1)
    (after_stable,) = delays(stream)  # the reconnects since the first call
    assert after_stable <= 0.025  # back to the first step


def test_sessions_that_never_got_ready_back_off_too(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams, tokens=("bad-1", "bad-2", "bad-3", "good-token"))
    subscribed(server, 3)
    waits = delays(stream)
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]


def test_a_planned_token_renewal_reconnects_at_once(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "token_max_age_seconds": 0.4, "token_quiet_refresh_age_seconds": 0.4})
    stream, _ = start(server, streams, settings=settings)
    subscribed(server, 1)
    renewal = Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and "renewing" in s.reason)
    assert isinstance(renewal, ConnectionChanged) and renewal.reason.endswith("; reconnecting in 0.00 s")


# ----- when rejections are final -------------------------------------------------------------------------
class OnceRenewable(ScriptedTokens):
    """A source that can renew its token once, then no more."""

    def invalidate(self) -> bool:
        self.invalidations += 1
        return self.invalidations == 1


def test_a_renewed_rejection_does_not_count_towards_the_final_two(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream = open_stream(server, streams, OnceRenewable(server.url, ["bad-token"]))
    Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    assert server.rejected_auths == 3  # renewed, then two in a row that could not be


class FailingInBetween(ScriptedTokens):
    """A fixed token whose source fails once between two rejections."""

    def fetch(self) -> QuoteToken:
        if self.fetches == 1:
            self.fetches += 1
            raise TokenUnavailableError("GET /api-quote-tokens: HTTP 503")
        return super().fetch()


def test_a_failure_before_dxlink_does_not_reset_the_rejection_count(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream = open_stream(server, streams, FailingInBetween(server.url, ["bad-token"], renewable=False))
    Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    assert server.rejected_auths == 2


def test_an_authorized_session_resets_the_rejection_count(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "backoff_initial_seconds": 0.3, "backoff_max_seconds": 0.5})
    server.valid_tokens = set()
    stream = open_stream(server, streams, ScriptedTokens(server.url, ["good-token"], renewable=False), settings)
    assert wait_until(lambda: server.rejected_auths == 1)
    server.valid_tokens = {"good-token"}  # before the next attempt (0.24..0.3 s later)
    connection = subscribed(server, 1)
    server.valid_tokens = set()
    connection.drop()
    Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.FAILED)
    assert server.rejected_auths == 3  # 1, then reset by the authorized session, then two in a row


# ----- closing ----------------------------------------------------------------------------------------------
def test_close_before_connect(server: DxLinkServerDouble) -> None:
    stream = TastytradeWebSocket(None, ["SPY"], token_source=ScriptedTokens(server.url, ["good-token"]))
    stream.close()
    assert stream.status().state is ConnectionState.CLOSED
    assert [s.state for s in stream.drain_signals() if isinstance(s, ConnectionChanged)] == [ConnectionState.CLOSED]
    assert server.connections == []


class SlowFailingTokens(ScriptedTokens):
    """Each fetch takes ``seconds``, then fails."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(url, ["good-token"])
        self.seconds = seconds

    def fetch(self) -> QuoteToken:
        time.sleep(self.seconds)
        raise TokenUnavailableError("GET /api-quote-tokens: timed out")


def test_an_attempt_that_fails_while_closing_is_not_retried(server: DxLinkServerDouble) -> None:
    stream = TastytradeWebSocket(None, ["SPY"], token_source=SlowFailingTokens(server.url, 0.3), settings=FAST)
    stream.connect()
    time.sleep(0.05)
    stream.close()
    states = [s.state for s in stream.drain_signals() if isinstance(s, ConnectionChanged)]
    assert states == [ConnectionState.CONNECTING, ConnectionState.CLOSED]


def test_close_waits_two_seconds_at_most(server: DxLinkServerDouble) -> None:
    stream = TastytradeWebSocket(None, ["SPY"], token_source=SlowFailingTokens(server.url, 5.0), settings=FAST)
    stream.connect()
    began = time.monotonic()
    stream.close()
    assert 1.8 <= time.monotonic() - began < 2.8  # the documented default, not the fetch's 5 s


def test_the_stream_thread_never_keeps_the_process_alive() -> None:
    """The algorithm may end without close(): a daemon thread ends with the process."""
    program = (
        "from streaming import TastytradeWebSocket\n"
        "from streaming.auth import StaticQuoteTokenSource\n"
        "s = TastytradeWebSocket(None, ['SPY'], token_source=StaticQuoteTokenSource('ws://127.0.0.1:9/x', 't0ken-value'))\n"
        "s.connect()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=Path(__file__).resolve().parents[1], timeout=20,
                          capture_output=True)
    assert done.returncode == 0, done.stderr


def test_the_client_says_goodbye_only_to_a_peer_that_listens(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams)
    silent = subscribed(server, 0)
    silent.go_silent()  # a dead link: no close handshake, the socket is just released
    subscribed(server, 1)
    assert silent.closed.wait(2.0) and silent.client_close is None
    stream.close()
    polite = server.connection(1)
    assert polite.closed.wait(2.0) and polite.client_close == struct.pack("!H", 1000)
    status = stream.status()
    assert status.state is ConnectionState.CLOSED and status.connected_since is None


def test_status_before_the_first_connection(server: DxLinkServerDouble) -> None:
    stream = TastytradeWebSocket(None, ["SPY"], token_source=ScriptedTokens(server.url, ["good-token"]))
    status = stream.status()
    assert (status.state, status.reconnect_count, status.failures_in_a_row) == (ConnectionState.IDLE, 0, 0)
    assert not status.delayed_feed and status.last_end is None and status.connected_since is None
    assert status.unrequested_events == status.error_frames == status.dropped_records == 0


class DemoTokens(ScriptedTokens):
    def fetch(self) -> QuoteToken:
        self.fetches += 1
        return QuoteToken("good-token", self.url, "demo", time.monotonic())


def test_a_delayed_feed_is_flagged(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream = open_stream(server, streams, DemoTokens(server.url, ["good-token"]))
    subscribed(server, 0)
    assert stream.status().delayed_feed
    Signals(stream).wait_for(lambda s: isinstance(s, LogLine) and "delayed feed" in s.message)


# ----- liveness is about DXLink messages, and keepalives are paced -----------------------------------------
class FrozenClock:
    """Monotonic time that never moves (wall time is real)."""

    def monotonic(self) -> float:
        return 1000.0

    def time(self) -> float:
        return time.time()


def test_the_stream_keeps_time_with_the_clock_it_is_given(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    start(server, streams, clock=FrozenClock())
    connection = subscribed(server, 0)
    time.sleep(0.5)  # five keepalive intervals of real time, none of the stream's own
    assert connection.messages_of("KEEPALIVE") == []


def test_a_server_that_only_pings_is_stale_then_dead(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.go_silent()
    stop = threading.Event()

    def ping() -> None:
        while not stop.is_set() and not connection.closed.is_set():
            connection.send_frame(OP_PING, b"")
            time.sleep(0.005)

    pinger = threading.Thread(target=ping, daemon=True)  # faster than the client's 0.02 s socket timeout
    pinger.start()
    try:
        subscribed(server, 1)  # pings do not keep a silent DXLink session alive
    finally:
        stop.set()
    assert "dead link" in (stream.status().last_error or "")


def test_the_keepalive_timeout_the_server_declares_is_honoured(streams: list[TastytradeWebSocket]) -> None:
    with DxLinkServerDouble(keepalive_interval_seconds=None, client_timeout_seconds=0.5) as server:
        settings = StreamSettings(**{**FAST.__dict__, "keepalive_interval_seconds": 20.0, "dead_link_seconds": 30.0,
                                     "keepalive_timeout_seconds": 30.0})
        start(server, streams, settings=settings)
        connection = subscribed(server, 0)
        time.sleep(1.5)
        assert connection.violations == [] and len(server.connections) == 1
        assert len(connection.messages_of("KEEPALIVE")) >= 4  # every 0.25 s: half the server's 0.5 s


def test_keepalives_are_paced(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    start(server, streams)  # keepalive every 0.1 s, timers checked every 0.02 s
    connection = subscribed(server, 0)
    before = len(connection.messages_of("KEEPALIVE"))
    time.sleep(1.0)
    assert 5 <= len(connection.messages_of("KEEPALIVE")) - before <= 15


# ----- frames that are not DXLink messages ------------------------------------------------------------------
def test_frames_that_are_not_dxlink_messages_are_reported(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.send_frame(OP_TEXT, b'\xff\xfe{"type":')  # not UTF-8
    connection.send_frame(OP_BINARY, b"\x00\x01")
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    lines = [s.message for s in Signals(stream).pull() if isinstance(s, LogLine)]
    assert "malformed frame (10 bytes) ignored" in lines and "binary websocket frame ignored" in lines
    assert len(server.connections) == 1 and stream.is_connected


def test_feed_config_switches_are_reported_once(server: DxLinkServerDouble, streams: list[TastytradeWebSocket]) -> None:
    stream, _ = start(server, streams)
    connection = subscribed(server, 0)
    connection.set_layout("Quote", ["eventType", "eventSymbol", "bidPrice", "askPrice"])  # still COMPACT
    connection.send_json({"type": "FEED_CONFIG", "channel": 1, "dataFormat": 7})  # not a format name
    connection.switch_to_full()
    connection.switch_to_full()  # repeated
    connection.send_events("Quote", [quote("SPY", 1.0, 1.1)])
    assert wait_until(lambda: stream.get_real_time_quote("SPY") is not None)
    switches = [s.message for s in Signals(stream).pull() if isinstance(s, LogLine) and "switched" in s.message]
    assert switches == ["server switched the feed from COMPACT to FULL"]


@pytest.mark.parametrize(
    ("code", "reason", "detail"),
    [
        (1001, "", "server closed the connection (code 1001)"),
        (1011, "x", "server closed the connection (code 1011: x)"),
        (1012, "Reconnection is required", "server closed the connection (code 1012: Reconnection is required)"),
    ],
)
def test_close_frames_are_described_whole(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket], code: int, reason: str, detail: str
) -> None:
    stream, _ = start(server, streams)
    subscribed(server, 0).close(code, reason)
    subscribed(server, 1)
    assert stream.status().last_error == detail


def test_message_too_big_never_goes_below_one_subscription_per_frame(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "subscription_chunk_size": 1})
    start(server, streams, symbols=("SPY",), settings=settings)
    pairs = [("Quote", "SPY"), ("Trade", "SPY"), ("Summary", "SPY")]
    subscribed(server, 0, pairs).close(1009, "message too big")
    assert len(subscribed(server, 1, pairs).messages_of("FEED_SUBSCRIPTION")) == 3


def test_a_long_end_detail_is_clipped_before_the_reconnect_note(
    server: DxLinkServerDouble, streams: list[TastytradeWebSocket]
) -> None:
    settings = StreamSettings(**{**FAST.__dict__, "error_limit": 1})
    stream, _ = start(server, streams, settings=settings)
    connection = subscribed(server, 0)
    connection.send_error("BAD_ACTION", "a" * 500)
    connection.send_error("BAD_ACTION", "b" * 500)
    subscribed(server, 1)
    change = Signals(stream).wait_for(lambda s: isinstance(s, ConnectionChanged) and s.state is ConnectionState.RECONNECTING)
    assert isinstance(change, ConnectionChanged)
    detail, _, rest = change.reason.partition("; reconnecting in ")
    assert len(detail) == 200 and detail.endswith("…") and rest.endswith(" s")


def test_a_session_end_is_an_immutable_value() -> None:
    end = SessionEnd(EndReason.DROPPED, "connection lost")
    assert (end.authorized, end.ready_seconds) == (False, 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        end.reason = EndReason.STOPPED  # type: ignore[misc]
