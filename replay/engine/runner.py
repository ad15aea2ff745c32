"""The offline replay: run a LEAN Python algorithm over LEAN-format data without Docker.

The time loop follows ``Engine/AlgorithmManager.cs``. For each calendar day from the start date to the
end date:

1. at 00:00: option contracts delisted (the day after their delisting date, if a trading day follows
   within the backtest: ``DelistingEventProvider``) are exercised or expire; delisting warnings arrive
   on the delisting date; each option chain selects the day's contracts from the previous trading
   day's universe file; then, when there is something to deliver, the same step as a minute (below);
2. for each minute of the day's sessions (the bar that ended at that minute): the securities' caches
   move to the minute; open orders are scanned against the new data (fills); the exchange delistings
   of the slice are processed; scheduled events that are due fire; ``on_data`` gets the slice when it
   holds data; open orders are scanned again; the equity is sampled.

Orders are processed as they are sent (see :mod:`replay.engine.transactions`). Only one day of data
is in memory at a time. Statistics are sampled as LEAN's result handler samples them (daily at
midnight, every ``max(4 min, backtest length / 4000)`` and at the end).
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import sys
import types
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from replay.data import DataEvent, LeanDataReader
from replay.data.factor_files import dividend_after, factor_rows, split_after
from replay.data.map_files import delisting_date as equity_delisting_date, mapped_ticker, resolve_permtick
from replay.engine import double as ld
from replay.engine.chains import held_or_ordered
from replay.engine.dividends import DividendYieldProvider
from replay.engine.feed import BlockBars, BlockChain, DayBlock, build_day
from replay.engine.history import History
from replay.engine.iv import LeanIvModel
from replay.engine.lean_types import DataNormalizationMode, DelistingType, NotImplementedInDouble, SecurityType
from replay.engine.market_data import BaseData, Delisting, Dividend, OptionChain, Slice, SymbolChangedEvent
from replay.engine.marks import mid_marked_value
from replay.engine.rates import RateCurve
from replay.engine.transactions import TransactionManager
from replay.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
MAIN_PY = ROOT / "main.py"
SAMPLES = 4000  # BacktestingResultHandler: ~4000 equity samples per backtest
MINIMUM_SAMPLE_PERIOD = timedelta(minutes=4)


class ReplayInputError(UsageError, ValueError):
    """The run cannot start as configured (no dates, end before start...)."""


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
    """One replay: data folder, LEAN parameters, output folder, the algorithm file, optional date overrides."""

    data: Path
    parameters: dict[str, str]
    out: Path | None = None
    progress: TextIO | None = None
    algorithm: Path = MAIN_PY
    start: date | None = None
    end: date | None = None
    live_mode: bool = False
    store: Path | None = None  # the object store's folder (default: ``out/storage``, else a temporary one)
    account: BrokerageAccount | None = None  # what the brokerage reports at a (live) start
    resume_at: datetime | None = None  # a restart: the run starts at this minute (its date is the start date)
    stop_at: datetime | None = None  # the run is stopped after this minute's step, as a user stops a live run


@dataclasses.dataclass(frozen=True)
class BrokerageAccount:
    """Cash and holdings a brokerage reports when an algorithm starts: a stopped run's end state.

    LEAN's ``Engine/Setup/BrokerageSetupHandler.cs`` calls ``initialize`` first, then sets the cash from
    ``GetCashBalance`` and, for each of ``GetAccountHoldings``, adds the security when the algorithm did
    not request it and sets its holdings (average price, quantity). Open orders are not carried: a run is
    stopped where none are working (:func:`account_of` refuses otherwise)."""

    cash: float
    holdings: tuple[tuple[Any, float, float], ...]  # (symbol, quantity, average price)


def account_of(run: ReplayRun) -> BrokerageAccount:
    """The account a brokerage would report after ``run`` stopped (its cash and non-zero holdings)."""
    algorithm = run.algorithm
    working = run.broker.get_open_orders()
    if working:
        raise ReplayInputError(f"{len(working)} order(s) still working when the run stopped: cannot carry them")
    held = tuple((s.symbol, float(s.holdings.quantity), float(s.holdings.average_price))
                 for s in algorithm.portfolio.held.values())
    return BrokerageAccount(float(algorithm.portfolio.cash), held)


def load_account(algorithm: Any, account: BrokerageAccount) -> None:
    """Set the cash, then add each held security (an option contract as ``add_option_contract`` would)
    and its holdings, in ``BrokerageSetupHandler``'s order."""
    algorithm.portfolio.set_cash(account.cash)
    for symbol, quantity, average_price in account.holdings:
        security = algorithm.securities.get(symbol)
        if security is None:
            security = (algorithm.add_contract(symbol) if symbol.underlying is not None
                        else algorithm._plain(symbol, symbol.security_type))
        security.holdings.set_holdings(average_price, quantity)


