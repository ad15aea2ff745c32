"""LEAN's fee models, computed exactly as LEAN computes them (``Common/Orders/Fees/``).

Which model a security gets is the brokerage model's choice (:mod:`replay.engine.brokerage`): the
default brokerage model gives equities, equity options and futures the Interactive Brokers model and
everything else (indexes, index options) a zero constant fee; the tastytrade model gives everything
the tastytrade fee model. An algorithm may replace a security's model with ``set_fee_model``.
"""
from __future__ import annotations

from typing import Any

from replay.engine.lean_types import OrderDirection, OrderType, SecurityType, Strict


class CashAmount(Strict):
    def __init__(self, amount: float, currency: str = "USD") -> None:
        self.amount, self.currency = float(amount), currency


class OrderFee(Strict):
    def __init__(self, value: CashAmount) -> None:
        self.value = value

    @staticmethod
    def zero() -> OrderFee:
        return OrderFee(CashAmount(0.0))


class OrderFeeParameters(Strict):
    def __init__(self, security: Any, order: Any) -> None:
        self.security, self.order = security, order


class FeeModel(Strict):
    """Base of LEAN's fee models; an algorithm's own Python fee model subclasses it."""

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        return OrderFee.zero()


class ConstantFeeModel(FeeModel):
    """A fixed fee per order (``ConstantFeeModel.cs``); LEAN's default for indexes and index options is 0."""

    def __init__(self, fee: float, currency: str = "USD") -> None:
        self.fee, self.currency = float(fee), currency

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        return OrderFee(CashAmount(abs(self.fee), self.currency))


# InteractiveBrokersFeeModel.cs: USA future fees per contract = IB fee + exchange fee + 0.02 regulatory
_IB_FUTURE_FEE = {"MYM": 0.25, "M2K": 0.25, "MES": 0.25, "MNQ": 0.25, "2YY": 0.25, "5YY": 0.25, "10Y": 0.25,
                  "30Y": 0.25, "MCL": 0.25, "MGC": 0.25, "SIL": 0.25, "BTC": 5.0, "MBT": 2.25, "ETH": 3.0,
                  "MET": 0.20, "MIB": 2.25, "MRB": 0.20, "E7": 0.50, "J7": 0.50}
_IB_FUTURE_EXCHANGE_FEE = {"ES": 1.28, "NQ": 1.28, "YM": 1.28, "RTY": 1.28, "EMD": 1.28, "MYM": 0.30, "M2K": 0.30,
                           "MES": 0.30, "MNQ": 0.30, "2YY": 0.30, "5YY": 0.30, "10Y": 0.30, "30Y": 0.30,
                           "MCL": 0.30, "MGC": 0.30, "SIL": 0.30, "BTC": 6.0, "MBT": 2.5, "ETH": 4.0, "MET": 0.20,
                           "MIB": 2.5, "MRB": 0.20, "E7": 0.85, "J7": 0.85}


def potential_order_price(order: Any, security: Any) -> float:
    """``InteractiveBrokersFeeModel.GetPotentialOrderPrice``: the price the fee tier is read at. For market
    orders LEAN takes the bid when buying and the ask when selling (sic); a combo limit its group limit."""
    kind = order.type
    if kind in (OrderType.COMBO_MARKET, OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE, OrderType.MARKET):
        return float(security.bid_price if order.direction is OrderDirection.BUY else security.ask_price)
    if kind is OrderType.COMBO_LIMIT:
        return float(order.group_order_manager.limit_price)
    if kind in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED):
        return float(order.limit_price)
    if kind is OrderType.STOP_MARKET:
        return float(order.stop_price)
    return 0.0


class InteractiveBrokersFeeModel(FeeModel):
    """``InteractiveBrokersFeeModel.cs`` for US markets at the lowest monthly-volume tier: options
    $0.65/$0.50/$0.25 per contract by premium (>= 0.10, 0.05-0.10, < 0.05) with $1 minimum per order;
    equity exercise free; equities $0.005/share, $1 minimum, at most 0.5% of the trade value;
    futures IB fee + exchange fee + $0.02 per contract."""

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        order, security = parameters.order, parameters.security
        if order.type is OrderType.OPTION_EXERCISE and order.symbol.security_type is SecurityType.OPTION:
            return OrderFee.zero()
        quantity = abs(order.quantity)
        kind = security.type
        if kind in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
            premium = potential_order_price(order, security)
            rate = 0.65 if premium >= 0.1 else 0.5 if premium >= 0.05 else 0.25
            return OrderFee(CashAmount(max(quantity * rate, 1.0)))
        if kind in (SecurityType.FUTURE, SecurityType.FUTURE_OPTION):
            root = order.symbol.root if kind is SecurityType.FUTURE else order.symbol.underlying.root
            per_contract = _IB_FUTURE_FEE.get(root, 0.85) + _IB_FUTURE_EXCHANGE_FEE.get(root, 1.60) + 0.02
            return OrderFee(CashAmount(quantity * per_contract))
        if kind is SecurityType.EQUITY:
            trade_value = abs(order.get_value(security))
            fee = 0.005 * quantity
            maximum = 0.005 * trade_value
            fee = 1.0 if fee < 1.0 else min(fee, maximum)
            return OrderFee(CashAmount(abs(fee)))
        raise ValueError(f"InteractiveBrokersFeeModel does not support {kind.name} securities")


class TastytradeFeeModel(FeeModel):
    """``TastytradeFeeModel.cs``: options and index options $1 per contract when the order opens a
    position and $0 when it closes one (by direction against the holdings before the fill); futures
    $1.25 per contract; future options $2.50 opening, $0 closing; everything else free."""

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        order, security = parameters.order, parameters.security
        held = security.holdings.quantity
        opening = held >= 0 if order.direction is OrderDirection.BUY else held <= 0
        kind = security.type
        rate = 0.0
        if kind in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
            rate = 1.0 if opening else 0.0
        elif kind is SecurityType.FUTURE:
            rate = 1.25
        elif kind is SecurityType.FUTURE_OPTION:
            rate = 2.5 if opening else 0.0
        return OrderFee(CashAmount(abs(order.quantity) * rate))


def fee_amount(model: Any, security: Any, order: Any) -> float:
    """The fee of ``order`` in dollars from a LEAN or user fee model (a user model returns an ``OrderFee``)."""
    fee = model.get_order_fee(OrderFeeParameters(security, order))
    value = getattr(fee, "value", fee)
    amount = getattr(value, "amount", value)
    return float(amount)
