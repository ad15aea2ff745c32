"""What the stream tells the algorithm: connection state and status, and the signal queue.

Why a queue of small frozen values: LEAN's API must only be called from the algorithm thread, so the
websocket thread never calls the algorithm. It leaves these signals here and the algorithm drains them
(``TastytradeWebSocket.drain_signals()``) in ``on_data`` or a scheduled event, then logs or acts.
:class:`StreamStatus` is the other direction of the same contract: a snapshot the algorithm thread
reads (the manual-mode fallback uses it to decide whether the real-time feed can be trusted:
connected, fresh frames, fresh market events).
"""
from __future__ import annotations

import enum
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, Union

from streaming.config import Redactor
from streaming.timing import Clock

LogLevel = Literal["debug", "info", "warning", "error"]
GreekName = Literal["delta", "gamma"]


class ConnectionState(str, enum.Enum):
    """Life cycle of the DXLink link."""

    IDLE = "idle"  # connect() not called yet
    CONNECTING = "connecting"  # fetching a token, opening the socket or in the DXLink handshake
    CONNECTED = "connected"  # feed channel open and subscriptions sent, frames arriving
    STALE = "stale"  # connected, but no frame for longer than the keepalive timeout agreed in SETUP
    RECONNECTING = "reconnecting"  # waiting out the back-off after a failure
    FAILED = "failed"  # final: the credentials were declared invalid (or a fixed token rejected twice)
    CLOSED = "closed"  # close() was called


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A consistent snapshot of the link; ages are in seconds, None when nothing arrived yet."""

    state: ConnectionState
    connected_since: datetime | None  # UTC, when the current session became ready
    seconds_since_inbound: float | None  # any frame from the server, KEEPALIVE included
    seconds_since_market_event: float | None  # Quote/Trade/Greeks/Summary event
    reconnect_count: int  # connection attempts after the first one
    last_error: str | None  # why the last session ended or an attempt failed (redacted)
    delayed_feed: bool  # the token is for a delayed (sandbox/demo) feed
    subscriptions: int  # (event type, symbol) pairs wanted
    stale_after_seconds: float = 0.0  # the keepalive timeout agreed in SETUP: silence beyond it is "stale"
    error_frames: int = 0  # DXLink ERROR frames received since the stream started
    unrequested_events: int = 0  # events for symbols we did not subscribe (counted, not cached)
    dropped_records: int = 0  # malformed FEED_DATA records dropped (the rest of their frame was kept)
    last_end: str | None = None  # why the last attempt or session ended (an EndReason value)
    failures_in_a_row: int = 0  # attempts that failed since the last stable session

    @property
    def is_connected(self) -> bool:
        """Connected *and* fresh: a stale link is not connected for anyone relying on its data."""
        return self.state is ConnectionState.CONNECTED

    @property
    def has_failed(self) -> bool:
        """Stopped for good: reconnecting cannot help (see ``ConnectionState.FAILED``)."""
        return self.state is ConnectionState.FAILED


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """The link changed state (connected, reconnecting, failed...); ``reason`` is redacted."""

    state: ConnectionState
    reason: str
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class LogLine:
    """A line for the algorithm to pass to ``self.log``/``self.debug``/``self.error``."""

    level: LogLevel
    message: str
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class ZeroDteMove:
    """Friday 10:00-15:00 New York: the price moved more than the threshold from the day's open."""

    symbol: str
    price: float
    day_open: float
    move_pct: float  # signed, in percent (0.62 = +0.62 %)
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class GreeksWarning:
    """A position-weighted portfolio Greek crossed its limit (share-equivalent units)."""

    greek: GreekName
    value: float
    limit: float
    positions_without_greeks: tuple[str, ...]  # held options with no Greeks yet, left out of the sum
    at: datetime  # UTC


Signal = Union[ConnectionChanged, LogLine, ZeroDteMove, GreeksWarning]


class SignalQueue:
    """Bounded, thread-safe queue of signals with redaction and repeat suppression for log lines.

    Bounded because an algorithm that never drains must not grow memory without limit (the oldest
    signals are dropped and the drop is reported). Log lines with a ``key`` are emitted at most once
    per ``repeat_interval_seconds`` so a stream of malformed frames cannot flood the LEAN log.
    """

    def __init__(
        self,
        clock: Clock,
        redactor: Redactor,
        *,
        max_items: int = 10_000,
        repeat_interval_seconds: float = 60.0,
    ) -> None:
        self._clock = clock
        self._redact = redactor
        self._max_items = max_items
        self._repeat_interval = repeat_interval_seconds
        self._lock = threading.Lock()
        self._items: deque[Signal] = deque()
        self._dropped = 0
        self._last_logged: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def now(self) -> datetime:
        """The current UTC time from the injected clock, for signal timestamps."""
        return datetime.fromtimestamp(self._clock.time(), timezone.utc)

    def put(self, signal: Signal) -> None:
        with self._lock:
            if len(self._items) >= self._max_items:
                self._items.popleft()
                self._dropped += 1
            self._items.append(signal)

    def log(self, level: LogLevel, message: str, *, key: str | None = None) -> None:
        """Queues a redacted, clipped log line; with a ``key``, repeats within the interval are counted.

        Redaction comes before clipping (``Redactor.clip``), so no part of a secret survives a cut.
        """
        repeats = 0
        if key is not None:
            now = self._clock.monotonic()
            with self._lock:
                last = self._last_logged.get(key)
                if last is not None and now - last < self._repeat_interval:
                    self._suppressed[key] = self._suppressed.get(key, 0) + 1
                    return
                self._last_logged[key] = now
                repeats = self._suppressed.pop(key, 0)
        text = self._redact.clip(message)
        if repeats:
            text = f"{text} (and {repeats} similar since the last report)"
        self.put(LogLine(level, text, self.now()))

    def connection(self, state: ConnectionState, reason: str) -> None:
        self.put(ConnectionChanged(state, self._redact.clip(reason), self.now()))

    def drain(self) -> list[Signal]:
        """Everything queued so far, oldest first; called on the algorithm thread."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            dropped, self._dropped = self._dropped, 0
        if dropped:
            items.insert(0, LogLine("warning", f"{dropped} stream signals dropped: queue full", self.now()))
        return items
