"""The spec's two real-time checks, evaluated on the cache: the 0DTE move and the Greeks limits.

Both emit a signal when a value *crosses* its threshold and re-arm when it comes back inside, so a
price hovering beyond 0.5 % produces one signal, not one per quote. Each also has a side-effect-free
query (``measure``/``breaches``) that the algorithm may call directly.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from streaming.cache import MarketCache
from streaming.signals import GreekName, GreeksWarning, ZeroDteMove
from streaming.symbols import future_root, is_option_symbol
from streaming.timing import ZERO_DTE_WINDOW, day_id, in_zero_dte_window, new_york

DEFAULT_MOVE_SYMBOLS = ("SPY", "SPX", "/ES", "/MES")  # spec: SPY and S&P futures; SPX is our underlying


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
    ) -> None:
        self._cache = cache
        self._threshold = threshold_pct
        self._window = window
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
        price = self._cache.latest_price(symbol)
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
