"""The set of subscriptions the algorithm wants, shared between the algorithm and stream threads.

The algorithm thread only edits this book (no socket I/O on the algorithm thread); the stream thread
compares its ``version`` with what it last sent and sends the difference, and replays the whole set on
every new connection, so a reconnect always restores every subscription.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

from streaming.symbols import is_option_symbol

UNDERLYING_EVENTS = ("Quote", "Trade", "Summary")  # Trade: indexes may have trades but no quotes
OPTION_EVENTS = ("Quote", "Greeks", "Summary")  # Summary carries the open interest

Pair = tuple[str, str]  # (event type, streamer symbol)


def event_types_for(symbol: str) -> tuple[str, ...]:
    return OPTION_EVENTS if is_option_symbol(symbol) else UNDERLYING_EVENTS


def _clean(symbols: Iterable[str]) -> set[str]:
    return {s.strip() for s in symbols if s and s.strip()}


class SubscriptionBook:
    """Wanted streamer symbols: the ones asked for plus the option positions held."""

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
