"""The ``QCAlgorithm`` double: the members LEAN option algorithms use, with LEAN's semantics.

Subscriptions (``Algorithm/QCAlgorithm.cs``): ``add_equity``/``add_index`` subscribe a security;
``add_option``/``add_index_option`` add a canonical chain security (not tradable) whose contracts the
replay selects daily (:mod:`replay.engine.chains`), subscribing its underlying too; ``add_*_contract``
subscribe one contract. Models come from the brokerage model (:mod:`replay.engine.brokerage`).

Orders (``Algorithm/QCAlgorithm.Trading.cs``): the pre-order checks run first and a failure returns an
``Invalid`` ticket that is not counted (zero quantity, non-tradable security, no price yet, market-on-open
during the session, market-on-close within 15.5 minutes of the close...); a market order sent while the
exchange is closed becomes a market-on-open order; what passes goes to the transaction manager
(:mod:`replay.engine.transactions`). Times are New York wall-clock times (``time`` and ``utc_time``
are the same clock in the replay).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from replay.data.market import contract_multiplier
from replay.engine.brokerage import DefaultBrokerageModel, brokerage_model
from replay.engine.chains import ChainUniverse, universe_rows
from replay.engine.exchange import DATA_TYPE, ExchangeHours, hours_for
from replay.engine.initializers import BrokerageModelSecurityInitializer, CompositeSecurityInitializer, as_initializer
from replay.engine.lean_types import (
    DataNormalizationMode, NotImplementedInDouble, OrderStatus, OrderType, Resolution, SecurityType, Strict)
from replay.engine.margin import BuyingPower, PositionGroupCollection
from replay.engine.market_data import OptionChain, OptionContract, Slice
from replay.engine.orders import GroupOrderManager, Leg, Order, OrderResponse, OrderTicket
from replay.engine.securities import (
    Future, Option, Security, SecurityManager, SecurityPortfolioManager, SymbolProperties)
from replay.engine.services import DateRules, Notify, ObjectStore, ScheduleManager, TimeRules
from replay.engine.strategies import OptionStrategy
from replay.engine.symbols import INDEX_OPTION_UNDERLYING, Symbol, as_symbol
from replay.engine.trades import TradeBuilder
from replay.engine.transactions import TransactionManager
from replay.engine.universe import OptionUniverseRow

MOC_SUBMISSION_BUFFER = timedelta(minutes=15, seconds=30)  # Orders.MarketOnCloseOrder.SubmissionTimeBuffer


class InterestRateModel(Strict):
    """``risk_free_interest_rate_model``: a step curve (decimal rates) given by the runner or a test."""

    def __init__(self, curve: Callable[[date], float] | None = None) -> None:
        self.curve = curve

    def get_interest_rate(self, when: datetime | date) -> float:
        if self.curve is None:
            raise NotImplementedInDouble("LEAN double has no interest-rate data: set risk_free_interest_rate_model")
        return self.curve(when.date() if isinstance(when, datetime) else when)


class OptionChainProvider(Strict):
    """``option_chain_provider``: the contract symbols listed on a date (universe files, 3-day fallback)."""

    def __init__(self, algorithm: QCAlgorithm) -> None:
        self._algorithm = algorithm

    def get_option_contract_list(self, symbol: Any, when: datetime | date) -> list[Symbol]:
        day = when.date() if isinstance(when, datetime) else when
        return [c.symbol for c in self._algorithm._chain_on(as_symbol(symbol), day)]


class QCAlgorithm(Strict):
    """The members of LEAN's QCAlgorithm the replay implements (see the module docstring)."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}
        self.live_mode = False
        self.time = datetime(1998, 1, 1)
        self.start_date: date | None = None
        self.end_date: date | None = None
        self.cash = 100_000.0
        self.time_zone = "America/New_York"
        self.data_root: Path | None = None
        self.reader: Any = None
        self.history_source: Any = None
        self.brokerage_model: DefaultBrokerageModel = DefaultBrokerageModel()
        self.brokerage: tuple[Any, Any] | None = None
        self.security_initializer: Any = BrokerageModelSecurityInitializer(self.brokerage_model)
        self._user_initializer = False
        self.benchmark: Symbol | None = None
        self.securities = SecurityManager()
        self.portfolio = SecurityPortfolioManager(self.securities)
        self.portfolio.cash = self.cash
        self.buying_power = BuyingPower(self.securities, self.portfolio)
        self.portfolio.margin = self.buying_power
        self.portfolio.positions = PositionGroupCollection(self.buying_power)
        self.transactions = TransactionManager(self)
        self.trade_builder = TradeBuilder()
        self.universes: dict[Symbol, ChainUniverse] = {}
        self.logs: list[str] = []
        self.errors: list[str] = []
        self.plots: list[tuple[str, str, float]] = []
        # what LEAN's log file gets: (algorithm time, or None during initialize; message), in order
        self.log_entries: list[tuple[datetime | None, str]] = []
        self.plot_times: list[datetime] = []  # the time of each entry of ``plots``
        self._locked = False
        self.schedule = ScheduleManager()
        self.date_rules = DateRules(self)
        self.time_rules = TimeRules(self)
        self.notify = Notify()
        self.runtime_statistics: dict[str, str] = {}
        self.risk_free_interest_rate_model = InterestRateModel()
        self.option_chain_provider = OptionChainProvider(self)
        self.quit_requested = False
        self.current_slice: Slice | None = None
        self._object_store: ObjectStore | None = None
        self._hours: dict[tuple[SecurityType, str], ExchangeHours] = {}
        self.warm_up_period: Any = None

    # --- clock -----------------------------------------------------------------------------------------

    @property
    def utc_time(self) -> datetime:
        return self.time

    def _now(self) -> datetime:
        return self.time

    @property
    def is_warming_up(self) -> bool:
        return False

    # --- services --------------------------------------------------------------------------------------

    @property
    def object_store(self) -> ObjectStore:
        """Folder-backed store when a runner sets the folder, else in memory (nothing left on disk)."""
        if self._object_store is None:
            self._object_store = ObjectStore(None)
        return self._object_store

    def use_object_store(self, folder: Path) -> None:
        self._object_store = ObjectStore(folder)

    def set_runtime_statistic(self, name: str, value: Any) -> None:
        self.runtime_statistics[str(name)] = str(value)

    def get_parameter(self, name: str, default_value: Any = None) -> Any:
        value = self.parameters.get(name)
        if value is None:
            return default_value
        if isinstance(default_value, bool) or default_value is None or isinstance(default_value, str):
            return value
        if isinstance(default_value, int):
            return int(value)
        if isinstance(default_value, float):
            return float(value)
        return value

    def _log_entry(self, text: str) -> None:
        self.log_entries.append((self.time if self._locked else None, text))

    def log(self, message: Any) -> None:
        self.logs.append(str(message))
        self._log_entry(str(message))

    def debug(self, message: Any) -> None:
        self.logs.append(str(message))
        self._log_entry(str(message))

    def error(self, message: Any) -> None:
        self.errors.append(str(message))
        self._log_entry(str(message))

    def plot(self, chart: str, series: str, value: float) -> None:
        self.plots.append((chart, series, float(value)))
        self.plot_times.append(self.time)

    def set_locked(self) -> None:
        """``SetLocked``: initialization is over (LEAN stamps later log lines with the algorithm's time)."""
        self._locked = True

    def get_locked(self) -> bool:
        return self._locked

    def quit(self, message: str = "") -> None:
        """Stop after this time step (``QCAlgorithm.Quit``)."""
        if message:
            self.log(message)
        self.quit_requested = True

    # --- set-up ----------------------------------------------------------------------------------------

    def set_start_date(self, year: int | date | datetime, month: int | None = None, day: int | None = None) -> None:
        self.start_date = _as_date(year, month, day)
        self.time = datetime.combine(self.start_date, time())

    def set_end_date(self, year: int | date | datetime, month: int | None = None, day: int | None = None) -> None:
        self.end_date = _as_date(year, month, day)

    def set_cash(self, cash: float) -> None:
        self.cash = float(cash)
        self.portfolio.cash = float(cash)

    def set_time_zone(self, zone: str) -> None:
        if zone != "America/New_York":
            raise NotImplementedInDouble("LEAN double runs on New York time only")
        self.time_zone = zone

    def set_brokerage_model(self, brokerage: Any, account_type: Any = None) -> None:
        """``SetBrokerageModel``: unless the algorithm set its own security initializer, the brokerage
        initializer is replaced and the securities added so far are initialized again, keeping their leverage."""
        from replay.engine.lean_types import AccountType

        self.brokerage = (brokerage, account_type)
        self.brokerage_model = brokerage_model(brokerage, account_type if account_type is not None else AccountType.MARGIN)
        if self._user_initializer:
            return
        initializer = BrokerageModelSecurityInitializer(self.brokerage_model)
        current = self.security_initializer
        if isinstance(current, CompositeSecurityInitializer):
            others = [i for i in current.initializers if not isinstance(i, BrokerageModelSecurityInitializer)]
            self.security_initializer = CompositeSecurityInitializer(initializer, *others)
        else:
            self.security_initializer = initializer
        for security in self.securities.values():
            leverage = security.leverage
            self.security_initializer.initialize(security)
            security.set_leverage(leverage)

    def set_benchmark(self, symbol: Any) -> None:
        self.benchmark = symbol if isinstance(symbol, Symbol) else None

    def set_warm_up(self, *args: Any) -> None:
        raise NotImplementedInDouble("LEAN double does not implement warm-up (set_warm_up)")

    def set_security_initializer(self, initializer: Any) -> None:
        """``SetSecurityInitializer``: replaces the brokerage initializer (an initializer or a function)."""
        self.security_initializer = as_initializer(initializer)
        self._user_initializer = True

    def add_security_initializer(self, initializer: Any) -> None:
        """``AddSecurityInitializer``: runs after the initializers in force."""
        if isinstance(self.security_initializer, CompositeSecurityInitializer):
            self.security_initializer.add_security_initializer(initializer)
        else:
            self.security_initializer = CompositeSecurityInitializer(self.security_initializer, initializer)

    # --- subscriptions -----------------------------------------------------------------------------------

    def _exchange_hours(self, security_type: SecurityType, ticker: str) -> ExchangeHours:
        key = (security_type, ticker.upper())
        if key not in self._hours:
            self._hours[key] = hours_for(self.data_root, security_type, ticker)
        return self._hours[key]

    def _properties(self, symbol: Symbol) -> SymbolProperties:
        kind = symbol.security_type
        data_type = DATA_TYPE.get(kind)
        ticker = symbol.root
        multiplier = (contract_multiplier(self.data_root, data_type, ticker) if self.data_root is not None and data_type
                      else {SecurityType.OPTION: 100.0, SecurityType.INDEX_OPTION: 100.0}.get(kind, 1.0))
        tick = {SecurityType.INDEX_OPTION: 0.05, SecurityType.FUTURE: 0.25}.get(kind, 0.01)
        return SymbolProperties(multiplier, tick)

    def _register(self, security: Security, resolution: Any = None, fill_forward: bool = True,
                  extended_market_hours: bool = False, leverage: float | None = None) -> Security:
        existing = self.securities.get(security.symbol)
        if existing is not None:
            _resubscribe(self.securities, existing, self.time)
            return existing
        security.resolution = resolution if resolution is not None else Resolution.MINUTE
        if security.resolution not in (Resolution.MINUTE, None):
            raise NotImplementedInDouble(f"the replay steps minute data only, not {security.resolution.name}")
        security.fill_forward = fill_forward
        security.extended_market_hours = extended_market_hours
        self.security_initializer.initialize(security)
        if leverage is not None:
            security.set_leverage(float(leverage))
        self.securities.add(security)
        return security

    def _plain(self, ticker: Any, security_type: SecurityType, **options: Any) -> Security:
        symbol = ticker if isinstance(ticker, Symbol) else Symbol.create(str(ticker), security_type)
        hours = self._exchange_hours(security_type, symbol.value)
        return self._register(Security(symbol, hours, self._properties(symbol), self._now), **options)

    def add_equity(self, ticker: Any, resolution: Any = None, market: Any = None, fill_forward: bool = True,
                   leverage: float | None = None, extended_market_hours: bool = False, **_: Any) -> Security:
        return self._plain(ticker, SecurityType.EQUITY, resolution=resolution, fill_forward=fill_forward,
                           leverage=leverage, extended_market_hours=extended_market_hours)

    def add_index(self, ticker: Any, resolution: Any = None, market: Any = None, fill_forward: bool = True) -> Security:
        return self._plain(ticker, SecurityType.INDEX, resolution=resolution, fill_forward=fill_forward)

    def _chain(self, underlying: Security, root: str, option_type: SecurityType, resolution: Any,
               fill_forward: bool) -> Option:
        canonical = Symbol.create_canonical_option(underlying.symbol, root)
        underlying.set_data_normalization_mode(DataNormalizationMode.RAW)  # LEAN: options need raw underlying prices
        hours = self._exchange_hours(option_type, root)
        option = Option(canonical, hours, self._properties(canonical), self._now, underlying)
        registered = self._register(option, resolution, fill_forward)
        assert isinstance(registered, Option)
        if canonical not in self.universes:
            self.universes[canonical] = ChainUniverse(registered)
        return registered

    def add_option(self, underlying: Any, *args: Any, **kwargs: Any) -> Option:
        """``add_option(underlying[, resolution][, market][, fill_forward][, leverage])`` or
        ``add_option(underlying, target_option, resolution, ...)``; the underlying equity is added too."""
        root, resolution = _target_and_resolution(args, kwargs)
        equity = self.add_equity(underlying, resolution, fill_forward=kwargs.get("fill_forward", True))
        return self._chain(equity, (root or equity.symbol.value).upper(), SecurityType.OPTION, resolution,
                           kwargs.get("fill_forward", True))

    def add_index_option(self, underlying: Any, *args: Any, **kwargs: Any) -> Option:
        """``add_index_option(underlying[, resolution])`` or ``add_index_option(underlying, "SPXW"[, resolution])``."""
        root, resolution = _target_and_resolution(args, kwargs)
        index = self.add_index(underlying if isinstance(underlying, Symbol) else
                               INDEX_OPTION_UNDERLYING.get(str(underlying).upper(), str(underlying)), resolution)
        return self._chain(index, (root or index.symbol.value).upper(), SecurityType.INDEX_OPTION, resolution,
                           kwargs.get("fill_forward", True))

    def add_option_contract(self, symbol: Any, resolution: Any = None, fill_forward: bool = True, **_: Any) -> Option:
        return self.add_contract(as_symbol(symbol), resolution=resolution, fill_forward=fill_forward)

    add_index_option_contract = add_option_contract

    def add_contract(self, symbol: Symbol, multiplier: float | None = None, resolution: Any = None,
                     fill_forward: bool = True) -> Option:
        """An option contract security (what LEAN's universe or ``add_option_contract`` adds)."""
        underlying_symbol = symbol.underlying
        if underlying_symbol is None or symbol.expiry is None:
            raise ValueError(f"{symbol} is not an option contract")
        underlying = self.securities.get(underlying_symbol)
        if underlying is None:
            kind = SecurityType.INDEX if symbol.security_type is SecurityType.INDEX_OPTION else SecurityType.EQUITY
            underlying = self._plain(underlying_symbol, kind, resolution=resolution, fill_forward=fill_forward)
        underlying.set_data_normalization_mode(DataNormalizationMode.RAW)
        existing = self.securities.get(symbol)
        if existing is not None:
            _resubscribe(self.securities, existing, self.time)
            return existing
        properties = self._properties(symbol)
        if multiplier is not None:
            properties.contract_multiplier = float(multiplier)
        option = Option(symbol, self._exchange_hours(symbol.security_type, symbol.root), properties, self._now, underlying)
        registered = self._register(option, resolution, fill_forward)
        assert isinstance(registered, Option)
        return registered

    def add_future(self, ticker: str, resolution: Any = None, **options: Any) -> Future:
        symbol = Symbol(f"/{ticker.upper()}", SecurityType.FUTURE, market="cme")
        future = Future(symbol, self._exchange_hours(SecurityType.FUTURE, ticker), self._properties(symbol), self._now)
        future.options = dict(options)
        registered = self._register(future, resolution, options.get("fill_forward", True))
        assert isinstance(registered, Future)
        return registered

    def remove_security(self, symbol: Any) -> bool:
        security = self.securities.get(as_symbol(symbol))
        if security is None:
            return False
        self.transactions.cancel_open_orders(security.symbol)
        security.subscribed = False
        return True

    # --- chains on demand ------------------------------------------------------------------------------

    def _canonical(self, symbol: Symbol) -> Symbol:
        if symbol.is_canonical():
            return symbol
        if symbol.security_type.is_option:
            return symbol.canonical
        if symbol.security_type is SecurityType.INDEX:
            return Symbol.create_canonical_option(symbol)
        return Symbol.create_canonical_option(symbol)

    def _chain_on(self, symbol: Symbol, day: date) -> list[OptionUniverseRow]:
        if self.reader is None:
            raise NotImplementedInDouble("LEAN double needs a data folder for option chains")
        canonical = self._canonical(symbol)
        from replay.engine.feed import data_ticker

        universe = self.reader.chain_universe(DATA_TYPE[canonical.security_type],
                                              data_ticker(self.reader.root, canonical, day), day)
        if universe is None:
            return []
        rows, _underlying = universe_rows(universe, canonical, day)
        return rows

    def option_chain(self, symbol: Any, flatten: bool = False) -> OptionChain:
        """``QCAlgorithm.OptionChain``: the contracts listed today from the universe files (up to 3 days
        back), with the file's prices, open interest, IV and Greeks (bid and ask = the file's close)."""
        canonical = self._canonical(as_symbol(symbol))
        rows = self._chain_on(canonical, self.time.date())
        contracts = []
        for row in rows:
            contract = OptionContract(row.symbol, row.close, row.close, row.close, row.volume, row.open_interest,
                                      row.implied_volatility, row.greeks, 0.0, 0.0,
                                      row.underlying.price if row.underlying is not None else 0.0, self.time)
            contracts.append(contract)
        underlying = rows[0].underlying if rows else None
        return OptionChain(canonical, contracts, underlying, self.time)

    # --- data ----------------------------------------------------------------------------------------------

    def history(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """LEAN's history request (:mod:`replay.engine.history`); without a data folder there is no data,
        and LEAN answers an empty frame."""
        if self.history_source is None:
            return pd.DataFrame(columns=["open", "high", "low", "close", "volume"],
                                index=pd.MultiIndex.from_arrays([[], []], names=["symbol", "time"]))
        frame: pd.DataFrame = self.history_source.request(args, kwargs)
        return frame

    def is_market_open(self, symbol: Any) -> bool:
        security = self.securities.get(as_symbol(symbol))
        if security is None:
            raise KeyError(f"{symbol} is not in the algorithm's securities")
        return bool(security.exchange.hours.is_open(self.time))

    # --- orders ------------------------------------------------------------------------------------------

    def _invalid_ticket(self, order: Order, message: str) -> OrderTicket:
        """``OrderTicket.InvalidSubmitRequest``: not counted, no order event, an error logged."""
        self.error(message)
        order.status = OrderStatus.INVALID
        ticket = OrderTicket(order, self.transactions, OrderResponse(0, False, message))
        return ticket

    def _pre_order_check(self, order: Order) -> str:
        """``PreOrderChecksImpl``: the reason an order is refused before it is counted, or ''."""
        security = self.securities.get(order.symbol)
        if security is None:
            return f"You haven't requested {order.symbol} data. Add this with add_security() in the initialize() method."
        if order.quantity == 0:
            return "Unable to submit order with id 0 that has zero quantity."
        if not security.is_tradable:
            return f"The security with symbol '{order.symbol}' is marked as non-tradable."
        if order.type is OrderType.OPTION_EXERCISE and not security.exchange.exchange_open:
            return "OptionExercise order and exchange not open."
        if security.type is SecurityType.FUTURE:
            raise NotImplementedInDouble("the replay does not fill futures orders")
        if security.price == 0:
            return f"{order.symbol}: The security does not have an accurate price as it has not yet received a bar of data."
        if not security.has_data:
            return "There is no data for this symbol yet, please check the security.HasData flag."
        hours = security.exchange.hours
        if order.type is OrderType.MARKET_ON_OPEN and hours.is_open(self.time):
            return "Cannot submit a MarketOnOpen order while the market is open."
        if order.type is OrderType.MARKET_ON_CLOSE and hours.get_next_market_close(self.time) - MOC_SUBMISSION_BUFFER < self.time:
            return (f"MarketOnClose orders must be placed within {MOC_SUBMISSION_BUFFER} before market close. "
                    "Override this TimeSpan buffer by setting Orders.MarketOnCloseOrder.SubmissionTimeBuffer in "
                    "QCAlgorithm.Initialize().")
        return ""

    def _single(self, order_type: OrderType, symbol: Any, quantity: float, tag: str, limit_price: float = 0.0,
                stop_price: float = 0.0) -> OrderTicket:
        order = Order(order_type, as_symbol(symbol), _lots(self, as_symbol(symbol), quantity), self.time, tag,
                      limit_price, stop_price)
        problem = self._pre_order_check(order)
        if problem:
            return self._invalid_ticket(order, problem)
        return self.transactions.submit([order])[0]

    def market_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                     order_properties: Any = None) -> OrderTicket:
        security = self.securities.get(as_symbol(symbol))
        if security is not None and security.type is not SecurityType.FUTURE and not security.exchange.exchange_open:
            return self.market_on_open_order(symbol, quantity, asynchronous, tag)  # LEAN converts it
        return self._single(OrderType.MARKET, symbol, quantity, tag)

    def market_on_open_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                             order_properties: Any = None) -> OrderTicket:
        return self._single(OrderType.MARKET_ON_OPEN, symbol, quantity, tag)

    def market_on_close_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                              order_properties: Any = None) -> OrderTicket:
        return self._single(OrderType.MARKET_ON_CLOSE, symbol, quantity, tag)

    def limit_order(self, symbol: Any, quantity: float, limit_price: float, asynchronous: bool = False, tag: str = "",
                    order_properties: Any = None) -> OrderTicket:
        return self._single(OrderType.LIMIT, symbol, quantity, tag, limit_price=float(limit_price))

    def stop_market_order(self, symbol: Any, quantity: float, stop_price: float, asynchronous: bool = False,
                          tag: str = "", order_properties: Any = None) -> OrderTicket:
        return self._single(OrderType.STOP_MARKET, symbol, quantity, tag, stop_price=float(stop_price))

    def _combo(self, legs: list[Leg], quantity: int, limit_price: float, tag: str) -> list[OrderTicket]:
        """``SubmitComboOrder``: one group; leg quantities are ratios x the group quantity."""
        ratios = [int(leg.quantity) for leg in legs]
        divisor = abs(math.gcd(*ratios)) if ratios else 1
        if divisor != 1:
            raise ValueError("The global combo quantity should be used to increase or reduce the size of the order, "
                             "while the leg quantities should be used to specify the ratio of the order.")
        kind = OrderType.COMBO_LIMIT if limit_price != 0 else OrderType.COMBO_MARKET
        if any(leg.order_price is not None for leg in legs):
            kind = OrderType.COMBO_LEG_LIMIT
        group = GroupOrderManager(self.transactions.get_increment_group_order_manager_id(), len(legs), quantity,
                                  limit_price)
        orders = []
        for leg in legs:
            leg_limit = float(leg.order_price) if leg.order_price is not None else 0.0
            order = Order(kind, as_symbol(leg.symbol), leg.quantity * quantity, self.time, tag,
                          leg_limit if kind is OrderType.COMBO_LEG_LIMIT else limit_price, group_order_manager=group)
            problem = self._pre_order_check(order)
            if problem:
                return [self._invalid_ticket(order, problem)]
            orders.append(order)
        return self.transactions.submit(orders)

    def combo_market_order(self, legs: list[Leg], quantity: int, asynchronous: bool = False, tag: str = "",
                           order_properties: Any = None) -> list[OrderTicket]:
        for leg in legs:
            if leg.order_price is not None:
                raise ValueError("Combo market orders take no leg limit prices")
        return self._combo(legs, quantity, 0.0, tag)

    def combo_limit_order(self, legs: list[Leg], quantity: int, limit_price: float, asynchronous: bool = False,
                          tag: str = "", order_properties: Any = None) -> list[OrderTicket]:
        if limit_price == 0:
            raise ValueError("ComboLimitOrder requires a limit price")
        if any(leg.order_price not in (None, 0) for leg in legs):
            raise ValueError("ComboLimitOrder does not support limit prices for individual legs")
        return self._combo(legs, quantity, float(limit_price), tag)

    def combo_leg_limit_order(self, legs: list[Leg], quantity: int, asynchronous: bool = False, tag: str = "",
                              order_properties: Any = None) -> list[OrderTicket]:
        if any(leg.order_price in (None, 0) for leg in legs):
            raise ValueError("ComboLegLimitOrder requires a limit price for each leg")
        return self._combo(legs, quantity, 0.0, tag)

    def order(self, target: Any, quantity: float, asynchronous: bool = False, tag: str = "",
              order_properties: Any = None) -> Any:
        if isinstance(target, OptionStrategy):
            tag = tag or f"{target.name} ({int(quantity)})"
            return self._combo(target.legs(), int(quantity), 0.0, tag)
        return self.market_order(target, quantity, asynchronous, tag)

    def buy(self, target: Any, quantity: float, asynchronous: bool = False, tag: str = "",
            order_properties: Any = None) -> Any:
        return self.order(target, abs(quantity), asynchronous, tag)

    def sell(self, target: Any, quantity: float, asynchronous: bool = False, tag: str = "",
             order_properties: Any = None) -> Any:
        return self.order(target, -abs(quantity), asynchronous, tag)

    def liquidate(self, symbol: Any = None, asynchronous: bool = False, tag: str = "Liquidated",
                  order_properties: Any = None) -> list[OrderTicket]:
        """``QCAlgorithm.Liquidate`` (``Algorithm/QCAlgorithm.Trading.cs``): every security in ticker order
        (or the given symbol/symbols); open orders other than market orders are cancelled, pending market
        orders are kept and their remaining quantity is netted off the closing order, and a lone market
        order that already closes the position is left alone."""
        if symbol is None:
            symbols = sorted(self.securities.keys(), key=lambda s: s.value)
        elif isinstance(symbol, (list, tuple)):
            symbols = [as_symbol(s) for s in symbol]
        else:
            symbols = [as_symbol(symbol)]
        tickets = []
        for sym in symbols:
            security = self.securities.get(sym)
            if security is None:
                continue
            orders = self.transactions.get_open_orders(sym)
            quantity = security.holdings.quantity if security.holdings.invested else 0.0
            if (len(orders) == 1 and quantity != 0 and orders[0].quantity == -quantity
                    and orders[0].type is OrderType.MARKET):
                continue
            pending_market = 0.0
            for order in orders:
                if order.type is OrderType.MARKET:
                    ticket = self.transactions.get_order_ticket(order.id)
                    if ticket is not None:
                        pending_market += ticket.quantity_remaining
                else:
                    self.transactions.cancel_order(order.id, tag)
            if quantity != 0:
                tickets.append(self.order(sym, -quantity - pending_market, asynchronous, tag))
        return tickets

    def exercise_option(self, option_symbol: Any, quantity: int, asynchronous: bool = False, tag: str = "",
                        order_properties: Any = None) -> OrderTicket:
        symbol = as_symbol(option_symbol)
        security = self.securities[symbol]
        order = Order(OrderType.OPTION_EXERCISE, symbol, -abs(quantity), self.time, tag)
        problem = self._pre_order_check(order)
        if not problem and security.holdings.is_short:
            problem = f"The security with symbol '{symbol}' has a short option position. Only long option positions are exercisable."
        if not problem and abs(quantity) > security.holdings.quantity:
            problem = f"Cannot exercise more contracts of '{symbol}' than is currently available in the portfolio."
        european = symbol.style is not None and symbol.style.name == "EUROPEAN"
        if not problem and european and symbol.expiry is not None and self.time.date() < symbol.expiry:
            problem = f"Cannot exercise European style option with symbol '{symbol}' before its expiration date."
        if problem:
            return self._invalid_ticket(order, problem)
        return self.transactions.submit_exercise(security, quantity, tag)

    def set_holdings(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedInDouble("LEAN double does not implement set_holdings (needs LEAN's position sizing)")

    # --- event handlers (the algorithm overrides them) -----------------------------------------------------

    def on_data(self, data: Slice) -> None:
        return None

    def on_order_event(self, order_event: Any) -> None:
        return None

    def on_assignment_order_event(self, assignment_event: Any) -> None:
        return None

    def on_securities_changed(self, changes: Any) -> None:
        return None

    def on_delistings(self, delistings: Any) -> None:
        return None

    def on_symbol_changed_events(self, events: Any) -> None:
        return None

    def on_warmup_finished(self) -> None:
        return None

    def on_end_of_day(self, symbol: Any = None) -> None:
        return None

    def on_end_of_algorithm(self) -> None:
        return None


def _resubscribe(securities: SecurityManager, security: Security, now: datetime) -> None:
    """Adding a security that was removed subscribes it again from now on."""
    if not security.subscribed:
        security.subscribed, security.subscribed_since = True, now
        securities.version += 1


def _as_date(year: int | date | datetime, month: int | None, day: int | None) -> date:
    if isinstance(year, datetime):
        return year.date()
    if isinstance(year, date):
        return year
    if month is None or day is None:
        raise TypeError("set_start_date/set_end_date take (year, month, day) or a date")
    return date(year, month, day)


def _target_and_resolution(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str | None, Any]:
    """The option root and resolution of ``add_option``/``add_index_option`` whatever the overload."""
    root = kwargs.get("target_option")
    resolution = kwargs.get("resolution")
    rest = list(args)
    if rest and isinstance(rest[0], str):
        root = rest.pop(0)
    if rest and (rest[0] is None or isinstance(rest[0], Resolution)):
        resolution = rest.pop(0)
    return root, resolution


def _lots(algorithm: QCAlgorithm, symbol: Symbol, quantity: float) -> float:
    """``RoundOffOrder``: towards zero to a whole number of lots."""
    security = algorithm.securities.get(symbol)
    lot = security.symbol_properties.lot_size if security is not None else 1.0
    if lot <= 0:
        return float(quantity)
    return float(math.trunc(float(quantity) / lot) * lot)

