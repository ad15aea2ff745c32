"""A DXLink server double on 127.0.0.1 for the streaming tests.

Standard library only: a minimal RFC 6455 server (HTTP upgrade with Sec-WebSocket-Accept, masked
client frames, text/close/ping/pong, fragmented messages) under ``socketserver``, plus the DXLink rules
tastytrade enforces (strict handshake order, connection messages on channel 0 only, odd service
channels, a positive keepaliveTimeout in SETUP, token check) and the faults a real feed shows: dropped
connections, silence, FEED_CONFIG switching to FULL, NaN values, ERROR frames, close codes 1009/1012,
rejected tokens and HTTP errors on the upgrade.

Order is enforced, not assumed: each server reply in the handshake is sent after a short delay, and a
client frame already waiting at that moment (other than KEEPALIVE) is recorded as a violation, so a
client that sends SETUP and AUTH back to back is caught.
"""
from __future__ import annotations

import base64
import hashlib
import json
import select
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

Pair = tuple[str, str]  # (event type, symbol)
CONNECTION_MESSAGES = ("SETUP", "AUTH", "KEEPALIVE")  # client messages that belong on channel 0
FeedHook = Callable[["DxLinkConnection", list[Pair]], None]


class PeerClosed(Exception):
    """The client went away (EOF or socket error)."""


def accept_key(client_key: str) -> str:
    return base64.b64encode(hashlib.sha1((client_key + WS_GUID).encode()).digest()).decode()


