"""The socket-free DXLink protocol core: control messages, the handshake order, the subscription book.

Why a pure handshake: tastytrade enforces SETUP -> (AUTH_STATE UNAUTHORIZED) -> AUTH -> (AUTHORIZED) ->
CHANNEL_REQUEST -> (CHANNEL_OPENED) -> FEED_SETUP -> FEED_SUBSCRIPTION since 2026-06 (tastyware/tastytrade
#338); keeping the order in a socket-free class makes every transition unit-testable. The session in
``client.py`` sends what :class:`Handshake` returns and acts on the ``end`` it reports.

Why the subscription book is here: it decides which (event type, symbol) pairs go into FEED_SUBSCRIPTION
frames. The algorithm thread only edits it (no socket I/O on the algorithm thread); the stream thread
compares its ``version`` with what it last sent and sends the difference, and replays the whole set on
every new connection, so a reconnect always restores every subscription.
"""
from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streaming.symbols import is_option_symbol

FEED_CHANNEL = 1  # client channels must be odd (an even one gets ERROR BAD_ACTION)
SETUP_VERSION = "0.1-DXF-JS/0.3.0"  # the string the SDK and LEAN send

# What we ask the server to send, per event type. eventType stays in each record so the decoder can
# check the record alignment; the values are the ones the cache keeps (feed_parser.VALUE_FIELDS).
FEED_EVENT_FIELDS: dict[str, list[str]] = {
    "Quote": ["eventType", "eventSymbol", "bidPrice", "askPrice", "bidSize", "askSize"],
    "Trade": ["eventType", "eventSymbol", "price", "size", "dayVolume"],
    "Greeks": ["eventType", "eventSymbol", "price", "volatility", "delta", "gamma", "theta", "rho", "vega"],
    "Summary": ["eventType", "eventSymbol", "dayId", "dayOpenPrice", "prevDayClosePrice", "openInterest"],
}

UNDERLYING_EVENTS = ("Quote", "Trade", "Summary")  # Trade: indexes may have trades but no quotes
OPTION_EVENTS = ("Quote", "Greeks", "Summary")  # Summary carries the open interest

Pair = tuple[str, str]  # (event type, streamer symbol)

CLOSE_MESSAGE_TOO_BIG = 1009  # our subscription frame was too large
CLOSE_SERVICE_RESTART = 1012  # "Reconnection is required"


class EndReason(str, enum.Enum):
    """Why a connection attempt or session ended; drives the reconnect decision."""

    STOPPED = "stopped"  # close() was called
    AUTH_REJECTED = "auth_rejected"  # AUTH_STATE UNAUTHORIZED after AUTH, ERROR UNAUTHORIZED, REST 401
    TOKEN_UNAVAILABLE = "token_unavailable"  # REST trouble while fetching the token
    CONNECT_FAILED = "connect_failed"  # TCP/TLS/upgrade failed (e.g. HTTP 502)
    DROPPED = "dropped"  # the socket broke
    SERVER_CLOSED = "server_closed"  # a close frame with another code
    MESSAGE_TOO_BIG = "message_too_big"  # close 1009
    SERVICE_RESTART = "service_restart"  # close 1012
    SERVER_ERROR = "server_error"  # ERROR frame
    CHANNEL_CLOSED = "channel_closed"  # the server closed our feed channel
    DEAD_LINK = "dead_link"  # no inbound frame for dead_link_seconds
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    TOKEN_REFRESH = "token_refresh"  # planned reconnect before the 24 h token expires
    INTERNAL_ERROR = "internal_error"  # a bug; logged, then treated like a drop


def close_reason(code: int | None) -> EndReason:
    if code == CLOSE_MESSAGE_TOO_BIG:
        return EndReason.MESSAGE_TOO_BIG
    if code == CLOSE_SERVICE_RESTART:
        return EndReason.SERVICE_RESTART
    return EndReason.SERVER_CLOSED


def setup_message(keepalive_timeout_seconds: int, accept_keepalive_timeout_seconds: int) -> dict[str, Any]:
    return {
        "type": "SETUP",
        "channel": 0,
        "version": SETUP_VERSION,
        "keepaliveTimeout": keepalive_timeout_seconds,
        "acceptKeepaliveTimeout": accept_keepalive_timeout_seconds,
    }


def auth_message(token: str) -> dict[str, Any]:
    return {"type": "AUTH", "channel": 0, "token": token}


def keepalive_message() -> dict[str, Any]:
    return {"type": "KEEPALIVE", "channel": 0}


def channel_request_message(channel: int = FEED_CHANNEL) -> dict[str, Any]:
    return {"type": "CHANNEL_REQUEST", "channel": channel, "service": "FEED", "parameters": {"contract": "AUTO"}}


def feed_setup_message(aggregation_period_seconds: float, channel: int = FEED_CHANNEL) -> dict[str, Any]:
    return {
        "type": "FEED_SETUP",
        "channel": channel,
        "acceptAggregationPeriod": aggregation_period_seconds,
        "acceptDataFormat": "COMPACT",
        "acceptEventFields": FEED_EVENT_FIELDS,
    }


def subscription_messages(
    add: Sequence[Pair],
    remove: Sequence[Pair],
    chunk_size: int,
    channel: int = FEED_CHANNEL,
) -> list[dict[str, Any]]:
    """FEED_SUBSCRIPTION frames of at most ``chunk_size`` (type, symbol) pairs each.

    Chunked because one frame with thousands of symbols makes the server close with 1009.
    """
    messages: list[dict[str, Any]] = []
    for key, pairs in (("remove", remove), ("add", add)):
        for start in range(0, len(pairs), chunk_size):
            entries = [{"type": kind, "symbol": symbol} for kind, symbol in pairs[start : start + chunk_size]]
            messages.append({"type": "FEED_SUBSCRIPTION", "channel": channel, key: entries})
    return messages


