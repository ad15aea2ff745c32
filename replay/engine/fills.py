"""LEAN's fill models, ported rule by rule (``Common/Orders/Fills/FillModel.cs``, ``EquityFillModel.cs``).

Options, index options, indexes and futures use ``FillModel`` (LEAN's ``ImmediateFillModel``),
equities ``EquityFillModel`` (``DefaultBrokerageModel.GetFillModel``). Prices come from the security
cache, which holds real bars only (fill-forward bars never reach it):

* ``get_prices``: the last quote bar's *own side* (ask bar for a buy, bid bar for a sell) when the
  security has quote data, else the last trade bar (``FillModel.GetPrices``);
* market: the own-side bar's close; when that data ended more than ``StalePriceTimeSpan`` (1 h)
  before the order, the order waits for fresh data (minute subscriptions: ``ShouldWaitForFreshDataOnStale``);
* limit: never on the placing bar (the data must end after the order time); a buy fills when the ask
  bar's low is *below* the limit, at min(ask high, limit); a sell when the bid bar's high is *above*
  it, at max(bid low, limit) (``InternalLimitFill``);
* combo limit: each leg's own-side bar; a bought group (group quantity > 0) sums the legs' bar lows
  times their ratios (equity legs / 100) and fills only *strictly below* the limit, each leg at its
  low; a sold group sums highs, strictly above, each leg at its high; no fill when any leg's data
  ended before the order (``ComboLimitFill``);
* combo market: every leg a market fill, all or none; combo leg limit: every leg a limit fill at
  its own limit, all or none;
* market on close: at the own-side bar's close once the exchange's next close after the order time
  is reached; market on open: at the first bar's open of a later session (``MarketOnOpenFill``).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from replay.engine.lean_types import OrderDirection, OrderType, SecurityType
from replay.engine.market_data import QuoteBar, TradeBar
from replay.engine.orders import Order

STALE_PRICE_SPAN = timedelta(hours=1)  # AlgorithmSettings.StalePriceTimeSpan
RESOLUTION_SPAN = timedelta(minutes=1)  # the replay's subscriptions are minute resolution


@dataclasses.dataclass(frozen=True)
class Prices:
    """``Prices``: the bar a fill reads (times and OHLC, ``current`` = close)."""

    time: datetime
    end_time: datetime
    current: float
    open: float
    high: float
    low: float
    close: float


@dataclasses.dataclass(frozen=True)
class LegFill:
    order: Order
    price: float
    message: str = ""


def subscribed_quotes(security: Any) -> bool:
    return security.type in (SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.EQUITY, SecurityType.FUTURE)


def get_prices(security: Any, direction: OrderDirection) -> Prices:
    """``FillModel.GetPrices``: own-side quote bar, else trade bar, else the security's price fields."""
    cache = security.cache
    if direction is not OrderDirection.HOLD:
        quote: QuoteBar | None = cache.quote_bar() if subscribed_quotes(security) else None
        if quote is not None:
            side = quote.bid if direction is OrderDirection.SELL else quote.ask
            if side is not None:
                return Prices(quote.time, quote.end_time, side.close, side.open, side.high, side.low, side.close)
        trade: TradeBar | None = cache.trade_bar()
        if trade is not None:
            return Prices(trade.time, trade.end_time, trade.close, trade.open, trade.high, trade.low, trade.close)
    last = security.get_last_data()
    start, end = (last.time, last.end_time) if last is not None else (datetime.min, datetime.min)
    price = float(security.price)
    return Prices(start, end, price, security.open, security.high, security.low, security.close)


def is_exchange_open(security: Any) -> bool:
    """``FillModel.IsExchangeOpen``: open now, or within the last bar that overlapped the session."""
    hours, now = security.exchange.hours, security.local_time
    if hours.is_open(now):
        return True
    bar = security.get_last_data()
    if bar is None:
        return False
    return now <= bar.end_time and hours.is_open_between(bar.time, bar.end_time)


