"""tastytrade DXLink market-data streaming for the algorithm (live mode only).

Start at :class:`TastytradeWebSocket`; ``python -m streaming --help`` is a command-line viewer.
"""
from streaming.auth import QuoteToken, StaticQuoteTokenSource, TastytradeAuth
from streaming.cache import GreeksSnapshot, QuoteSnapshot, StreamBookGreeks, SummarySnapshot, TradeSnapshot
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
from streaming.tastytrade_websocket import TastytradeWebSocket

__all__ = [
    "ConfigError",
    "ConnectionChanged",
    "ConnectionState",
    "GreeksSnapshot",
    "GreeksWarning",
    "LogLine",
    "StreamBookGreeks",
    "QuoteSnapshot",
    "QuoteToken",
    "Signal",
    "StaticQuoteTokenSource",
    "StreamSettings",
    "StreamStatus",
    "SummarySnapshot",
    "TastytradeAuth",
    "TastytradeConfig",
    "TastytradeWebSocket",
    "TradeSnapshot",
    "ZeroDteMove",
]
