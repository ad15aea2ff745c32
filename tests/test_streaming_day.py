"""A compressed trading day: 75 s of streaming against the DXLink double with a fault every few seconds.

The client runs its real token flow (``TastytradeAuth`` over a fake REST transport) and real sockets.
Faults come in a fixed rotation: the server restarts (close 1012), the TCP connection is aborted,
the server falls silent past the agreed keepalive timeout, an ERROR frame arrives, the token endpoint
answers 401 twice in a row at the next reconnect, and the feed switches from COMPACT to FULL.
Between faults the test sends events, only after the (re)subscription, and checks:

- every event sent after each resubscription arrives (by value: each price is unique);
- no reconnect storm: one new connection per fault that ends a connection, none for the others;
- the connection states each fault produces, in order;
- memory flat: everything the stream object reaches (cache, signal queue, subscription book, client,
  its socket and buffers) weighs the same after the last rotation as after the first. Measured on the
  object graph rather than with tracemalloc: the double runs in the same process, and CPython's free
  lists let its objects keep the allocation traces of ours.
"""
from __future__ import annotations

import gc
import json
import sys
import threading
import time
import types
from dataclasses import dataclass, field

from streaming import ConnectionChanged, ConnectionState, StreamSettings, TastytradeConfig, TastytradeWebSocket
from streaming.auth import HttpRequest, HttpResponse
from streaming.protocol import Batch
from tests.dxlink_server import DxLinkConnection, DxLinkServerDouble, quote
from tests.test_streaming_client import FAST

DAY_SECONDS = 75.0
SYMBOLS = ("SPY", "SPX", "/ESH26:XCME")
PAIRS = [(kind, s) for s in SYMBOLS for kind in ("Quote", "Trade", "Summary")]
SETTINGS = StreamSettings(**{
    **FAST.__dict__,
    "keepalive_timeout_seconds": 0.4,
    "dead_link_seconds": 1.0,
    "backoff_initial_seconds": 0.05,
    "backoff_max_seconds": 0.5,
    "stable_session_seconds": 1.0,
    "error_window_seconds": 10.0,
})
C, S, R, G = ConnectionState.CONNECTED, ConnectionState.STALE, ConnectionState.RECONNECTING, ConnectionState.CONNECTING


