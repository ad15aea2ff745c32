"""LEAN's market data types for the double: bars, open interest, delistings, chains and the slice.

Semantics follow ``Common/Data/Market/*.cs``: a bar's ``time`` is its start and ``end_time`` its end
(a minute bar emitted at 09:31 started at 09:30); a fill-forward bar is a copy of the last real bar
re-stamped and flagged ``is_fill_forward``; a ``QuoteBar``'s open/high/low/close are the mid of its
bid and ask bars when both exist, else the side it has (``QuoteBar.cs``). Dictionaries of data
(``slice.bars``, ``slice.option_chains``...) behave like LEAN's ``DataDictionary`` under pythonnet:
``get``, ``contains_key``, ``in``, ``[]``, ``keys()``, ``values()``, ``items()``, and iteration yields
key/value pairs with ``.key`` and ``.value``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from replay.engine.lean_types import DelistingType, NotImplementedInDouble, OptionRight, Strict
from replay.engine.symbols import Symbol

MINUTE = timedelta(minutes=1)
V = TypeVar("V")


class Bar(Strict):
    """One side of a quote bar (or any OHLC)."""

    __slots__ = ("open", "high", "low", "close")

    def __init__(self, open: float, high: float | None = None, low: float | None = None,
                 close: float | None = None) -> None:
        if high is None:  # Bar(price): a flat bar, as the double's tests build them
            high = low = close = open
        self.open, self.high, self.low, self.close = float(open), float(high), float(low or 0.0), float(close or 0.0)


class BaseData(Strict):
    """What LEAN's ``BaseData`` exposes: symbol, time (start), end time, value/price."""

    def __init__(self, symbol: Symbol, end_time: datetime, value: float, period: timedelta = MINUTE) -> None:
        self.symbol, self.end_time, self.value, self.period = symbol, end_time, float(value), period
        self.is_fill_forward = False

    @property
    def time(self) -> datetime:
        return self.end_time - self.period

    @property
    def price(self) -> float:
        return self.value


class TradeBar(BaseData):
    """A minute trade bar; ``end_time`` is when LEAN emits it."""

    def __init__(self, symbol: Symbol, end_time: datetime, open: float, high: float, low: float, close: float,
                 volume: float = 0.0, is_fill_forward: bool = False, period: timedelta = MINUTE) -> None:
        super().__init__(symbol, end_time, close, period)
        self.open, self.high, self.low, self.close = float(open), float(high), float(low), float(close)
        self.volume = float(volume)
        self.is_fill_forward = is_fill_forward


def _mid(bid: Bar | None, ask: Bar | None, field: str) -> float:
    """``QuoteBar.Open/High/Low/Close``: the mid of both sides when both are non-zero, else the non-zero side."""
    if bid is not None and ask is not None:
        b, a = getattr(bid, field), getattr(ask, field)
        if b != 0 and a != 0:
            return (b + a) / 2
        return b if b != 0 else a if a != 0 else 0.0
    side = bid if bid is not None else ask
    return float(getattr(side, field)) if side is not None else 0.0


class QuoteBar(BaseData):
    """A minute quote bar: bid and ask bars (either may be missing) and the last sizes."""

    def __init__(self, symbol: Symbol, bid: Bar | float | None, ask: Bar | float | None,
                 is_fill_forward: bool = False, end_time: datetime | None = None, last_bid_size: float = 0.0,
                 last_ask_size: float = 0.0, period: timedelta = MINUTE) -> None:
        self.bid = bid if isinstance(bid, Bar) or bid is None else Bar(bid)
        self.ask = ask if isinstance(ask, Bar) or ask is None else Bar(ask)
        super().__init__(symbol, end_time or datetime.min + period, 0.0, period)
        self.value = self.close
        self.is_fill_forward = is_fill_forward
        self.last_bid_size, self.last_ask_size = float(last_bid_size), float(last_ask_size)

    @property
    def open(self) -> float:
        return _mid(self.bid, self.ask, "open")

    @property
    def high(self) -> float:
        return _mid(self.bid, self.ask, "high")

    @property
    def low(self) -> float:
        return _mid(self.bid, self.ask, "low")

    @property
    def close(self) -> float:
        return _mid(self.bid, self.ask, "close")


