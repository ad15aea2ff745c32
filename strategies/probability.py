"""Probability that a same-expiry structure finishes with a profit, from the market's own IV.

The settlement price is taken as lognormal under the pricing measure (forward drift r - q, the
expiry's at-the-money implied volatility): P(S_T > x) = N(d2(x)). The profitable set is the union of
the intervals between consecutive exact breakevens on which the expiry P&L is positive, so the
probability is a sum of differences of N(d2) at the breakevens. Dimensionless, in [0, 1].
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from strategies.legs import Structure
from strategies.payoff import RiskProfile, expiry_payoff


def prob_above(x: float, spot: float, sigma: float, t: float, rate: float, div: float) -> float:
    """P(S_T > x) for a lognormal settlement price with forward drift rate - div."""
    if x <= 0:
        return 1.0
    if not math.isfinite(x):
        return 0.0
    sd = sigma * math.sqrt(t)
    d2 = (math.log(spot / x) + (rate - div) * t - 0.5 * sd * sd) / sd
    return float(ndtr(d2))


def probability_of_profit(structure: Structure, risk: RiskProfile, spot: float, sigma: float, t: float,
                          rate: float, div: float) -> float:
    """P(expiry P&L > 0) for a same-expiry structure (NaN when sigma or t is not positive)."""
    if not (sigma > 0 and t > 0):
        return float("nan")
    edges = [0.0, *risk.breakevens, math.inf]
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        probe = (a + b) / 2.0 if math.isfinite(b) else a * 2.0 + 1.0
        pnl = float(expiry_payoff(structure.strikes, structure.is_call, structure.quantities, np.array([probe]))[0])
        if pnl - risk.entry > 0:
            total += prob_above(a, spot, sigma, t, rate, div) - prob_above(b, spot, sigma, t, rate, div)
    return total
