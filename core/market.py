"""Plain market values built once per bar from LEAN's slice; every component reads only these.

Prices are per share (an option's price per share, not per contract). Times are New York wall-clock
``datetime`` values, as LEAN's ``self.time`` gives them in an algorithm whose time zone is New York.
A value the data cannot give is a :class:`Reading` that says why it is unavailable: nothing here
invents a number.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class Reading:
    """A measured value, or the reason it could not be measured."""

    value: float | None
    reason: str = ""
    as_of: datetime | None = None

    @property
    def available(self) -> bool:
        return self.value is not None

    @staticmethod
    def missing(reason: str) -> Reading:
        return Reading(None, reason, None)

    def describe(self, digits: int = 2, unit: str = "") -> str:
        """The value with its unit, or "unavailable (reason)" (never a number that was not measured)."""
        return f"{self.value:.{digits}f}{unit}" if self.value is not None else f"unavailable ({self.reason})"


@dataclasses.dataclass(frozen=True)
class ContractSpec:
    """One listed option contract, identified the way a broker and a trader would."""

    underlying: str
    root: str
    expiry: date
    strike: float
    is_call: bool
    multiplier: float
    settles_at_open: bool = False  # AM-settled (standard SPX monthlies); else PM at 16:00 New York

    def describe(self) -> str:
        right = "C" if self.is_call else "P"
        return f"{self.root} {self.expiry.isoformat()} {self.strike:g}{right}"


@dataclasses.dataclass(frozen=True)
class ChainColumns:
    """An option chain as aligned column arrays (one row per contract) for vectorised work.

    ``bid``/``ask``/``last`` are per share and NaN where the data has none; ``volume`` is today's
    contracts traded, ``open_interest`` contracts. ``lean_iv`` is LEAN's own model IV (NaN when
    LEAN has none), kept only as a marked fallback. ``quote_age_minutes`` is the time since the
    contract's last real (not fill-forward) quote, NaN when none has been seen.
    """

    contracts: tuple[ContractSpec, ...]
    strike: FloatArray
    expiry: NDArray[np.datetime64]
    is_call: NDArray[np.bool_]
    bid: FloatArray
    ask: FloatArray
    last: FloatArray
    volume: FloatArray
    open_interest: FloatArray
    multiplier: FloatArray
    lean_iv: FloatArray
    quote_age_minutes: FloatArray

    def __len__(self) -> int:
        return len(self.contracts)

    @staticmethod
    def empty() -> ChainColumns:
        nothing = np.empty(0, dtype=np.float64)
        return ChainColumns(
            contracts=(), strike=nothing, expiry=np.empty(0, dtype="datetime64[D]"),
            is_call=np.empty(0, dtype=np.bool_), bid=nothing, ask=nothing, last=nothing,
            volume=nothing, open_interest=nothing, multiplier=nothing, lean_iv=nothing,
            quote_age_minutes=nothing)

    @staticmethod
    def from_rows(contracts: list[ContractSpec], quotes: list[tuple[float, ...]]) -> ChainColumns:
        """Build from per-contract tuples ``(bid, ask, last, volume, open_interest, lean_iv, quote_age)``;
        a tuple without the age means the quote is current (age 0)."""
        if not contracts:
            return ChainColumns.empty()
        rows = [q if len(q) == 7 else (*q, 0.0) for q in quotes]
        table = np.asarray(rows, dtype=np.float64).reshape(len(contracts), 7)
        return ChainColumns(
            contracts=tuple(contracts),
            strike=np.fromiter((c.strike for c in contracts), np.float64, len(contracts)),
            expiry=np.array([c.expiry for c in contracts], dtype="datetime64[D]"),
            is_call=np.fromiter((c.is_call for c in contracts), np.bool_, len(contracts)),
            bid=table[:, 0], ask=table[:, 1], last=table[:, 2], volume=table[:, 3],
            open_interest=table[:, 4],
            multiplier=np.fromiter((c.multiplier for c in contracts), np.float64, len(contracts)),
            lean_iv=table[:, 5], quote_age_minutes=table[:, 6])

    @functools.cached_property
    def row_of(self) -> dict[ContractSpec, int]:
        """Each contract's row (built once per chain: exits look legs up every minute)."""
        return {c: i for i, c in enumerate(self.contracts)}

    def expiries(self) -> list[date]:
        """Distinct expiries present in the chain, ascending."""
        return [d.astype(date) for d in np.unique(self.expiry)]

    def has_expiry(self, day: date) -> bool:
        return bool(np.any(self.expiry == np.datetime64(day, "D")))