class OpenInterest(BaseData):
    """An open-interest snapshot (``Common/Data/Market/OpenInterest.cs``)."""

    def __init__(self, symbol: Symbol, time: datetime, value: float) -> None:
        super().__init__(symbol, time, value, timedelta(0))


class Delisting(BaseData):
    """A delisting warning (on the delisting date) or the delisting itself (the day after)."""

    def __init__(self, symbol: Symbol, time: datetime, price: float, type: DelistingType) -> None:
        super().__init__(symbol, time, price, timedelta(0))
        self.type = type

    def __str__(self) -> str:
        return f"{self.symbol} {self.type.name} {self.time:%Y-%m-%d}"


class SymbolChangedEvent(BaseData):
    """An equity rename from the map files (``Common/Data/Market/SymbolChangedEvent.cs``)."""

    def __init__(self, symbol: Symbol, time: datetime, old_symbol: str, new_symbol: str) -> None:
        super().__init__(symbol, time, 0.0, timedelta(0))
        self.old_symbol, self.new_symbol = old_symbol, new_symbol


class Dividend(BaseData):
    """A cash dividend per share paid on a date (``Common/Data/Market/Dividend.cs``)."""

    def __init__(self, symbol: Symbol, time: datetime, distribution: float, reference_price: float) -> None:
        super().__init__(symbol, time, distribution, timedelta(0))
        self.distribution, self.reference_price = float(distribution), float(reference_price)


class KeyValuePair(Generic[V]):
    """What iterating a .NET dictionary yields under pythonnet."""

    __slots__ = ("key", "value")

    def __init__(self, key: Symbol, value: V) -> None:
        self.key, self.value = key, value

    def __iter__(self) -> Iterator[Any]:  # lets ``for key, value in slice.bars.items()``-style unpacking work
        return iter((self.key, self.value))


class DataDictionary(Strict, Generic[V]):
    """LEAN's ``DataDictionary<T>`` as pythonnet shows it (``TradeBars``, ``OptionChains``, ``Delistings``...)."""

    def __init__(self, items: dict[Symbol, V] | None = None) -> None:
        self._items: dict[Symbol, V] = dict(items or {})

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self._items

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._items

    def __getitem__(self, symbol: Symbol) -> V:
        if symbol not in self._items:
            raise KeyError(f"'{symbol}' wasn't found in the {type(self).__name__} object")
        return self._items[symbol]

    def get(self, symbol: Symbol, default: V | None = None) -> V | None:
        return self._items.get(symbol, default)

    def try_get_value(self, symbol: Symbol) -> tuple[bool, V | None]:
        return symbol in self._items, self._items.get(symbol)

    def keys(self) -> list[Symbol]:
        return list(self._items)

    def values(self) -> list[V]:
        return list(self._items.values())

    def items(self) -> list[tuple[Symbol, V]]:
        return list(self._items.items())

    @property
    def count(self) -> int:
        return len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[KeyValuePair[V]]:
        return (KeyValuePair(k, v) for k, v in self._items.items())


