"""The socket-free DXLink protocol core: control messages, handshake, subscription book, FEED_DATA decoding.

Everything here is about what DXLink says and how we answer, with no socket: the session in
``client.py`` feeds it frames and sends what it returns, so every rule is unit-testable.

Why a pure handshake: tastytrade enforces SETUP -> (AUTH_STATE UNAUTHORIZED) -> AUTH -> (AUTHORIZED) ->
CHANNEL_REQUEST -> (CHANNEL_OPENED) -> FEED_SETUP -> FEED_SUBSCRIPTION since 2026-06 (tastyware/tastytrade
#338); keeping the order in a socket-free class makes every transition unit-testable. The session
sends what :class:`Handshake` returns and acts on the ``end`` it reports.

Why the subscription book is here: it decides which (event type, symbol) pairs go into FEED_SUBSCRIPTION
frames. The algorithm thread only edits it (no socket I/O on the algorithm thread); the stream thread
compares its ``version`` with what it last sent and sends the difference, and replays the whole set on
every new connection, so a reconnect always restores every subscription.

Why FEED_DATA is decoded into columns: a COMPACT frame is one flat list, event *k* at
``values[k*N:(k+1)*N]`` with N and the field order taken from the latest FEED_CONFIG. Slicing that list
with a stride (``values[i::N]``) and mapping ``float`` over each slice runs in C, so a frame of quotes
costs a few C loops instead of one Python object per event; that is what makes ~1M quotes/s possible in
CPython. Why ``float``: DXLink doubles are JSON numbers or the strings "NaN", "Infinity", "-Infinity";
``float()`` accepts all of them, so a NaN field never costs the event. Anything else that is not a
number (null, garbage) becomes NaN on a slower path, with a rate-limited log line. A record that
cannot be placed at all (its eventType slot holds something else, or its symbol is not a string) is
dropped alone and counted; the valid records of the same frame are kept.

Why messages here are not cut to length: server text may echo a token, and cutting before redaction
could leave part of it; the signal queue redacts, then clips, every line (``Redactor.clip``).
"""
from __future__ import annotations

import enum
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streaming.symbols import is_option_symbol

CONNECTION_CHANNEL = 0  # SETUP, AUTH, AUTH_STATE, KEEPALIVE and connection-level ERRORs
FEED_CHANNEL = 1  # client channels must be odd (an even one gets ERROR BAD_ACTION)
SETUP_VERSION = "0.1-DXF-JS/0.3.0"  # the string the SDK and LEAN send
# ERROR codes the spec defines; any other is reported as UNKNOWN (so log keys stay a fixed set).
ERROR_CODES = frozenset({"UNSUPPORTED_PROTOCOL", "TIMEOUT", "UNAUTHORIZED", "INVALID_MESSAGE", "BAD_ACTION", "UNKNOWN"})

# What we ask the server to send, per event type. eventType stays in each record so the decoder can
# check the record alignment; the values are the ones the cache keeps (VALUE_FIELDS below).
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
    AUTH_FAILED = "auth_failed"  # final: tastytrade declared the refresh token or client secret invalid
    AUTH_REJECTED = "auth_rejected"  # AUTH_STATE UNAUTHORIZED: retried with a fresh token
    TOKEN_UNAVAILABLE = "token_unavailable"  # REST trouble while fetching the token
    HOST_UNRESOLVED = "host_unresolved"  # the URL's host name did not resolve
    CONNECT_FAILED = "connect_failed"  # TCP/TLS/upgrade failed (e.g. HTTP 502)
    DROPPED = "dropped"  # the socket broke
    SERVER_CLOSED = "server_closed"  # a close frame with another code
    MESSAGE_TOO_BIG = "message_too_big"  # close 1009
    SERVICE_RESTART = "service_restart"  # close 1012
    SERVER_ERROR = "server_error"  # more ERROR frames within the window than the limit
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


def setup_message(keepalive_timeout_seconds: float, accept_keepalive_timeout_seconds: float) -> dict[str, Any]:
    """SETUP per the spec: ``keepaliveTimeout`` is how long *we* wait for the server's frames (the server
    must send within it), ``acceptKeepaliveTimeout`` how long we ask the server to wait for ours."""
    return {
        "type": "SETUP",
        "channel": CONNECTION_CHANNEL,
        "version": SETUP_VERSION,
        "keepaliveTimeout": _seconds(keepalive_timeout_seconds),
        "acceptKeepaliveTimeout": _seconds(accept_keepalive_timeout_seconds),
    }


