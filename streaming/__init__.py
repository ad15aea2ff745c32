"""tastytrade DXLink market-data streaming for the algorithm (live mode only).

Start at :class:`TastytradeWebSocket`; ``python -m streaming --help`` is a command-line viewer.
Nothing here imports LEAN. The modules, from the algorithm's side down:

- ``tastytrade_websocket``: :class:`TastytradeWebSocket`, the façade the algorithm uses, and its
  threading contract (the stream thread never calls LEAN).
- ``client``: the connection thread: token, socket, handshake, keepalives, reconnect with back-off.
- ``protocol``: the socket-free DXLink core: control messages, the handshake state machine, the
  subscription book and FEED_DATA decoding into column batches.
- ``cache``: the lock-protected latest Quote/Trade/Greeks/Summary per symbol, and the spec's two
  real-time checks on it (the Friday 0DTE move, the book's Greeks limits: :class:`StreamBookGreeks`).
- ``signals``: what the stream tells the algorithm: connection state and status, and the queue of
  signals (connection changes, log lines, 0DTE moves, Greeks warnings) it drains.
- ``auth``: the tastytrade token flow (OAuth refresh token -> access token -> DXLink quote token).
- ``config``: credentials, the redactor that keeps them out of logs, and the link's timing settings.
- ``timing``: the injectable clock, New York market hours, back-off and the link's timers.
- ``symbols``: LEAN-style instruments and OCC symbols <-> DXLink streamer symbols.
- ``__main__``: the command-line viewer ``python -m streaming`` (a tool; the algorithm never imports it).
"""
from streaming.auth import QuoteToken, StaticQuoteTokenSource, TastytradeAuth
from streaming.cache import (
    DEFAULT_MOVE_SYMBOLS,
    GreeksSnapshot,
    QuoteSnapshot,
    StreamBookGreeks,
    SummarySnapshot,
    TradeSnapshot,
)
from streaming.config import ConfigError, StreamSettings, TastytradeConfig
from streaming.signals import (
    ConnectionChanged,
    ConnectionState,
    GreeksWarning,
    LogLine,
    Signal,
    StreamStatus,
    ZeroDteMove,
)
from streaming.symbols import e_mini_streamer_symbols, live_stream_symbols, occ_to_streamer_symbol
from streaming.tastytrade_websocket import TastytradeWebSocket

__all__ = [
    "DEFAULT_MOVE_SYMBOLS",
    "ConfigError",
    "ConnectionChanged",
    "ConnectionState",
    "GreeksSnapshot",
    "GreeksWarning",
    "LogLine",
    "QuoteSnapshot",
    "QuoteToken",
    "Signal",
    "StaticQuoteTokenSource",
    "StreamBookGreeks",
    "StreamSettings",
    "StreamStatus",
    "SummarySnapshot",
    "TastytradeAuth",
    "TastytradeConfig",
    "TastytradeWebSocket",
    "TradeSnapshot",
    "ZeroDteMove",
    "e_mini_streamer_symbols",
    "live_stream_symbols",
    "occ_to_streamer_symbol",
]
