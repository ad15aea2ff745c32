"""Option exercise, assignment and LEAN's simulated early assignment.

* ``DefaultExerciseModel.cs``: an exercise (or expiry) order closes the option leg at price 0; when the
  contract is in the money at the underlying's *close* (``IsAutoExercised``: intrinsic >= $0.01) and
  physically settled, a second fill moves the underlying at the strike. Cash-settled (index) options
  get the intrinsic value in cash instead (``OptionPortfolioModel.ProcessCloseTradeProfit``, applied in
  :mod:`replay.engine.transactions`). Out of the money the option simply closes at 0.
* ``DefaultOptionAssignmentModel.cs``: every hour the backtesting brokerage asks whether a short
  option is assigned early: American options within 4 days of expiry, European ones on their expiry
  date, more than 5% in the money, when exercising and selling the underlying would earn the holder
  more than selling the option at its bid (fees included).
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from replay.engine.fees import fee_amount
from replay.engine.lean_types import OptionRight, OptionStyle, OrderType, SettlementType
from replay.engine.orders import Order
from replay.engine.symbols import Symbol


@dataclasses.dataclass(frozen=True)
class ExerciseFill:
    symbol: Symbol
    price: float
    quantity: float
    message: str
    is_assignment: bool
    in_the_money: bool


def exercise_fills(option: Any, order: Order) -> list[ExerciseFill]:
    """The fills of an option exercise order (``DefaultExerciseModel.OptionExercise``)."""
    underlying = option.underlying
    itm = option.is_auto_exercised(underlying.close)
    assignment = itm and option.holdings.is_short
    tag = ("Assigned" if assignment else "Automatic Exercise") if itm else "OTM"
    fills = [ExerciseFill(option.symbol, 0.0, order.quantity, f"{tag}. Underlying: {underlying.price:g}", assignment,
                          itm)]
    if itm and option.exercise_settlement is SettlementType.PHYSICAL_DELIVERY:
        fills.append(ExerciseFill(underlying.symbol, option.strike_price, option.get_exercise_quantity(order.quantity),
                                  "Option Assignment" if assignment else "Option Exercise", False, True))
    return fills


class OptionAssignmentParameters:
    """``OptionAssignmentParameters``: what an assignment model is asked about."""

    def __init__(self, option: Any) -> None:
        self.option = option


class OptionAssignmentResult:
    """``OptionAssignmentResult``: how many contracts are assigned (0: none) and the order tag."""

    NULL: OptionAssignmentResult

    def __init__(self, quantity: float, tag: str) -> None:
        self.quantity, self.tag = float(quantity), tag


OptionAssignmentResult.NULL = OptionAssignmentResult(0.0, "")


class DefaultOptionAssignmentModel:
    """LEAN's early-assignment simulation for short options (see the module docstring)."""

    def __init__(self, required_in_the_money_percent: float = 0.05, prior_expiration: timedelta = timedelta(days=4)) -> None:
        self.required, self.prior = required_in_the_money_percent, prior_expiration

    def get_assignment(self, parameters: OptionAssignmentParameters) -> OptionAssignmentResult:
        option = parameters.option
        now = option.local_time
        style = option.symbol.style
        soon = ((style is OptionStyle.AMERICAN and option.expiry - now <= self.prior)
                or (style is OptionStyle.EUROPEAN and option.expiry.date() == now.date()))
        if soon and self._deep_in_the_money(option) and self._arbitrage_pnl(option) > 0:
            return OptionAssignmentResult(option.holdings.absolute_quantity, "Simulated option assignment before expiration")
        return OptionAssignmentResult.NULL

    def _deep_in_the_money(self, option: Any) -> bool:
        price = option.underlying.close
        if price == 0:
            return False
        strike = option.scaled_strike_price
        if option.right is OptionRight.CALL:
            return bool((price - strike) / price > self.required)
        return bool((strike - price) / price > self.required)

    def _arbitrage_pnl(self, option: Any) -> float:
        """``EstimateArbitragePnL``: the holder's gain from exercising over selling the option at its bid."""
        holding, underlying = option.holdings, option.underlying
        multiplier = option.symbol_properties.contract_multiplier
        option_price = option.bid_price
        underlying_price = underlying.bid_price if option.right is OptionRight.CALL else underlying.ask_price
        underlying_quantity = option.get_exercise_quantity(holding.quantity)
        now = option.local_time
        close_option = Order(OrderType.MARKET, option.symbol, -holding.quantity, now)
        base = ((option_price - holding.average_price) * -holding.quantity * multiplier
                - fee_amount(option.fee_model, option, close_option))
        exercise = Order(OrderType.OPTION_EXERCISE, option.symbol, holding.absolute_quantity, now)
        underlying_fee = 0.0
        if option.exercise_settlement is SettlementType.PHYSICAL_DELIVERY:
            sell = Order(OrderType.MARKET, underlying.symbol, -underlying_quantity, now)
            underlying_fee = fee_amount(underlying.fee_model, underlying, sell)
        # LEAN multiplies the exercise quantity (already in shares) by the contract unit once more
        alternative = ((underlying_price - option.scaled_strike_price) * underlying_quantity
                       * option.contract_unit_of_trade - underlying_fee
                       - holding.average_price * holding.absolute_quantity * multiplier
                       - fee_amount(option.fee_model, option, exercise))
        return float(alternative - base)


class NullOptionAssignmentModel:
    """``NullOptionAssignmentModel``: never assigns early."""

    def get_assignment(self, parameters: OptionAssignmentParameters) -> OptionAssignmentResult:
        return OptionAssignmentResult.NULL