def _seconds(value: float) -> int | float:
    """30.0 -> 30 (as the SDK and LEAN write it); 0.4 stays 0.4 (tests shrink the timeouts)."""
    return int(value) if float(value).is_integer() else value


def auth_message(token: str) -> dict[str, Any]:
    return {"type": "AUTH", "channel": CONNECTION_CHANNEL, "token": token}


def keepalive_message() -> dict[str, Any]:
    return {"type": "KEEPALIVE", "channel": CONNECTION_CHANNEL}


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
    error: str | None = None  # an ERROR frame arrived with this code (``detail`` describes it)
    log: str | None = None  # informational line for the algorithm
    log_key: str = "control"  # repeat key of ``log`` (a fixed set, so the rate limiter stays small)


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
            return error_step(message)
        if kind in ("KEEPALIVE", "CHANNEL_CLOSED"):
            return Step()
        return Step(log=f"unexpected DXLink message type '{kind}' ignored", log_key="control-type")

    def _on_setup(self, message: dict[str, Any]) -> Step:
        """The server's keepaliveTimeout is how long it waits for our frames: kept only when it is a
        positive, finite number (a 0, a negative, a bool or NaN would make us send without pause)."""
        timeout = message.get("keepaliveTimeout")
        if isinstance(timeout, (int, float)) and type(timeout) is not bool and 0 < timeout < math.inf:
            self.server_keepalive_timeout = float(timeout)
            return Step()
        if timeout is None:
            return Step()
        return Step(log=f"server SETUP keepaliveTimeout {timeout!r} is not a positive number; ignored",
                    log_key="control-setup")

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
            return Step()  # a repeated AUTHORIZED changes nothing: the channel is already requested
        return Step(log=f"unknown AUTH_STATE '{state}' ignored", log_key="control-auth-state")

    def _on_channel_opened(self, message: dict[str, Any]) -> Step:
        if message.get("channel") != FEED_CHANNEL or self.phase is not Phase.CHANNEL_REQUESTED:
            return Step(log="CHANNEL_OPENED for a channel we did not request ignored", log_key="control-channel")
        self.phase = Phase.READY
        return Step(send=[feed_setup_message(self._aggregation)], ready=True)


def error_step(message: dict[str, Any]) -> Step:
    """ERROR frames are informational (spec: "does not require any action"): reported, never an end.

    The session counts them; only a burst past its limit reconnects (see :class:`ErrorBudget`).
    """
    raw = message.get("error")
    code = raw if isinstance(raw, str) and raw in ERROR_CODES else "UNKNOWN"
    named = "" if raw == code else f" (error {raw!r})"
    detail = f"DXLink ERROR {code}{named} on channel {message.get('channel')}: {message.get('message', '')}"
    return Step(error=code, detail=detail)


class ErrorBudget:
    """ERROR frames of one session in a sliding window: more than ``limit`` within ``window_seconds``
    means the server keeps refusing what we do, and only a new connection can change that."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._times: deque[float] = deque(maxlen=limit + 1)

    def exceeded(self, now: float) -> bool:
        """Records one ERROR at ``now`` (monotonic seconds); True when it is one too many."""
        self._times.append(now)
        return len(self._times) > self._limit and now - self._times[0] <= self._window


# ----- FEED_DATA decoding -------------------------------------------------------------------------
NAN = math.nan

# (DXLink field, our name) of the values kept per event type, in cache order.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "Quote": (("bidPrice", "bid"), ("askPrice", "ask"), ("bidSize", "bid_size"), ("askSize", "ask_size")),
    "Trade": (("price", "price"), ("size", "size"), ("dayVolume", "day_volume")),
    "Greeks": (
        ("price", "price"),
        ("volatility", "volatility"),
        ("delta", "delta"),
        ("gamma", "gamma"),
        ("theta", "theta"),
        ("rho", "rho"),
        ("vega", "vega"),
    ),
    "Summary": (
        ("dayId", "day_id"),
        ("dayOpenPrice", "day_open"),
        ("prevDayClosePrice", "prev_close"),
        ("openInterest", "open_interest"),
    ),
}
VALUE_FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(f for f, _ in cols) for kind, cols in COLUMNS.items()}
COLUMN_NAMES: dict[str, tuple[str, ...]] = {kind: tuple(n for _, n in cols) for kind, cols in COLUMNS.items()}

ProblemSink = Callable[[str, str], None]  # (repeat key, message)


@dataclass(frozen=True, slots=True)
class Batch:
    """Events of one type from one frame: ``columns[j][k]`` is value j (COLUMNS order) of event k."""

    event_type: str
    symbols: list[str]
    columns: tuple[list[float], ...]

    def __len__(self) -> int:
        return len(self.symbols)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """(symbol, value...) per event; for tools, not for the hot path."""
        return zip(self.symbols, *self.columns)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where our values sit inside one COMPACT record of ``width`` fields (-1 = not sent)."""

    width: int
    symbol_index: int
    type_index: int
    value_indexes: tuple[int, ...]

    @classmethod
    def from_fields(cls, event_type: str, fields: list[str]) -> Layout | None:
        position = {name: i for i, name in enumerate(fields)}
        if "eventSymbol" not in position:
            return None
        return cls(
            width=len(fields),
            symbol_index=position["eventSymbol"],
            type_index=position.get("eventType", -1),
            value_indexes=tuple(position.get(name, -1) for name in VALUE_FIELDS[event_type]),
        )


