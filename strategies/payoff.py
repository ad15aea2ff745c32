"""Exact expiry risk of a structure whose legs all expire together.

At expiry each leg pays ``q * max(+-(S - K), 0)`` per share, so the payoff is piecewise linear in the
settlement price S with kinks only at the strikes. Its extremes over S >= 0 are therefore among
S = 0 and the strikes, plus the slope beyond the last strike (the sum of the call quantities): a
positive slope makes the profit unbounded, a negative one the loss. Breakevens are the exact zeros
of each linear piece. No price grid is sampled.

Everything is per share of one unit (multiply by the contract multiplier for dollars), with P&L
measured against ``entry``, the net price paid per share (positive = debit, negative = credit).
"""
from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray

from strategies.legs import Structure

FloatArray = NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class RiskProfile:
    """P&L per share of one unit at ``valued_at`` (the expiry, or the front expiry of a diagonal).

    ``max_loss`` is a positive number for a loss (``math.inf`` when unbounded); ``max_profit`` is
    ``math.inf`` when unbounded. ``price_range`` is the settlement-price interval over which the
    extremes are exact: ``(0, inf)`` for same-expiry structures.
    """

    entry: float
    max_profit: float
    max_loss: float
    breakevens: tuple[float, ...]
    valued_at: date
    price_range: tuple[float, float] = (0.0, math.inf)
    note: str = ""

    @property
    def loss_unbounded(self) -> bool:
        return math.isinf(self.max_loss)

    @property
    def profit_unbounded(self) -> bool:
        return math.isinf(self.max_profit)

    def reward_to_risk(self) -> float:
        """max profit / max loss (0 when the loss is unbounded, inf when the structure cannot lose)."""
        if self.loss_unbounded:
            return 0.0
        if self.max_loss <= 0:
            return math.inf
        return self.max_profit / self.max_loss

    def max_loss_dollars(self, multiplier: float, units: int = 1) -> float | None:
        """Worst loss in account currency for ``units`` units; None when unbounded."""
        return None if self.loss_unbounded else max(self.max_loss, 0.0) * multiplier * units


def expiry_payoff(strikes: ArrayLike, is_call: ArrayLike, quantities: ArrayLike, prices: ArrayLike) -> FloatArray:
    """Payoff per share at expiry for each settlement price (vectorised over ``prices``)."""
    s = np.asarray(prices, dtype=np.float64)[..., None]
    k = np.asarray(strikes, dtype=np.float64)
    intrinsic = np.where(np.asarray(is_call, dtype=np.bool_), np.maximum(s - k, 0.0), np.maximum(k - s, 0.0))
    return np.asarray(intrinsic @ np.asarray(quantities, dtype=np.float64), dtype=np.float64)


def same_expiry_profile(structure: Structure, entry: float) -> RiskProfile:
    """Exact max profit, max loss and breakevens of a one-expiry structure entered at ``entry``."""
    if len(structure.expiries) != 1:
        raise ValueError(f"{structure.name}: same-expiry profile needs one expiry, got {structure.expiries}")
    points = np.unique(np.concatenate(([0.0], structure.strikes)))
    values = expiry_payoff(structure.strikes, structure.is_call, structure.quantities, points) - entry
    right_slope = float(np.sum(structure.quantities[structure.is_call]))
    max_profit = math.inf if right_slope > 0 else float(values.max())
    max_loss = math.inf if right_slope < 0 else float(-values.min())
    return RiskProfile(entry, max_profit, max_loss, piecewise_zeros(points, values, right_slope),
                       structure.expiries[0])


def piecewise_zeros(points: FloatArray, values: FloatArray, right_slope: float) -> tuple[float, ...]:
    """Zeros of the piecewise-linear function through (points, values), extended beyond the last
    point with ``right_slope``. A piece lying on zero contributes both its ends."""
    x0, x1, v0, v1 = points[:-1], points[1:], values[:-1], values[1:]
    crossing = (v0 * v1 < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = list(x0[crossing] - v0[crossing] * (x1[crossing] - x0[crossing]) / (v1[crossing] - v0[crossing]))
    roots += list(points[values == 0.0])
    last = float(values[-1])
    if right_slope != 0.0 and last != 0.0 and (last > 0) != (right_slope > 0):
        roots.append(float(points[-1]) - last / right_slope)
    return tuple(float(r) for r in np.unique(np.asarray(roots, dtype=np.float64)))