@dataclasses.dataclass
class EquityPoint:
    time: datetime
    equity: float
    marked: float | None = None  # every quoted holding at its mid (the chart's curve, see replay.engine.marks)
    benchmark: float | None = None  # the benchmark's price (LEAN's "Benchmark" chart)


@dataclasses.dataclass
class ReplayRun:
    """Everything a run produced, for the statistics and the files in ``--out``."""

    algorithm: Any
    equity: list[EquityPoint]  # every time step (the chart)
    samples: list[EquityPoint]  # LEAN's equity samples (the statistics)
    daily_samples: int
    days_run: list[date]
    days_without_underlying: list[date]
    closed_days: list[date]
    data_events: list[DataEvent]
    slices: int = 0
    contract_quotes: int = 0

    @property
    def broker(self) -> TransactionManager:
        transactions: TransactionManager = self.algorithm.transactions
        return transactions

    @property
    def data_failure(self) -> Exception | None:
        """A malformed file an algorithm's ``history`` request met, even if the algorithm caught it."""
        failure: Exception | None = getattr(self.algorithm.history_source, "failure", None)
        return failure


def load_algorithm_class(path: Path) -> type:
    """Import the algorithm file (its folder first on ``sys.path``, as LEAN does) and return the one
    ``QCAlgorithm`` subclass it defines."""
    if not path.is_file():
        raise ReplayInputError(f"algorithm file not found: {path}")
    ld.install()
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path.resolve():
        module: types.ModuleType = existing
    else:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:  # no frame of the file to point at: say where the compiler stopped
            del sys.modules[name]
            raise ReplayInputError(f"{path} does not compile: {exc.msg} (line {exc.lineno})") from None
    try:
        return ld.algorithm_class(module)
    except ld.NotAnAlgorithm as exc:
        raise ReplayInputError(f"{path}: {exc} (LEAN runs that class)") from None