def to_float(value: object) -> float:
    """Any JSON value to a float; non-numbers (null, "", garbage) become NaN instead of an error."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN


class FeedDecoder:
    """Per-connection decoder; owns the field layouts announced by FEED_CONFIG.

    Not thread-safe: used only by the stream thread. ``on_problem`` receives malformed-input reports
    (the caller rate-limits them by key) and ``on_dropped`` the number of records dropped; decoding
    never raises on bad input.
    """

    def __init__(
        self,
        on_problem: ProblemSink,
        fallback_fields: Mapping[str, list[str]] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        """``fallback_fields`` (the FEED_SETUP request) is used for a type no FEED_CONFIG described yet,
        guarded by the eventType alignment check, so a server that never echoes fields loses nothing."""
        self._problem = on_problem
        self._dropped = on_dropped or (lambda _count: None)
        self._layouts: dict[str, Layout] = {}
        self._fallback: dict[str, Layout] = {}
        for kind, fields in (fallback_fields or {}).items():
            layout = Layout.from_fields(kind, fields) if kind in VALUE_FIELDS else None
            if layout is not None and layout.type_index >= 0:
                self._fallback[kind] = layout

    def configure(self, event_fields: object) -> None:
        """Merges a FEED_CONFIG ``eventFields``: it may name only some types and can change at any time."""
        if not isinstance(event_fields, Mapping):
            self._problem("config-shape", "FEED_CONFIG eventFields is not an object; ignored")
            return
        for kind, fields in event_fields.items():
            if kind not in VALUE_FIELDS:
                continue
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                self._problem(f"config-{kind}", f"FEED_CONFIG fields for {kind} are not a list of names; ignored")
                continue
            layout = Layout.from_fields(kind, fields)
            if layout is None:
                self._layouts.pop(kind, None)
                self._problem(f"config-{kind}", f"FEED_CONFIG for {kind} lacks eventSymbol; its data will be ignored")
            else:
                self._layouts[kind] = layout

    def layout(self, event_type: str) -> Layout | None:
        return self._layouts.get(event_type)

    def decode(self, data: object) -> list[Batch]:
        """FEED_DATA ``data`` to batches; COMPACT ``[type, [values], ...]`` or FULL ``[{...}, ...]``."""
        if type(data) is not list or not data:
            self._problem("data-shape", "FEED_DATA without a non-empty data list ignored")
            return []
        head = data[0]
        if type(head) is str:
            return self._decode_pairs(data)
        if type(head) is dict:
            return self._decode_full(data)
        self._problem("data-shape", "FEED_DATA data is neither COMPACT nor FULL; ignored")
        return []

    def _decode_pairs(self, data: list[Any]) -> list[Batch]:
        if len(data) % 2:
            self._problem("data-pairs", "COMPACT FEED_DATA with an odd number of elements; last one ignored")
        batches: list[Batch] = []
        for i in range(0, len(data) - 1, 2):
            kind, values = data[i], data[i + 1]
            if type(kind) is not str or type(values) is not list:
                self._problem("data-pairs", "COMPACT FEED_DATA pair is not (type, list); ignored")
            elif values and type(values[0]) is dict:  # FULL records inside a pair
                batches.extend(self._decode_full(values))
            else:
                batch = self._decode_compact(kind, values)
                if batch is not None:
                    batches.append(batch)
        return batches

    def _decode_compact(self, kind: str, values: list[Any]) -> Batch | None:
        layout = self._layouts.get(kind) or self._fallback_layout(kind)
        if layout is None:
            return None
        width = layout.width
        count, extra = divmod(len(values), width)
        if extra:
            self._drop(
                f"ragged-{kind}", 1, f"{kind} data has {len(values)} values, not a multiple of {width}; last {extra} ignored"
            )
            values = values[: count * width]
        if not count:
            return None
        symbols = values[layout.symbol_index :: width]
        if layout.type_index >= 0:
            aligned = values[layout.type_index :: width].count(kind) == count
        elif _aligned_without_type(symbols):
            aligned = True
        else:
            self._drop(f"misaligned-{kind}", count, f"{kind} records do not match the FEED_CONFIG layout; frame ignored")
            return None
        if not (aligned and _all_strings(symbols)):
            values = self._valid_records(kind, values, layout, count)
            if not values:
                return None
            symbols = values[layout.symbol_index :: width]
            count = len(symbols)
        columns = tuple(self._column(kind, values, index, width, count) for index in layout.value_indexes)
        return Batch(kind, symbols, columns)

    def _valid_records(self, kind: str, values: list[Any], layout: Layout, count: int) -> list[Any]:
        """The records that can be placed: their eventType slot (when the layout has one) holds
        ``kind`` and their symbol is a string. Each other record is dropped alone and counted."""
        width = layout.width
        kept: list[Any] = []
        for start in range(0, count * width, width):
            record = values[start : start + width]
            if type(record[layout.symbol_index]) is str and (layout.type_index < 0 or record[layout.type_index] == kind):
                kept.extend(record)
        dropped = count - len(kept) // width
        self._drop(
            f"record-{kind}",
            dropped,
            f"{dropped} of {count} {kind} records dropped (symbol not a string or eventType out of place); "
            "the rest of the frame kept",
        )
        return kept

    def _drop(self, key: str, records: int, message: str) -> None:
        self._dropped(records)
        self._problem(key, message)

    def _fallback_layout(self, kind: str) -> Layout | None:
        layout = self._fallback.get(kind)
        if layout is not None:
            self._problem(f"layout-{kind}", f"{kind} data before any FEED_CONFIG gave its fields; using the requested order")
        elif kind in VALUE_FIELDS:
            self._problem(f"layout-{kind}", f"{kind} data before any FEED_CONFIG gave its fields; ignored")
        else:
            self._problem("kind-unrequested", f"unrequested event type '{kind}' ignored")
        return layout

    def _column(self, kind: str, values: list[Any], index: int, width: int, count: int) -> list[float]:
        if index < 0:
            return [NAN] * count
        raw = values[index::width]
        try:
            return list(map(float, raw))
        except (TypeError, ValueError):
            self._problem(f"values-{kind}", f"non-numeric {kind} values kept as NaN")
            return [to_float(v) for v in raw]

    def _decode_full(self, records: list[Any]) -> list[Batch]:
        grouped: dict[str, tuple[list[str], list[list[float]]]] = {}
        for record in records:
            if type(record) is not dict:
                self._drop("full-record", 1, "FULL FEED_DATA element is not an object; ignored")
                continue
            kind, symbol = record.get("eventType"), record.get("eventSymbol")
            if not isinstance(kind, str) or kind not in VALUE_FIELDS or not isinstance(symbol, str):
                self._drop("full-record", 1, "FULL record without a known eventType and an eventSymbol ignored")
                continue
            fields = VALUE_FIELDS[kind]
            entry = grouped.get(kind)
            if entry is None:
                entry = grouped[kind] = ([], [[] for _ in fields])
            entry[0].append(symbol)
            for column, name in zip(entry[1], fields):
                column.append(to_float(record.get(name)))
        return [Batch(kind, symbols, tuple(columns)) for kind, (symbols, columns) in grouped.items()]


def _all_strings(items: list[Any]) -> bool:
    """Whether every item is a str. ``str.join`` checks exactly that in C, a fifth of the cost of a
    generator over the items, and this runs once per frame on the hot path."""
    try:
        "".join(items)
    except TypeError:
        return False
    return True


def _aligned_without_type(symbols: list[Any]) -> bool:
    """Without eventType in the layout only the symbol slots show a shifted layout: a wrong width
    puts numbers there. The first and last record are where a shift shows for sure."""
    return type(symbols[0]) is str and type(symbols[-1]) is str
