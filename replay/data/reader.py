"""Readers for LEAN's on-disk market data: the data layer of the offline replay runner.

Entry point: :class:`LeanDataReader` over a LEAN ``data`` folder. It reads one (security, day) at a
time, so memory stays bounded by one day (a full GOOG chain day is ~50 MB of dense arrays).

Conventions (details in the other modules of :mod:`replay.data`):

* Times: int64 ms since midnight New York of the file's date, bar START as in the files; a minute bar
  is emitted by LEAN at start + 60000 (``end_times``). SPX index files (Chicago time) and ES futures
  files (UTC day) are converted.
* Prices: unscaled floats (equity/option/index-option files are x10000, index and futures are not).
* Missing files: recorded once per path in ``reader.log`` (and passed to ``on_event``); the read
  returns None for that part and the run goes on. Unreadable/malformed files raise
  :class:`LeanDataError` naming path, CSV member and line.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from replay.data.bars import DailyBars, QuoteBars, TradeBars, read_daily_bars, read_single_minute
from replay.data.chain import FutureChainDay, OptionChainDay, OptionKey, read_future_chain, read_option_chain
from replay.data.dense import DenseChain, MinuteGrid, dense_chain, dense_security
from replay.data.errors import DataEvent, DataLog
from replay.data.market import contract_multiplier, data_time_zone, market_hours
from replay.data.paths import (
    PRICE_SCALE,
    TICK_TYPES,
    SecurityType,
    TickType,
    available_dates,
    available_universe_dates,
    bar_zip_path,
    minute_zip_candidates,
    option_underlying,
    resolve_minute_zip,
    universe_path,
)
from replay.data.universe import OptionUniverse, chain_from_universe, read_option_universe

_DEFAULT_TICKS: dict[SecurityType, tuple[TickType, ...]] = {
    SecurityType.EQUITY: ("trade", "quote"),
    SecurityType.INDEX: ("trade",),  # LEAN has no index quote files
    SecurityType.OPTION: TICK_TYPES,
    SecurityType.INDEX_OPTION: TICK_TYPES,
    SecurityType.FUTURE: TICK_TYPES,
}


@dataclass(frozen=True)
class MinuteDay:
    """One day of one equity or index; a tick type whose file is missing is None."""

    sec: SecurityType
    ticker: str
    day: dt.date
    trades: TradeBars | None
    quotes: QuoteBars | None

    def dense(self, grid: MinuteGrid | None = None, session_only: bool = True) -> DenseChain:
        """Aligned (1, grid.n) arrays; default grid = regular session 09:31..16:00 emissions."""
        return dense_security(grid or MinuteGrid.regular(), self.quotes, self.trades, None, session_only)


class LeanDataReader:
    """Reads LEAN-format minute, daily and universe files under ``root``, one day per call."""

    def __init__(self, root: Path | str, on_event: Callable[[DataEvent], None] | None = None):
        self.root = Path(root)
        self.log = DataLog(on_event)
        self._daily: dict[tuple[SecurityType, str, str], DailyBars | None] = {}

    @property
    def missing(self) -> list[DataEvent]:
        """Missing files seen so far, each once."""
        return self.log.missing

    # -- locating ---------------------------------------------------------------------------------

    def _day_zip(self, sec: SecurityType, ticker: str, day: dt.date, tick: TickType, market: str | None) -> Path | None:
        found = resolve_minute_zip(self.root, sec, ticker, day, tick, market)
        if found is None:
            expected = minute_zip_candidates(self.root, sec, ticker, day, tick, market)[0]
            self.log.record("missing", expected, f"{sec.value} {ticker} {tick} {day:%Y-%m-%d}")
            return None
        if found.quirk:
            self.log.record("quirk", found.path, found.quirk)
        return found.path

    def _day_zips(
        self, sec: SecurityType, ticker: str, day: dt.date, ticks: Sequence[TickType] | None, market: str | None
    ) -> dict[str, Path]:
        paths = {t: self._day_zip(sec, ticker, day, t, market) for t in ticks or _DEFAULT_TICKS[sec]}
        return {t: p for t, p in paths.items() if p is not None}

    # -- minute data ------------------------------------------------------------------------------

    def minute(
        self,
        sec: SecurityType,
        ticker: str,
        day: dt.date,
        ticks: Sequence[TickType] | None = None,
        market: str | None = None,
    ) -> MinuteDay:
        """Trade and quote minute bars of one equity or index (index: trades only)."""
        if sec not in (SecurityType.EQUITY, SecurityType.INDEX):
            raise ValueError(f"minute() reads equities and indexes, not {sec.value}; use option_chain/future_chain")
        zone = data_time_zone(self.root, sec, ticker, market)
        scale = PRICE_SCALE[sec]
        paths = self._day_zips(sec, ticker, day, ticks, market)
        bars = {t: read_single_minute(p, t, day, zone, scale) for t, p in paths.items()}
        trades, quotes = bars.get("trade"), bars.get("quote")
        assert trades is None or isinstance(trades, TradeBars)
        assert quotes is None or isinstance(quotes, QuoteBars)
        return MinuteDay(sec, ticker.lower(), day, trades, quotes)

    def option_chain(
        self,
        ticker: str,
        day: dt.date,
        sec: SecurityType = SecurityType.OPTION,
        ticks: Sequence[TickType] | None = None,
        market: str | None = None,
        wanted: Callable[[OptionKey], bool] | None = None,
    ) -> OptionChainDay | None:
        """Chain of ``ticker`` (e.g. ``goog``; ``spxw`` with sec=INDEX_OPTION), all contracts or those
        ``wanted`` accepts by ``(expiry, is_call, strike x 10000)``; None if no file."""
        if not sec.is_option:
            raise ValueError(f"{sec.value} is not an option type")
        paths = self._day_zips(sec, ticker, day, ticks, market)
        if not paths:
            return None
        zone = data_time_zone(self.root, sec, ticker, market)
        mult = contract_multiplier(self.root, sec, ticker, market)
        return read_option_chain(paths, day, ticker, option_underlying(ticker), zone, PRICE_SCALE[sec], mult, wanted)

    def future_chain(
        self, ticker: str, day: dt.date, ticks: Sequence[TickType] | None = None, market: str | None = None
    ) -> FutureChainDay | None:
        """All contracts of a future on one file day (a UTC day for CME); None if no file."""
        sec = SecurityType.FUTURE
        paths = self._day_zips(sec, ticker, day, ticks, market)
        if not paths:
            return None
        zone = data_time_zone(self.root, sec, ticker, market)
        mult = contract_multiplier(self.root, sec, ticker, market)
        return read_future_chain(paths, day, ticker, zone, PRICE_SCALE[sec], mult)

    # -- daily, universes, calendar ---------------------------------------------------------------

    def daily(
        self, sec: SecurityType, ticker: str, resolution: str = "daily", market: str | None = None
    ) -> DailyBars | None:
        """All daily (or hour) bars of a ticker, cached; None (logged) if the zip is missing."""
        key = (sec, ticker.lower(), resolution)
        if key not in self._daily:
            path = bar_zip_path(self.root, sec, ticker, resolution, market)
            if path.is_file():
                self._daily[key] = read_daily_bars(path, PRICE_SCALE[sec])
            else:
                self.log.record("missing", path, f"{sec.value} {ticker} {resolution}")
                self._daily[key] = None
        return self._daily[key]

    def universe(
        self, sec: SecurityType, ticker: str, day: dt.date, market: str | None = None
    ) -> OptionUniverse | None:
        """The universe file dated exactly ``day`` (None, logged, if absent)."""
        path = universe_path(self.root, sec, ticker, day, market)
        if not path.is_file():
            self.log.record("missing", path, f"{sec.value} {ticker} universe {day:%Y-%m-%d}")
            return None
        return read_option_universe(path, day)

    def chain_universe(
        self, sec: SecurityType, ticker: str, day: dt.date, lookback_weekdays: int = 3, market: str | None = None
    ) -> OptionUniverse | None:
        """Contracts LEAN's chain provider would list on ``day`` (previous universe file, expiry >= day)."""
        return chain_from_universe(self.root, sec, ticker, day, self.log, lookback_weekdays, market)

    def available_dates(
        self,
        sec: SecurityType,
        ticker: str,
        start: dt.date,
        end: dt.date,
        tick: TickType | None = None,
        market: str | None = None,
    ) -> list[dt.date]:
        """Dates in [start, end] with a minute zip present (``tick`` type, or any)."""
        return available_dates(self.root, sec, ticker, start, end, tick, market)

    def universe_dates(self, sec: SecurityType, ticker: str, start: dt.date, end: dt.date) -> list[dt.date]:
        return available_universe_dates(self.root, sec, ticker, start, end)

    def session_grid(
        self, sec: SecurityType, ticker: str, day: dt.date, market: str | None = None
    ) -> MinuteGrid | None:
        """Regular-session grid from the market-hours database (holiday -> None, early close honoured)."""
        entry = market_hours(self.root, sec, ticker, market)
        if entry is None:
            return MinuteGrid.regular() if day.weekday() < 5 else None
        session = entry.session(day)
        return None if session is None else MinuteGrid.between(*session)

    def multiplier(self, sec: SecurityType, ticker: str, market: str | None = None) -> float:
        return contract_multiplier(self.root, sec, ticker, market)


def chain_dense(
    chain: OptionChainDay | FutureChainDay, grid: MinuteGrid | None = None, session_only: bool = True
) -> DenseChain:
    """Aligned (contracts x minutes) arrays of a chain day; default grid = regular session."""
    grid = grid or MinuteGrid.regular()
    return dense_chain(len(chain.contracts), grid, chain.quotes, chain.trades, chain.open_interest, session_only)