def unmask(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return payload
    size = len(payload)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")


class WebSocketPeer:
    """Server end of one RFC 6455 connection over a plain socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self._send_lock = threading.Lock()
        self.closed = False

    # ----- HTTP upgrade -------------------------------------------------------------------------
    def handshake(self, reject_status: int | None = None) -> dict[str, str] | None:
        """Reads the upgrade request; answers 101 (or ``reject_status``). Returns the request headers."""
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        headers[":request"] = request_line
        if reject_status is not None:
            body = b"upstream unavailable"
            self._send_raw(
                f"HTTP/1.1 {reject_status} Bad Gateway\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            return None
        key = headers.get("sec-websocket-key")
        if headers.get("upgrade", "").lower() != "websocket" or not key or headers.get("sec-websocket-version") != "13":
            self._send_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return None
        self._send_raw(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
        )
        return headers

    # ----- frames -------------------------------------------------------------------------------
    def has_pending(self) -> bool:
        """Whether the client already sent more bytes than we have read."""
        if self._buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def recv_message(self) -> tuple[int, bytes]:
        """Next text/binary message (fragments joined) or close frame; answers pings itself."""
        fragments: list[bytes] = []
        first_opcode = None
        while True:
            fin, opcode, payload = self._recv_frame()
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                return OP_CLOSE, payload
            if opcode != OP_CONT:
                first_opcode = opcode
            fragments.append(payload)
            if fin:
                return first_opcode if first_opcode is not None else OP_TEXT, b"".join(fragments)

    def _recv_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._read_exact(2)
        size = b2 & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read_exact(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read_exact(8))[0]
        if not b2 & 0x80:
            raise PeerClosed("client frame without mask (RFC 6455 5.1)")
        mask = self._read_exact(4)
        return bool(b1 & 0x80), b1 & 0x0F, unmask(self._read_exact(size), mask)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        self._send_raw(header + payload)

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def send_close(self, code: int, reason: str = "") -> None:
        self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())

    def abort(self) -> None:
        """Drops the TCP connection without a close frame (a network failure as the client sees it)."""
        self.closed = True
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # ----- bytes --------------------------------------------------------------------------------
    def _send_raw(self, data: bytes) -> None:
        with self._send_lock:
            if self.closed:
                raise PeerClosed("already closed")
            try:
                self.sock.sendall(data)
            except OSError as exc:
                raise PeerClosed(str(exc)) from None

    def _fill(self) -> None:
        try:
            chunk = self.sock.recv(65536)
        except OSError as exc:
            raise PeerClosed(str(exc)) from None
        if not chunk:
            raise PeerClosed("EOF")
        self._buffer += chunk

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            if len(self._buffer) > 65536:
                raise PeerClosed("HTTP header too long")
            self._fill()
        end = self._buffer.index(marker) + len(marker)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data


class DxLinkConnection:
    """One client connection: DXLink state, what the client sent, and the fault controls."""

    def __init__(self, server: DxLinkServerDouble, peer: WebSocketPeer, index: int) -> None:
        self.server = server
        self.peer = peer
        self.index = index
        self.headers: dict[str, str] = {}
        self.received: list[dict[str, Any]] = []  # every client message, in order
        self.violations: list[str] = []
        self.subscriptions: set[Pair] = set()
        self.layouts: dict[str, list[str]] = {}
        self.data_format = "COMPACT"
        self.phase = "new"
        self.token: str | None = None
        self.client_keepalive_timeout: Any = None  # what the client's SETUP declared
        self.feed_channel: int | None = None
        self.silent = threading.Event()
        self.closed = threading.Event()
        self.close_sent = False
        self.client_close: bytes | None = None  # the payload of the client's close frame, if it sent one
        self.last_client_frame = time.monotonic()
        self._early: deque[dict[str, Any]] = deque()
        self._changed = threading.Condition()

    # ----- test controls (any thread) -------------------------------------------------------------
    def send_json(self, message: dict[str, Any]) -> None:
        self.peer.send_text(json.dumps(message))

    def send_raw_text(self, text: str) -> None:
        self.peer.send_text(text)

    def send_events(self, event_type: str, records: Iterable[dict[str, Any]]) -> None:
        """One FEED_DATA frame with these events, laid out as the last FEED_CONFIG announced."""
        records = list(records)
        if self.data_format == "FULL":
            data: list[Any] = [{"eventType": event_type, **record} for record in records]
        else:
            fields = self.layouts[event_type]
            values = [
                event_type if name == "eventType" else record.get(name, "NaN") for record in records for name in fields
            ]
            data = [event_type, values]
        self.send_json({"type": "FEED_DATA", "channel": 1, "data": data})

    def switch_to_full(self) -> None:
        """The unsolicited FEED_CONFIG that turns the channel to FULL (tastyware/tastytrade#343)."""
        self.data_format = "FULL"
        self.send_json({"type": "FEED_CONFIG", "channel": 1, "dataFormat": "FULL", "aggregationPeriod": 0.1})

    def set_layout(self, event_type: str, fields: list[str]) -> None:
        """A new FEED_CONFIG for one type (e.g. another field order)."""
        self.layouts[event_type] = fields
        self.send_json({"type": "FEED_CONFIG", "channel": 1, "dataFormat": self.data_format, "eventFields": {event_type: fields}})

    def send_error(self, error: str, message: str, channel: int = 0) -> None:
        self.send_json({"type": "ERROR", "channel": channel, "error": error, "message": message})

    def close(self, code: int, reason: str = "") -> None:
        """A websocket close frame with this code; the socket is released once the client answers."""
        self.close_sent = True
        try:
            self.peer.send_close(code, reason)
        except PeerClosed:
            pass

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """Any websocket frame (binary, ping, text that is not UTF-8...)."""
        self.peer.send_frame(opcode, payload)

    def drop(self) -> None:
        """Abrupt TCP failure: no close frame."""
        self.closed.set()
        self.peer.abort()

    def go_silent(self) -> None:
        """Stops every server frame (keepalives too) while still reading: a dead link for the client."""
        self.silent.set()

    def resume(self) -> None:
        """Ends a silence: keepalives (and whatever the test sends) flow again."""
        self.silent.clear()

    def wait_for(self, predicate: Callable[[DxLinkConnection], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def wait_subscribed(self, pairs: Iterable[Pair], timeout: float = 5.0) -> bool:
        wanted = set(pairs)
        return self.wait_for(lambda c: wanted <= c.subscriptions, timeout)

    def messages_of(self, kind: str) -> list[dict[str, Any]]:
        with self._changed:
            return [m for m in self.received if m.get("type") == kind]

    # ----- connection thread ----------------------------------------------------------------------
    def serve(self) -> None:
        try:
            while not self.closed.is_set():
                message = self._early.popleft() if self._early else self._next_message()
                if message is None:
                    break
                self._handle(message)
        except PeerClosed:
            pass
        finally:
            self.closed.set()
            with self._changed:
                self._changed.notify_all()
            try:
                self.peer.sock.close()
            except OSError:
                pass

    def _next_message(self) -> dict[str, Any] | None:
        opcode, payload = self.peer.recv_message()
        if opcode == OP_CLOSE:
            self.client_close = payload
            if not self.close_sent:
                try:
                    self.peer.send_frame(OP_CLOSE, payload[:2])
                except PeerClosed:
                    pass
            return None
        message = self._parse(payload)
        return message if message is not None else {"type": "__malformed__"}

    def _parse(self, payload: bytes) -> dict[str, Any] | None:
        self.last_client_frame = time.monotonic()
        try:
            message = json.loads(payload)
        except ValueError:
            self.violations.append("client sent a frame that is not JSON")
            return None
        with self._changed:
            self.received.append(message)
            self._changed.notify_all()
        return message if isinstance(message, dict) else None

    def _reply_after_delay(self, message: dict[str, Any], waiting_for: str) -> None:
        """Waits, then checks that the client did not run ahead of this reply, then sends it."""
        time.sleep(self.server.handshake_delay_seconds)
        while self.peer.has_pending():
            opcode, payload = self.peer.recv_message()
            if opcode == OP_CLOSE:
                raise PeerClosed("client closed")
            early = self._parse(payload)
            if early is None:
                continue
            if early.get("type") != "KEEPALIVE":
                self.violations.append(f"{early.get('type')} sent before {waiting_for}")
            self._early.append(early)
        self._send_unless_silent(message)

    def _send_unless_silent(self, message: dict[str, Any]) -> None:
        if not self.silent.is_set():
            self.send_json(message)

    def _violation(self, text: str) -> None:
        self.violations.append(text)
        self._send_unless_silent({"type": "ERROR", "channel": 0, "error": "BAD_ACTION", "message": text})

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in CONNECTION_MESSAGES and message.get("channel") != 0:
            return self._violation(f"{kind} on channel {message.get('channel')!r}: connection messages use channel 0")
        handler = {
            "SETUP": self._on_setup,
            "AUTH": self._on_auth,
            "CHANNEL_REQUEST": self._on_channel_request,
            "FEED_SETUP": self._on_feed_setup,
            "FEED_SUBSCRIPTION": self._on_subscription,
        }.get(str(kind))
        if handler is not None:
            handler(message)
        elif kind not in ("KEEPALIVE", "CHANNEL_CANCEL", "__malformed__"):
            self.violations.append(f"unexpected client message {kind!r}")
        with self._changed:
            self._changed.notify_all()

    def _on_setup(self, message: dict[str, Any]) -> None:
        if self.phase != "new":
            return self._violation("SETUP sent twice")
        for name in ("keepaliveTimeout", "acceptKeepaliveTimeout"):
            value = message.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                self.violations.append(f"SETUP {name} {value!r} is not a positive number of seconds")
        self.client_keepalive_timeout = message.get("keepaliveTimeout")
        timeout = self.server.client_timeout_seconds or 60
        self._send_unless_silent(
            {"type": "SETUP", "channel": 0, "version": "1.0-double", "keepaliveTimeout": timeout, "acceptKeepaliveTimeout": 60}
        )
        self.phase = "unauthorized"
        self._reply_after_delay({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"}, "AUTH_STATE UNAUTHORIZED")

    def _on_auth(self, message: dict[str, Any]) -> None:
        if self.phase != "unauthorized":
            return self._violation(f"AUTH in phase {self.phase}")
        self.token = message.get("token")
        if self.token not in self.server.valid_tokens:
            self.server.rejected_auths += 1
            self._send_unless_silent({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"})
            return
        self.phase = "authorized"
        self._reply_after_delay({"type": "AUTH_STATE", "channel": 0, "state": "AUTHORIZED", "userId": "u1"}, "AUTHORIZED")

    def _on_channel_request(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        if self.phase != "authorized":
            return self._violation(f"CHANNEL_REQUEST in phase {self.phase}")
        if not isinstance(channel, int) or channel % 2 == 0:
            return self._violation("Protocol violation with an even channel usage.")
        if message.get("service") != "FEED":
            return self._violation("only FEED is served")
        self.phase = "channel_open"
        self.feed_channel = channel
        self._reply_after_delay(
            {"type": "CHANNEL_OPENED", "channel": channel, "service": "FEED", "parameters": {"contract": "AUTO", "subFormat": "LIST"}},
            "CHANNEL_OPENED",
        )

    def _on_feed_setup(self, message: dict[str, Any]) -> None:
        if self.phase != "channel_open":
            return self._violation(f"FEED_SETUP in phase {self.phase}")
        if message.get("channel") != self.feed_channel:
            return self._violation(f"FEED_SETUP on channel {message.get('channel')!r}, not the opened one")
        requested = message.get("acceptEventFields") or {}
        self.layouts = {kind: list(self.server.field_overrides.get(kind, fields)) for kind, fields in requested.items()}
        self.phase = "feed"
        self._send_unless_silent(
            {"type": "FEED_CONFIG", "channel": 1, "dataFormat": "COMPACT", "aggregationPeriod": 0.1, "eventFields": self.layouts}
        )

    def _on_subscription(self, message: dict[str, Any]) -> None:
        if self.phase != "feed":
            return self._violation(f"FEED_SUBSCRIPTION in phase {self.phase}")
        if message.get("channel") != self.feed_channel:
            return self._violation(f"FEED_SUBSCRIPTION on channel {message.get('channel')!r}, not the opened one")
        if message.get("reset"):
            self.subscriptions.clear()
        for entry in message.get("remove", []):
            self.subscriptions.discard((entry["type"], entry["symbol"]))
        added = [(entry["type"], entry["symbol"]) for entry in message.get("add", [])]
        self.subscriptions.update(added)
        hook = self.server.on_subscribe
        if hook is not None and added and not self.silent.is_set():
            hook(self, added)

    def tick(self, now: float) -> None:
        """Server keepalives and the server-side client timeout (ERROR TIMEOUT, then close)."""
        server = self.server
        if self.silent.is_set() or self.closed.is_set():
            return
        if server.client_timeout_seconds and now - self.last_client_frame > server.client_timeout_seconds:
            self.violations.append("client keepalive timeout")
            self.send_error("TIMEOUT", "The timeout has been reached.")
            self.close(1000)
            return
        if server.keepalive_interval_seconds and self.phase != "new":
            self.send_json({"type": "KEEPALIVE", "channel": 0})


class DxLinkServerDouble:
    """Serves DXLink on ``ws://127.0.0.1:<port>/realtime``; use as a context manager."""

    def __init__(
        self,
        *,
        valid_tokens: Iterable[str] = ("good-token",),
        handshake_delay_seconds: float = 0.02,
        keepalive_interval_seconds: float | None = 0.1,
        client_timeout_seconds: float | None = None,
        field_overrides: dict[str, list[str]] | None = None,
        on_subscribe: FeedHook | None = None,
    ) -> None:
        self.valid_tokens = set(valid_tokens)
        self.handshake_delay_seconds = handshake_delay_seconds
        self.keepalive_interval_seconds = keepalive_interval_seconds
        self.client_timeout_seconds = client_timeout_seconds
        self.field_overrides = field_overrides or {}
        self.on_subscribe = on_subscribe
        self.reject_upgrades = 0  # answer the next N upgrade requests with HTTP 502
        self.rejected_auths = 0
        self.connections: list[DxLinkConnection] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        double = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                double._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"ws://127.0.0.1:{self.port}/realtime"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True),
            threading.Thread(target=self._tick_loop, daemon=True),
        ]

    def __enter__(self) -> DxLinkServerDouble:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self.connections):
            if not connection.closed.is_set():
                connection.drop()

    def connection(self, index: int, timeout: float = 5.0) -> DxLinkConnection:
        """The index-th connection (0 = first), waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.connections) <= index:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no connection #{index} within {timeout} s")
                self._lock.wait(remaining)
            return self.connections[index]

    def all_violations(self) -> list[str]:
        return [v for c in self.connections for v in c.violations]

    def _serve(self, sock: socket.socket) -> None:
        peer = WebSocketPeer(sock)
        try:
            with self._lock:
                reject = self.reject_upgrades > 0
                if reject:
                    self.reject_upgrades -= 1
            headers = peer.handshake(502 if reject else None)
        except PeerClosed:
            return
        if headers is None:
            sock.close()
            return
        with self._lock:
            connection = DxLinkConnection(self, peer, len(self.connections))
            connection.headers = headers
            self.connections.append(connection)
            self._lock.notify_all()
        connection.serve()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.keepalive_interval_seconds or 0.05):
            now = time.monotonic()
            for connection in list(self.connections):
                try:
                    connection.tick(now)
                except PeerClosed:
                    pass


def quote(symbol: str, bid: Any, ask: Any, bid_size: Any = 100.0, ask_size: Any = 100.0) -> dict[str, Any]:
    """A Quote record by DXLink field names."""
    return {"eventSymbol": symbol, "bidPrice": bid, "askPrice": ask, "bidSize": bid_size, "askSize": ask_size}
