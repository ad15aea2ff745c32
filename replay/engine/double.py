"""A LEAN double: just enough of QCAlgorithm and its types to run ``main.py`` without LEAN.

:func:`install` registers a module named ``AlgorithmImports`` built from this file, so
``from AlgorithmImports import *`` in ``main.py`` binds these classes. The double implements what
``main.py`` uses, with LEAN's semantics (fill-forward flags, option chains keyed by the canonical
symbol, combo limit orders, order events); any other LEAN member raises
:class:`NotImplementedInDouble` naming it, never a silent ``None``. The offline replay runner
grows from here.
"""
from __future__ import annotations

import dataclasses
import enum
import itertools
import functools
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from replay.engine.services import DateRules, Notify, ObjectStore, ScheduleManager, TimeRules


class NotImplementedInDouble(NotImplementedError):
    """``main.py`` used a LEAN member the double does not implement."""


class _Strict:
    """Base for double objects: a missing member fails loudly with its qualified name."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        lean_type = next(c.__name__ for c in type(self).__mro__ if c.__module__ == __name__)
        raise NotImplementedInDouble(f"LEAN double does not implement {lean_type}.{name}")


# --- enums and constants ------------------------------------------------------------------------

class Resolution(enum.Enum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class SecurityType(enum.Enum):
    EQUITY = 1
    OPTION = 2
    FUTURE = 5
    INDEX = 10
    INDEX_OPTION = 11


class OptionRight(enum.Enum):
    CALL = 0
    PUT = 1


class OrderStatus(enum.Enum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    CANCEL_PENDING = 8
    UPDATE_SUBMITTED = 9


class BrokerageName(enum.Enum):
    DEFAULT = 0
    TASTYTRADE = 32


class AccountType(enum.Enum):
    MARGIN = 0
    CASH = 1


class DataMappingMode(enum.Enum):
    LAST_TRADING_DAY = 0
    FIRST_DAY_MONTH = 1
    OPEN_INTEREST = 2


class DataNormalizationMode(enum.Enum):
    RAW = 0
    BACKWARDS_RATIO = 4


class DayOfWeek(enum.IntEnum):
    """.NET's System.DayOfWeek numbering (Sunday = 0)."""

    SUNDAY = 0
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6


class TimeZones:
    NEW_YORK = "America/New_York"


class Futures:
    class Indices:
        SP_500_E_MINI = "ES"
        MICRO_SP_500_E_MINI = "MES"


