"""Net Greeks of a structure: each leg's IV from its own quoted mid, then the sum of q x Greek.

Units: per share of one unit (delta in shares per share, gamma per $1, theta per calendar day, vega per
1 vol point); :meth:`NetGreeks.dollars` turns them into the book's units (x multiplier). A leg whose
mid no volatility reproduces makes the net Greeks unavailable, with the reason: never a guessed IV.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from pricing.chain import PricingInputs, implied_vols, model_greeks, years_to_settlement
from strategies.structures import FloatArray, Structure


@dataclasses.dataclass(frozen=True)
class NetGreeks:
    """Sum over legs of quantity x per-share Greek; NaN with ``reason`` when unavailable."""

    delta: float
    gamma: float
    theta: float
    vega: float
    reason: str = ""

    @property
    def available(self) -> bool:
        return not self.reason

    @staticmethod
    def missing(reason: str) -> NetGreeks:
        nan = float("nan")
        return NetGreeks(nan, nan, nan, nan, reason)

    def dollars(self, multiplier: float, units: int = 1) -> dict[str, float]:
        """delta in share-equivalents, gamma in shares per $1, theta $/day, vega $/vol point."""
        k = multiplier * units
        return {"delta": self.delta * k, "gamma": self.gamma * k, "theta": self.theta * k, "vega": self.vega * k}

    def describe(self) -> str:
        if not self.available:
            return f"Greeks unavailable ({self.reason})"
        return (f"net delta {self.delta:+.3f}, gamma {self.gamma:+.4f}, theta {self.theta:+.3f}/day, "
                f"vega {self.vega:+.3f}/pt per share")


def leg_times(structure: Structure, market: PricingInputs) -> FloatArray:
    """Years to each leg's settlement."""
    contracts = [leg.contract for leg in structure.legs]
    return years_to_settlement(market.now, [c.expiry for c in contracts], [c.settles_at_open for c in contracts])


def leg_ivs(structure: Structure, spot: float, market: PricingInputs) -> FloatArray:
    """Each leg's IV from its quoted mid (NaN where none exists, e.g. a mid below intrinsic)."""
    mids = (structure.bids + structure.asks) / 2.0
    return implied_vols(mids, spot, structure.strikes, leg_times(structure, market), structure.is_call, market)


def net_greeks(structure: Structure, spot: float, market: PricingInputs) -> NetGreeks:
    """Net Greeks at ``spot`` with every leg at its own implied volatility."""
    t = leg_times(structure, market)
    ivs = leg_ivs(structure, spot, market)
    expired = t <= 0
    bad = [leg.contract.describe() for leg, iv, gone in zip(structure.legs, ivs, expired)
           if not gone and not np.isfinite(iv)]
    if bad:
        return NetGreeks.missing(f"no implied volatility for {', '.join(bad)}")
    g = model_greeks(spot, structure.strikes, t, np.where(expired, 0.0, ivs), structure.is_call, market)
    q = structure.quantities
    delta, gamma, theta, vega = (float(np.sum(q * g[name])) for name in ("delta", "gamma", "theta", "vega"))
    return NetGreeks(delta, gamma, theta, vega)
