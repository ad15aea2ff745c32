"""Securities, their price cache and holdings, as LEAN keeps them (``Common/Securities/*.cs``).

The cache follows ``SecurityCache.cs``: it keeps only *real* data (fill-forward bars never enter it),
the last quote bar and the last trade bar separately; ``price`` and open/high/low/close come from
the latest bar of a default data type, a quote bar winning over a trade bar with the same end time
(for equities quote bars are not a default type: their price is the last trade); bid and ask are the
last non-zero bid and ask closes. Today's bars are read from the feed's arrays on demand
(:class:`replay.engine.feed.DayBlock`); at the end of a day the last ones are carried over.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from replay.engine.exchange import Exchange, ExchangeHours
from replay.engine.fees import InteractiveBrokersFeeModel
from replay.engine.fills import EquityFillModel, FillModel
from replay.engine.lean_types import (
    DataNormalizationMode, NotImplementedInDouble, OptionRight, OptionStyle, SecurityType, SettlementType, Strict)
from replay.engine.margin import OptionMarginModel, SecurityMarginModel
from replay.engine.market_data import KeyValuePair, OpenInterest, QuoteBar, TradeBar
from replay.engine.symbols import Symbol, as_symbol

if TYPE_CHECKING:
    from replay.engine.feed import DayBlock


class SymbolProperties(Strict):
    """Contract multiplier, minimum price variation and lot size (``symbol-properties-database.csv``)."""

    def __init__(self, contract_multiplier: float, minimum_price_variation: float = 0.01, lot_size: float = 1.0,
                 description: str = "", quote_currency: str = "USD") -> None:
        self.contract_multiplier = float(contract_multiplier)
        self.minimum_price_variation = float(minimum_price_variation)
        self.lot_size = float(lot_size)
        self.description, self.quote_currency = description, quote_currency
        self.strike_multiplier = 1.0


class SecurityCache(Strict):
    """The last real data of a security: today's from the feed's arrays, earlier days' carried over."""

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol
        self.block: DayBlock | None = None
        self.row = -1
        self._trade: TradeBar | None = None
        self._quote: QuoteBar | None = None
        self._bid = 0.0
        self._ask = 0.0
        self._bid_size = 0.0
        self._ask_size = 0.0
        self._open_interest: OpenInterest | None = None

    # today's data, from the block's arrays at its current slot

    def trade_bar(self) -> TradeBar | None:
        if self.block is not None:
            bar = self.block.last_trade(self.row)
            if bar is not None:
                return bar
        return self._trade

    def quote_bar(self) -> QuoteBar | None:
        if self.block is not None:
            bar = self.block.last_quote(self.row)
            if bar is not None:
                return bar
        return self._quote

    def open_interest_data(self) -> OpenInterest | None:
        if self.block is not None:
            found = self.block.last_open_interest(self.row)
            if found is not None:
                return found
        return self._open_interest

    @property
    def bid_price(self) -> float:
        if self.block is not None:
            value = self.block.last_side(self.row, "bid")
            if value is not None:
                return value[0]
        return self._bid

    @property
    def ask_price(self) -> float:
        if self.block is not None:
            value = self.block.last_side(self.row, "ask")
            if value is not None:
                return value[0]
        return self._ask

    @property
    def bid_size(self) -> float:
        if self.block is not None:
            value = self.block.last_side(self.row, "bid")
            if value is not None:
                return value[1]
        return self._bid_size

    @property
    def ask_size(self) -> float:
        if self.block is not None:
            value = self.block.last_side(self.row, "ask")
            if value is not None:
                return value[1]
        return self._ask_size

    def attach(self, block: DayBlock, row: int) -> None:
        self.block, self.row = block, row

    def detach(self) -> None:
        """End of the day: carry today's last data over, then forget the day's arrays."""
        if self.block is None:
            return
        self._trade, self._quote = self.trade_bar(), self.quote_bar()
        self._bid, self._ask = self.bid_price, self.ask_price
        self._bid_size, self._ask_size = self.bid_size, self.ask_size
        self._open_interest = self.open_interest_data()
        self.block, self.row = None, -1

    def carried_trade(self) -> TradeBar | None:
        """The last real trade bar from before today (what fill-forward starts from)."""
        return self._trade

    def carried_quote(self) -> QuoteBar | None:
        return self._quote

    def carried_open_interest(self) -> float:
        return float(self._open_interest.value) if self._open_interest is not None else float("nan")

    def seed(self, trade: TradeBar | None = None, quote: QuoteBar | None = None,
             open_interest: OpenInterest | None = None) -> None:
        """Set carried data directly (tests, and the state a security starts with)."""
        self._trade, self._quote = trade or self._trade, quote or self._quote
        if quote is not None:
            if quote.bid is not None and quote.bid.close != 0:
                self._bid, self._bid_size = quote.bid.close, quote.last_bid_size
            if quote.ask is not None and quote.ask.close != 0:
                self._ask, self._ask_size = quote.ask.close, quote.last_ask_size
        self._open_interest = open_interest or self._open_interest

    def get_data(self, data_type: type | None = None) -> Any:
        """``cache.get_data(TradeBar|QuoteBar|OpenInterest)``, or the last default-type data."""
        if data_type is TradeBar:
            return self.trade_bar()
        if data_type is QuoteBar:
            return self.quote_bar()
        if data_type is OpenInterest:
            return self.open_interest_data()
        if data_type is None:
            return None
        raise NotImplementedInDouble(f"LEAN double's SecurityCache.get_data does not keep {data_type.__name__}")


