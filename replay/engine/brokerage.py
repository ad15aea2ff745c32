"""Brokerage models: which fee, fill and buying-power models a security gets, and which orders the
brokerage accepts (``Common/Brokerages/DefaultBrokerageModel.cs``, ``TastytradeBrokerageModel.cs``).

An algorithm that sets no brokerage model gets the default model: Interactive Brokers fees for
equities, equity options and futures, no fee for indexes and index options, leverage 2 for equities
in a margin account. ``set_brokerage_model(BrokerageName.TASTYTRADE, ...)`` selects tastytrade's fees
for everything and its order rules: market, limit, stop market, stop limit and combo limit orders only
(combo market, combo leg limit, market-on-open and market-on-close orders are refused), and a combo
limit order may not take a leg through zero. Other brokerage names raise ``NotImplementedInDouble``.
"""
from __future__ import annotations

from typing import Any

from replay.engine.fees import ConstantFeeModel, FeeModel, InteractiveBrokersFeeModel, TastytradeFeeModel
from replay.engine.fills import EquityFillModel, FillModel
from replay.engine.lean_types import (
    AccountType, BrokerageName, NotImplementedInDouble, OrderType, SecurityType, Strict)
from replay.engine.margin import OptionMarginModel, SecurityMarginModel
from replay.engine.orders import Order


def crosses_zero(holding: float, quantity: float) -> bool:
    """``BrokerageExtensions.OrderCrossesZero``."""
    return (holding > 0 > holding + quantity) or (holding < 0 < holding + quantity)


class DefaultBrokerageModel(Strict):
    """LEAN's ``DefaultBrokerageModel`` (what ``lean backtest`` uses without ``set_brokerage_model``)."""

    name = "Default"

    def __init__(self, account_type: AccountType = AccountType.MARGIN) -> None:
        self.account_type = account_type

    def get_fee_model(self, security: Any) -> FeeModel:
        if security.type in (SecurityType.EQUITY, SecurityType.OPTION, SecurityType.FUTURE, SecurityType.FUTURE_OPTION):
            return InteractiveBrokersFeeModel()
        return ConstantFeeModel(0.0)

    def get_fill_model(self, security: Any) -> FillModel:
        return EquityFillModel() if security.type is SecurityType.EQUITY else FillModel()

    def get_leverage(self, security: Any) -> float:
        if self.account_type is AccountType.CASH:
            return 1.0
        return 2.0 if security.type is SecurityType.EQUITY else 1.0

    def get_buying_power_model(self, security: Any) -> SecurityMarginModel:
        if security.type in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
            return OptionMarginModel()
        if self.account_type is AccountType.CASH and security.type is SecurityType.EQUITY:
            raise NotImplementedInDouble("LEAN double does not implement the cash account's CashBuyingPowerModel")
        return SecurityMarginModel(security.leverage)

    def can_submit_order(self, security: Any, order: Order) -> tuple[bool, str]:
        if security.type in (SecurityType.FUTURE, SecurityType.FUTURE_OPTION) and order.type is OrderType.MARKET_ON_OPEN:
            return False, "MarketOnOpen orders are not supported for futures and future options."
        return True, ""


class TastytradeBrokerageModel(DefaultBrokerageModel):
    """LEAN's ``TastytradeBrokerageModel`` (fees from ``TastytradeFeeModel``)."""

    name = "Tastytrade"
    SECURITY_TYPES = {SecurityType.EQUITY, SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.FUTURE,
                      SecurityType.FUTURE_OPTION}
    ORDER_TYPES = {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT,
                   OrderType.COMBO_LIMIT}

    def get_fee_model(self, security: Any) -> FeeModel:
        return TastytradeFeeModel()

    def can_submit_order(self, security: Any, order: Order) -> tuple[bool, str]:
        if security.type not in self.SECURITY_TYPES:
            return False, f"The Tastytrade brokerage does not support {security.type.name} securities."
        if order.type not in self.ORDER_TYPES:
            return False, (f"The Tastytrade brokerage does not support {order.type.name} orders; supported: "
                           + ", ".join(sorted(t.name for t in self.ORDER_TYPES)))
        if order.type is OrderType.COMBO_LIMIT and crosses_zero(security.holdings.quantity, order.quantity):
            return False, "The Tastytrade brokerage does not support ComboLimit orders that cross zero holdings."
        return super().can_submit_order(security, order)


def brokerage_model(name: Any, account_type: Any = AccountType.MARGIN) -> DefaultBrokerageModel:
    """The model ``set_brokerage_model(name, account_type)`` selects."""
    if isinstance(name, DefaultBrokerageModel):
        return name
    if name == BrokerageName.TASTYTRADE:
        return TastytradeBrokerageModel(AccountType(account_type))
    if name == BrokerageName.DEFAULT:
        return DefaultBrokerageModel(AccountType(account_type))
    label = getattr(name, "name", str(name))
    raise NotImplementedInDouble(f"LEAN double implements the default and tastytrade brokerage models, not {label}")
