"""The latest market data the stream holds, and the spec's two real-time checks evaluated on it.

The cache is lock-protected: written only by the stream thread (one ``apply`` per batch, one lock
acquisition per batch), read by the algorithm thread through snapshot getters that return small frozen
values. Internally each event is a plain tuple: building a frozen dataclass per incoming event would
cost more than parsing it, so snapshots are built on read, where non-finite values ("Infinity") are
also turned into NaN.

Why the cache keeps only wanted symbols: its size must be bounded by the subscription, not by what a
server chooses to send. Events for symbols nobody asked for are counted and dropped, and a symbol
that is no longer wanted (unsubscribed, position closed) leaves the cache at once, so a reader never
gets a quote the stream stopped updating. One set comparison per batch (``issuperset``, in C) keeps
the check off the per-event path.

The checks (the 0DTE move and the Greeks limits) read the cache, its raw Greeks rows included, which is
why they live beside it. Both emit a signal when a value *crosses* its threshold and re-arm when it
comes back inside, so a price hovering beyond 0.5 % produces one signal, not one per quote. Each also
has a side-effect-free query (``measure``/``breaches``) that the algorithm may call directly.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import repeat

from streaming.protocol import Batch
from streaming.signals import GreekName, GreeksWarning, ZeroDteMove
from streaming.symbols import future_root, is_option_symbol
from streaming.timing import ZERO_DTE_WINDOW, Clock, day_id, in_zero_dte_window, new_york

NAN = math.nan
DEFAULT_MOVE_SYMBOLS = ("SPY", "SPX", "/ES", "/MES")  # spec: SPY and S&P futures; SPX is our underlying


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
    """Latest Quote/Trade/Greeks/Summary per wanted streamer symbol, plus the time of the last event."""

    def __init__(self, clock: Clock, wanted: Iterable[str] = ()) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stores: dict[str, dict[str, tuple[float, ...]]] = {
            "Quote": {},
            "Trade": {},
            "Greeks": {},
            "Summary": {},
        }
        self._wanted: frozenset[str] = frozenset(wanted)
        self._last_event_at: float | None = None
        self.unrequested_events = 0  # events dropped because nobody subscribed their symbol

    def retain(self, symbols: Iterable[str]) -> int:
        """Keeps only ``symbols`` from now on: others are forgotten at once and ignored when they arrive.

        Returns how many cached rows were dropped.
        """
        wanted = frozenset(symbols)
        dropped = 0
        with self._lock:
            self._wanted = wanted
            for store in self._stores.values():
                gone = [symbol for symbol in store if symbol not in wanted]
                for symbol in gone:
                    del store[symbol]
                dropped += len(gone)
        return dropped

    def apply(self, batch: Batch, received_at: float) -> int:
        """Stores the batch's events of wanted symbols (a later event of a symbol overwrites an earlier
        one) and returns how many events were for unrequested symbols, which are counted, not stored."""
        store = self._stores[batch.event_type]
        symbols = batch.symbols
        rows = zip(*batch.columns, repeat(received_at))
        with self._lock:
            wanted = self._wanted
            if wanted.issuperset(symbols):
                store.update(zip(symbols, rows))
                kept = len(symbols)
            else:
                pairs = [(symbol, row) for symbol, row in zip(symbols, rows) if symbol in wanted]
                store.update(pairs)
                kept = len(pairs)
                self.unrequested_events += len(symbols) - kept
            if kept:
                self._last_event_at = received_at
        return len(symbols) - kept

    def size(self) -> int:
        """Rows held across the four event types (at most four per wanted symbol)."""
        with self._lock:
            return sum(len(store) for store in self._stores.values())

    def seconds_since_last_event(self) -> float | None:
        last = self._last_event_at
        return None if last is None else self._clock.monotonic() - last

    def symbols(self, event_type: str) -> list[str]:
        with self._lock:
            return list(self._stores[event_type])

    def quote(self, symbol: str, max_age_seconds: float = math.inf) -> QuoteSnapshot | None:
        """The latest quote, or None when there is none or it is older than ``max_age_seconds``."""
        row = self._row("Quote", symbol)
        if row is None:
            return None
        bid, ask, bid_size, ask_size, received = (finite_or_nan(v) for v in row)
        age = self._age(received)
        if age > max_age_seconds:
            return None
        return QuoteSnapshot(symbol, bid, ask, bid_size, ask_size, (bid + ask) / 2, ask - bid, age)

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

    def latest_price(self, symbol: str, max_age_seconds: float = math.inf) -> float:
        """The fresher of quote mid and last trade (indexes often only trade); NaN when unknown or
        when both are older than ``max_age_seconds``."""
        oldest = self._clock.monotonic() - max_age_seconds
        with self._lock:
            quote = self._stores["Quote"].get(symbol)
            trade = self._stores["Trade"].get(symbol)
        quote = quote if quote is not None and quote[-1] >= oldest else None
        trade = trade if trade is not None and trade[-1] >= oldest else None
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


# ----- the spec's real-time checks ------------------------------------------------------------------
class ZeroDteMoveMonitor:
    """Spec rule: Fridays 10:00-15:00 New York (``window``), |price / day open - 1| > threshold (0.5 %).

    The day open is Summary.dayOpenPrice, accepted only when its dayId is today's New York date so a
    stale summary from yesterday cannot fake a move. Futures are matched by root (``/ES`` matches
    ``/ESZ25:XCME``); their day open is the electronic session's open.
    """

    def __init__(
        self,
        cache: MarketCache,
        *,
        threshold_pct: float,
        watch: Sequence[str],
        window: tuple[time, time] = ZERO_DTE_WINDOW,
        max_price_age_seconds: float = math.inf,
    ) -> None:
        self._cache = cache
        self._threshold = threshold_pct
        self._window = window
        self._max_age = max_price_age_seconds
        self._roots = frozenset(w.strip().upper() for w in watch)
        self._watched: frozenset[str] = frozenset()
        self._beyond: dict[str, date] = {}  # symbol -> New York day on which it was signalled
        self._lock = threading.Lock()

    def watch_symbols(self, subscribed: Iterable[str]) -> None:
        """Picks the subscribed streamer symbols that this rule applies to."""
        self._watched = frozenset(s for s in subscribed if s in self._roots or future_root(s) in self._roots)

    @property
    def watched(self) -> frozenset[str]:
        return self._watched

    def relevant(self, symbols: list[str]) -> bool:
        watched = self._watched
        return bool(watched) and not watched.isdisjoint(symbols)

    def measure(self, symbol: str, now_epoch_seconds: float, at: datetime) -> ZeroDteMove | None:
        """The move now if the window is open and it exceeds the threshold, else None."""
        return self._measure(symbol, new_york(now_epoch_seconds), at)

    def evaluate(self, now_epoch_seconds: float, at: datetime) -> list[ZeroDteMove]:
        """Moves that crossed the threshold since the last evaluation."""
        now_ny = new_york(now_epoch_seconds)
        crossed: list[ZeroDteMove] = []
        with self._lock:
            for symbol in self._watched:
                move = self._measure(symbol, now_ny, at)
                if move is None:
                    self._beyond.pop(symbol, None)
                elif self._beyond.get(symbol) != now_ny.date():
                    self._beyond[symbol] = now_ny.date()
                    crossed.append(move)
        return crossed

    def _measure(self, symbol: str, now_ny: datetime, at: datetime) -> ZeroDteMove | None:
        if not in_zero_dte_window(now_ny, self._window):
            return None
        summary = self._cache.summary(symbol)
        if summary is None or not summary.day_open > 0.0:
            return None
        if summary.day_id is not None and summary.day_id != day_id(now_ny.date()):
            return None
        price = self._cache.latest_price(symbol, self._max_age)  # a stale price must not fake a move
        if math.isnan(price):
            return None
        move_pct = (price - summary.day_open) / summary.day_open * 100.0
        if abs(move_pct) <= self._threshold:
            return None
        return ZeroDteMove(symbol, price, summary.day_open, move_pct, at)


@dataclass(frozen=True, slots=True)
class StreamBookGreeks:
    """The held book's Greeks from streamed per-option Greeks, as the real-time limit check sees them.

    Position-weighted, in share-equivalent units (per-share Greek x quantity x multiplier). Not
    ``risk.greeks_monitor.PortfolioGreeks``, which the algorithm computes per bar with its pricing core.
    """

    delta: float
    gamma: float
    theta: float
    vega: float
    positions_without_greeks: tuple[str, ...]


class GreeksLimitMonitor:
    """Spec limits |delta| > 50, |gamma| > 10 on the positions actually held.

    Positions are ``{streamer_symbol: signed quantity x multiplier}`` from the algorithm thread. Options
    use their streamed Greeks; any other symbol (shares, futures) counts as delta 1 per unit, gamma 0.
    Options without Greeks yet are left out of the sum and named in the result.
    """

    def __init__(self, cache: MarketCache, *, delta_limit: float, gamma_limit: float) -> None:
        self._cache = cache
        self._limits: dict[GreekName, float] = {"delta": delta_limit, "gamma": gamma_limit}
        self._positions: dict[str, float] = {}
        self._alarmed: set[GreekName] = set()
        self._lock = threading.Lock()

    def set_positions(self, positions: Mapping[str, float]) -> None:
        self._positions = {s: float(q) for s, q in positions.items() if q}

    def held_options(self) -> list[str]:
        return [s for s in self._positions if is_option_symbol(s)]

    def relevant(self, symbols: list[str]) -> bool:
        positions = self._positions
        return bool(positions) and not positions.keys().isdisjoint(symbols)

    def portfolio(self) -> StreamBookGreeks:
        positions = self._positions
        rows = self._cache.greeks_rows(s for s in positions if is_option_symbol(s))
        totals = {"delta": 0.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0}
        missing: list[str] = []
        for symbol, weight in positions.items():
            if not is_option_symbol(symbol):
                totals["delta"] += weight
                continue
            row = rows.get(symbol)
            # row layout: price, volatility, delta, gamma, theta, rho, vega, received_at
            if row is None or not (math.isfinite(row[2]) and math.isfinite(row[3])):
                missing.append(symbol)
                continue
            totals["delta"] += weight * row[2]
            totals["gamma"] += weight * row[3]
            totals["theta"] += weight * row[4] if math.isfinite(row[4]) else 0.0
            totals["vega"] += weight * row[6] if math.isfinite(row[6]) else 0.0
        return StreamBookGreeks(totals["delta"], totals["gamma"], totals["theta"], totals["vega"], tuple(missing))

    def breaches(self, at: datetime) -> list[GreeksWarning]:
        """Greeks beyond their limit now (no state change)."""
        book = self.portfolio()
        values = {"delta": book.delta, "gamma": book.gamma}
        return [
            GreeksWarning(greek, values[greek], limit, book.positions_without_greeks, at)
            for greek, limit in self._limits.items()
            if abs(values[greek]) > limit
        ]

    def evaluate(self, at: datetime) -> list[GreeksWarning]:
        """Warnings for Greeks that crossed their limit since the last evaluation."""
        with self._lock:
            current = self.breaches(at)
            names = {w.greek for w in current}
            fresh = [w for w in current if w.greek not in self._alarmed]
            self._alarmed = names
        return fresh
