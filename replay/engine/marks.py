"""The equity curve marked the way a trader reads it: every holding at the mid of its last quote.

LEAN values a holding at ``Security.Price``: the close of its latest bar, a trade print or a quote mid,
whichever came last. For options a trade prints at the bid or the ask, so a few short spreads make
the equity jump by the bid/ask spread from one minute to the next (thousands of dollars on a book of
SPX spreads) without any change in the market. LEAN's statistics keep LEAN's value; the chart uses this
one: each holding with a two-sided quote at its mid, the rest at LEAN's price.
"""
from __future__ import annotations

from typing import Any

from replay.engine.lean_types import SecurityType


def mid_marked_value(portfolio: Any, lean_value: float) -> float:
    """``lean_value`` (LEAN's total portfolio value) with each quoted holding moved to its mid."""
    value = lean_value
    for security in portfolio.held.values():
        if security.type is SecurityType.FUTURE:
            continue  # valued by unrealised profit; futures quotes are a tick wide
        bid, ask = security.cache.bid_price, security.cache.ask_price
        if ask > 0 and 0 <= bid <= ask:  # a zero bid is a quote (a far wing at 0.00 / 0.05)
            multiplier = security.symbol_properties.contract_multiplier
            value += security.holdings.quantity * multiplier * ((bid + ask) / 2.0 - security.price)
    return value
