"""The offline replay: run ``main.py`` over LEAN-format data without Docker, day by day.

For each trading day in the window (the underlying's market hours decide), the runner reads that
day's files, then for every regular-session minute: moves the clock, lets resting orders fill
against the minute's quotes, fires due scheduled events, and delivers the slice to ``on_data``.
After the close, options expiring that day are settled. Only one day of data is in memory at a time.
LEAN stays the reference engine: see :mod:`replay.engine.broker` and :mod:`replay.engine.feed` for
what is modelled.
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from replay.data import DataEvent, LeanDataReader
from replay.engine import double as ld
from replay.engine.broker import SimulatedBroker
from replay.engine.feed import DATA_TYPE, DayFeed, FeedBuilder, Subscriptions
from replay.engine.rates import RateCurve


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
    """One replay: the LEAN data folder, LEAN parameters, where results go, the fee per contract ($)."""

    data: Path
    parameters: dict[str, str]
    out: Path | None = None
    fee_per_contract: float = 1.0
    progress: TextIO | None = None


@dataclasses.dataclass
class EquityPoint:
    time: datetime
    equity: float


@dataclasses.dataclass
class ReplayRun:
    """Everything a run produced, for the statistics and the files in ``--out``."""

    algorithm: Any
    broker: SimulatedBroker
    equity: list[EquityPoint]
    days_run: list[date]
    days_without_underlying: list[date]
    closed_days: list[date]
    data_events: list[DataEvent]
    slices: int = 0
    contract_quotes: int = 0
    unsettled: list[str] = dataclasses.field(default_factory=list)


class _Clock:
    """Where the replay is: the current day's feed and minute (for fills and the price model)."""

    def __init__(self) -> None:
        self.feed: DayFeed | None = None
        self.slot = 0

    def quote(self, symbol: ld.Symbol) -> tuple[float, float, float] | None:
        return self.feed.quote(symbol, self.slot) if self.feed is not None else None


def _weekdays(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)
            if (start + timedelta(days=i)).weekday() < 5]


def _load_history(algorithm: Any, reader: LeanDataReader, symbols: list[ld.Symbol]) -> None:
    """Daily bars for ``history`` requests (the double returns those dated before the current day)."""
    for symbol in symbols:
        bars = reader.daily(DATA_TYPE[symbol.security_type], symbol.value.lower())
        if bars is None:
            continue
        algorithm.daily_history[symbol] = [
            (d.astype(date), float(o), float(h), float(lo), float(c), float(v))
            for d, o, h, lo, c, v in zip(bars.dates, bars.open, bars.high, bars.low, bars.close, bars.volume)]