class Rest:
    """tastytrade's REST API: the next ``blips`` calls answer 401 without an error code, then it is fine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.blips = 0
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.lock:
            if self.blips:
                self.blips -= 1
                return HttpResponse(401, b"")
        if request.url.endswith("/oauth/token"):
            return HttpResponse(200, json.dumps({"access_token": "access-day-123456", "expires_in": 900}).encode())
        body = {"data": {"token": "good-token", "dxlink-url": self.url, "level": "api"}}
        return HttpResponse(200, json.dumps(body).encode())


@dataclass
class Received:
    """What reached the stream's batch sink: (type, symbol, first value) of every event."""

    events: set[tuple[str, str, float]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sink(self, batches: list[Batch]) -> None:
        with self.lock:
            self.events.update((b.event_type, s, first) for b in batches for s, first, *_ in b.rows())

    def has(self, wanted: set[tuple[str, str, float]], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if wanted <= self.events:
                    self.events.clear()  # keep the test's own memory flat too
                    return True
            time.sleep(0.01)
        return False


class Day:
    """Drives the double and records what the stream reports."""

    def __init__(self, server: DxLinkServerDouble, stream: TastytradeWebSocket, rest: Rest, received: Received) -> None:
        self.server, self.stream, self.rest, self.received = server, stream, rest, received
        self.connection_index = 0
        self.price = 100.0
        self.states: list[ConnectionState] = []

    def current(self) -> DxLinkConnection:
        connection = self.server.connection(self.connection_index, timeout=10.0)
        assert connection.wait_subscribed(PAIRS, timeout=10.0), connection.subscriptions
        return connection

    def trade_a_little(self) -> None:
        """Five frames of events on the current connection; all of them must arrive."""
        connection = self.current()
        sent: set[tuple[str, str, float]] = set()
        for _ in range(5):
            self.price += 1.0
            connection.send_events("Quote", [quote("SPY", self.price, self.price + 0.01),
                                             quote("/ESH26:XCME", self.price * 10, self.price * 10 + 0.25)])
            connection.send_events("Trade", [{"eventSymbol": "SPX", "price": self.price * 10, "size": 1.0}])
            sent |= {("Quote", "SPY", self.price), ("Quote", "/ESH26:XCME", self.price * 10),
                     ("Trade", "SPX", self.price * 10)}
            time.sleep(0.1)
        assert self.received.has(sent), f"events lost on connection {self.connection_index}"

    def changes(self) -> list[ConnectionState]:
        """Connection states signalled since the last call (drained as the algorithm would)."""
        fresh = [s.state for s in self.stream.drain_signals() if isinstance(s, ConnectionChanged)]
        self.states.extend(fresh)
        return fresh

    def settle(self, reconnects: bool) -> list[ConnectionState]:
        """Waits for the stream to be connected again (on a new connection if the fault ends one)."""
        if reconnects:
            self.connection_index += 1
        self.current()
        deadline = time.monotonic() + 10.0
        while not self.stream.is_connected and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        return self.changes()


def close_1012(day: Day) -> list[ConnectionState]:
    day.current().close(1012, "Reconnection is required")
    return day.settle(reconnects=True)


def tcp_abort(day: Day) -> list[ConnectionState]:
    day.current().drop()
    return day.settle(reconnects=True)


def silence(day: Day) -> list[ConnectionState]:
    day.current().go_silent()
    return day.settle(reconnects=True)


def error_frame(day: Day) -> list[ConnectionState]:
    day.current().send_error("BAD_ACTION", "subscription refused for a moment")
    return day.settle(reconnects=False)


def token_401_blip(day: Day) -> list[ConnectionState]:
    with day.rest.lock:
        day.rest.blips = 2  # the quote-token call and the refresh right after it: two 401s in a row
    day.current().drop()
    return day.settle(reconnects=True)


def full_switch(day: Day) -> list[ConnectionState]:
    day.current().switch_to_full()
    return day.settle(reconnects=False)


FAULTS = [
    (close_1012, [R, G, C]),
    (tcp_abort, [R, G, C]),
    (silence, [S, R, G, C]),
    (error_frame, []),
    (token_401_blip, [R, G, R, G, C]),
    (full_switch, []),
]


SHARED = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.CodeType, types.FrameType)


def retained_bytes(root: object) -> int:
    """Bytes of every object reachable from ``root``, modules, classes, functions and code excluded
    (they are shared by everything and do not grow with the traffic)."""
    gc.collect()
    seen: set[int] = set()
    pending = [root]
    total = 0
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, SHARED):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        pending.extend(gc.get_referents(item))
    return total


def test_a_compressed_trading_day() -> None:
    with DxLinkServerDouble() as server:
        rest, received = Rest(server.url), Received()
        config = TastytradeConfig("refresh-day-123456", "client-secret-day-123456")
        stream = TastytradeWebSocket(
            config, SYMBOLS, settings=SETTINGS, http_transport=rest, batch_sink=received.sink
        )
        day = Day(server, stream, rest, received)
        stream.connect()
        try:
            day.trade_a_little()
            assert day.changes() == [G, C]
            began, rotations, memory = time.monotonic(), 0, []
            ending_faults = 0
            while time.monotonic() - began < DAY_SECONDS:
                for fault, expected in FAULTS:
                    assert fault(day) == expected, f"rotation {rotations}: {fault.__name__}"
                    ending_faults += bool(expected)
                    day.trade_a_little()
                rotations += 1
                memory.append(retained_bytes(stream))
            status = stream.status()
        finally:
            stream.close()

    assert rotations >= 3 and time.monotonic() - began >= DAY_SECONDS
    assert len(server.connections) == 1 + ending_faults  # one reconnect per ending fault: no storm
    assert status.reconnect_count == ending_faults + rotations  # + the attempt each 401 blip cost
    assert ConnectionState.FAILED not in day.states and status.state is ConnectionState.CONNECTED
    assert status.error_frames == rotations and server.all_violations() == []
    growth = memory[-1] - memory[0]
    print(f"\ncompressed day: {rotations} rotations, {len(server.connections)} connections, "
          f"stream object graph {memory[0] / 1024:.1f} KiB -> {memory[-1] / 1024:.1f} KiB")
    assert growth < 4 * 1024, [round(m / 1024, 1) for m in memory]
