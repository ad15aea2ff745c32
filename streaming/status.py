"""Connection state as the algorithm sees it.

The manual-mode fallback reads :class:`StreamStatus` on the algorithm thread to decide whether the
real-time feed can be trusted (connected, fresh frames, fresh market events).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ConnectionState(str, enum.Enum):
    """Life cycle of the DXLink link."""

    IDLE = "idle"  # connect() not called yet
    CONNECTING = "connecting"  # fetching a token, opening the socket or in the DXLink handshake
    CONNECTED = "connected"  # feed channel open and subscriptions sent
    RECONNECTING = "reconnecting"  # waiting out the back-off after a failure
    FAILED = "failed"  # final: credentials or quote token rejected twice
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

    @property
    def is_connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED
