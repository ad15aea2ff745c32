"""A multi-leg structure: its legs, its prices, its payoff and exact risk at expiry, its probability
of profit. One module because each is a view of the same :class:`Structure`, read from its legs alone
(no pricing model; valuation with the model is :mod:`strategies.valuation`).

Legs and prices. A leg is one listed contract (underlying, expiry, strike, right, multiplier: a
:class:`core.market.ContractSpec`) with a signed quantity per unit (+ buy, - sell) and the bid/ask
(per share) it had when chosen. Net prices are per share of one unit in LEAN's combo convention:
positive = debit (we pay), negative = credit (we receive).

* natural: buy at the ask, sell at the bid (what crossing the market costs now);
* far: buy at the bid, sell at the ask (the best the other side could ever give);
* mid: every leg at its mid. far <= mid <= natural always.

Exact expiry risk of a structure whose legs all expire together (:class:`RiskProfile`). At expiry each
leg pays ``q * max(+-(S - K), 0)`` per share, so the payoff is piecewise linear in the settlement price
S with kinks only at the strikes. Its extremes over S >= 0 are therefore among S = 0 and the strikes,
plus the slope beyond the last strike (the sum of the call quantities): a positive slope makes the
profit unbounded, a negative one the loss. Breakevens are the exact zeros of each linear piece. No
price grid is sampled. Everything is per share of one unit (multiply by the contract multiplier for
dollars), with P&L measured against ``entry``, the net price paid per share (positive = debit,
negative = credit).

Probability of profit of a same-expiry structure, from the market's own IV. The settlement price is
taken as lognormal under the pricing measure (forward drift r - q, the expiry's at-the-money implied
volatility): P(S_T > x) = N(d2(x)). The profitable set is the union of the intervals between
consecutive exact breakevens on which the expiry P&L is positive, so the probability is a sum of
differences of N(d2) at the breakevens. Dimensionless, in [0, 1].
"""
from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from core.market import ChainColumns, ContractSpec
from core.orders import OrderLeg

FloatArray = NDArray[np.float64]


# --- legs and prices --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Leg:
    """One contract and its signed quantity per unit; bid/ask per share at decision time."""

    contract: ContractSpec
    quantity: int
    bid: float
    ask: float

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0

    def order_leg(self) -> OrderLeg:
        return OrderLeg(self.contract.describe(), self.quantity, self.contract, self.bid, self.ask)


@dataclasses.dataclass(frozen=True)
class Structure:
    """A named set of legs on one underlying (one or two expiries)."""

    name: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if not self.legs:
            raise ValueError("a structure needs at least one leg")
        if len({(leg.contract.underlying, leg.contract.multiplier) for leg in self.legs}) != 1:
            raise ValueError("all legs must share one underlying and multiplier")
        if any(leg.quantity == 0 for leg in self.legs):
            raise ValueError("a leg quantity of 0 is not a leg")

    # --- columns (vectorised maths downstream) ----------------------------------------------------

    @property
    def quantities(self) -> FloatArray:
        return np.array([leg.quantity for leg in self.legs], dtype=np.float64)

    @property
    def strikes(self) -> FloatArray:
        return np.array([leg.contract.strike for leg in self.legs], dtype=np.float64)

    @property
    def is_call(self) -> NDArray[np.bool_]:
        return np.array([leg.contract.is_call for leg in self.legs], dtype=np.bool_)

    @property
    def bids(self) -> FloatArray:
        return np.array([leg.bid for leg in self.legs], dtype=np.float64)

    @property
    def asks(self) -> FloatArray:
        return np.array([leg.ask for leg in self.legs], dtype=np.float64)

    @property
    def multiplier(self) -> float:
        return self.legs[0].contract.multiplier

    @property
    def expiries(self) -> tuple[date, ...]:
        """Distinct expiries, ascending."""
        return tuple(sorted({leg.contract.expiry for leg in self.legs}))

    # --- net prices, per share of one unit (positive = debit) --------------------------------------

    def natural(self) -> float:
        q = self.quantities
        return float(np.sum(np.where(q > 0, q * self.asks, q * self.bids)))

    def far(self) -> float:
        q = self.quantities
        return float(np.sum(np.where(q > 0, q * self.bids, q * self.asks)))

    def mid(self) -> float:
        return float(np.sum(self.quantities * (self.bids + self.asks) / 2.0))

    def describe(self) -> str:
        parts = [f"{'+' if leg.quantity > 0 else ''}{leg.quantity} {leg.contract.describe()}" for leg in self.legs]
        return f"{self.name}: " + ", ".join(parts)


def legs_from_rows(chain: ChainColumns, rows: list[int], quantities: list[int]) -> tuple[Leg, ...]:
    """Legs for chain rows with their current quotes (rows index ``chain``'s column arrays)."""
    return tuple(Leg(chain.contracts[r], q, float(chain.bid[r]), float(chain.ask[r]))
                 for r, q in zip(rows, quantities))


# --- exact risk at expiry --------------------------------------------------------------------------

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

    def value_range(self) -> tuple[float, float]:
        """(lowest, highest) value per share of the held structure at ``valued_at`` (LEAN sign):
        ``entry - max_loss`` and ``entry + max_profit`` (infinite where unbounded)."""
        return self.entry - self.max_loss, self.entry + self.max_profit

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


# --- probability of profit ------------------------------------------------------------------------

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