class SecurityHolding(Strict):
    """``security.holdings``: quantity, average price and the realised results of one security."""

    def __init__(self, security: Security) -> None:
        self.security = security
        self.symbol = security.symbol
        self.quantity = 0.0
        self.average_price = 0.0
        self.total_fees = 0.0
        self.profit = 0.0
        self.last_trade_profit = 0.0
        self.total_sale_volume = 0.0
        self.on_change: Callable[[Security], None] | None = None  # the portfolio's index of held securities

    @property
    def invested(self) -> bool:
        return self.quantity != 0

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        return self.quantity < 0

    @property
    def absolute_quantity(self) -> float:
        return abs(self.quantity)

    @property
    def price(self) -> float:
        return self.security.price

    def get_quantity_value(self, quantity: float, price: float | None = None) -> float:
        value = self.security.price if price is None else price
        return value * quantity * self.security.symbol_properties.contract_multiplier

    @property
    def holdings_cost(self) -> float:
        return self.get_quantity_value(self.quantity, self.average_price)

    @property
    def absolute_holdings_cost(self) -> float:
        return abs(self.holdings_cost)

    @property
    def holdings_value(self) -> float:
        return self.get_quantity_value(self.quantity)

    @property
    def absolute_holdings_value(self) -> float:
        return abs(self.holdings_value)

    @property
    def unrealized_profit(self) -> float:
        return self.holdings_value - self.holdings_cost

    def set_holdings(self, average_price: float, quantity: float) -> None:
        self.average_price, self.quantity = float(average_price), float(quantity)
        if self.on_change is not None:
            self.on_change(self.security)

    def __str__(self) -> str:
        return f"{self.symbol}: {self.quantity} @ {self.average_price}"


def class_models(security: Security) -> None:
    """The models a security starts with before any initializer (LEAN's ``Security``, ``Equity``,
    ``Option`` and ``IndexOption`` constructors): Interactive Brokers fees; ``EquityFillModel`` and a
    2x ``SecurityMarginModel`` for equities; ``ImmediateFillModel`` and ``OptionMarginModel`` for options."""
    security.fee_model = InteractiveBrokersFeeModel()
    if security.type is SecurityType.EQUITY:
        security.fill_model, security.leverage = EquityFillModel(), 2.0
        security.buying_power_model = SecurityMarginModel(2.0)
    elif security.type.is_option:
        security.fill_model, security.buying_power_model = FillModel(), OptionMarginModel()
    else:
        security.fill_model, security.buying_power_model = FillModel(), SecurityMarginModel(1.0)


