"""Legs and multi-leg structures, priced from the chain's quotes.

A leg is one listed contract (underlying, expiry, strike, right, multiplier: a
:class:`core.market.ContractSpec`) with a signed quantity per unit (+ buy, - sell) and the bid/ask
(per share) it had when chosen. Net prices are per share of one unit in LEAN's combo convention:
positive = debit (we pay), negative = credit (we receive).

* natural: buy at the ask, sell at the bid (what crossing the market costs now);
* far: buy at the bid, sell at the ask (the best the other side could ever give);
* mid: every leg at its mid. far <= mid <= natural always.
"""
from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
from numpy.typing import NDArray

from core.market import ChainColumns, ContractSpec
from core.orders import OrderLeg

FloatArray = NDArray[np.float64]


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
