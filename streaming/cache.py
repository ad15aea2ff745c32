"""Lock-protected latest-value cache of market events.

Written only by the stream thread (one ``apply`` per batch, one lock acquisition per batch), read by
the algorithm thread through snapshot getters that return small frozen values. Internally each event is
a plain tuple: building a frozen dataclass per incoming event would cost more than parsing it, so
snapshots are built on read, where non-finite values ("Infinity") are also turned into NaN.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

from streaming.feed_parser import Batch
from streaming.timing import Clock

NAN = math.nan


def finite_or_nan(value: float) -> float:
    return value if math.isfinite(value) else NAN


@dataclass(frozen=True, slots=True)
class QuoteSnapshot:
    symbol: str
    bid: float
    ask: float
    bid_size: float  # NaN for indexes
    ask_size: float
    mid: float  # NaN unless bid and ask are both known
    spread: float
    age_seconds: float  # since the event was received


@dataclass(frozen=True, slots=True)
class TradeSnapshot:
    symbol: str
    price: float
    size: float
    day_volume: float
    age_seconds: float


@dataclass(frozen=True, slots=True)
class GreeksSnapshot:
    """Per-share Greeks of one option as dxFeed computes them."""

    symbol: str
    price: float  # option theoretical price
    implied_volatility: float
    delta: float
    gamma: float
    theta: float
    rho: float
    vega: float
    age_seconds: float


@dataclass(frozen=True, slots=True)
class SummarySnapshot:
    symbol: str
    day_id: int | None  # days since 1970-01-01 of the trading day the summary describes
    day_open: float  # NaN before the open
    prev_close: float
    open_interest: float
    age_seconds: float


class MarketCache:
    """Latest Quote/Trade/Greeks/Summary per streamer symbol, plus the time of the last event."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stores: dict[str, dict[str, tuple[float, ...]]] = {
            "Quote": {},
            "Trade": {},
            "Greeks": {},
            "Summary": {},
        }
        self._last_event_at: float | None = None

    def apply(self, batch: Batch, received_at: float) -> None:
        """Stores every event of the batch; later events of a symbol overwrite earlier ones."""
        store = self._stores.get(batch.event_type)
        if store is None:
            return
        rows = zip(batch.symbols, zip(*batch.columns, repeat(received_at)))
        with self._lock:
            store.update(rows)
            self._last_event_at = received_at

    def seconds_since_last_event(self) -> float | None:
        last = self._last_event_at
        return None if last is None else self._clock.monotonic() - last

    def symbols(self, event_type: str) -> list[str]:
        with self._lock:
            return list(self._stores[event_type])

    def quote(self, symbol: str) -> QuoteSnapshot | None:
        row = self._row("Quote", symbol)
        if row is None:
            return None
        bid, ask, bid_size, ask_size, received = (finite_or_nan(v) for v in row)
        return QuoteSnapshot(symbol, bid, ask, bid_size, ask_size, (bid + ask) / 2, ask - bid, self._age(received))

    def trade(self, symbol: str) -> TradeSnapshot | None:
        row = self._row("Trade", symbol)
        if row is None:
            return None
        price, size, volume, received = (finite_or_nan(v) for v in row)
        return TradeSnapshot(symbol, price, size, volume, self._age(received))

    def greeks(self, symbol: str) -> GreeksSnapshot | None:
        row = self._row("Greeks", symbol)
        if row is None:
            return None
        price, vol, delta, gamma, theta, rho, vega, received = (finite_or_nan(v) for v in row)
        return GreeksSnapshot(symbol, price, vol, delta, gamma, theta, rho, vega, self._age(received))

    def summary(self, symbol: str) -> SummarySnapshot | None:
        row = self._row("Summary", symbol)
        if row is None:
            return None
        day_id, day_open, prev_close, open_interest, received = (finite_or_nan(v) for v in row)
        return SummarySnapshot(
            symbol,
            int(day_id) if not math.isnan(day_id) else None,
            day_open,
            prev_close,
            open_interest,
            self._age(received),
        )

    def latest_price(self, symbol: str) -> float:
        """The fresher of quote mid and last trade (indexes often only trade); NaN when unknown."""
        with self._lock:
            quote = self._stores["Quote"].get(symbol)
            trade = self._stores["Trade"].get(symbol)
        mid, mid_at = (finite_or_nan((quote[0] + quote[1]) / 2), quote[-1]) if quote else (NAN, -math.inf)
        last, last_at = (finite_or_nan(trade[0]), trade[-1]) if trade else (NAN, -math.inf)
        if math.isnan(mid) or (not math.isnan(last) and last_at > mid_at):
            return last
        return mid

    def greeks_rows(self, symbols: Iterable[str]) -> dict[str, tuple[float, ...]]:
        """Raw Greeks rows of several options under one lock, for a consistent portfolio sum."""
        with self._lock:
            store = self._stores["Greeks"]
            return {s: store[s] for s in symbols if s in store}

    def _row(self, event_type: str, symbol: str) -> tuple[float, ...] | None:
        with self._lock:
            return self._stores[event_type].get(symbol)

    def _age(self, received_at: float) -> float:
        return max(self._clock.monotonic() - received_at, 0.0)