class Security(Strict):
    """One security with its cache, holdings, exchange and LEAN's models (set by the brokerage model)."""

    def __init__(self, symbol: Symbol, hours: ExchangeHours, properties: SymbolProperties,
                 clock: Callable[[], datetime]) -> None:
        self.symbol = symbol
        self.type = symbol.security_type
        self.symbol_properties = properties
        self.exchange = Exchange(hours, clock)
        self._clock = clock
        self.cache = SecurityCache(symbol)
        self.holdings = SecurityHolding(self)
        self.fee_model: Any = None
        self.fill_model: Any = None
        self.buying_power_model: Any = None
        self.leverage = 1.0
        self.is_tradable = not symbol.is_canonical() and symbol.security_type is not SecurityType.INDEX
        self.is_delisted = False
        self.resolution: Any = None
        self.fill_forward = True
        self.extended_market_hours = False
        # LEAN's default: equities adjusted (an option's underlying is set to raw), everything else raw
        self.data_normalization_mode = (DataNormalizationMode.ADJUSTED if self.type is SecurityType.EQUITY
                                        else DataNormalizationMode.RAW)
        self.subscribed = True  # False once delisted or removed from its universe
        self.subscribed_since = clock()  # a subscription added mid-day sees data ending after this only
        self.mapped: Symbol | None = None  # continuous futures: the contract it maps to now
        class_models(self)

    # --- time and prices ------------------------------------------------------------------------

    @property
    def local_time(self) -> datetime:
        return self._clock()

    def _price_bar(self) -> TradeBar | QuoteBar | None:
        trade = self.cache.trade_bar()
        if self.type is SecurityType.EQUITY:
            return trade  # equity quote bars are not a default data type (SubscriptionManager.IsDefaultDataType)
        quote = self.cache.quote_bar()
        if quote is None or (trade is not None and trade.end_time > quote.end_time):
            return trade
        return quote

    def get_last_data(self) -> TradeBar | QuoteBar | None:
        return self._price_bar()

    @property
    def has_data(self) -> bool:
        return self._price_bar() is not None

    @property
    def price(self) -> float:
        bar = self._price_bar()
        return float(bar.close) if bar is not None else 0.0

    @property
    def close(self) -> float:
        return self.price

    @property
    def open(self) -> float:
        bar = self._price_bar()
        return float(bar.open) if bar is not None else 0.0

    @property
    def high(self) -> float:
        bar = self._price_bar()
        return float(bar.high) if bar is not None else 0.0

    @property
    def low(self) -> float:
        bar = self._price_bar()
        return float(bar.low) if bar is not None else 0.0

    @property
    def volume(self) -> float:
        bar = self.cache.trade_bar()
        return float(bar.volume) if bar is not None else 0.0

    @property
    def bid_price(self) -> float:
        """The last bid, or the price when there is none (``Security.BidPrice``)."""
        bid = self.cache.bid_price
        return bid if bid != 0 else self.price

    @property
    def ask_price(self) -> float:
        """The last ask, or the price when there is none (``Security.AskPrice``)."""
        ask = self.cache.ask_price
        return ask if ask != 0 else self.price

    @property
    def bid_size(self) -> float:
        return self.cache.bid_size

    @property
    def ask_size(self) -> float:
        return self.cache.ask_size

    @property
    def open_interest(self) -> float:
        found = self.cache.open_interest_data()
        return float(found.value) if found is not None else 0.0

    @property
    def invested(self) -> bool:
        return self.holdings.invested

    def is_market_open(self, extended_market_hours: bool = False) -> bool:
        return self.exchange.hours.is_open(self.local_time, extended_market_hours)

    # --- models -----------------------------------------------------------------------------------

    def set_fee_model(self, model: Any) -> None:
        self.fee_model = model

    def set_fill_model(self, model: Any) -> None:
        self.fill_model = model

    def set_buying_power_model(self, model: Any) -> None:
        self.buying_power_model = model

    def set_margin_model(self, model: Any) -> None:
        self.buying_power_model = model

    def set_leverage(self, leverage: float) -> None:
        """``Security.SetLeverage``: the buying-power model's leverage (options: 1 only)."""
        if self.type.is_option and leverage != 1:
            raise ValueError("Options are leveraged products and different leverage cannot be set by user")
        self.leverage = float(leverage)
        if isinstance(self.buying_power_model, SecurityMarginModel):
            self.buying_power_model.leverage = float(leverage)

    def set_data_normalization_mode(self, mode: Any) -> None:
        """Raw, adjusted (price and split factors) or split-adjusted prices (the factor files' modes the
        replay models; ``Common/Data/Auxiliary/PriceScalingExtensions.cs``)."""
        mode = DataNormalizationMode(mode)
        if mode not in (DataNormalizationMode.RAW, DataNormalizationMode.ADJUSTED, DataNormalizationMode.SPLIT_ADJUSTED):
            raise NotImplementedInDouble(f"LEAN double models raw, adjusted and split-adjusted prices, not {mode.name}")
        if self.type.is_option and mode is not DataNormalizationMode.RAW:
            raise ValueError("DataNormalizationMode.Raw must be used with options")
        self.data_normalization_mode = mode

    def __str__(self) -> str:
        return str(self.symbol)