def event_types_for(symbol: str) -> tuple[str, ...]:
    return OPTION_EVENTS if is_option_symbol(symbol) else UNDERLYING_EVENTS


def _clean(symbols: Iterable[str]) -> set[str]:
    return {s.strip() for s in symbols if s and s.strip()}


class SubscriptionBook:
    """Wanted streamer symbols: the ones asked for plus the option positions held.

    Shared between the algorithm thread (edits) and the stream thread (``snapshot``), hence the lock.
    """

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._requested = _clean(symbols)
        self._held: set[str] = set()
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def add(self, symbols: Iterable[str]) -> None:
        with self._lock:
            self._change(self._requested | _clean(symbols), self._held)

    def remove(self, symbols: Iterable[str]) -> None:
        with self._lock:
            self._change(self._requested - _clean(symbols), self._held)

    def set_held(self, symbols: Iterable[str]) -> None:
        """Symbols whose data the position monitor needs (held options), kept until no longer held."""
        with self._lock:
            self._change(self._requested, _clean(symbols))

    def symbols(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._requested | self._held)

    def snapshot(self) -> tuple[int, frozenset[Pair]]:
        """(version, every wanted (event type, symbol) pair) read consistently."""
        with self._lock:
            symbols = self._requested | self._held
            version = self._version
        return version, frozenset((kind, s) for s in symbols for kind in event_types_for(s))

    def _change(self, requested: set[str], held: set[str]) -> None:
        if requested != self._requested or held != self._held:
            self._requested, self._held = requested, held
            self._version += 1


class Phase(str, enum.Enum):
    SETUP_SENT = "setup_sent"  # waiting for AUTH_STATE UNAUTHORIZED
    AUTH_SENT = "auth_sent"  # waiting for AUTHORIZED
    CHANNEL_REQUESTED = "channel_requested"  # waiting for CHANNEL_OPENED
    READY = "ready"  # FEED_SETUP sent; subscriptions may flow


@dataclass
class Step:
    """What the session must do after one inbound control message."""

    send: list[dict[str, Any]] = field(default_factory=list)
    authorized: bool = False  # AUTH_STATE AUTHORIZED just arrived
    ready: bool = False  # the feed channel is configured: send subscriptions now
    end: EndReason | None = None
    detail: str = ""
    log: str | None = None  # informational line for the algorithm


class Handshake:
    """Tracks the DXLink phases of one connection and answers each control message."""

    def __init__(self, token: str, aggregation_period_seconds: float) -> None:
        self._token = token
        self._aggregation = aggregation_period_seconds
        self.phase = Phase.SETUP_SENT
        self.server_keepalive_timeout: float | None = None

    def __repr__(self) -> str:
        return f"Handshake(phase={self.phase.value})"

    def on_message(self, message: dict[str, Any]) -> Step:
        kind = message.get("type")
        if kind == "SETUP":
            return self._on_setup(message)
        if kind == "AUTH_STATE":
            return self._on_auth_state(message.get("state"))
        if kind == "CHANNEL_OPENED":
            return self._on_channel_opened(message)
        if kind == "CHANNEL_CLOSED" and message.get("channel") == FEED_CHANNEL:
            return Step(end=EndReason.CHANNEL_CLOSED, detail="the server closed the feed channel")
        if kind == "ERROR":
            return _error_step(message)
        if kind in ("KEEPALIVE", "CHANNEL_CLOSED"):
            return Step()
        return Step(log=f"unexpected DXLink message type {str(kind)[:40]!r} ignored")

    def _on_setup(self, message: dict[str, Any]) -> Step:
        timeout = message.get("keepaliveTimeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            self.server_keepalive_timeout = float(timeout)
        return Step()

    def _on_auth_state(self, state: object) -> Step:
        if state == "UNAUTHORIZED":
            if self.phase is Phase.SETUP_SENT:
                self.phase = Phase.AUTH_SENT
                return Step(send=[auth_message(self._token)])
            return Step(end=EndReason.AUTH_REJECTED, detail="DXLink rejected the quote token (AUTH_STATE UNAUTHORIZED)")
        if state == "AUTHORIZED":
            if self.phase in (Phase.SETUP_SENT, Phase.AUTH_SENT):
                self.phase = Phase.CHANNEL_REQUESTED
                return Step(send=[channel_request_message()], authorized=True)
            return Step()
        return Step(log=f"unknown AUTH_STATE {str(state)[:40]!r} ignored")

    def _on_channel_opened(self, message: dict[str, Any]) -> Step:
        if message.get("channel") != FEED_CHANNEL or self.phase is not Phase.CHANNEL_REQUESTED:
            return Step(log="CHANNEL_OPENED for a channel we did not request ignored")
        self.phase = Phase.READY
        return Step(send=[feed_setup_message(self._aggregation)], ready=True)


def _error_step(message: dict[str, Any]) -> Step:
    """ERROR frames end the session (the reference's policy); UNAUTHORIZED counts as a rejected token."""
    error = str(message.get("error", "UNKNOWN"))[:40]
    text = str(message.get("message", ""))[:200]
    detail = f"DXLink ERROR {error} on channel {message.get('channel')}: {text}"
    reason = EndReason.AUTH_REJECTED if error == "UNAUTHORIZED" else EndReason.SERVER_ERROR
    return Step(end=reason, detail=detail)
