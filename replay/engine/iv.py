"""The double's stand-in for LEAN's ``OptionContract.implied_volatility``.

LEAN computes a contract's IV lazily with the security's option price model from its current
(possibly fill-forward) price: Black-Scholes for European index options, a binomial tree for
American equity options. The double solves the same quantity with the project's pricing core
(Let's Be Rational / Andersen-Lake-Offengenden) from the contract's mid, or its last trade when the
quote is one-sided, against the underlying's last price, LEAN's interest-rate curve and no dividend
yield. ``main.py`` only reads it as a marked fallback for held contracts whose quote is unusable.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from replay.engine.lean_types import OptionRight, SecurityType
from replay.engine.market_data import OptionContract
from pricing.american import american_implied_volatility
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import implied_volatility


class LeanIvModel:
    """Callable ``(contract) -> IV`` (0.0 where LEAN's model would not converge either)."""

    def __init__(self, underlying_price: Callable[[], float | None], clock: Callable[[], datetime],
                 algorithm: Any) -> None:
        self.underlying_price, self.clock, self.algorithm = underlying_price, clock, algorithm

    def __call__(self, contract: OptionContract) -> float:
        spot, symbol = self.underlying_price(), contract.symbol
        bid, ask, last = contract.bid_price, contract.ask_price, contract.last_price
        # LEAN prices the contract at its quote mid (a zero bid included), else the last trade
        price = (bid + ask) / 2 if ask > 0 and 0 <= bid <= ask else last
        if spot is None or symbol.expiry is None or symbol.strike is None or not price > 0:
            return 0.0
        now = self.clock()
        t = float(year_fraction_to_expiry(now, symbol.expiry))
        rate = self.algorithm.risk_free_interest_rate_model.get_interest_rate(now)
        solve = american_implied_volatility if symbol.security_type is SecurityType.OPTION else implied_volatility
        vol = float(solve(price, spot, symbol.strike, t, rate, 0.0, symbol.right is OptionRight.CALL))
        return vol if math.isfinite(vol) else 0.0
