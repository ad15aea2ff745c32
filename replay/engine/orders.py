"""LEAN's orders, tickets, events and requests for the double (``Common/Orders/*.cs``).

An :class:`Order` is one security's order; a combo is several orders sharing a
:class:`GroupOrderManager` whose quantity is the number of combo units and whose limit price is the
net price of one unit (``ComboLimitOrder.cs``). Each leg order's quantity is its ratio times the
group quantity (``GetOrderLegGroupQuantity``).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from replay.engine.lean_types import (
    OrderDirection, OrderExtensions, OrderField, OrderStatus, OrderType, Strict)
from replay.engine.symbols import Symbol, as_symbol


class GroupOrderManager(Strict):
    """Ties a combo's leg orders together: group id, leg count, group quantity, net limit price."""

    def __init__(self, group_id: int, count: int, quantity: float, limit_price: float = 0.0) -> None:
        self.id, self.count, self.quantity, self.limit_price = group_id, count, float(quantity), float(limit_price)
        self.order_ids: list[int] = []

    @property
    def direction(self) -> OrderDirection:
        return OrderDirection.BUY if self.quantity > 0 else OrderDirection.SELL


def direction_of(quantity: float) -> OrderDirection:
    return OrderDirection.BUY if quantity > 0 else OrderDirection.SELL if quantity < 0 else OrderDirection.HOLD


class Order(Strict):
    """One order of any LEAN order type (LEAN's order classes flattened into one)."""

    def __init__(self, order_type: OrderType, symbol: Symbol, quantity: float, time: datetime, tag: str = "",
                 limit_price: float = 0.0, stop_price: float = 0.0,
                 group_order_manager: GroupOrderManager | None = None) -> None:
        self.id = 0
        self.type = order_type
        self.symbol = symbol
        self.quantity = float(quantity)
        self.time = time
        self.tag = tag
        self.limit_price = float(limit_price)
        self.stop_price = float(stop_price)
        self.group_order_manager = group_order_manager
        self.status = OrderStatus.NEW
        self.price = 0.0  # average fill price
        self.last_fill_time: datetime | None = None
        self.last_update_time: datetime | None = None
        self.canceled_time: datetime | None = None
        self.submission_bid = self.submission_ask = self.submission_last = 0.0
        self.stop_triggered = False

    @property
    def direction(self) -> OrderDirection:
        return direction_of(self.quantity)

    @property
    def absolute_quantity(self) -> float:
        return abs(self.quantity)

    abs_quantity = absolute_quantity

    @property
    def created_time(self) -> datetime:
        return self.time

    def leg_ratio(self) -> float:
        """This leg's quantity per combo unit (``GetOrderLegRatio``)."""
        assert self.group_order_manager is not None
        return self.quantity / self.group_order_manager.quantity

    def get_value(self, security: Any) -> float:
        """``Order.GetValue``: the order's value in dollars at the security's price (limit/stop-aware)."""
        price = float(security.price)
        kind = self.type
        if kind in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED):
            unit = _limit_value(self.quantity, self.limit_price, price)
        elif kind is OrderType.COMBO_LIMIT:
            assert self.group_order_manager is not None
            unit = _limit_value(self.quantity, self.group_order_manager.limit_price, price)
        elif kind is OrderType.STOP_MARKET:
            unit = _limit_value(self.quantity, self.stop_price, price)
        elif kind is OrderType.OPTION_EXERCISE:
            multiplier = security.symbol_properties.contract_multiplier
            unit = security.get_exercise_quantity(self.quantity) * self.price / multiplier
        else:
            unit = self.quantity * price
        return unit * float(security.symbol_properties.contract_multiplier)

    def __str__(self) -> str:
        return (f"OrderId: {self.id} {self.status.name.title()} {self.type.name.title().replace('_', '')} order for "
                f"{self.quantity:g} unit{'s' if abs(self.quantity) != 1 else ''} of {self.symbol}")


def _limit_value(quantity: float, limit: float, price: float) -> float:
    """``LimitOrder.CalculateOrderValue``: a sell at the higher, a buy at the lower of limit and price."""
    if quantity < 0:
        return quantity * max(limit, price)
    if quantity > 0:
        return quantity * min(limit, price)
    return 0.0


class OrderResponse(Strict):
    """The answer to a submit, update or cancel request."""

    def __init__(self, order_id: int, success: bool, error_message: str = "", error_code: str = "") -> None:
        self.order_id, self.is_success, self.error_message, self.error_code = order_id, success, error_message, error_code

    @property
    def is_error(self) -> bool:
        return not self.is_success

    def __str__(self) -> str:
        return "OrderResponse: Success" if self.is_success else f"OrderResponse: Error: {self.error_message}"


class UpdateOrderFields(Strict):
    """``UpdateOrderFields``: the fields an update sets (None leaves a field unchanged)."""

    def __init__(self) -> None:
        self.quantity: float | None = None
        self.limit_price: float | None = None
        self.stop_price: float | None = None
        self.trigger_price: float | None = None
        self.tag: str | None = None


class UpdateRequest(Strict):
    """One accepted ``ticket.update`` (a snapshot of the fields)."""

    def __init__(self, order_id: int, time: datetime, fields: UpdateOrderFields) -> None:
        self.order_id, self.time = order_id, time
        self.quantity, self.limit_price, self.stop_price = fields.quantity, fields.limit_price, fields.stop_price
        self.tag = fields.tag
        self.response: OrderResponse | None = None