class Replay:
    """Drives one algorithm through the data; :meth:`run` returns a :class:`ReplayRun`."""

    def __init__(self, config: ReplayConfig) -> None:
        self.config = config
        self.events: list[DataEvent] = []
        self.reader = LeanDataReader(config.data, on_event=self.events.append)
        cls = load_algorithm_class(config.algorithm)
        algorithm = cls()
        algorithm.parameters = dict(config.parameters)
        algorithm.live_mode = config.live_mode
        self._prepare(algorithm)
        self.algorithm = algorithm
        algorithm.initialize()
        start = config.resume_at.date() if config.resume_at is not None else config.start
        if start is not None:
            algorithm.set_start_date(start)
        if config.end is not None:
            algorithm.set_end_date(config.end)
        if algorithm.start_date is None or algorithm.end_date is None:
            raise ReplayInputError(f"{config.algorithm.name} sets no start or end date: give --start and --end")
        if algorithm.end_date < algorithm.start_date:
            raise ReplayInputError(f"end date {algorithm.end_date} is before start date {algorithm.start_date}")
        if config.account is not None:
            load_account(algorithm, config.account)
        algorithm.set_locked()
        self.start, self.end = algorithm.start_date, algorithm.end_date
        algorithm.time = datetime.combine(self.start, time())
        self._iv: dict[Any, LeanIvModel] = {}
        self._previous = datetime.combine(self.start, time()) - timedelta(microseconds=1)
        total = datetime.combine(self.end, time(23, 59, 59)) - datetime.combine(self.start, time())
        self._sample_period = max(MINIMUM_SAMPLE_PERIOD, total / SAMPLES)
        self._next_sample = datetime.min
        self._tickers: dict[Any, str] = {}
        self._block: DayBlock | None = None  # the day being run
        self._pending_dividends: dict[Any, tuple[float, float]] = {}
        self._pending_splits: dict[Any, float] = {}

    def _prepare(self, algorithm: Any) -> None:
        """What LEAN has in place before ``initialize``: data folder, rates, object store."""
        DividendYieldProvider.data_root = self.config.data
        algorithm.data_root = self.config.data
        algorithm.reader = self.reader
        algorithm.history_source = History(algorithm, self.reader)
        rates = RateCurve.load(self.config.data)
        if rates is None:
            self.events.append(DataEvent("missing", self.config.data / RateCurve.RELATIVE_PATH,
                                         "risk-free rate: Greeks of held options are unavailable"))
        else:
            algorithm.risk_free_interest_rate_model = ld.InterestRateModel(rates.at)
        if self.config.store is not None:
            algorithm.use_object_store(self.config.store)
        elif self.config.out is not None:
            algorithm.use_object_store(self.config.out / "storage")

    # --- the loop -------------------------------------------------------------------------------------

    def run(self) -> ReplayRun:
        algorithm = self.algorithm
        days = [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]
        result = ReplayRun(algorithm, [], [], 0, [], [], [], self.events)
        algorithm.on_warmup_finished()  # AlgorithmManager calls it at the start when there is no warm-up
        for number, day in enumerate(days, 1):
            self._progress(number, len(days), day)
            self._midnight(day, result)
            if algorithm.quit_requested:
                break
            block = build_day(self.reader, day, self._subscribed())
            if block is None:
                if day.weekday() < 5:
                    result.closed_days.append(day)
                continue
            result.days_run.append(day)
            if self._underlying_missing(block):
                result.days_without_underlying.append(day)
            self._attach(block)
            try:
                self._run_day(result)
            finally:
                self._end_day()
            if algorithm.quit_requested:
                break
        algorithm.on_end_of_algorithm()
        self._sample(result, algorithm.time, force=True)
        if self.config.progress is not None:
            self.config.progress.write("\n")
        return result

    def _subscribed(self) -> list[Any]:
        return [s for s in self.algorithm.securities.values()
                if s.subscribed and not s.symbol.is_canonical() and not s.is_delisted]

    def _attach(self, block: DayBlock) -> None:
        self._block = block
        for security in block.rows:
            security.cache.attach(block, block.index[security.symbol])

    def _end_day(self) -> None:
        """The day's last data becomes each cache's carried data."""
        block = self._block
        if block is None:
            return
        block.slot = block.n - 1
        for security in block.rows:
            security.cache.detach()
        self._block = None

    def _run_day(self, result: ReplayRun) -> None:
        block = self._block
        assert block is not None
        chains = self._chain_rows(block)
        version = self.algorithm.securities.version
        slot = self._first_slot(block)
        while slot < block.n:
            if block.has_any[:, slot].any():
                block.slot = slot
                now = block.ends[slot]
                self.algorithm.time = now
                data = Slice(now, BlockBars(block, slot, quotes=False), BlockBars(block, slot, quotes=True),
                             self._chains_at(block, slot, chains))
                self._step(data, result)
                if self.config.stop_at is not None and now >= self.config.stop_at:
                    self.algorithm.quit(f"stopped at {self.config.stop_at}")
                result.slices += 1
                result.contract_quotes += sum(len(c) for c in data.option_chains.values())
                if self.algorithm.quit_requested:
                    return
                if self.algorithm.securities.version != version:
                    version = self.algorithm.securities.version
                    if any(s.symbol not in block.index for s in self._subscribed()):
                        block = self._add_subscriptions(block, now)
                        chains = self._chain_rows(block)
                        slot = block.slot
            slot += 1

    def _first_slot(self, block: DayBlock) -> int:
        """0, except on a restart's day: a live algorithm restarted at 11:00 sees no earlier bar of the
        day and none of its earlier scheduled events fire."""
        resume = self.config.resume_at
        if resume is None or block.day != resume.date():
            return 0
        self._previous = max(self._previous, resume)
        return next((j for j, end in enumerate(block.ends) if end > resume), block.n)

    def _add_subscriptions(self, block: DayBlock, now: datetime) -> DayBlock:
        """Securities added during the day (``add_option_contract`` in ``on_data``, a scheduled event): the
        day is read again with them, their data starting after ``now`` as a new LEAN subscription's does,
        and the loop continues from the same time step."""
        rebuilt = build_day(self.reader, block.day, self._subscribed())
        assert rebuilt is not None  # the day already had an open session
        rebuilt.slot = max(j for j, end in enumerate(rebuilt.ends) if end <= now)
        for security in block.rows:
            if security.symbol not in rebuilt.index:  # removed meanwhile: keeps today's data so far
                security.cache.detach()
        self._attach(rebuilt)
        return rebuilt

    def _step(self, data: Slice, result: ReplayRun, changes: Any = None) -> None:
        """One time step in ``AlgorithmManager`` order."""
        algorithm, now = self.algorithm, data.time
        algorithm.current_slice = data
        algorithm.transactions.scan()
        self._process_delistings(data)
        for moment, event in algorithm.schedule.due(self._previous, now):
            algorithm.time = moment
            event.callback()
            algorithm.time = now
        self._previous = now
        if changes is not None:
            algorithm.on_securities_changed(changes)
        self._apply_dividends(data)
        if len(data.delistings):
            algorithm.on_delistings(data.delistings)
        if len(data.symbol_changed_events):
            algorithm.on_symbol_changed_events(data.symbol_changed_events)
        if data.has_data:
            algorithm.on_data(data)
        algorithm.transactions.scan()
        value = float(algorithm.portfolio.total_portfolio_value)
        result.equity.append(EquityPoint(now, value, mid_marked_value(algorithm.portfolio, value), self._benchmark()))
        if now > self._next_sample:
            self._sample(result, now)

    def _benchmark(self) -> float | None:
        symbol = self.algorithm.benchmark
        security = self.algorithm.securities.get(symbol) if symbol is not None else None
        return float(security.price) if security is not None and security.price else None

    def _sample(self, result: ReplayRun, now: datetime, force: bool = False) -> None:
        if force or now > self._next_sample:
            self._next_sample = now + self._sample_period
            result.samples.append(EquityPoint(now, float(self.algorithm.portfolio.total_portfolio_value)))

    # --- midnight: delistings, universe selection, daily sample ----------------------------------------

    def _midnight(self, day: date, result: ReplayRun) -> None:
        algorithm = self.algorithm
        midnight = datetime.combine(day, time())
        algorithm.time = midnight
        result.samples.append(EquityPoint(midnight, float(algorithm.portfolio.total_portfolio_value)))
        result.daily_samples += 1
        delistings = self._delistings_due(day)
        renames = self._renames(day)
        dividends = self._corporate_events(day)
        changes = self._select(day)
        if delistings or renames or dividends or (changes is not None and changes.added_securities):
            data = Slice(midnight, delistings=delistings, symbol_changed_events=renames, dividends=dividends)
            self._step(data, result, changes)

    def _delistings_due(self, day: date) -> list[Delisting]:
        """Warnings on the delisting date; the delisting itself the next day when a trading day follows
        within the backtest (``DelistingEventProvider``)."""
        found = []
        for security in self.algorithm.securities.values():
            if not security.subscribed or security.is_delisted or security.symbol.is_canonical():
                continue
            last = self._delisting_date(security)
            if last is None:
                continue
            hours = security.exchange.hours
            if day == last and hours.is_date_open(day):
                found.append(Delisting(security.symbol, datetime.combine(last, time()), security.price,
                                       DelistingType.WARNING))
            if day == last + timedelta(days=1):
                following = hours.get_next_trading_day(last).date()
                if following <= self.end:
                    found.append(Delisting(security.symbol, datetime.combine(day, time()), security.price,
                                           DelistingType.DELISTED))
        return found

    def _delisting_date(self, security: Any) -> date | None:
        """Equity options: the last trading day on or before expiry (``OptionSymbol.GetLastDayOfTrading``);
        index options: the expiry; equities: the map file's delisting date."""
        symbol = security.symbol
        if symbol.security_type is SecurityType.OPTION and symbol.expiry is not None:
            last = symbol.expiry
            while not security.exchange.hours.is_date_open(last):
                last -= timedelta(days=1)
            return last
        if symbol.security_type is SecurityType.INDEX_OPTION:
            return symbol.expiry
        if symbol.security_type is SecurityType.EQUITY:
            return equity_delisting_date(self.config.data, symbol.value)
        return None

    def _process_delistings(self, data: Slice) -> None:
        """``BacktestingBrokerage.ProcessDelistings``: options first; an option holding is exercised or
        expires through an exercise order, another holding is liquidated; open orders are cancelled."""
        algorithm = self.algorithm
        ordered = sorted(data.delistings.values(), key=lambda d: not d.symbol.security_type.is_option)
        for delisting in ordered:
            if delisting.type is not DelistingType.DELISTED:
                continue
            security = algorithm.securities[delisting.symbol]
            if security.type.is_option:
                if security.holdings.quantity:
                    algorithm.transactions.exercise(security, -security.holdings.quantity)
            else:
                algorithm.transactions.liquidate_delisted(security)
            algorithm.transactions.cancel_open(security.symbol)
            security.is_delisted, security.is_tradable, security.subscribed = True, False, False
            for universe in algorithm.universes.values():
                if security.symbol in universe.members:
                    universe.members.remove(security.symbol)

    def _corporate_events(self, day: date) -> list[Dividend]:
        """``DividendEventProvider`` / ``SplitEventProvider`` on each trading day of a subscribed equity:
        a dividend the previous trading day announced is paid today; a split announced for today with
        raw-priced holdings (shares, or options on them) is not modelled and stops the run."""
        found: list[Dividend] = []
        midnight = datetime.combine(day, time())
        for security in self._subscribed():
            if security.type is not SecurityType.EQUITY or not security.exchange.hours.is_date_open(day):
                continue
            symbol = security.symbol
            rows = factor_rows(self.config.data, resolve_permtick(self.config.data, symbol.value, symbol.market)
                               or symbol.value, symbol.market)
            if not rows:
                continue
            dividend = self._pending_dividends.pop(symbol, None)
            if dividend is not None:
                found.append(Dividend(symbol, midnight, dividend[0], dividend[1]))
            if self._pending_splits.pop(symbol, None) is not None and self._holds_raw(security):
                raise NotImplementedInDouble(f"{symbol} splits on {day} while the algorithm holds it or options on it "
                                             "at raw prices: LEAN adjusts those holdings; the replay does not")
            announced = dividend_after(rows, day)
            if announced is not None:
                self._pending_dividends[symbol] = announced
            split = split_after(rows, day)
            if split is not None:
                self._pending_splits[symbol] = split
        return found

    def _holds_raw(self, equity: Any) -> bool:
        if equity.data_normalization_mode is not DataNormalizationMode.RAW:
            return False
        return any(s.symbol == equity.symbol or s.symbol.underlying == equity.symbol
                   for s in self.algorithm.portfolio.held.values())

    def _apply_dividends(self, data: Slice) -> None:
        """``SecurityPortfolioManager.ApplyDividend``: raw and split-adjusted holdings receive (shorts pay)
        the distribution in cash; adjusted prices already account for it."""
        portfolio = self.algorithm.portfolio
        for dividend in data.dividends.values():
            security = self.algorithm.securities[dividend.symbol]
            if security.data_normalization_mode in (DataNormalizationMode.RAW, DataNormalizationMode.SPLIT_ADJUSTED):
                portfolio.cash += security.holdings.quantity * dividend.distribution

    def _renames(self, day: date) -> list[SymbolChangedEvent]:
        """Equities whose map-file ticker changed since the previous day (``SymbolChangedEvent``)."""
        events = []
        for security in self.algorithm.securities.values():
            if (security.type is not SecurityType.EQUITY or not security.subscribed
                    or not security.exchange.hours.is_date_open(day)):
                continue  # LEAN's MappingEventProvider runs on the security's trading days
            ticker = mapped_ticker(self.config.data, security.symbol.value, day)
            before = self._tickers.get(security.symbol)
            self._tickers[security.symbol] = ticker
            if before is not None and before != ticker:
                events.append(SymbolChangedEvent(security.symbol, datetime.combine(day, time()), before.upper(),
                                                 ticker.upper()))
        return events

    def _select(self, day: date) -> Any:
        """Each chain's selection for ``day``; new contracts become securities."""
        algorithm = self.algorithm
        added, removed = [], []
        keep = held_or_ordered(algorithm)
        for universe in algorithm.universes.values():
            if not universe.canonical.exchange.hours.is_date_open(day):
                continue
            new, gone = universe.select(self.reader, day, keep)
            for symbol in new:
                added.append(algorithm.add_contract(symbol, resolution=universe.canonical.resolution,
                                                    fill_forward=universe.canonical.fill_forward))
            for symbol in gone:
                security = algorithm.securities[symbol]
                security.subscribed = False
                removed.append(security)
        if not added and not removed:
            return None
        return ld.SecurityChanges(added, removed)

    # --- slices -----------------------------------------------------------------------------------------

    def _chain_rows(self, block: DayBlock) -> list[tuple[Any, Any, Any]]:
        """(canonical symbol, row indices of its members in the block, underlying security) per chain."""
        import numpy as np

        out = []
        for canonical, universe in self.algorithm.universes.items():
            rows = [block.index[s] for s in universe.members if s in block.index]
            out.append((canonical, np.array(rows, dtype=np.int64), universe.canonical.underlying))
        return out

    def _chains_at(self, block: DayBlock, slot: int, chains: list[tuple[Any, Any, Any]]) -> list[OptionChain]:
        found: list[OptionChain] = []
        for canonical, rows, underlying in chains:
            if not rows.size or not block.has_any[rows, slot].any():
                continue
            found.append(BlockChain(block, canonical, rows, slot, self._underlying_data(block, slot, underlying),
                                    self._iv_model(underlying)))
        return found

    @staticmethod
    def _underlying_data(block: DayBlock, slot: int, underlying: Any) -> BaseData | None:
        if underlying is None:
            return None
        row = block.index.get(underlying.symbol)
        if row is not None and block.has_t[row, slot]:
            return block.slice_trade(row, slot)
        if row is not None and block.has_q[row, slot]:
            return block.slice_quote(row, slot)
        last = underlying.get_last_data()
        return last if last is not None else BaseData(underlying.symbol, block.ends[slot], underlying.price)

    def _iv_model(self, underlying: Any) -> LeanIvModel | None:
        if underlying is None:
            return None
        if underlying.symbol not in self._iv:
            self._iv[underlying.symbol] = LeanIvModel(lambda: underlying.price or None, lambda: self.algorithm.time,
                                                      self.algorithm)
        return self._iv[underlying.symbol]

    def _underlying_missing(self, block: DayBlock) -> bool:
        """Whether an option chain's underlying had no real bar all day."""
        for universe in self.algorithm.universes.values():
            underlying = universe.canonical.underlying
            row = block.index.get(underlying.symbol) if underlying is not None else None
            if row is not None and not (block.t_fresh[row].any() or block.q_fresh[row].any()):
                return True
        return False

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