def _stale_wait(data_end: datetime, order_time: datetime) -> bool:
    """Minute subscriptions wait for fresh data when the data is more than one bar behind the order."""
    return order_time - data_end > RESOLUTION_SPAN


class FillModel:
    """``FillModel`` / ``ImmediateFillModel``: options, index options, indexes, futures."""

    def market_fill(self, security: Any, order: Order) -> LegFill | None:
        if not is_exchange_open(security):
            return None
        prices = get_prices(security, order.direction)
        message = ""
        if prices.end_time + STALE_PRICE_SPAN < order.time:
            if _stale_wait(prices.end_time, order.time):
                return None
            message = f"Warning: fill at stale price ({prices.end_time})"
        return LegFill(order, prices.current, message)

    def limit_fill(self, security: Any, order: Order, limit: float | None = None) -> LegFill | None:
        limit_price = order.limit_price if limit is None else limit
        if not is_exchange_open(security):
            return None
        prices = get_prices(security, order.direction)
        if prices.end_time <= order.time:  # never on the bar the order was placed with, nor stale data
            return None
        if order.direction is OrderDirection.BUY and prices.low < limit_price:
            return LegFill(order, min(prices.high, limit_price))
        if order.direction is OrderDirection.SELL and prices.high > limit_price:
            return LegFill(order, max(prices.low, limit_price))
        return None

    def stop_market_fill(self, security: Any, order: Order) -> LegFill | None:
        if not is_exchange_open(security):
            return None
        prices = get_prices(security, order.direction)
        if prices.end_time <= order.time:
            return None
        if order.direction is OrderDirection.SELL and prices.low < order.stop_price:
            return LegFill(order, min(order.stop_price, prices.current))
        if order.direction is OrderDirection.BUY and prices.high > order.stop_price:
            return LegFill(order, max(order.stop_price, prices.current))
        return None

    def market_on_close_fill(self, security: Any, order: Order) -> LegFill | None:
        if security.local_time < security.exchange.hours.get_next_market_close(order.time):
            return None
        return LegFill(order, get_prices(security, order.direction).close)

    def market_on_open_fill(self, security: Any, order: Order) -> LegFill | None:
        bar = security.get_last_data()
        if bar is None or order.time >= bar.end_time:
            return None
        hours = security.exchange.hours
        if hours.is_open(order.time) and order.time.date() == security.local_time.date():
            return None
        if not is_exchange_open(security):
            return None
        return LegFill(order, get_prices(security, order.direction).open)

    # --- combos ---------------------------------------------------------------------------------------

    def combo_market_fill(self, legs: list[tuple[Order, Any]]) -> list[LegFill]:
        fills = []
        for order, security in sorted(legs, key=lambda pair: pair[0].id):
            fill = FillModel.market_fill(self, security, order)  # LEAN's InternalMarketFill, not a subclass's
            if fill is None:
                return []
            fills.append(fill)
        return fills

    def combo_limit_fill(self, legs: list[tuple[Order, Any]]) -> list[LegFill]:
        group = legs[0][0].group_order_manager
        assert group is not None
        buying = group.direction is OrderDirection.BUY
        priced = []
        for order, security in sorted(legs, key=lambda pair: pair[0].id):
            prices = get_prices(security, order.direction)
            if prices.end_time < order.time:  # do not fill on stale data
                return []
            ratio = order.leg_ratio() / (100.0 if security.type is SecurityType.EQUITY else 1.0)
            bar_price = prices.low if buying else prices.high
            priced.append((order, bar_price, bar_price * ratio))
        current = round(sum(p for _, _, p in priced), 8)
        limit = round(group.limit_price, 8)
        if (buying and current < limit) or (not buying and current > limit):
            return [LegFill(order, price) for order, price, _ in priced]
        return []

    def combo_leg_limit_fill(self, legs: list[tuple[Order, Any]]) -> list[LegFill]:
        fills = []
        for order, security in sorted(legs, key=lambda pair: pair[0].id):
            fill = FillModel.limit_fill(self, security, order)  # LEAN's InternalLimitFill
            if fill is None:
                return []
            fills.append(fill)
        return fills

    def fill(self, legs: list[tuple[Order, Any]]) -> list[LegFill]:
        """Dispatch on the order type (``FillModel.Fill``); ``legs`` are (order, security) of one group."""
        order, security = legs[0]
        kind = order.type
        single: LegFill | None
        if kind is OrderType.COMBO_MARKET:
            return self.combo_market_fill(legs)
        if kind is OrderType.COMBO_LIMIT:
            return self.combo_limit_fill(legs)
        if kind is OrderType.COMBO_LEG_LIMIT:
            return self.combo_leg_limit_fill(legs)
        if kind is OrderType.MARKET:
            single = self.market_fill(security, order)
        elif kind is OrderType.LIMIT:
            single = self.limit_fill(security, order)
        elif kind is OrderType.STOP_MARKET:
            single = self.stop_market_fill(security, order)
        elif kind is OrderType.MARKET_ON_CLOSE:
            single = self.market_on_close_fill(security, order)
        elif kind is OrderType.MARKET_ON_OPEN:
            single = self.market_on_open_fill(security, order)
        else:
            raise NotImplementedError(f"the replay's fill model does not fill {kind.name} orders")
        return [single] if single is not None else []


