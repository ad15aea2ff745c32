"""Orders from submission to fill: LEAN's transaction handler and backtesting brokerage in one place.

Ported from ``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``,
``BacktestingTransactionHandler.cs`` and ``Brokerages/Backtesting/BacktestingBrokerage.cs``:

* an order that passed the algorithm's pre-order checks is counted (``Total Orders``), its prices
  rounded to the security's tick, then checked for buying power and by the brokerage model; either
  failure makes it (the whole combo) ``Invalid`` with LEAN's message, otherwise it is placed
  (``Submitted``);
* every order request is processed at once and followed by a scan of all open orders, so a market
  order fills before ``market_order`` returns; a scan also runs before and after ``on_data`` each
  time step. A scan re-checks buying power and asks the security's fill model; orders other than
  market, combo market and exercise orders are never filled in the time step they were placed in;
* fees come from the security's fee model at fill time; fills update cash and holdings as
  ``SecurityPortfolioModel.ProcessFill`` does (average price, realised profit, futures without cash);
* option exercise and assignment (expiry, early assignment) become ``OptionExercise`` orders that count
  in ``Total Orders``; the fills come from :mod:`replay.engine.exercise`, and a cash-settled option adds
  its intrinsic value at the underlying's close to cash (``OptionPortfolioModel``);
* a delisted option is exercised or expires through such an order; any other delisted security is
  liquidated at its last price by a market order (``HandleDelistingNotification``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from replay.engine.exercise import DefaultOptionAssignmentModel, OptionAssignmentParameters, exercise_fills
from replay.engine.fees import fee_amount
from replay.engine.fills import LegFill
from replay.engine.lean_types import OrderExtensions, OrderStatus, OrderType, SecurityType, SettlementType, Strict
from replay.engine.orders import Order, OrderEvent, OrderResponse, OrderTicket, UpdateOrderFields, UpdateRequest
from replay.engine.symbols import Symbol

MARKET_LIKE = (OrderType.MARKET, OrderType.COMBO_MARKET, OrderType.OPTION_EXERCISE)


@dataclasses.dataclass(frozen=True)
class Fill:
    """One executed fill for ``orders.csv``: price per share, fee in dollars."""

    time: datetime
    order_id: int
    group: int
    kind: str
    symbol: str
    quantity: float
    price: float
    fee: float
    tag: str


def round_to_tick(price: float, increment: float) -> float:
    """``Math.Round(price / increment) * increment`` in decimal arithmetic (banker's rounding, as .NET)."""
    if increment <= 0:
        return price
    step = Decimal(str(increment))
    units = (Decimal(str(price)) / step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return float(units * step)


def minimum_price_variation(security: Any, price: float) -> float:
    """The tick: the symbol properties' one, or for index options $0.05 below $3 and $0.10 from $3
    (``IndexOptionSymbolProperties.MinimumPriceVariationForPrice``; VIX and VIXW have their own)."""
    if security.type is SecurityType.INDEX_OPTION:
        root = security.symbol.root
        if root == "VIXW":
            return 0.01
        if root == "VIX":
            return 0.05 if price >= 3 else 0.01
        return 0.1 if price >= 3 else 0.05
    return float(security.symbol_properties.minimum_price_variation)


class TransactionManager(Strict):
    """``algorithm.transactions`` and the engine behind it (see the module docstring)."""

    def __init__(self, algorithm: Any) -> None:
        self.algorithm = algorithm
        self.orders: dict[int, Order] = {}
        self.tickets: dict[int, OrderTicket] = {}
        self.pending: dict[int, Order] = {}
        self.orders_count = 0
        self.fills: list[Fill] = []
        self.fees_paid = 0.0
        self.invalid_orders = 0
        self.cancel_calls = 0
        self.market_order_fill_timeout = timedelta(0)
        self._last_order_id = 0
        self._last_group_id = 0
        self._event_ids: dict[int, int] = {}  # order id -> its last event id
        self._next_assignment_check = datetime.min
        self.assignment_model = DefaultOptionAssignmentModel()

    # --- ids and lookups --------------------------------------------------------------------------

    def get_increment_order_id(self) -> int:
        self._last_order_id += 1
        return self._last_order_id

    def get_increment_group_order_manager_id(self) -> int:
        self._last_group_id += 1
        return self._last_group_id

    @property
    def last_order_id(self) -> int:
        return self._last_order_id

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def get_order_ticket(self, order_id: int) -> OrderTicket | None:
        return self.tickets.get(order_id)

    def get_orders(self, filter: Callable[[Order], bool] | None = None) -> list[Order]:
        return [o for o in self.orders.values() if filter is None or filter(o)]

    def get_order_tickets(self, filter: Callable[[OrderTicket], bool] | None = None) -> list[OrderTicket]:
        return [t for t in self.tickets.values() if filter is None or filter(t)]

    def get_open_orders(self, filter: Any = None) -> list[Order]:
        if isinstance(filter, Symbol):
            symbol = filter
            return [o for o in self.orders.values() if OrderExtensions.is_open(o.status) and o.symbol == symbol]
        return [o for o in self.orders.values() if OrderExtensions.is_open(o.status) and (filter is None or filter(o))]

    def get_open_order_tickets(self, filter: Any = None) -> list[OrderTicket]:
        if isinstance(filter, Symbol):
            symbol = filter
            return [t for t in self.tickets.values() if OrderExtensions.is_open(t.status) and t.symbol == symbol]
        return [t for t in self.tickets.values()
                if OrderExtensions.is_open(t.status) and (filter is None or filter(t))]

    def get_open_orders_remaining_quantity(self, filter: Any = None) -> float:
        return sum(t.quantity_remaining for t in self.get_open_order_tickets(filter))

    # --- submission --------------------------------------------------------------------------------

    def _security(self, order: Order) -> Any:
        return self.algorithm.securities[order.symbol]

    def submit(self, orders: list[Order]) -> list[OrderTicket]:
        """Count, check and place one order or one combo (``AddOrder`` + ``HandleSubmitOrderRequest``)."""
        tickets = []
        for order in orders:
            order.id = self.get_increment_order_id()
            if order.group_order_manager is not None:
                order.group_order_manager.order_ids.append(order.id)
            security = self._security(order)
            order.submission_bid, order.submission_ask = security.bid_price, security.ask_price
            order.submission_last = security.close
            self.orders[order.id] = order
            ticket = OrderTicket(order, self)
            self.tickets[order.id] = ticket
            tickets.append(ticket)
            self.orders_count += 1
        self._round_prices(orders)
        ok, message = self.algorithm.buying_power.has_sufficient(orders)
        if not ok:
            self._invalidate(orders, message)
            return tickets
        for order in orders:
            allowed, reason = self.algorithm.brokerage_model.can_submit_order(self._security(order), order)
            if not allowed:
                ids = ",".join(str(o.id) for o in orders)
                self._invalidate(orders, f"BrokerageModel declared unable to submit order: [{ids}] {reason}")
                return tickets
        for order in orders:
            order.status = OrderStatus.SUBMITTED
            self.pending[order.id] = order
        self._notify([self._event(o, OrderStatus.SUBMITTED) for o in orders])
        self.scan()
        return tickets

    def _round_prices(self, orders: list[Order]) -> None:
        """``RoundOrderPrices``: limit prices to the security's tick; a combo limit to its legs' finest tick."""
        for order in orders:
            if order.type in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT, OrderType.STOP_LIMIT):
                security = self._security(order)
                order.limit_price = round_to_tick(order.limit_price, minimum_price_variation(security, order.limit_price))
            if order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
                security = self._security(order)
                order.stop_price = round_to_tick(order.stop_price, minimum_price_variation(security, order.stop_price))
        group = orders[0].group_order_manager
        if orders[0].type is OrderType.COMBO_LIMIT and group is not None:
            ticks = [minimum_price_variation(self._security(o), o.price) for o in orders]
            ticks = [t for t in ticks if t > 0]
            if ticks:
                group.limit_price = round_to_tick(group.limit_price, min(ticks))

    def _invalidate(self, orders: list[Order], message: str) -> None:
        for order in orders:
            order.status = OrderStatus.INVALID
            self.pending.pop(order.id, None)
        self.invalid_orders += 1
        self.algorithm.error(message)
        self._notify([self._event(o, OrderStatus.INVALID, message) for o in orders])

    # --- updates and cancels ----------------------------------------------------------------------

    def update_order(self, ticket: OrderTicket, fields: UpdateOrderFields) -> OrderResponse:
        """``HandleUpdateOrderRequest``: apply, re-round, re-check buying power (single orders), then scan."""
        order = ticket.order
        if not OrderExtensions.is_open(order.status):
            return OrderResponse(order.id, False, f"Unable to update order with id {order.id} and status {order.status.name}")
        request = UpdateRequest(order.id, self.algorithm.utc_time, fields)
        ticket.update_requests.append(request)
        if order.group_order_manager is None and (fields.quantity is not None or fields.limit_price is not None):
            trial = Order(order.type, order.symbol, fields.quantity if fields.quantity is not None else order.quantity,
                          order.time, order.tag, fields.limit_price if fields.limit_price is not None else order.limit_price,
                          order.stop_price)
            trial.id = order.id
            ok, message = self.algorithm.buying_power.has_sufficient([trial])
            if not ok:
                self.algorithm.error(message)
                self._notify([self._event(order, order.status, message)])
                request.response = OrderResponse(order.id, False, message)
                return request.response
        if fields.quantity is not None:
            order.quantity = float(fields.quantity)
        if fields.tag is not None:
            order.tag = fields.tag
        if fields.stop_price is not None:
            order.stop_price = float(fields.stop_price)
        if fields.limit_price is not None:
            if order.type is OrderType.COMBO_LIMIT and order.group_order_manager is not None:
                order.group_order_manager.limit_price = float(fields.limit_price)
                self._round_prices([self.orders[i] for i in order.group_order_manager.order_ids])
            else:
                order.limit_price = float(fields.limit_price)
                self._round_prices([order])
        order.last_update_time = self.algorithm.utc_time
        event = self._event(order, OrderStatus.UPDATE_SUBMITTED)
        event.limit_price = order.limit_price if order.type is not OrderType.COMBO_LIMIT else None
        self._notify([event])
        request.response = OrderResponse(order.id, True)
        self.scan()
        return request.response

    def cancel_ticket(self, ticket: OrderTicket, tag: str | None = None) -> OrderResponse:
        """``CancelOrder``: a closed order cannot be cancelled; a combo is cancelled whole."""
        order = ticket.order
        if ticket.cancel_request is not None:
            return OrderResponse(order.id, False, "Cancellation is already in progress.")
        if OrderExtensions.is_closed(order.status) or order.status is OrderStatus.NEW:
            return OrderResponse(order.id, False,
                                 f"Unable to cancel order with id {order.id} and status {order.status.name}")
        ticket.cancel_request = tag or ""
        if tag is not None:
            order.tag = tag
        order.status = OrderStatus.CANCEL_PENDING
        self._notify([self._event(order, OrderStatus.CANCEL_PENDING)])
        group = ([self.orders[i] for i in order.group_order_manager.order_ids]
                 if order.group_order_manager is not None else [order])
        canceled = []
        for member in group:
            self.pending.pop(member.id, None)
            if not OrderExtensions.is_closed(member.status):
                member.status = OrderStatus.CANCELED
                member.canceled_time = self.algorithm.utc_time
                canceled.append(member)
        self._notify([self._event(o, OrderStatus.CANCELED, tag or "") for o in canceled])
        return OrderResponse(order.id, True)

    def cancel_order(self, order_id: int, tag: str | None = None) -> OrderTicket | None:
        ticket = self.tickets.get(order_id)
        if ticket is not None:
            ticket.cancel(tag)
        return ticket

    remove_order = cancel_order

    def cancel_open_orders(self, symbol: Symbol | None = None, tag: str | None = None) -> list[OrderTicket]:
        """``CancelOpenOrders``: cancel every open order (of ``symbol``); counts the algorithm's calls."""
        self.cancel_calls += 1
        return self.cancel_open(symbol, tag)

    def cancel_open(self, symbol: Symbol | None = None, tag: str | None = None) -> list[OrderTicket]:
        """Cancel open orders on the engine's behalf (a delisting), not counted as the algorithm's call."""
        canceled = []
        for ticket in self.get_open_order_tickets(symbol):
            if OrderExtensions.is_open(ticket.status):
                ticket.cancel(tag)
                canceled.append(ticket)
        return canceled

    # --- the scan -----------------------------------------------------------------------------------

    def _group(self, order: Order) -> list[Order]:
        if order.group_order_manager is None:
            return [order]
        return [self.orders[i] for i in order.group_order_manager.order_ids]

    def scan(self) -> None:
        """``BacktestingBrokerage.Scan``: early assignments, then every open order against the cache."""
        self._process_assignments()
        now = self.algorithm.utc_time
        for order_id in sorted(self.pending):
            order = self.pending.get(order_id)
            if order is None or OrderExtensions.is_closed(order.status):
                self.pending.pop(order_id, None)
                continue
            if order.time == now and order.type not in MARKET_LIKE:
                continue  # fills are processed on the next bar, except market orders
            group = self._group(order)
            legs = [(o, self._security(o)) for o in group]
            if any(not s.subscribed and not s.holdings.invested for _, s in legs):
                self._remove(group, OrderStatus.INVALID, "The security no longer exists.")
                continue
            ok, message = self.algorithm.buying_power.has_sufficient(group)
            if not ok:
                if order.status is OrderStatus.CANCEL_PENDING:
                    continue
                self._remove(group, OrderStatus.INVALID, message)
                self.invalid_orders += 1
                self.algorithm.error(message)
                continue
            security = legs[0][1]
            fills = security.fill_model.fill(legs)
            if fills:
                self._apply_fills(group, fills)

    def _remove(self, orders: list[Order], status: OrderStatus, message: str) -> None:
        for order in orders:
            order.status = status
            self.pending.pop(order.id, None)
        self._notify([self._event(o, status, message) for o in orders])

    def _apply_fills(self, group: list[Order], fills: list[LegFill]) -> None:
        events = []
        for fill in fills:
            order = fill.order
            security = self._security(order)
            fee = fee_amount(security.fee_model, security, order)
            self._process_fill(security, order, order.quantity, fill.price, fee)
            event = self._event(order, OrderStatus.FILLED, fill.message, fill.price, order.quantity, fee)
            events.append(event)
        for order in group:
            self.pending.pop(order.id, None)
        self._notify(events)

    # --- portfolio accounting (SecurityPortfolioModel.ProcessFill) --------------------------------

    def _process_fill(self, security: Any, order: Order, quantity: float, price: float, fee: float,
                      cash_settlement: float = 0.0, is_exercise: bool = False, in_the_money: bool = False) -> None:
        portfolio, holding = self.algorithm.portfolio, security.holdings
        multiplier = security.symbol_properties.contract_multiplier
        held, average = holding.quantity, holding.average_price
        holding.total_sale_volume += abs(quantity) * price * multiplier
        if fee:
            holding.total_fees += fee
            portfolio.cash -= fee
            self.fees_paid += fee
        if security.type is not SecurityType.FUTURE:
            portfolio.cash -= quantity * price * multiplier
        closing = (held > 0 and quantity < 0) or (held < 0 and quantity > 0)
        if closing:
            closed = (1 if quantity < 0 else -1) * min(abs(quantity), abs(held))
            profit = (closed * price - closed * average) * multiplier
            if security.type is SecurityType.FUTURE:
                portfolio.cash += profit
            if cash_settlement:
                portfolio.cash += cash_settlement
                profit += cash_settlement
            holding.profit += profit
            holding.last_trade_profit = profit
            net = profit - 2 * fee
            portfolio.transaction_records.append((self.algorithm.utc_time, net,
                                                  self._is_win(security, quantity, net, is_exercise, in_the_money)))
        new_quantity = held + quantity
        if held == 0 or (held > 0) != (new_quantity > 0) and new_quantity != 0:
            new_average = price
        elif new_quantity == 0:
            new_average = 0.0
        elif abs(new_quantity) > abs(held):
            new_average = (average * held + quantity * price) / new_quantity
        else:
            new_average = average
        holding.set_holdings(new_average, new_quantity)
        order.price = price
        order.last_fill_time = self.algorithm.utc_time
        group_id = order.group_order_manager.id if order.group_order_manager is not None else 0
        self.fills.append(Fill(self.algorithm.utc_time, order.id, group_id, order.type.name.lower(), str(security.symbol),
                               quantity, price, fee, order.tag))

    @staticmethod
    def _is_win(security: Any, quantity: float, net: float, is_exercise: bool, in_the_money: bool) -> bool:
        """``OrderEvent.IsWin``: an ITM exercise or assignment counts by the in-the-money amount."""
        if not (is_exercise and security.type.is_option):
            return net > 0
        itm_amount = abs(security.get_intrinsic_value(security.underlying.close) * security.contract_unit_of_trade
                         * quantity)
        if quantity < 0:  # sold: the original trade was a buy
            return in_the_money and abs(net) < itm_amount
        return not in_the_money or abs(net) > itm_amount

    # --- events ---------------------------------------------------------------------------------------

    def _event(self, order: Order, status: OrderStatus, message: str = "", price: float = 0.0,
               fill_quantity: float = 0.0, fee: float = 0.0) -> OrderEvent:
        event = OrderEvent(order.id, order.symbol, status, message, price, fill_quantity, fee, order.quantity,
                           self.algorithm.utc_time)
        if order.type in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT):
            event.limit_price = order.limit_price
        event.ticket = self.tickets.get(order.id)
        return event

    def _notify(self, events: list[OrderEvent]) -> None:
        """Update orders and tickets, then tell the algorithm (``on_order_event``, assignments too).
        Each event gets the next id of its order, as LEAN numbers them (``Order.GetNewId`` in
        ``Common/Orders/Order.cs``): a fill delivered twice can be told from two fills."""
        for event in events:
            event.id = self._event_ids[event.order_id] = self._event_ids.get(event.order_id, 0) + 1
            order = self.orders.get(event.order_id)
            ticket = self.tickets.get(event.order_id)
            if order is not None and event.symbol == order.symbol:
                order.status = event.status
            if ticket is not None and order is not None and event.fill_quantity and event.symbol == order.symbol:
                filled = ticket.quantity_filled + event.fill_quantity
                if filled:
                    ticket.average_fill_price = ((ticket.average_fill_price * ticket.quantity_filled
                                                  + event.fill_price * event.fill_quantity) / filled)
                ticket.quantity_filled = filled
            if ticket is not None:
                ticket.order_events.append(event)
        for event in events:
            if event.fill_quantity and event.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
                security = self.algorithm.securities[event.symbol]
                self.algorithm.trade_builder.process_fill(event, event.order_fee_amount,
                                                          security.symbol_properties.contract_multiplier)
        for event in events:
            self.algorithm.on_order_event(event)
            if event.is_assignment:
                self.algorithm.on_assignment_order_event(event)

    # --- exercise, assignment, delisting -----------------------------------------------------------------

    def exercise(self, option: Any, quantity: float, tag: str = "") -> Order:
        """Generate and fill an ``OptionExercise`` order of ``quantity`` contracts (counted in Total Orders)."""
        order = Order(OrderType.OPTION_EXERCISE, option.symbol, quantity, self.algorithm.utc_time, tag)
        order.id = self.get_increment_order_id()
        order.status = OrderStatus.SUBMITTED
        self.orders[order.id] = order
        self.tickets[order.id] = OrderTicket(order, self)
        self.orders_count += 1
        events = []
        for fill in exercise_fills(option, order):
            security = self.algorithm.securities[fill.symbol]
            settlement = 0.0
            if fill.symbol == option.symbol and option.exercise_settlement is SettlementType.CASH:
                settlement = -option.get_intrinsic_value(option.underlying.close) * option.contract_unit_of_trade * quantity
            self._process_fill(security, order, fill.quantity, fill.price, 0.0, settlement, fill.symbol == option.symbol,
                               fill.in_the_money)
            event = OrderEvent(order.id, fill.symbol, OrderStatus.FILLED, fill.message, fill.price, fill.quantity, 0.0,
                               order.quantity, self.algorithm.utc_time)
            event.is_assignment, event.is_in_the_money = fill.is_assignment, fill.in_the_money
            event.ticket = self.tickets[order.id]
            events.append(event)
        order.status = OrderStatus.FILLED
        self._notify(events)
        return order

    def submit_exercise(self, option: Any, quantity: float, tag: str = "") -> OrderTicket:
        """``ExerciseOption``: a manual exercise of a long position (checked by the algorithm first)."""
        order = self.exercise(option, -abs(quantity), tag)
        return self.tickets[order.id]

    def _process_assignments(self) -> None:
        """``ProcessAssignmentOrders``: once an hour, ask the assignment model about every short option."""
        now = self.algorithm.utc_time
        if now < self._next_assignment_check:
            return
        self._next_assignment_check = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        shorts = [s for s in self.algorithm.portfolio.held.values()
                  if s.type.is_option and s.holdings.is_short and s.underlying is not None]
        for option in sorted(shorts, key=lambda s: s.symbol.root):
            model = option.option_assignment_model or self.assignment_model
            result = model.get_assignment(OptionAssignmentParameters(option))
            if result is not None and result.quantity != 0:
                self.exercise(option, -option.holdings.quantity, result.tag)

    def liquidate_delisted(self, security: Any) -> None:
        """``HandleDelistingNotification``: close a delisted non-option holding at its last price."""
        quantity = -security.holdings.quantity
        if quantity == 0:
            return
        order = Order(OrderType.MARKET, security.symbol, quantity, self.algorithm.utc_time, "Liquidate from delisting")
        order.id = self.get_increment_order_id()
        self.orders[order.id] = order
        self.tickets[order.id] = OrderTicket(order, self)
        self.orders_count += 1
        self._process_fill(security, order, quantity, security.price, 0.0)
        order.status = OrderStatus.FILLED
        self._notify([self._event(order, OrderStatus.FILLED, order.tag, security.price, quantity)])
