"""The DXLink connection thread.

One daemon thread owns the socket and does all I/O: fetch a fresh quote token, open the URL it names,
run the strict handshake, decode FEED_DATA, send keepalives and subscription changes, watch the link's
liveness, and reconnect with back-off. Reads use a short socket timeout (``poll_interval_seconds``) so
the same thread also runs the timers; nothing else ever touches the socket, so no send lock is needed
and the algorithm thread never blocks on the network.

Failure policy (why): a trading day brings blips that must not stop the feed, and a few causes that no
retry can fix. Token-endpoint trouble, network errors, close frames, dead links and DXLink rejecting a
token (``AUTH_STATE UNAUTHORIZED``) are all retried with jittered back-off and a fresh token; only a
verdict on the credentials themselves (``AuthRejectedError``) ends the stream as ``FAILED``. ERROR
frames are informational per the dxLink spec ("Receiving an error message does not require any action
and is for informational purposes only"): they are logged and counted, and only a burst beyond
``error_limit`` within ``error_window_seconds`` reconnects. Silence longer than the keepalive timeout
our SETUP declared makes the link ``STALE`` at once; ``dead_link_seconds`` of silence reconnects.

What leaves the thread: decoded batches through ``on_feed`` (the façade stores them in the cache) and
signals in the ``SignalQueue``. It never calls the algorithm.
"""
from __future__ import annotations

import json
import random
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import websocket
from websocket import ABNF

from streaming.auth import AuthRejectedError, QuoteToken, QuoteTokenSource, TokenUnavailableError
from streaming.config import DEFAULT_USER_AGENT, Redactor, StreamSettings
from streaming.protocol import (
    FEED_CHANNEL,
    FEED_EVENT_FIELDS,
    Batch,
    EndReason,
    ErrorBudget,
    FeedDecoder,
    Handshake,
    Pair,
    SubscriptionBook,
    close_reason,
    keepalive_message,
    setup_message,
    subscription_messages,
)
from streaming.signals import ConnectionState, SignalQueue, StreamStatus
from streaming.timing import Clock, LinkTimers, SystemClock, TimerVerdict, backoff_delay, token_refresh_due

FeedHandler = Callable[[list[Batch], float], None]  # (batches, received_at in monotonic seconds)

# Ends after which the socket is gone or useless: no close handshake, just release it.
_ABRUPT_ENDS = {
    EndReason.DROPPED,
    EndReason.DEAD_LINK,
    EndReason.SERVER_CLOSED,
    EndReason.MESSAGE_TOO_BIG,
    EndReason.SERVICE_RESTART,
}
_LIVE_STATES = (ConnectionState.CONNECTED, ConnectionState.STALE)
_DETAIL_CHARS = 200  # of an end's detail in a connection line, leaving room for what follows it


@dataclass(frozen=True)
class SessionEnd:
    """How one connection attempt ended."""

    reason: EndReason
    detail: str
    authorized: bool = False  # DXLink accepted the token during this attempt
    ready_seconds: float = 0.0  # how long the feed was up


@dataclass
class _RetryState:
    """Counters of the reconnect loop."""

    failures: int = 0  # consecutive failed or short sessions: the back-off exponent
    rejections: int = 0  # consecutive DXLink rejections of a token that cannot be renewed