class EquityFillModel(FillModel):
    """``EquityFillModel``: best-effort bid/ask with a stale cut-off for market orders, trade bars for
    limit orders (with the favourable-gap open), the close trade bar for market-on-close."""

    def _best_effort(self, security: Any, order: Order, ask: bool) -> tuple[float, datetime | None]:
        """(price, stale data end or None when fresh): the newest of quote and trade data."""
        cutoff = order.time - STALE_PRICE_SPAN
        best: tuple[float, datetime] | None = None
        quote = security.cache.quote_bar()
        if quote is not None:
            side = quote.ask if ask else quote.bid
            price = side.close if side is not None else quote.close
            if quote.end_time >= cutoff:
                return price, None
            best = (price, quote.end_time)
        trade = security.cache.trade_bar()
        if trade is not None and (best is None or trade.end_time > best[1]):
            if trade.end_time >= cutoff:
                return trade.close, None
            best = (trade.close, trade.end_time)
        if best is None:
            raise ValueError(f"no market data to fill {order.symbol}")
        return best

    def market_fill(self, security: Any, order: Order) -> LegFill | None:
        if not is_exchange_open(security):
            return None
        price, stale_end = self._best_effort(security, order, order.direction is OrderDirection.BUY)
        if stale_end is not None and _stale_wait(stale_end, order.time):
            return None
        return LegFill(order, price)

    def limit_fill(self, security: Any, order: Order, limit: float | None = None) -> LegFill | None:
        limit_price = order.limit_price if limit is None else limit
        if not is_exchange_open(security):
            return None
        bar = security.cache.trade_bar()
        if bar is None or bar.end_time <= order.time:
            return None
        if order.direction is OrderDirection.BUY and bar.low < limit_price:
            return LegFill(order, bar.open if bar.open < limit_price else limit_price)
        if order.direction is OrderDirection.SELL and bar.high > limit_price:
            return LegFill(order, bar.open if bar.open > limit_price else limit_price)
        return None

    def market_on_close_fill(self, security: Any, order: Order) -> LegFill | None:
        if security.local_time < security.exchange.hours.get_next_market_close(order.time):
            return None
        bar = security.cache.trade_bar()
        price = bar.close if bar is not None else 0.0
        if price == 0:
            price = self._best_effort(security, order, order.direction is OrderDirection.BUY)[0]
        return LegFill(order, price)

    def market_on_open_fill(self, security: Any, order: Order) -> LegFill | None:
        bar = security.cache.trade_bar()
        hours = security.exchange.hours
        if bar is None or bar.time < order.time or not hours.is_open(bar.time):
            return None
        if order.time >= bar.end_time:
            return None
        if hours.is_open(order.time) and order.time.date() == bar.end_time.date():
            return None
        if not is_exchange_open(security):
            return None
        return LegFill(order, bar.open)