class ContractTable:
    """Every contract seen, with its fixed columns (strike, expiry, right, multiplier) stored once.

    Why: a minute's chain is hundreds of contracts that are almost always the same ones; converting each
    contract's identity again every minute (dates to ``datetime64`` above all) was most of a replay's
    time. A bar's chain is built by indexing these arrays with the rows of the contracts it holds.
    Keys are whatever identifies a contract to the caller (LEAN's ``Symbol`` in ``main.py``).
    """

    def __init__(self) -> None:
        self._rows: dict[object, int] = {}
        self.contracts: list[ContractSpec] = []
        self._arrays: tuple[FloatArray, NDArray[np.datetime64], NDArray[np.bool_], FloatArray] | None = None

    def row(self, key: object) -> int | None:
        return self._rows.get(key)

    def add(self, key: object, contract: ContractSpec) -> int:
        """Register ``contract`` under ``key`` (once) and return its row."""
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = len(self.contracts)
            self.contracts.append(contract)
            self._arrays = None
        return row

    def is_call(self, row: int) -> bool:
        return self.contracts[row].is_call

    def columns(self, rows: list[int], quotes: list[tuple[float, ...]]) -> ChainColumns:
        """The chain of the contracts at ``rows`` with their per-bar ``(bid, ask, last, volume,
        open_interest, lean_iv, quote_age)`` tuples, in the same order."""
        if not rows:
            return ChainColumns.empty()
        if self._arrays is None:
            c = self.contracts
            self._arrays = (np.fromiter((x.strike for x in c), np.float64, len(c)),
                            np.array([x.expiry for x in c], dtype="datetime64[D]"),
                            np.fromiter((x.is_call for x in c), np.bool_, len(c)),
                            np.fromiter((x.multiplier for x in c), np.float64, len(c)))
        strike, expiry, is_call, multiplier = self._arrays
        index = np.asarray(rows, dtype=np.intp)
        table = np.asarray(quotes, dtype=np.float64).reshape(len(rows), 7)
        contracts = self.contracts
        return ChainColumns(
            contracts=tuple(contracts[r] for r in rows), strike=strike[index], expiry=expiry[index],
            is_call=is_call[index], bid=table[:, 0], ask=table[:, 1], last=table[:, 2], volume=table[:, 3],
            open_interest=table[:, 4], multiplier=multiplier[index], lean_iv=table[:, 5],
            quote_age_minutes=table[:, 6])


@dataclasses.dataclass(frozen=True)
class SeriesBar:
    """One real (not fill-forward) minute bar of a followed series: ``underlying``, ``vix``,
    ``vix9d``, ``future``, ``beta`` or ``breadth:<ticker>``. ``bid``/``ask`` NaN without quotes."""

    name: str
    close: float
    open: float = float("nan")
    bid: float = float("nan")
    ask: float = float("nan")
    volume: float = 0.0


@dataclasses.dataclass(frozen=True)
class SeriesState:
    """The latest real (not fill-forward) data seen for one price series today."""

    name: str
    price: Reading
    day_open: Reading
    previous_close: Reading
    bid: float = float("nan")
    ask: float = float("nan")
    volume_today: float = 0.0

    @property
    def available(self) -> bool:
        return self.price.available

    def move_from_open_pct(self) -> Reading:
        """Percent move from today's first regular-session price, or why it is unknown."""
        if self.price.value is None:
            return Reading.missing(f"{self.name} price {self.price.reason}")
        if self.day_open.value is None or self.day_open.value <= 0:
            return Reading.missing(f"{self.name} open {self.day_open.reason or 'not positive'}")
        move = (self.price.value - self.day_open.value) / self.day_open.value * 100.0
        return Reading(move, as_of=self.price.as_of)