class Option(Security):
    """An option contract, or the canonical chain security (``Common/Securities/Option/Option.cs``)."""

    def __init__(self, symbol: Symbol, hours: ExchangeHours, properties: SymbolProperties,
                 clock: Callable[[], datetime], underlying: Security | None) -> None:
        super().__init__(symbol, hours, properties, clock)
        self.underlying = underlying
        self.exercise_settlement = (SettlementType.CASH if symbol.security_type is SecurityType.INDEX_OPTION
                                    else SettlementType.PHYSICAL_DELIVERY)
        self.contract_filter: Callable[[Any], Any] | None = None  # the canonical's universe filter
        self.price_model: Any = None
        self.option_assignment_model: Any = None
        self.option_exercise_model: Any = None

    @property
    def strike_price(self) -> float:
        return float(self.symbol.strike or 0.0)

    @property
    def scaled_strike_price(self) -> float:
        return self.strike_price * self.symbol_properties.strike_multiplier

    @property
    def right(self) -> OptionRight:
        assert self.symbol.right is not None
        return self.symbol.right

    @property
    def style(self) -> OptionStyle | None:
        return self.symbol.style

    @property
    def expiry(self) -> datetime:
        assert self.symbol.expiry is not None
        return datetime.combine(self.symbol.expiry, datetime.min.time())

    @property
    def contract_unit_of_trade(self) -> float:
        return self.symbol_properties.contract_multiplier

    @property
    def contract_multiplier(self) -> float:
        return self.symbol_properties.contract_multiplier

    def get_intrinsic_value(self, underlying_price: float) -> float:
        """``OptionPayoff.GetIntrinsicValue``: max(0, S - K) for calls, max(0, K - S) for puts."""
        if self.right is OptionRight.CALL:
            return max(0.0, underlying_price - self.scaled_strike_price)
        return max(0.0, self.scaled_strike_price - underlying_price)

    def out_of_the_money_amount(self, underlying_price: float) -> float:
        if self.right is OptionRight.CALL:
            return max(0.0, self.scaled_strike_price - underlying_price)
        return max(0.0, underlying_price - self.scaled_strike_price)

    def is_auto_exercised(self, underlying_price: float) -> bool:
        """In the money by at least one cent at expiry (``Option.IsAutoExercised``)."""
        return self.get_intrinsic_value(underlying_price) >= 0.01

    def get_exercise_quantity(self, exercise_order_quantity: float) -> float:
        """Shares changing hands when ``exercise_order_quantity`` contracts are exercised (< 0, long) or
        assigned (> 0, short): calls deliver the underlying to the holder (``Option.GetExerciseQuantity``)."""
        sign = -1 if self.right is OptionRight.CALL else 1
        return sign * exercise_order_quantity * self.contract_unit_of_trade

    # --- canonical chain settings ---------------------------------------------------------------

    def set_filter(self, *args: Any) -> None:
        """``set_filter(func)`` or ``set_filter(min_strike, max_strike, min_expiry, max_expiry)`` (days or
        timedeltas), applied daily to the chain's universe file as LEAN's ``Option.SetFilter`` does."""
        if len(args) == 1 and callable(args[0]):
            self.contract_filter = args[0]
            return
        if len(args) == 4:
            low, high, first, last = args
            self.contract_filter = lambda u: u.strikes(int(low), int(high)).expiration(first, last)
            return
        raise TypeError(f"set_filter takes a function or (min_strike, max_strike, min_expiry, max_expiry), got {args}")

    def set_price_model(self, model: Any) -> None:
        self.price_model = model

    def set_option_assignment_model(self, model: Any) -> None:
        self.option_assignment_model = model

    def set_option_exercise_model(self, model: Any) -> None:
        self.option_exercise_model = model


class Future(Security):
    """A continuous future or a contract; ``mapped`` is the contract the continuous series follows."""

    def __init__(self, symbol: Symbol, hours: ExchangeHours, properties: SymbolProperties,
                 clock: Callable[[], datetime]) -> None:
        super().__init__(symbol, hours, properties, clock)
        self.expiry_filter: tuple[int, int] | None = None
        self.options: dict[str, Any] = {}

    def set_filter(self, *args: Any) -> None:
        if len(args) == 2 and not callable(args[0]):
            self.expiry_filter = (int(args[0]), int(args[1]))
            return
        raise NotImplementedInDouble("LEAN double implements Future.set_filter(min_days, max_days) only")