class DxLinkClient:
    """Keeps one DXLink feed channel alive for the wanted subscriptions."""

    def __init__(
        self,
        token_source: QuoteTokenSource,
        book: SubscriptionBook,
        signals: SignalQueue,
        *,
        on_feed: FeedHandler,
        settings: StreamSettings | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        redactor: Redactor | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.settings = settings or StreamSettings()
        self.clock = clock or SystemClock()
        self.book = book
        self.signals = signals
        self._token_source = token_source
        self._on_feed = on_feed
        self._rng = rng or random.Random()
        self._redactor = redactor or Redactor()
        self._user_agent = user_agent
        self.chunk_size = self.settings.subscription_chunk_size
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state = ConnectionState.IDLE
        self._connected_since: datetime | None = None
        self._reconnects = 0
        self._last_error: str | None = None
        self._last_end: EndReason | None = None
        self._failures_in_a_row = 0
        self._delayed = False
        self.error_frames = 0
        self.dropped_records = 0
        self.last_inbound: float | None = None

    def __repr__(self) -> str:
        return f"DxLinkClient(state={self._state.value}, reconnects={self._reconnects})"

    # ----- algorithm-thread API -------------------------------------------------------------
    def start(self) -> None:
        """Starts the stream thread and returns at once; a second call does nothing."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="dxlink-stream", daemon=True)
        self._thread.start()

    def stop(self, timeout_seconds: float) -> None:
        """Asks the thread to close the connection and waits up to ``timeout_seconds`` for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_seconds)
        if thread is None:
            self._set_state(ConnectionState.CLOSED, "closed before connecting")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def state(self) -> ConnectionState:
        return self._state

    def status(self, seconds_since_market_event: float | None, unrequested_events: int) -> StreamStatus:
        """A consistent snapshot; a connected link silent past the agreed keepalive timeout reads STALE
        at once, even before the stream thread's next timer check says so."""
        now = self.clock.monotonic()
        last_inbound = self.last_inbound
        silent = None if last_inbound is None else max(now - last_inbound, 0.0)
        stale_after = self.settings.keepalive_timeout_seconds
        with self._lock:
            state, since, reconnects = self._state, self._connected_since, self._reconnects
            last_error, delayed = self._last_error, self._delayed
            last_end, failures = self._last_end, self._failures_in_a_row
        if state is ConnectionState.CONNECTED and silent is not None and silent > stale_after:
            state = ConnectionState.STALE
        return StreamStatus(
            state=state,
            connected_since=since,
            seconds_since_inbound=silent,
            seconds_since_market_event=seconds_since_market_event,
            reconnect_count=reconnects,
            last_error=last_error,
            delayed_feed=delayed,
            subscriptions=len(self.book.snapshot()[1]),
            stale_after_seconds=stale_after,
            error_frames=self.error_frames,
            unrequested_events=unrequested_events,
            dropped_records=self.dropped_records,
            last_end=None if last_end is None else last_end.value,
            failures_in_a_row=failures,
        )

    # ----- used by the session ----------------------------------------------------------------
    def problem(self, key: str, message: str) -> None:
        """Malformed input or unexpected messages: a rate-limited warning, never an exception."""
        self.signals.log("warning", message, key=key)

    def count_dropped(self, records: int) -> None:
        """Malformed FEED_DATA records the decoder dropped (the rest of their frame was kept)."""
        self.dropped_records += records

    def error_frame(self, code: str, detail: str) -> None:
        """An ERROR frame: counted and logged (redacted, clipped, at most once a minute per code)."""
        self.error_frames += 1
        self.signals.log("warning", detail, key=f"dxlink-error-{code}")

    def deliver(self, batches: list[Batch], received_at: float) -> None:
        try:
            self._on_feed(batches, received_at)
        except Exception as exc:  # a bug in storing data must not end the connection
            self.problem("feed-handler", f"internal error while storing market data: {type(exc).__name__}: {exc}")

    def on_ready(self, url: str) -> None:
        self._set_state(ConnectionState.CONNECTED, f"streaming from {url}")

    def mark_stale(self, silent_seconds: float) -> None:
        """The session saw no DXLink message for longer than the agreed keepalive timeout (signalled once)."""
        if self._state is ConnectionState.CONNECTED:
            self._set_state(
                ConnectionState.STALE,
                f"no frame from the server for {silent_seconds:.1f} s, longer than the "
                f"{self.settings.keepalive_timeout_seconds:g} s keepalive timeout agreed in SETUP",
            )

    def mark_fresh(self) -> None:
        """A DXLink message arrived on a stale link."""
        if self._state is ConnectionState.STALE:
            self._set_state(ConnectionState.CONNECTED, "frames arriving again")

    # ----- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        retry = _RetryState()
        first = True
        while not self._stop.is_set():
            if not first:
                with self._lock:
                    self._reconnects += 1
            first = False
            end = self._attempt()
            if self._stop.is_set() or end.reason is EndReason.STOPPED:
                break
            delay = self._next_delay(end, retry)
            if delay is None:
                self._fail(end)
                return
            self._record_end(end, retry.failures)
            detail = self._redactor.clip(end.detail, _DETAIL_CHARS)
            self._set_state(ConnectionState.RECONNECTING, f"{detail}; reconnecting in {delay:.2f} s")
            self._stop.wait(delay)
        self._set_state(ConnectionState.CLOSED, "closed by the algorithm")

    def _next_delay(self, end: SessionEnd, retry: _RetryState) -> float | None:
        """Seconds before the next attempt, or None to stop for good.

        Stops only when the credentials were declared invalid, or when DXLink rejected twice in a row
        a token that cannot be renewed (a fixed ``--token``); every other end backs off and retries.
        """
        if end.reason is EndReason.AUTH_FAILED:
            return None
        if end.authorized:
            retry.rejections = 0
        if end.reason is EndReason.AUTH_REJECTED:
            renewable = self._token_source.invalidate()
            retry.rejections = 0 if renewable else retry.rejections + 1
            if retry.rejections >= 2:
                return None
        if end.reason is EndReason.TOKEN_REFRESH:
            return 0.0
        if end.ready_seconds >= self.settings.stable_session_seconds:
            retry.failures = 0
        if end.reason is EndReason.MESSAGE_TOO_BIG:
            self._shrink_chunks()
        delay = backoff_delay(retry.failures, self.settings, self._rng)
        retry.failures += 1
        return delay

    def _attempt(self) -> SessionEnd:
        """One token fetch + connection + session; never raises."""
        try:
            self._set_state(ConnectionState.CONNECTING, "fetching a DXLink quote token")
            try:
                token = self._token_source.fetch()
            except AuthRejectedError as exc:
                return SessionEnd(EndReason.AUTH_FAILED, str(exc))
            except TokenUnavailableError as exc:
                return SessionEnd(EndReason.TOKEN_UNAVAILABLE, f"no quote token: {exc}")
            self._redactor.add(token.token)
            self._note_token(token)
            return self._connect(token)
        except Exception as exc:  # a bug must not kill the thread: report it and reconnect
            detail = f"internal error: {type(exc).__name__}: {exc}"
            self.signals.log("error", detail, key="internal-error")
            return SessionEnd(EndReason.INTERNAL_ERROR, detail)

    def _connect(self, token: QuoteToken) -> SessionEnd:
        settings = self.settings
        try:
            ws = websocket.create_connection(
                token.dxlink_url,
                timeout=settings.connect_timeout_seconds,
                header=[f"User-Agent: {self._user_agent}"],
                skip_utf8_validation=True,  # invalid UTF-8 is a malformed frame for json.loads to report, not a drop
            )
        except (websocket.WebSocketException, OSError, ValueError) as exc:
            unresolved = isinstance(exc, (socket.gaierror, websocket.WebSocketAddressException))
            reason = EndReason.HOST_UNRESOLVED if unresolved else EndReason.CONNECT_FAILED
            return SessionEnd(reason, f"cannot open {token.dxlink_url}: {_describe(exc)}")
        end = SessionEnd(EndReason.INTERNAL_ERROR, "session did not finish")
        try:
            ws.settimeout(settings.poll_interval_seconds)
            end = _Session(self, ws, token).run()
            return end
        finally:
            _release(ws, graceful=end.reason not in _ABRUPT_ENDS, timeout=settings.close_timeout_seconds)

    def _note_token(self, token: QuoteToken) -> None:
        with self._lock:
            self._delayed = token.delayed
        if token.delayed:
            self.signals.log("warning", f"{token.dxlink_url} is a delayed feed: quotes are ~15 minutes old", key="delayed")

    def _record_end(self, end: SessionEnd, failures_in_a_row: int) -> None:
        with self._lock:
            self._last_end = end.reason
            self._failures_in_a_row = failures_in_a_row
            if end.reason is not EndReason.TOKEN_REFRESH:
                self._last_error = self._redactor.clip(end.detail)

    def _fail(self, end: SessionEnd) -> None:
        if end.reason is EndReason.AUTH_FAILED:
            why = "tastytrade declared the credentials invalid - stopped, check the refresh token and client secret"
        else:
            why = "the fixed quote token was rejected again - stopped, give a valid token"
        detail = f"{self._redactor.clip(end.detail, _DETAIL_CHARS)}; {why}"
        with self._lock:
            self._last_error = detail
            self._last_end = end.reason
        self.signals.log("error", detail)
        self._set_state(ConnectionState.FAILED, detail)

    def _shrink_chunks(self) -> None:
        self.chunk_size = max(1, self.chunk_size // 2)
        self.signals.log(
            "warning", f"subscription frame too big (close 1009): now {self.chunk_size} subscriptions per frame"
        )

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        with self._lock:
            previous, self._state = self._state, state
            if state not in _LIVE_STATES:
                self._connected_since = None
            elif previous not in _LIVE_STATES:
                self._connected_since = self.signals.now()
        self.signals.connection(state, reason)


class _Session:
    """One open socket: handshake, frames, timers. Runs on the stream thread only."""

    def __init__(self, client: DxLinkClient, ws: websocket.WebSocket, token: QuoteToken) -> None:
        self._client = client
        self._ws = ws
        self._token = token
        self._settings = client.settings
        self._monotonic = client.clock.monotonic
        now = self._monotonic()
        self._timers = LinkTimers(
            opened_at=now,
            keepalive_interval=self._settings.keepalive_interval_seconds,
            stale_after=self._settings.keepalive_timeout_seconds,
            dead_link_seconds=self._settings.dead_link_seconds,
            handshake_timeout=self._settings.handshake_timeout_seconds,
        )
        self._handshake = Handshake(token.token, self._settings.aggregation_period_seconds)
        self._decoder = FeedDecoder(client.problem, FEED_EVENT_FIELDS, on_dropped=client.count_dropped)
        self._errors = ErrorBudget(self._settings.error_limit, self._settings.error_window_seconds)
        self._data_format = "COMPACT"
        self._sent: frozenset[Pair] = frozenset()
        self._flushed_version = -1
        self._next_check = now
        self._ready_at: float | None = None
        self._authorized = False

    def run(self) -> SessionEnd:
        settings = self._settings
        try:
            self._send(setup_message(settings.keepalive_timeout_seconds, settings.accept_keepalive_timeout_seconds))
            while not self._client.stopping:
                end = self._receive_one() or self._check_timers()
                if end is not None:
                    return end
            return self._end(EndReason.STOPPED, "closed by the algorithm")
        except (websocket.WebSocketException, OSError) as exc:
            return self._end(EndReason.DROPPED, f"connection lost: {_describe(exc)}")

    # ----- inbound ------------------------------------------------------------------------------
    def _receive_one(self) -> SessionEnd | None:
        """One frame. Control frames come back too (the library answers pings), so a server that only
        pings still lets the timers run; only DXLink messages (text frames) count as the server speaking."""
        try:
            opcode, frame = self._ws.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            return None
        now = self._monotonic()
        if opcode == ABNF.OPCODE_TEXT:
            self._timers.last_inbound = now
            self._client.last_inbound = now
            self._client.mark_fresh()
            return self._on_text(frame.data, now)
        if opcode == ABNF.OPCODE_CLOSE:
            return self._on_close(frame.data)
        if opcode == ABNF.OPCODE_BINARY:
            self._client.problem("binary", "binary websocket frame ignored")
        return None

    def _on_text(self, data: bytes | str, now: float) -> SessionEnd | None:
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            self._client.problem("json", f"malformed frame ({len(data)} bytes) ignored")
            return None
        if type(message) is not dict:
            self._client.problem("json", "frame that is not a JSON object ignored")
            return None
        kind = message.get("type")
        if kind == "FEED_DATA":
            if message.get("channel") == FEED_CHANNEL:
                batches = self._decoder.decode(message.get("data"))
                if batches:
                    self._client.deliver(batches, now)
            return None
        if kind == "FEED_CONFIG":
            self._on_feed_config(message)
            return None
        return self._on_control(message, now)

    def _on_feed_config(self, message: dict[str, object]) -> None:
        if message.get("channel") != FEED_CHANNEL:
            return
        if "eventFields" in message:
            self._decoder.configure(message["eventFields"])
        data_format = message.get("dataFormat")
        if isinstance(data_format, str) and data_format != self._data_format:
            self._client.signals.log("info", f"server switched the feed from {self._data_format} to {data_format}")
            self._data_format = data_format

    def _on_control(self, message: dict[str, object], now: float) -> SessionEnd | None:
        step = self._handshake.on_message(message)
        for outgoing in step.send:
            self._send(outgoing)
        self._authorized = self._authorized or step.authorized
        if step.log:
            self._client.problem(step.log_key, step.log)
        if step.error is not None:
            return self._on_error(step.error, step.detail, now)
        if step.end is not None:
            return self._end(step.end, step.detail)
        if self._handshake.server_keepalive_timeout is not None:
            self._timers.adopt_server_timeout(self._handshake.server_keepalive_timeout)
        if step.ready:
            self._ready_at = self._monotonic()
            self._timers.ready = True
            self._flush_subscriptions()
            self._client.on_ready(self._token.dxlink_url)
        return None

    def _on_error(self, code: str, detail: str, now: float) -> SessionEnd | None:
        """ERROR frames are informational: logged and counted; a burst past the limit reconnects."""
        self._client.error_frame(code, detail)
        if not self._errors.exceeded(now):
            return None
        settings = self._settings
        return self._end(
            EndReason.SERVER_ERROR,
            f"more than {settings.error_limit} DXLink ERROR frames within {settings.error_window_seconds:g} s "
            f"(last: {detail})",
        )

    def _on_close(self, payload: bytes) -> SessionEnd:
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        text = payload[2:].decode("utf-8", "replace") if len(payload) > 2 else ""
        detail = f"server closed the connection (code {code}{': ' + text if text else ''})"
        return self._end(close_reason(code), detail)

    # ----- outbound and timers ------------------------------------------------------------------
    def _send(self, message: dict[str, object]) -> None:
        self._ws.send(json.dumps(message, separators=(",", ":")))
        self._timers.last_sent = self._monotonic()

    def _check_timers(self) -> SessionEnd | None:
        now = self._monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + self._settings.poll_interval_seconds
        timers = self._timers
        verdict = timers.verdict(now)
        if verdict is TimerVerdict.DEAD_LINK:
            return self._end(EndReason.DEAD_LINK, f"no frame from the server for {timers.silence(now):.1f} s (dead link)")
        if verdict is TimerVerdict.HANDSHAKE_TIMEOUT:
            return self._end(
                EndReason.HANDSHAKE_TIMEOUT,
                f"DXLink handshake not finished after {now - timers.opened_at:.1f} s "
                f"(stuck at {self._handshake.phase.value})",
            )
        if verdict is TimerVerdict.KEEPALIVE:
            self._send(keepalive_message())
        if self._ready_at is None:
            return None
        if timers.is_stale(now):
            self._client.mark_stale(timers.silence(now))
        if self._client.book.version != self._flushed_version:
            self._flush_subscriptions()
        if token_refresh_due(now - self._token.fetched_at, self._client.clock.time(), self._settings):
            return self._end(EndReason.TOKEN_REFRESH, "renewing the quote token before its 24 h expiry")
        return None

    def _flush_subscriptions(self) -> None:
        """Sends the difference between the wanted set and what this connection already asked for."""
        version, wanted = self._client.book.snapshot()
        add = sorted(wanted - self._sent)
        remove = sorted(self._sent - wanted)
        for message in subscription_messages(add, remove, self._client.chunk_size):
            self._send(message)
        self._sent, self._flushed_version = wanted, version

    def _end(self, reason: EndReason, detail: str) -> SessionEnd:
        ready_seconds = 0.0 if self._ready_at is None else self._monotonic() - self._ready_at
        return SessionEnd(reason, detail, self._authorized, ready_seconds)


def _release(ws: websocket.WebSocket, *, graceful: bool, timeout: float) -> None:
    """Closes the socket; a polite close frame only when the peer may still be listening."""
    try:
        if graceful:
            ws.close(timeout=timeout)
    except Exception:  # the socket may already be broken; shutting it down below is enough
        pass
    ws.shutdown()


def _describe(exc: BaseException) -> str:
    """What went wrong, whole: the log sink redacts, then clips (never the other way round)."""
    if isinstance(exc, websocket.WebSocketBadStatusException):
        return f"HTTP {exc.status_code} on the websocket upgrade"
    return f"{type(exc).__name__}: {exc}"