@dataclasses.dataclass(frozen=True)
class BookPosition:
    """A holding: signed quantity in contracts/shares and the multiplier that makes it dollars.

    ``underlying`` names what its delta is exposure to (the option's underlying, or the stock/future
    itself) and ``underlying_price`` is that price now (NaN when unknown), for dollar delta.
    """

    name: str
    quantity: float
    multiplier: float
    contract: ContractSpec | None = None
    underlying: str = ""
    underlying_price: float = float("nan")


@dataclasses.dataclass(frozen=True)
class MarketSnapshot:
    """Everything the components see about one bar."""

    time: datetime
    underlying: SeriesState
    vix: SeriesState
    vix9d: SeriesState
    future: SeriesState
    chain: ChainColumns
    positions: tuple[BookPosition, ...]
    portfolio_value: float

    @property
    def today(self) -> date:
        return self.time.date()

    def is_friday(self) -> bool:
        """Friday on the New York calendar (the caller's clock is New York time)."""
        return self.time.weekday() == 4

    def has_same_day_expiry(self) -> bool:
        return self.chain.has_expiry(self.today)


class SeriesTracker:
    """Keeps, per series, the last real bar, today's open and the previous session's close.

    LEAN fills bars forward when a series has no data; ``main.py`` feeds only real bars here, so a
    series with no data today reads "no data today" instead of yesterday's price. The previous close
    is only ever the close of the *previous session* (from LEAN history, or the last bar seen that
    day): a close from an older day is reported unavailable, never used as yesterday's.
    """

    def __init__(self, name: str, stale_after: timedelta) -> None:
        self.name = name
        self.stale_after = stale_after
        self._day: date | None = None
        self._open: float | None = None
        self._last: float | None = None
        self._last_time: datetime | None = None
        self._previous_close: Reading = Reading.missing("no previous close known")
        self._bid = float("nan")
        self._ask = float("nan")
        self._volume = 0.0
        self.days_with_data: set[date] = set()

    def begin_day(self, day: date, previous_session: date, history_close: tuple[date, float] | None = None,
                  last_bar_is_close: bool = True) -> None:
        """Start ``day``: the previous close is the history bar or (unless ``last_bar_is_close`` is off, as
        for a future whose last bar may be another contract's) the last bar dated ``previous_session``."""
        self._day, self._open, self._volume = day, None, 0.0
        if history_close is not None and history_close[0] == previous_session and history_close[1] > 0:
            self._previous_close = Reading(history_close[1])
        elif (last_bar_is_close and self._last is not None and self._last_time is not None
                and self._last_time.date() == previous_session):
            self._previous_close = Reading(self._last)
        else:
            self._previous_close = Reading.missing(f"no {self.name} close for the previous session "
                                                   f"{previous_session.isoformat()}")

    def record(self, when: datetime, price: float, bid: float = float("nan"), ask: float = float("nan"),
               volume: float = 0.0, open_price: float = float("nan")) -> None:
        """Record one real bar: its close as ``price`` and, for the day's first bar, its ``open_price``
        as today's open (the close when the bar has no open). Non-finite or non-positive prices are ignored."""
        if not np.isfinite(price) or price <= 0:
            return
        if self._day != when.date():
            self._day, self._open, self._volume = when.date(), None, 0.0
            self._previous_close = Reading.missing("session start not seen")
        if self._open is None:
            self._open = open_price if np.isfinite(open_price) and open_price > 0 else price
        self._last, self._last_time = price, when
        self._bid, self._ask = bid, ask
        self._volume += volume if np.isfinite(volume) else 0.0
        self.days_with_data.add(when.date())

    def state(self, now: datetime) -> SeriesState:
        """What is known at ``now``; a price older than ``stale_after`` or from another day is unavailable."""
        if self._last is None or self._last_time is None:
            price = Reading.missing("no data received")
        elif self._last_time.date() != now.date():
            price = Reading.missing(f"no data today (last {self._last_time:%Y-%m-%d %H:%M})")
        elif now - self._last_time > self.stale_after:
            price = Reading.missing(f"stale since {self._last_time:%H:%M}")
        else:
            price = Reading(self._last, as_of=self._last_time)
        today = self._day == now.date()
        day_open = Reading(self._open) if today and self._open is not None else Reading.missing("no data today")
        previous = self._previous_close if today else Reading.missing("session start not seen")
        return SeriesState(self.name, price, day_open, previous, self._bid, self._ask,
                           self._volume if today else 0.0)

    @property
    def last_time(self) -> datetime | None:
        """When the last real bar arrived (None if none ever did)."""
        return self._last_time

    def last_close_on(self, day: date) -> float | None:
        """The last real price recorded on ``day`` (None if the series had no data that day)."""
        if self._last_time is not None and self._last_time.date() == day:
            return self._last
        return None