class OrderTicket(Strict):
    """``OrderTicket``: an order as the algorithm tracks it; update and cancel go through it."""

    def __init__(self, order: Order, manager: Any, response: OrderResponse | None = None) -> None:
        self.order = order
        self._manager = manager
        self.submit_response = response or OrderResponse(order.id, True)
        self.update_requests: list[UpdateRequest] = []
        self.cancel_request: Any = None
        self.quantity_filled = 0.0
        self.average_fill_price = 0.0
        self.order_events: list[OrderEvent] = []
        self._status_override: OrderStatus | None = None

    @property
    def order_id(self) -> int:
        return self.order.id

    @property
    def symbol(self) -> Symbol:
        return self.order.symbol

    @property
    def quantity(self) -> float:
        return self.order.quantity

    @property
    def order_type(self) -> OrderType:
        return self.order.type

    @property
    def status(self) -> OrderStatus:
        return self._status_override if self._status_override is not None else self.order.status

    @property
    def tag(self) -> str:
        return self.order.tag

    @property
    def time(self) -> datetime:
        return self.order.time

    @property
    def quantity_remaining(self) -> float:
        return self.order.quantity - self.quantity_filled

    def get(self, field: OrderField) -> float:
        """``ticket.get(OrderField.LIMIT_PRICE)``; a combo limit leg answers its group's limit."""
        if field is OrderField.LIMIT_PRICE:
            if self.order.type is OrderType.COMBO_LIMIT and self.order.group_order_manager is not None:
                return self.order.group_order_manager.limit_price
            if self.order.type in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT, OrderType.STOP_LIMIT,
                                   OrderType.LIMIT_IF_TOUCHED):
                return self.order.limit_price
        if field is OrderField.STOP_PRICE and self.order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            return self.order.stop_price
        raise ValueError(f"{field.name} is not a field of a {self.order.type.name} order")

    def update(self, fields: UpdateOrderFields) -> OrderResponse:
        response: OrderResponse = self._manager.update_order(self, fields)
        return response

    def update_limit_price(self, limit_price: float, tag: str | None = None) -> OrderResponse:
        fields = UpdateOrderFields()
        fields.limit_price, fields.tag = limit_price, tag
        return self.update(fields)

    def update_quantity(self, quantity: float, tag: str | None = None) -> OrderResponse:
        fields = UpdateOrderFields()
        fields.quantity, fields.tag = quantity, tag
        return self.update(fields)

    def update_tag(self, tag: str) -> OrderResponse:
        fields = UpdateOrderFields()
        fields.tag = tag
        return self.update(fields)

    def cancel(self, tag: str | None = None) -> OrderResponse:
        response: OrderResponse = self._manager.cancel_ticket(self, tag)
        return response

    def __str__(self) -> str:
        return str(self.order)


class OrderEvent(Strict):
    """A change of an order's state: submitted, filled (with price, quantity and fee), cancelled, invalid..."""

    def __init__(self, order_id: int, symbol: Symbol, status: OrderStatus, message: str = "", fill_price: float = 0.0,
                 fill_quantity: float = 0.0, order_fee: float = 0.0, quantity: float = 0.0,
                 utc_time: datetime | None = None) -> None:
        self.order_id, self.symbol, self.status, self.message = order_id, symbol, status, message
        self.fill_price, self.fill_quantity = float(fill_price), float(fill_quantity)
        self.order_fee_amount = float(order_fee)
        self.quantity = float(quantity)
        self.utc_time = utc_time
        self.is_assignment = False
        self.is_in_the_money = False
        self.limit_price: float | None = None
        self.stop_price: float | None = None
        self.ticket: OrderTicket | None = None
        self.id = 0

    @property
    def direction(self) -> OrderDirection:
        return direction_of(self.fill_quantity if self.fill_quantity else self.quantity)

    @property
    def absolute_fill_quantity(self) -> float:
        return abs(self.fill_quantity)

    @property
    def order_fee(self) -> Any:
        from replay.engine.fees import CashAmount, OrderFee

        return OrderFee(CashAmount(self.order_fee_amount))

    @property
    def fill_price_currency(self) -> str:
        return "USD"

    def __str__(self) -> str:
        text = (f"Time: {self.utc_time} OrderID: {self.order_id} Symbol: {self.symbol} Status: {self.status.name.title()}"
                f" Quantity: {self.quantity:g}")
        if self.fill_quantity:
            text += f" FillQuantity: {self.fill_quantity:g} FillPrice: {self.fill_price:g} USD"
        if self.order_fee_amount:
            text += f" OrderFee: {self.order_fee_amount:g} USD"
        if self.message:
            text += f" Message: {self.message}"
        return text


class Leg(Strict):
    """One leg of a combo order: symbol, ratio quantity and (for combo leg limit orders) its limit."""

    def __init__(self, symbol: Symbol, quantity: int, order_price: float | None = None) -> None:
        self.symbol, self.quantity, self.order_price = as_symbol(symbol), int(quantity), order_price

    @staticmethod
    def create(symbol: Symbol, quantity: int, limit_price: float | None = None) -> Leg:
        return Leg(symbol, quantity, limit_price)

    def __str__(self) -> str:
        return f"{self.quantity:+d} {self.symbol}"


is_open: Callable[[OrderStatus], bool] = OrderExtensions.is_open
