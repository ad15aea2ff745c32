"""``OptionStrategies``: LEAN's factory of named option strategies (``Common/Securities/Option/OptionStrategies.cs``).

``self.buy(strategy, n)`` / ``self.sell(strategy, n)`` / ``self.order(strategy, n)`` send the strategy's
underlying legs then option legs as one combo market order (``QCAlgorithm.GenerateOptionStrategyOrders``).
Leg order and ratios are LEAN's, so order ids and fills come out in LEAN's order.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from replay.engine.lean_types import OptionRight, Strict
from replay.engine.orders import Leg
from replay.engine.symbols import Symbol, option_symbol

C, P = OptionRight.CALL, OptionRight.PUT


class OptionLegData(Leg):
    """One option leg of a strategy: right, strike, expiration, ratio; its symbol once resolved."""

    def __init__(self, right: OptionRight, strike: float, expiration: datetime | date, quantity: int) -> None:
        self.right, self.strike, self.expiration = right, float(strike), expiration
        self.symbol: Symbol | None = None  # type: ignore[assignment]
        self.quantity, self.order_price = int(quantity), None


class UnderlyingLegData(Leg):
    def __init__(self, symbol: Symbol, quantity: int) -> None:
        super().__init__(symbol, quantity)


class OptionStrategy(Strict):
    def __init__(self, name: str, canonical: Symbol, option_legs: list[OptionLegData],
                 underlying_legs: list[UnderlyingLegData] | None = None) -> None:
        if not canonical.is_canonical():
            raise ValueError(f"{name}: the symbol {canonical} is not a canonical option symbol")
        self.name, self.canonical_option = name, canonical
        self.underlying = canonical.underlying
        self.option_legs, self.underlying_legs = option_legs, underlying_legs or []

    def set_symbols(self) -> None:
        """``OptionStrategy.SetSymbols``: give every option leg its contract symbol."""
        canonical = self.canonical_option
        assert canonical.underlying is not None
        for leg in self.option_legs:
            if leg.symbol is None:
                expiry = leg.expiration.date() if isinstance(leg.expiration, datetime) else leg.expiration
                leg.symbol = option_symbol(canonical.root, canonical.underlying, expiry, leg.strike, leg.right,
                                           canonical.security_type, canonical.style, canonical.market)

    def legs(self) -> list[Leg]:
        self.set_symbols()
        return [*self.underlying_legs, *self.option_legs]


def _invert(strategy: OptionStrategy, name: str) -> OptionStrategy:
    for leg in [*strategy.option_legs, *strategy.underlying_legs]:
        leg.quantity = -leg.quantity
    strategy.name = name
    return strategy


def _legs(*specs: tuple[OptionRight, float, Any, int]) -> list[OptionLegData]:
    return [OptionLegData(right, strike, expiry, quantity) for right, strike, expiry, quantity in specs]


class OptionStrategies:
    """The factory methods LEAN algorithms use most; others raise ``NotImplementedInDouble``."""

    @staticmethod
    def naked_call(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Naked Call", canonical, _legs((C, strike, expiration, -1)))

    @staticmethod
    def naked_put(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Naked Put", canonical, _legs((P, strike, expiration, -1)))

    @staticmethod
    def covered_call(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        assert canonical.underlying is not None
        return OptionStrategy("Covered Call", canonical, _legs((C, strike, expiration, -1)),
                              [UnderlyingLegData(canonical.underlying, 100)])

    @staticmethod
    def protective_call(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.covered_call(canonical, strike, expiration), "Protective Call")

    @staticmethod
    def covered_put(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        assert canonical.underlying is not None
        return OptionStrategy("Covered Put", canonical, _legs((P, strike, expiration, -1)),
                              [UnderlyingLegData(canonical.underlying, -100)])

    @staticmethod
    def protective_put(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.covered_put(canonical, strike, expiration), "Protective Put")

    @staticmethod
    def bear_call_spread(canonical: Symbol, leg1_strike: float, leg2_strike: float, expiration: datetime) -> OptionStrategy:
        if leg1_strike >= leg2_strike:
            raise ValueError("BearCallSpread: leg1Strike must be less than leg2Strike")
        return OptionStrategy("Bear Call Spread", canonical,
                              _legs((C, leg1_strike, expiration, -1), (C, leg2_strike, expiration, 1)))

    @staticmethod
    def bear_put_spread(canonical: Symbol, leg1_strike: float, leg2_strike: float, expiration: datetime) -> OptionStrategy:
        if leg1_strike <= leg2_strike:
            raise ValueError("BearPutSpread: leg1Strike must be greater than leg2Strike")
        return OptionStrategy("Bear Put Spread", canonical,
                              _legs((P, leg1_strike, expiration, 1), (P, leg2_strike, expiration, -1)))

    @staticmethod
    def bull_call_spread(canonical: Symbol, leg1_strike: float, leg2_strike: float, expiration: datetime) -> OptionStrategy:
        if leg1_strike >= leg2_strike:
            raise ValueError("BullCallSpread: leg1Strike must be less than leg2Strike")
        return OptionStrategy("Bull Call Spread", canonical,
                              _legs((C, leg1_strike, expiration, 1), (C, leg2_strike, expiration, -1)))

    @staticmethod
    def bull_put_spread(canonical: Symbol, leg1_strike: float, leg2_strike: float, expiration: datetime) -> OptionStrategy:
        if leg1_strike <= leg2_strike:
            raise ValueError("BullPutSpread: leg1Strike must be greater than leg2Strike")
        return OptionStrategy("Bull Put Spread", canonical,
                              _legs((P, leg1_strike, expiration, -1), (P, leg2_strike, expiration, 1)))

    @staticmethod
    def straddle(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Straddle", canonical, _legs((C, strike, expiration, 1), (P, strike, expiration, 1)))

    @staticmethod
    def short_straddle(canonical: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.straddle(canonical, strike, expiration), "Short Straddle")

    @staticmethod
    def strangle(canonical: Symbol, call_leg_strike: float, put_leg_strike: float, expiration: datetime) -> OptionStrategy:
        if call_leg_strike <= put_leg_strike:
            raise ValueError("Strangle: callLegStrike must be greater than putLegStrike")
        return OptionStrategy("Strangle", canonical,
                              _legs((C, call_leg_strike, expiration, 1), (P, put_leg_strike, expiration, 1)))

    @staticmethod
    def short_strangle(canonical: Symbol, call_leg_strike: float, put_leg_strike: float,
                       expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.strangle(canonical, call_leg_strike, put_leg_strike, expiration), "Short Strangle")

    @staticmethod
    def call_butterfly(canonical: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                       expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Butterfly Call", canonical, _legs(
            (C, higher_strike, expiration, 1), (C, middle_strike, expiration, -2), (C, lower_strike, expiration, 1)))

    butterfly_call = call_butterfly

    @staticmethod
    def short_butterfly_call(canonical: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                             expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.call_butterfly(canonical, higher_strike, middle_strike, lower_strike, expiration),
                       "Short Butterfly Call")

    @staticmethod
    def put_butterfly(canonical: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                      expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Butterfly Put", canonical, _legs(
            (P, higher_strike, expiration, 1), (P, middle_strike, expiration, -2), (P, lower_strike, expiration, 1)))

    butterfly_put = put_butterfly

    @staticmethod
    def short_butterfly_put(canonical: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                            expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.put_butterfly(canonical, higher_strike, middle_strike, lower_strike, expiration),
                       "Short Butterfly Put")

    @staticmethod
    def call_calendar_spread(canonical: Symbol, strike: float, near_expiration: datetime,
                             far_expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Call Calendar Spread", canonical,
                              _legs((C, strike, near_expiration, -1), (C, strike, far_expiration, 1)))

    @staticmethod
    def short_call_calendar_spread(canonical: Symbol, strike: float, near_expiration: datetime,
                                   far_expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.call_calendar_spread(canonical, strike, near_expiration, far_expiration),
                       "Short Call Calendar Spread")

    @staticmethod
    def put_calendar_spread(canonical: Symbol, strike: float, near_expiration: datetime,
                            far_expiration: datetime) -> OptionStrategy:
        return OptionStrategy("Put Calendar Spread", canonical,
                              _legs((P, strike, near_expiration, -1), (P, strike, far_expiration, 1)))

    @staticmethod
    def short_put_calendar_spread(canonical: Symbol, strike: float, near_expiration: datetime,
                                  far_expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.put_calendar_spread(canonical, strike, near_expiration, far_expiration),
                       "Short Put Calendar Spread")

    @staticmethod
    def iron_condor(canonical: Symbol, long_put_strike: float, short_put_strike: float, short_call_strike: float,
                    long_call_strike: float, expiration: datetime) -> OptionStrategy:
        if not long_put_strike < short_put_strike <= short_call_strike < long_call_strike:
            raise ValueError("IronCondor: strikes must satisfy longPut < shortPut <= shortCall < longCall")
        return OptionStrategy("Iron Condor", canonical, _legs(
            (P, long_put_strike, expiration, 1), (P, short_put_strike, expiration, -1),
            (C, short_call_strike, expiration, -1), (C, long_call_strike, expiration, 1)))

    @staticmethod
    def short_iron_condor(canonical: Symbol, short_put_strike: float, long_put_strike: float, long_call_strike: float,
                          short_call_strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.iron_condor(canonical, short_put_strike, long_put_strike, long_call_strike,
                                                    short_call_strike, expiration), "Short Iron Condor")

    @staticmethod
    def iron_butterfly(canonical: Symbol, otm_put_strike: float, atm_strike: float, otm_call_strike: float,
                       expiration: datetime) -> OptionStrategy:
        if atm_strike - otm_put_strike != otm_call_strike - atm_strike:
            raise ValueError("IronButterfly: intervals between exercise prices must be equal")
        strategy = OptionStrategies.iron_condor(canonical, otm_put_strike, atm_strike, atm_strike, otm_call_strike,
                                                expiration)
        strategy.name = "Iron Butterfly"
        return strategy

    @staticmethod
    def short_iron_butterfly(canonical: Symbol, otm_put_strike: float, atm_strike: float, otm_call_strike: float,
                             expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.iron_butterfly(canonical, otm_put_strike, atm_strike, otm_call_strike,
                                                       expiration), "Short Iron Butterfly")