CME_SETTLEMENT = time(16, 0)  # the E-mini bar whose close is the cash session's close


class Series:
    """The followed series (underlying, VIX, VIX9D, E-mini, beta reference, breadth members) by name.

    The previous close of the underlying and the breadth members comes from LEAN's daily history, the
    others' from their last bar of the previous session: the E-mini's from its own 16:00 bar, and only
    when the same contract is still the front (across a roll the difference would be carry, not a move).
    """

    def __init__(self, underlying: str, beta_reference: str, breadth_tickers: list[str], stale_after: timedelta
                 ) -> None:
        self.trackers = {
            "underlying": SeriesTracker(underlying, stale_after),
            "vix": SeriesTracker("VIX", stale_after),
            "vix9d": SeriesTracker("VIX9D", stale_after),
            "future": SeriesTracker("ES", stale_after),
        }
        if beta_reference.upper() != underlying.upper():
            self.trackers["beta"] = SeriesTracker(beta_reference.upper(), stale_after)
        self.breadth_tickers = list(breadth_tickers)
        for ticker in self.breadth_tickers:
            self.trackers[f"breadth:{ticker}"] = SeriesTracker(ticker, stale_after)
        self._future_close: dict[date, tuple[float, str]] = {}

    def __getitem__(self, name: str) -> SeriesTracker:
        return self.trackers[name]

    def state(self, name: str, now: datetime) -> SeriesState:
        return self.trackers[name].state(now)

    def record(self, now: datetime, bars: Iterable[SeriesBar], future_contract: str) -> None:
        for bar in bars:
            tracker = self.trackers.get(bar.name)
            if tracker is None:
                continue
            tracker.record(now, bar.close, bar.bid, bar.ask, bar.volume, bar.open)
            if bar.name == "future" and now.time() == CME_SETTLEMENT:
                self._future_close[now.date()] = (bar.close, future_contract)

    def daily_close_series(self) -> list[str]:
        """The series whose previous close comes from LEAN's daily history."""
        return ["underlying", *(f"breadth:{t}" for t in self.breadth_tickers)]

    def begin_day(self, day: date, previous_session: date, closes: dict[str, tuple[date, float] | None],
                  future_contract: str) -> None:
        """``closes``: (session, close) from LEAN's daily history for :meth:`daily_close_series`."""
        closes = dict(closes)
        stored = self._future_close.get(previous_session)
        same = stored is not None and stored[1] == future_contract
        closes["future"] = (previous_session, stored[0]) if stored is not None and same else None
        for name, tracker in self.trackers.items():
            tracker.begin_day(day, previous_session, closes.get(name), last_bar_is_close=name != "future")

    def change_pct(self, name: str, now: datetime) -> Reading:
        """Percent change of a series' price vs its previous session close."""
        state = self.state(name, now)
        if state.price.value is None or state.previous_close.value is None:
            return Reading.missing(state.price.reason or state.previous_close.reason)
        return Reading((state.price.value / state.previous_close.value - 1.0) * 100.0)

    def missing_on(self, day: date) -> list[str]:
        return [t.name for t in self.trackers.values() if day not in t.days_with_data]

    def data_age_minutes(self, name: str, now: datetime, session_start: datetime | None, required: bool
                         ) -> float | None:
        """Minutes without a new bar in this session; None for an optional series never seen at all
        (a backtest without VIX data has nothing to be stale)."""
        last = self.trackers[name].last_time
        if last is None and not required:
            return None
        known = [t for t in (last, session_start) if t is not None]
        return (now - max(known)).total_seconds() / 60.0 if known else 0.0