class MinuteHistory:
    """Minute bars of one series between two times, from the LEAN files (for ``history`` requests)."""

    def __init__(self, reader: LeanDataReader, symbol: ld.Symbol) -> None:
        self.reader, self.symbol = reader, symbol
        self._days: dict[date, list[tuple[Any, ...]]] = {}

    def _day(self, day: date) -> list[tuple[Any, ...]]:
        if day not in self._days:
            minute = self.reader.minute(DATA_TYPE[self.symbol.security_type], self.symbol.value.lower(), day)
            bars = minute.trades
            midnight = datetime.combine(day, datetime.min.time())
            self._days[day] = [] if bars is None else [
                (midnight + timedelta(milliseconds=int(end)), o, h, lo, c, v)
                for end, o, h, lo, c, v in zip(bars.end_times.tolist(), bars.open.tolist(), bars.high.tolist(),
                                               bars.low.tolist(), bars.close.tolist(), bars.volume.tolist())]
        return self._days[day]

    def __call__(self, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        kind, ticker = DATA_TYPE[self.symbol.security_type], self.symbol.value.lower()
        for day in _weekdays(start.date(), end.date()):
            if self.reader.session_grid(kind, ticker, day) is not None:  # holidays have no file to read
                rows += [r for r in self._day(day) if start <= r[0] < end]
        return rows


def _mark_prices(algorithm: Any, clock: _Clock) -> None:
    """Security prices as LEAN keeps them: quote mid when both sides exist, else the last trade."""
    for holding in algorithm.portfolio.values():
        quote = clock.quote(holding.symbol)
        if quote is None:
            continue
        bid, ask, last = quote
        mark = (bid + ask) / 2 if bid == bid and ask == ask and ask > 0 else last
        if mark == mark:
            algorithm.securities[holding.symbol].price = mark


class Replay:
    """Drives one algorithm through the data; :meth:`run` returns a :class:`ReplayRun`."""

    def __init__(self, config: ReplayConfig) -> None:
        self.config = config
        self.events: list[DataEvent] = []
        self.reader = LeanDataReader(config.data, on_event=self.events.append)
        self.clock = _Clock()
        self.broker = SimulatedBroker(self.clock.quote, config.fee_per_contract, combo_market_allowed=True)
        self.algorithm = ld.start_algorithm(config.parameters, live_mode=False, prepare=self._prepare)
        self.broker.combo_market_allowed = (
            self.algorithm.brokerage is None or self.algorithm.brokerage[0] is not ld.BrokerageName.TASTYTRADE
        )
        self.subs = Subscriptions.from_algorithm(self.algorithm)
        self.builder = FeedBuilder(self.reader, self.algorithm, self.subs)
        _load_history(self.algorithm, self.reader, [self.subs.underlying, *self.subs.indexes])
        self.algorithm.minute_history[self.subs.underlying] = MinuteHistory(self.reader, self.subs.underlying)

    def _prepare(self, algorithm: Any) -> None:
        ld.DividendYieldProvider.data_root = self.config.data
        rates = RateCurve.load(self.config.data)
        if rates is None:
            self.events.append(DataEvent("missing", self.config.data / RateCurve.RELATIVE_PATH,
                                         "risk-free rate: Greeks of held options are unavailable"))
        else:
            algorithm.risk_free_interest_rate_model = ld.InterestRateModel(rates.at)
        store = (self.config.out / "storage") if self.config.out is not None else None
        if store is not None:
            algorithm.use_object_store(store)
        algorithm.brokerage_sim = self.broker
        algorithm.transactions.on_cancel = lambda: self.broker.cancel_all(algorithm)
        algorithm.transactions.on_cancel_order = lambda order_id: self.broker.cancel_order(algorithm, order_id)

    def run(self) -> ReplayRun:
        algorithm = self.algorithm
        assert algorithm.start_date is not None and algorithm.end_date is not None
        days = _weekdays(algorithm.start_date, algorithm.end_date)
        result = ReplayRun(algorithm, self.broker, [], [], [], [], self.events)
        for number, day in enumerate(days, 1):
            self._progress(number, len(days), day)
            grid = self.builder.session(day)
            if grid is None:
                result.closed_days.append(day)
                continue
            feed = self.builder.build(day, grid)
            if not feed.series[0].fresh.any():
                result.days_without_underlying.append(day)
            self._run_day(feed, result)
            result.days_run.append(day)
        algorithm.on_end_of_algorithm()
        if self.config.progress is not None:
            self.config.progress.write("\n")
        return result

    def _run_day(self, feed: DayFeed, result: ReplayRun) -> None:
        algorithm, clock = self.algorithm, self.clock
        clock.feed = feed
        open_at, close_at = feed.time_at(0) - timedelta(minutes=1), feed.time_at(feed.grid.n - 1)
        previous = open_at - timedelta(seconds=1)
        for slot in range(feed.grid.n):
            clock.slot = slot
            now = feed.time_at(slot)
            algorithm.time = now
            data = feed.slice_at(slot)
            self.broker.process(algorithm)
            for event in algorithm.schedule.due(previous, now, open_at, close_at):
                event.callback()
            previous = now
            algorithm.on_data(data)
            _mark_prices(algorithm, clock)
            result.equity.append(EquityPoint(now, float(algorithm.portfolio.total_portfolio_value)))
            result.slices += 1
            chains = data.option_chains
            if feed.chain_symbol is not None and chains.contains_key(feed.chain_symbol):
                result.contract_quotes += len(chains[feed.chain_symbol])
        result.unsettled += [f"{feed.day}: {name} (no underlying settlement price that day)"
                             for name in self.broker.settle_expiries(algorithm, feed.day, feed.settlement_price)]

    def _progress(self, number: int, total: int, day: date) -> None:
        stream = self.config.progress
        if stream is None:
            return
        width = 30
        done = int(width * number / total)
        stream.write(f"\r[{'#' * done}{'.' * (width - done)}] {number}/{total} {day.isoformat()}")
        stream.flush()


def run_replay(config: ReplayConfig) -> ReplayRun:
    return Replay(config).run()


ProgressFactory = Callable[[], TextIO]


def default_progress() -> TextIO:
    return sys.stderr