class SecurityManager(Strict):
    """``algorithm.securities``: securities by symbol (or ticker string)."""

    def __init__(self) -> None:
        self._by_symbol: dict[Symbol, Security] = {}
        self.portfolio: SecurityPortfolioManager | None = None
        self.version = 0  # changes whenever a security is added or subscribed again (the runner's cue)

    def add(self, security: Security) -> Security:
        self.version += 1
        added = self._by_symbol.setdefault(security.symbol, security)
        if added is security and self.portfolio is not None:
            security.holdings.on_change = self.portfolio.track
            self.portfolio.track(security)
        return added

    def _key(self, key: Any) -> Symbol:
        if isinstance(key, str):
            matches = [s for s in self._by_symbol if s.value == key.upper() or s.value == key]
            if not matches:
                raise KeyError(f"{key} is not in the algorithm's securities")
            return matches[0]
        return as_symbol(key)

    def __getitem__(self, key: Any) -> Any:
        symbol = self._key(key)
        if symbol not in self._by_symbol:
            raise KeyError(f"{symbol} is not in the algorithm's securities")
        return self._by_symbol[symbol]

    def __contains__(self, key: object) -> bool:
        try:
            return self._key(key) in self._by_symbol
        except (KeyError, TypeError):
            return False

    def contains_key(self, key: Any) -> bool:
        return key in self

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def try_get_value(self, key: Any) -> tuple[bool, Any]:
        return (True, self[key]) if key in self else (False, None)

    def keys(self) -> list[Symbol]:
        return list(self._by_symbol)

    def values(self) -> list[Security]:
        return list(self._by_symbol.values())

    def items(self) -> list[tuple[Symbol, Security]]:
        return list(self._by_symbol.items())

    @property
    def count(self) -> int:
        return len(self._by_symbol)

    def __len__(self) -> int:
        return len(self._by_symbol)

    def __iter__(self) -> Iterator[KeyValuePair[Security]]:
        return (KeyValuePair(s, v) for s, v in self._by_symbol.items())


class SecurityPortfolioManager(Strict):
    """``algorithm.portfolio``: cash, holdings by symbol, total value, margin and position groups."""

    def __init__(self, securities: SecurityManager) -> None:
        self.securities = securities
        securities.portfolio = self
        self.held: dict[Symbol, Security] = {}  # securities with a non-zero quantity
        self.cash = 0.0
        self.positions: Any = None  # the position-group model, set by the algorithm
        self.margin: Any = None  # the buying-power calculator, set by the algorithm
        self.transaction_records: list[tuple[datetime, float, bool]] = []

    def __getitem__(self, key: Any) -> SecurityHolding:
        holding: SecurityHolding = self.securities[key].holdings
        return holding

    def set_margin_call_model(self, model: Any) -> None:
        """Only ``MarginCallModel.NULL``: the replay issues no margin calls (see the README)."""
        if str(model) != "NullMarginCallModel":
            raise NotImplementedInDouble("LEAN double issues no margin calls: only MarginCallModel.NULL is accepted")
        self.margin_call_model = model

    def __contains__(self, key: object) -> bool:
        return key in self.securities

    def contains_key(self, key: Any) -> bool:
        return key in self.securities

    def keys(self) -> list[Symbol]:
        return self.securities.keys()

    def values(self) -> list[SecurityHolding]:
        return [s.holdings for s in self.securities.values()]

    def items(self) -> list[tuple[Symbol, SecurityHolding]]:
        return [(s, sec.holdings) for s, sec in self.securities.items()]

    def __iter__(self) -> Iterator[KeyValuePair[SecurityHolding]]:
        return (KeyValuePair(s, sec.holdings) for s, sec in self.securities.items())

    def track(self, security: Security) -> None:
        """Keep :attr:`held` in step with a security's quantity (called on every holdings change)."""
        if security.holdings.quantity:
            self.held[security.symbol] = security
        else:
            self.held.pop(security.symbol, None)

    @property
    def invested(self) -> bool:
        return bool(self.held)

    @property
    def total_holdings_value(self) -> float:
        return sum(s.holdings.absolute_holdings_value for s in self.held.values() if s.type is not SecurityType.FUTURE)

    @property
    def total_unrealised_profit(self) -> float:
        return sum(s.holdings.unrealized_profit for s in self.held.values())

    total_unrealized_profit = total_unrealised_profit

    @property
    def total_portfolio_value(self) -> float:
        """Cash plus the market value of holdings; a future adds its unrealised profit (no notional)."""
        value = self.cash
        for security in self.held.values():
            holding = security.holdings
            value += holding.unrealized_profit if security.type is SecurityType.FUTURE else holding.holdings_value
        return value

    @property
    def total_fees(self) -> float:
        return sum(s.holdings.total_fees for s in self.securities.values())

    @property
    def total_profit(self) -> float:
        return sum(s.holdings.profit for s in self.securities.values())

    @property
    def total_margin_used(self) -> float:
        if self.margin is None:
            raise NotImplementedInDouble("portfolio margin needs the algorithm's buying-power model")
        return float(self.margin.total_margin_used())

    @property
    def margin_remaining(self) -> float:
        return self.total_portfolio_value - self.total_margin_used

    def set_cash(self, cash: float) -> None:
        self.cash = float(cash)