class LazyDataDictionary(DataDictionary[V]):
    """A ``DataDictionary`` whose values are built on first access (the replay's bars per slice).

    ``rows`` maps each symbol present to a handle; ``make`` turns a handle into the value."""

    def __init__(self, rows: dict[Symbol, int], make: Callable[[int], V]) -> None:
        super().__init__()
        self._rows, self._make = rows, make

    def _value(self, symbol: Symbol) -> V:
        if symbol not in self._items:
            self._items[symbol] = self._make(self._rows[symbol])
        return self._items[symbol]

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self._rows

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._rows

    def __getitem__(self, symbol: Symbol) -> V:
        if symbol not in self._rows:
            raise KeyError(f"'{symbol}' wasn't found in the {type(self).__name__} object")
        return self._value(symbol)

    def get(self, symbol: Symbol, default: V | None = None) -> V | None:
        return self._value(symbol) if symbol in self._rows else default

    def try_get_value(self, symbol: Symbol) -> tuple[bool, V | None]:
        return (True, self._value(symbol)) if symbol in self._rows else (False, None)

    def keys(self) -> list[Symbol]:
        return list(self._rows)

    def values(self) -> list[V]:
        return [self._value(s) for s in self._rows]

    def items(self) -> list[tuple[Symbol, V]]:
        return [(s, self._value(s)) for s in self._rows]

    @property
    def count(self) -> int:
        return len(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[KeyValuePair[V]]:
        return (KeyValuePair(s, self._value(s)) for s in self._rows)


class Greeks(Strict):
    def __init__(self, delta: float, gamma: float, theta_per_day: float, vega: float, rho: float,
                 theta: float | None = None) -> None:
        self.delta, self.gamma, self.theta_per_day, self.vega, self.rho = delta, gamma, theta_per_day, vega, rho
        self.theta = theta if theta is not None else theta_per_day * 365.0


class OptionContract(Strict):
    """One contract of a chain with LEAN's fields (prices per share; 0 where LEAN has none).

    As in ``Common/Data/Market/OptionContract.cs`` the fields come from the contract's data in this
    slice: last price and volume from its trade bar, bid/ask and sizes from its quote bar, open
    interest from its latest open-interest data."""

    def __init__(self, symbol: Symbol, bid_price: float = 0.0, ask_price: float = 0.0, last_price: float = 0.0,
                 volume: float = 0.0, open_interest: float = 0.0, implied_volatility: float = 0.0,
                 greeks: Greeks | None = None, bid_size: float = 0.0, ask_size: float = 0.0,
                 underlying_last_price: float = 0.0, time: datetime | None = None) -> None:
        if symbol.expiry is None or symbol.strike is None or symbol.right is None:
            raise ValueError(f"{symbol} is not an option contract")
        self.symbol = symbol
        self.bid_price, self.ask_price, self.last_price = bid_price, ask_price, last_price
        self.bid_size, self.ask_size = bid_size, ask_size
        self.volume, self.open_interest = volume, open_interest
        self.underlying_last_price = underlying_last_price
        self.time = time
        self._implied_volatility = implied_volatility
        self.iv_model: Callable[[OptionContract], float] | None = None
        self._greeks = greeks

    @property
    def id(self) -> Any:
        return self.symbol.id

    @property
    def underlying_symbol(self) -> Symbol | None:
        return self.symbol.underlying

    @property
    def expiry(self) -> datetime:
        assert self.symbol.expiry is not None
        return datetime.combine(self.symbol.expiry, datetime.min.time())

    @property
    def strike(self) -> float:
        assert self.symbol.strike is not None
        return self.symbol.strike

    @property
    def right(self) -> OptionRight:
        assert self.symbol.right is not None
        return self.symbol.right

    @property
    def style(self) -> Any:
        return self.symbol.style

    @property
    def implied_volatility(self) -> float:
        """As in LEAN, evaluated on demand from the price model when one is attached."""
        return self.iv_model(self) if self.iv_model is not None else self._implied_volatility

    @property
    def greeks(self) -> Greeks:
        """Greeks a test or the universe file gives; the double has no option price model for them."""
        if self._greeks is None:
            raise NotImplementedInDouble("LEAN double has no option price model for OptionContract.greeks")
        return self._greeks

    def __str__(self) -> str:
        return self.symbol.value

    def __repr__(self) -> str:
        return self.symbol.value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OptionContract):
            return self.symbol == other.symbol
        return other is not None and self.symbol == other

    def __hash__(self) -> int:
        return hash(self.symbol)