# --- symbols and data ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=True)
class Symbol:
    """Hashable identity of a security; options carry expiry, strike and right."""

    value: str
    security_type: SecurityType
    underlying: Symbol | None = None
    expiry: date | None = None
    strike: float | None = None
    right: OptionRight | None = None

    def __post_init__(self) -> None:  # symbols are dictionary keys on every bar: hash once
        object.__setattr__(self, "_hash", hash((self.value, self.security_type.value, self.expiry, self.strike)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return self.value

    @property
    def id(self) -> SecurityIdentifier:
        return SecurityIdentifier(self)

    @property
    def canonical(self) -> Symbol:
        return self if self.expiry is None else dataclasses.replace(self, expiry=None, strike=None, right=None)


class SecurityIdentifier(_Strict):
    """``symbol.id``: the option root, expiry (as a datetime), strike and right of a contract."""

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol.value[:6].strip() if symbol.expiry is not None else symbol.value
        self.date = datetime.combine(symbol.expiry, datetime.min.time()) if symbol.expiry else datetime.min
        self.strike_price = symbol.strike if symbol.strike is not None else 0.0
        self.option_right = symbol.right


def option_symbol(root: str, underlying: Symbol, expiry: date, strike: float, right: OptionRight,
                  security_type: SecurityType = SecurityType.INDEX_OPTION) -> Symbol:
    """An option contract symbol, named like LEAN's OSI-style value (``SPXW  210108C03700000``)."""
    value = f"{root:<6}{expiry:%y%m%d}{'C' if right is OptionRight.CALL else 'P'}{round(strike * 1000):08d}"
    return Symbol(value, security_type, underlying, expiry, strike, right)


class TradeBar(_Strict):
    def __init__(self, symbol: Symbol, time: datetime, open: float, high: float, low: float, close: float,
                 volume: float = 0.0, is_fill_forward: bool = False) -> None:
        self.symbol, self.time = symbol, time
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, volume
        self.is_fill_forward = is_fill_forward


class Bar(_Strict):
    def __init__(self, close: float) -> None:
        self.open = self.high = self.low = self.close = close


class QuoteBar(_Strict):
    def __init__(self, symbol: Symbol, bid: float | None, ask: float | None, is_fill_forward: bool = False) -> None:
        self.symbol = symbol
        self.bid = Bar(bid) if bid is not None else None
        self.ask = Bar(ask) if ask is not None else None
        self.is_fill_forward = is_fill_forward


class DataDictionary(_Strict):
    """LEAN's ``TradeBars``/``QuoteBars``/``OptionChains``: keyed by symbol, ``get`` returns None."""

    def __init__(self, items: dict[Symbol, Any] | None = None) -> None:
        self._items = dict(items or {})

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self._items

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._items

    def __getitem__(self, symbol: Symbol) -> Any:
        return self._items[symbol]

    def get(self, symbol: Symbol) -> Any:
        return self._items.get(symbol)

    def __len__(self) -> int:
        return len(self._items)


class Greeks(_Strict):
    def __init__(self, delta: float, gamma: float, theta_per_day: float, vega: float, rho: float) -> None:
        self.delta, self.gamma, self.theta_per_day, self.vega, self.rho = delta, gamma, theta_per_day, vega, rho


class OptionContract(_Strict):
    """One contract in a chain with LEAN's fields (prices per share; 0 where LEAN has no quote)."""

    def __init__(self, symbol: Symbol, bid_price: float = 0.0, ask_price: float = 0.0, last_price: float = 0.0,
                 volume: float = 0.0, open_interest: float = 0.0, implied_volatility: float = 0.0,
                 greeks: Greeks | None = None) -> None:
        assert symbol.expiry is not None and symbol.strike is not None and symbol.right is not None
        self.symbol = symbol
        self.expiry = datetime.combine(symbol.expiry, datetime.min.time())
        self.strike, self.right = symbol.strike, symbol.right
        self.bid_price, self.ask_price, self.last_price = bid_price, ask_price, last_price
        self.volume, self.open_interest = volume, open_interest
        self._implied_volatility = implied_volatility
        self.iv_model: Callable[[OptionContract], float] | None = None
        self._greeks = greeks

    @property
    def implied_volatility(self) -> float:
        """As in LEAN, evaluated on demand from the price model when one is attached."""
        return self.iv_model(self) if self.iv_model is not None else self._implied_volatility

    @property
    def greeks(self) -> Greeks:
        """Greeks a test gives; the double has no option price model of its own."""
        if self._greeks is None:
            raise NotImplementedInDouble("LEAN double has no option price model: give the contract greeks")
        return self._greeks


class OptionChain(_Strict):
    def __init__(self, canonical: Symbol, contracts: list[OptionContract]) -> None:
        self.symbol, self._contracts = canonical, list(contracts)

    def __iter__(self) -> Iterator[OptionContract]:
        return iter(self._contracts)

    def __len__(self) -> int:
        return len(self._contracts)


class Slice(_Strict):
    def __init__(self, time: datetime, bars: list[TradeBar] | None = None, quotes: list[QuoteBar] | None = None,
                 chains: list[OptionChain] | None = None) -> None:
        self.time = time
        self.bars = DataDictionary({b.symbol: b for b in bars or []})
        self.quote_bars = DataDictionary({q.symbol: q for q in quotes or []})
        self.option_chains = DataDictionary({c.symbol: c for c in chains or []})


# --- securities, portfolio, orders ------------------------------------------------------------------

class SymbolProperties(_Strict):
    def __init__(self, contract_multiplier: float) -> None:
        self.contract_multiplier = contract_multiplier


class ExchangeHours(_Strict):
    """``exchange.hours``: the runner steps regular-session minutes only; weekdays are trading days
    (holidays are the runner's market-hours business)."""

    def __init__(self) -> None:
        self.open = True

    def is_open(self, local_time: datetime, extended_market_hours: bool = False) -> bool:
        """Open for the regular session 09:30-16:15 New York (the SPX session), unless a test closes it."""
        return self.open and local_time.weekday() < 5 and time(9, 30) <= local_time.time() < time(16, 15)

    def get_previous_trading_day(self, day: datetime) -> datetime:
        if not isinstance(day, datetime):
            raise NotImplementedInDouble("get_previous_trading_day takes a datetime (a .NET DateTime)")
        previous = day.date() - timedelta(days=1)
        while previous.weekday() >= 5:
            previous -= timedelta(days=1)
        return datetime.combine(previous, datetime.min.time())


class Exchange(_Strict):
    def __init__(self) -> None:
        self.hours = ExchangeHours()

    @property
    def exchange_open(self) -> bool:
        return self.hours.open


class OptionFilterUniverse(_Strict):
    """Records the filter calls LEAN's universe would apply (for tests of the chain filter)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _record(self, name: str, *args: Any) -> OptionFilterUniverse:
        self.calls.append((name, args))
        return self

    def include_weeklys(self) -> OptionFilterUniverse:
        return self._record("include_weeklys")

    def strikes(self, min_strike: int, max_strike: int) -> OptionFilterUniverse:
        return self._record("strikes", min_strike, max_strike)

    def expiration(self, min_days: int, max_days: int) -> OptionFilterUniverse:
        return self._record("expiration", min_days, max_days)


class Security(_Strict):
    clock: Callable[[], datetime] | None = None  # the algorithm's clock (New York) for local_time

    @property
    def local_time(self) -> datetime:
        """The exchange's local time; the double's exchanges keep New York time."""
        if self.clock is None:
            raise NotImplementedInDouble("Security.local_time needs the algorithm's clock")
        return self.clock()

    def __init__(self, symbol: Symbol, multiplier: float = 1.0) -> None:
        self.symbol = symbol
        self.symbol_properties = SymbolProperties(multiplier)
        self.exchange = Exchange()
        self.price = 0.0
        self.filter: Callable[[OptionFilterUniverse], OptionFilterUniverse] | None = None
        self.future_filter: tuple[int, int] | None = None
        self.mapped: Symbol | None = None

    def set_filter(self, *args: Any) -> None:
        if len(args) == 1 and callable(args[0]):
            self.filter = args[0]
        else:
            self.future_filter = (int(args[0]), int(args[1]))


class SecurityHolding(_Strict):
    def __init__(self, symbol: Symbol, quantity: float = 0.0, average_price: float = 0.0) -> None:
        self.symbol, self.quantity, self.average_price = symbol, quantity, average_price

    @property
    def invested(self) -> bool:
        return self.quantity != 0


class Portfolio(_Strict):
    def __init__(self, securities: dict[Symbol, Security]) -> None:
        self._securities = securities
        self._holdings: dict[Symbol, SecurityHolding] = {}
        self.cash = 0.0

    def __getitem__(self, symbol: Symbol) -> SecurityHolding:
        if symbol not in self._securities:
            raise KeyError(f"{symbol} is not in the algorithm's securities")
        return self._holdings.setdefault(symbol, SecurityHolding(symbol))

    def values(self) -> list[SecurityHolding]:
        return list(self._holdings.values())

    def set_holding(self, symbol: Symbol, quantity: float, average_price: float = 0.0) -> None:
        self._holdings[symbol] = SecurityHolding(symbol, quantity, average_price)

    @property
    def total_portfolio_value(self) -> float:
        return self.cash + sum(h.quantity * self._securities[s].price * self._securities[s].symbol_properties
                               .contract_multiplier for s, h in self._holdings.items())


class Securities(_Strict):
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._by_symbol: dict[Symbol, Security] = {}
        self.clock = clock

    def add(self, security: Security) -> Security:
        security.clock = self.clock
        self._by_symbol.setdefault(security.symbol, security)
        return self._by_symbol[security.symbol]

    def __getitem__(self, key: Symbol | str) -> Security:
        if isinstance(key, str):
            matches = [s for sym, s in self._by_symbol.items() if sym.value == key]
            if not matches:
                raise KeyError(f"{key} is not in the algorithm's securities")
            return matches[0]
        return self._by_symbol[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_symbol


class InterestRateModel(_Strict):
    """``risk_free_interest_rate_model``: a step curve (decimal rates) given by the runner or a test."""

    def __init__(self, curve: Callable[[date], float] | None = None) -> None:
        self.curve = curve

    def get_interest_rate(self, when: datetime | date) -> float:
        if self.curve is None:
            raise NotImplementedInDouble("LEAN double has no interest-rate data: set risk_free_interest_rate_model")
        return self.curve(when.date() if isinstance(when, datetime) else when)


class DividendYieldProvider(_Strict):
    """LEAN's dividend yield model for one underlying: trailing-year dividends over the price.

    As LEAN's provider, it reads the equity's factor file (``equity/usa/factor_files``): between two
    rows the price factor steps by the dividend, ``dividend = reference price x (1 - pf / next pf)``.
    Indexes pay none here; an equity without a factor file yields 0, as LEAN's provider returns then.
    The runner sets ``data_root``; a test can give ``yields`` directly.
    """

    yields: dict[str, float] = {}
    data_root: Path | None = None

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol

    def get_dividend_yield(self, when: datetime | date, security_price: float | None = None) -> float:
        if self.symbol.value in self.yields:
            return self.yields[self.symbol.value]
        if self.symbol.security_type is SecurityType.INDEX:
            return 0.0
        if self.data_root is None:
            raise NotImplementedInDouble(f"LEAN double has no dividend data for {self.symbol}: set "
                                         "DividendYieldProvider.data_root or .yields")
        day = when.date() if isinstance(when, datetime) else when
        return _trailing_yield(self.data_root / "equity" / "usa" / "factor_files" /
                               f"{self.symbol.value.lower()}.csv", day, security_price)


@functools.lru_cache(maxsize=64)
def _factor_rows(path: Path) -> tuple[tuple[date, float, float], ...]:
    """(date, price factor, reference price) rows of a LEAN factor file (read once per run)."""
    if not path.is_file():
        return ()
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split(",")
        if len(parts) >= 4:
            rows.append((date(int(parts[0][:4]), int(parts[0][4:6]), int(parts[0][6:8])), float(parts[1]),
                         float(parts[3])))
    return tuple(rows)


def _trailing_yield(path: Path, day: date, price: float | None) -> float:
    rows = _factor_rows(path)
    if not rows:
        return 0.0
    dividends, reference = 0.0, None
    for (when, factor, ref), (_next_day, next_factor, _next_ref) in zip(rows, rows[1:]):
        if when <= day:
            reference = ref or reference
        if day - timedelta(days=365) < when <= day and next_factor > 0:
            dividends += ref * (1.0 - factor / next_factor)
    base = price if price else reference
    return dividends / base if base else 0.0


class Leg(_Strict):
    def __init__(self, symbol: Symbol, quantity: int, order_price: float | None = None) -> None:
        self.symbol, self.quantity, self.order_price = symbol, quantity, order_price

    @staticmethod
    def create(symbol: Symbol, quantity: int, limit_price: float | None = None) -> Leg:
        return Leg(symbol, quantity, limit_price)


@dataclasses.dataclass
class OrderTicket:
    """One order (one leg of a combo); ``group`` ties a combo's legs together."""

    order_id: int
    kind: str
    symbol: Symbol
    quantity: float
    limit_price: float | None
    tag: str
    time: datetime
    combo_units: int | None = None
    group: int = 0
    status: OrderStatus = OrderStatus.NEW
    fill_price: float | None = None


class OrderEvent(_Strict):
    """LEAN's ``OrderEvent``; ``id`` numbers an order's events (LEAN: unique per order), here from one
    counter unless given (a test can deliver the same event twice)."""

    _ids = itertools.count(1)

    def __init__(self, order_id: int, symbol: Symbol, status: OrderStatus, message: str = "",
                 fill_price: float = 0.0, fill_quantity: float = 0.0, id: int | None = None) -> None:
        self.order_id, self.symbol, self.status, self.message = order_id, symbol, status, message
        self.fill_price, self.fill_quantity = fill_price, fill_quantity
        self.id = next(OrderEvent._ids) if id is None else id


class GroupOrderManager(_Strict):
    def __init__(self, group: int) -> None:
        self.id = group


class Order(_Strict):
    """``transactions.get_order_by_id``: a combo leg's order carries its group's manager."""

    def __init__(self, ticket: OrderTicket) -> None:
        self.id = ticket.order_id
        self.symbol = ticket.symbol
        self.group_order_manager = GroupOrderManager(ticket.group) if ticket.combo_units is not None else None


class Transactions(_Strict):
    def __init__(self) -> None:
        self.cancel_calls = 0
        self.on_cancel: Callable[[], list[Any]] | None = None
        self.tickets: list[OrderTicket] = []
        self.on_cancel_order: Callable[[int], None] | None = None

    def cancel_order(self, order_id: int) -> None:
        """Cancel the order (for a combo, its whole group) if the simulated broker still holds it."""
        if self.on_cancel_order is not None:
            self.on_cancel_order(order_id)

    def get_order_by_id(self, order_id: int) -> Order | None:
        found = [t for t in self.tickets if t.order_id == order_id]
        return Order(found[0]) if found else None

    def cancel_open_orders(self) -> list[Any]:
        self.cancel_calls += 1
        return self.on_cancel() if self.on_cancel is not None else []


# --- the algorithm base ---------------------------------------------------------------------------

class QCAlgorithm(_Strict):
    """The members of LEAN's QCAlgorithm that ``main.py`` uses, recording what it does."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}
        self.live_mode = False
        self.time = datetime(1998, 1, 1)
        self.start_date: date | None = None
        self.end_date: date | None = None
        self.cash = 0.0
        self.time_zone: str | None = None
        self.brokerage: tuple[Any, Any] | None = None
        self.benchmark: Symbol | None = None
        self.securities = Securities(lambda: self.time)
        self.portfolio = Portfolio(self.securities._by_symbol)
        self.transactions = Transactions()
        self.logs: list[str] = []
        self.errors: list[str] = []
        self.plots: list[tuple[str, str, float]] = []
        self.orders: list[OrderTicket] = []
        self.daily_history: dict[Symbol, list[tuple[date, float, float, float, float, float]]] = {}
        self.minute_history: dict[Symbol, Callable[[datetime, datetime], list[tuple[Any, ...]]]] = {}
        self.schedule = ScheduleManager()
        self.date_rules = DateRules()
        self.time_rules = TimeRules()
        self.notify = Notify()
        self.runtime_statistics: dict[str, str] = {}
        self.brokerage_sim: Any = None
        self.risk_free_interest_rate_model = InterestRateModel()
        self._object_store: ObjectStore | None = None

    @property
    def object_store(self) -> ObjectStore:
        """Folder-backed store; a runner sets the folder, tests get a fresh temporary one."""
        if self._object_store is None:
            self._object_store = ObjectStore(Path(tempfile.mkdtemp(prefix="lean-double-store-")))
        return self._object_store

    def use_object_store(self, folder: Path) -> None:
        self._object_store = ObjectStore(folder)

    def set_runtime_statistic(self, name: str, value: Any) -> None:
        self.runtime_statistics[str(name)] = str(value)

    # set-up
    def get_parameter(self, name: str, default_value: str | None = None) -> str | None:
        return self.parameters.get(name, default_value)

    def set_start_date(self, year: int, month: int, day: int) -> None:
        self.start_date = date(year, month, day)

    def set_end_date(self, year: int, month: int, day: int) -> None:
        self.end_date = date(year, month, day)

    def set_cash(self, cash: float) -> None:
        self.cash = self.portfolio.cash = float(cash)

    def set_time_zone(self, zone: str) -> None:
        self.time_zone = zone

    def set_brokerage_model(self, brokerage: Any, account_type: Any) -> None:
        self.brokerage = (brokerage, account_type)

    def set_benchmark(self, symbol: Symbol) -> None:
        self.benchmark = symbol

    # subscriptions
    def _add(self, ticker: str, security_type: SecurityType, multiplier: float = 1.0) -> Security:
        return self.securities.add(Security(Symbol(ticker.upper(), security_type), multiplier))

    def add_index(self, ticker: str, resolution: Resolution | None = None) -> Security:
        return self._add(ticker, SecurityType.INDEX)

    def add_equity(self, ticker: str, resolution: Resolution | None = None) -> Security:
        return self._add(ticker, SecurityType.EQUITY)

    def add_index_option(self, underlying: Symbol, target_option: str,
                         resolution: Resolution | None = None) -> Security:
        canonical = Symbol(f"?{target_option.upper()}", SecurityType.INDEX_OPTION, underlying)
        return self.securities.add(Security(canonical, 100.0))

    def add_option(self, underlying: Symbol, target_option: str, resolution: Resolution | None = None) -> Security:
        canonical = Symbol(f"?{target_option.upper()}", SecurityType.OPTION, underlying)
        return self.securities.add(Security(canonical, 100.0))

    def add_future(self, ticker: str, resolution: Resolution | None = None, **options: Any) -> Security:
        security = self._add(f"/{ticker}", SecurityType.FUTURE, 50.0 if ticker == "ES" else 1.0)
        security.future_options = options  # type: ignore[attr-defined]
        return security

    def add_contract(self, symbol: Symbol, multiplier: float = 100.0) -> Security:
        """What LEAN's universe does when a contract enters the chain (test/replay side only)."""
        return self.securities.add(Security(symbol, multiplier))

    # logging and charts
    def log(self, message: str) -> None:
        self.logs.append(str(message))

    def debug(self, message: str) -> None:
        self.logs.append(str(message))

    def error(self, message: str) -> None:
        self.errors.append(str(message))

    def plot(self, chart: str, series: str, value: float) -> None:
        self.plots.append((chart, series, float(value)))

    # data
    def history(self, symbol: Symbol, periods: int | timedelta, resolution: Resolution | None = None
                ) -> pd.DataFrame:
        """LEAN's history request made during the day: daily bars (``periods`` count) dated before today,
        or minute bars (``periods`` a span) ending before now; rows are stamped with the bar's end time."""
        if resolution is Resolution.DAILY and isinstance(periods, int):
            rows = [r for r in self.daily_history.get(symbol, []) if r[0] < self.time.date()][-periods:]
            frame = pd.DataFrame(rows, columns=["time", "open", "high", "low", "close", "volume"])
            frame["time"] = [pd.Timestamp(datetime.combine(d, time(16, 0))) for d in frame["time"]]
            return frame.set_index("time")
        if resolution is Resolution.MINUTE and isinstance(periods, timedelta):
            source = self.minute_history.get(symbol)
            rows = source(self.time - periods, self.time) if source is not None else []
            frame = pd.DataFrame(rows, columns=["time", "open", "high", "low", "close", "volume"])
            return frame.set_index("time")
        raise NotImplementedInDouble("LEAN double implements history(symbol, int, DAILY) and "
                                     "history(symbol, timedelta, MINUTE)")

    # orders
    def _submit(self, kind: str, legs: list[tuple[Symbol, float]], units: int | None, limit: float | None,
                tag: str) -> list[OrderTicket]:
        """Record one order (a combo is one group of leg tickets) and hand it to the simulated broker."""
        group = 1 + max((t.group for t in self.orders), default=0)
        tickets = [OrderTicket(len(self.orders) + i + 1, kind, symbol, quantity * (units or 1), limit, tag,
                               self.time, units, group) for i, (symbol, quantity) in enumerate(legs)]
        self.orders.extend(tickets)
        self.transactions.tickets = self.orders
        if self.brokerage_sim is not None:
            self.brokerage_sim.submit(self, tickets)
        return tickets

    def market_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False, tag: str = "") -> OrderTicket:
        return self._submit("market", [(symbol, quantity)], None, None, tag)[0]

    def limit_order(self, symbol: Symbol, quantity: float, limit_price: float, tag: str = "") -> OrderTicket:
        return self._submit("limit", [(symbol, quantity)], None, limit_price, tag)[0]

    def combo_limit_order(self, legs: list[Leg], quantity: int, limit_price: float,
                          tag: str = "") -> list[OrderTicket]:
        return self._submit("combo_limit", [(leg.symbol, leg.quantity) for leg in legs], quantity, limit_price, tag)

    def combo_market_order(self, legs: list[Leg], quantity: int, tag: str = "") -> list[OrderTicket]:
        return self._submit("combo_market", [(leg.symbol, leg.quantity) for leg in legs], quantity, None, tag)


EXPORTS = [
    "AccountType", "BrokerageName", "DataMappingMode", "DayOfWeek", "DividendYieldProvider", "DataNormalizationMode", "Futures", "Greeks", "Leg",
    "OptionChain", "OptionContract", "OptionRight", "OrderEvent", "OrderStatus", "OrderTicket", "QCAlgorithm",
    "QuoteBar", "Resolution", "SecurityType", "Slice", "Symbol", "TimeZones", "TradeBar",
]


def install() -> types.ModuleType:
    """Register ``AlgorithmImports`` (the double) in ``sys.modules`` and return it."""
    module = types.ModuleType("AlgorithmImports", "LEAN double (replay/engine/double.py)")
    namespace = globals()
    for name in EXPORTS:
        setattr(module, name, namespace[name])
    module.Future = Security  # type: ignore[attr-defined]
    module.__all__ = list(EXPORTS) + ["Future"]  # type: ignore[attr-defined]
    sys.modules["AlgorithmImports"] = module
    return module


def algorithm_class(module: types.ModuleType) -> type[QCAlgorithm]:
    """The one QCAlgorithm subclass a module defines (LEAN instantiates exactly that class)."""
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, QCAlgorithm) and obj is not QCAlgorithm
             and obj.__module__ == module.__name__]
    if len(found) != 1:
        raise RuntimeError(f"{module.__name__} must define exactly one QCAlgorithm subclass, found {len(found)}")
    return found[0]


def load_main() -> types.ModuleType:
    """Install the double and import the project's ``main.py`` against it."""
    install()
    import importlib

    return importlib.import_module("main")


def start_algorithm(parameters: dict[str, str] | None = None, live_mode: bool = False,
                    prepare: Callable[[Any], None] | None = None) -> Any:
    """Create ``main.py``'s algorithm with LEAN parameters and run its ``initialize``.

    ``prepare`` runs before ``initialize`` (a runner attaches its object store and broker there, as
    LEAN has them in place before the algorithm starts).
    """
    cls = algorithm_class(load_main())
    algorithm = cls()
    algorithm.parameters = dict(parameters or {})
    algorithm.live_mode = live_mode
    if prepare is not None:
        prepare(algorithm)
    algorithm.initialize()
    return algorithm


def step(algorithm: Any, data: Slice) -> None:
    """Deliver one slice the way LEAN does: the clock moves to the slice time, then ``on_data``."""
    algorithm.time = data.time
    algorithm.on_data(data)