class OptionChain(Strict):
    """``slice.option_chains[canonical]``: the chain's contracts with data in this slice and its underlying."""

    def __init__(self, canonical: Symbol, contracts: list[OptionContract], underlying: BaseData | None = None,
                 time: datetime | None = None) -> None:
        self.symbol = canonical
        self.canonical_symbol = canonical
        self.time = time
        self._contracts = list(contracts)
        self.underlying = underlying if underlying is not None else BaseData(canonical.underlying or canonical,
                                                                             time or datetime.min, 0.0)

    @property
    def contracts(self) -> DataDictionary[OptionContract]:
        return DataDictionary({c.symbol: c for c in self._contracts})

    def contains_key(self, symbol: Symbol) -> bool:
        return any(c.symbol == symbol for c in self._contracts)

    def __iter__(self) -> Iterator[OptionContract]:
        return iter(self._contracts)

    def __len__(self) -> int:
        return len(self._contracts)

    def __bool__(self) -> bool:  # ``if not chain`` is an emptiness test under pythonnet too
        return bool(self._contracts)


class Slice(Strict):
    """One time step's data, as LEAN hands it to ``on_data``."""

    def __init__(self, time: datetime, bars: list[TradeBar] | DataDictionary[TradeBar] | None = None,
                 quotes: list[QuoteBar] | DataDictionary[QuoteBar] | None = None,
                 chains: list[OptionChain] | None = None, delistings: list[Delisting] | None = None,
                 symbol_changed_events: list[SymbolChangedEvent] | None = None,
                 dividends: list[Dividend] | None = None) -> None:
        self.time = time
        self.bars: DataDictionary[TradeBar] = (
            bars if isinstance(bars, DataDictionary) else DataDictionary({b.symbol: b for b in bars or []}))
        self.quote_bars: DataDictionary[QuoteBar] = (
            quotes if isinstance(quotes, DataDictionary) else DataDictionary({q.symbol: q for q in quotes or []}))
        self.option_chains: DataDictionary[OptionChain] = DataDictionary({c.symbol: c for c in chains or []})
        self.delistings: DataDictionary[Delisting] = DataDictionary({d.symbol: d for d in delistings or []})
        self.symbol_changed_events: DataDictionary[SymbolChangedEvent] = DataDictionary(
            {e.symbol: e for e in symbol_changed_events or []})
        self.splits: DataDictionary[Any] = DataDictionary()
        self.dividends: DataDictionary[Dividend] = DataDictionary({d.symbol: d for d in dividends or []})
        self.futures_chains: DataDictionary[Any] = DataDictionary()

    @property
    def has_data(self) -> bool:
        return bool(len(self.bars) or len(self.quote_bars) or len(self.option_chains) or len(self.delistings)
                    or len(self.symbol_changed_events) or len(self.dividends))

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self.bars or symbol in self.quote_bars or symbol in self.option_chains

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, Symbol) and self.contains_key(symbol)

    def __getitem__(self, symbol: Symbol) -> Any:
        for source in (self.bars, self.quote_bars, self.option_chains):
            if symbol in source:
                return source[symbol]
        raise KeyError(f"'{symbol}' wasn't found in the Slice object")

    def get(self, symbol: Symbol, default: Any = None) -> Any:
        return self[symbol] if self.contains_key(symbol) else default


class SecurityChanges(Strict):
    """What ``on_securities_changed`` receives: securities added to and removed from universes."""

    def __init__(self, added: list[Any], removed: list[Any]) -> None:
        self.added_securities, self.removed_securities = list(added), list(removed)

    def __str__(self) -> str:
        return (f"SecurityChanges: Added: {', '.join(str(s.symbol) for s in self.added_securities)} "
                f"Removed: {', '.join(str(s.symbol) for s in self.removed_securities)}")
