"""A structure valued with the pricing model: net Greeks from each leg's IV, and two-expiry structures
at the front expiry. One module because both value the legs the same way: each leg at the implied
volatility of its own quoted mid, through the pricing core (:mod:`pricing.chain`). What needs no model
(prices from quotes, same-expiry payoff risk) is :mod:`strategies.structures`.

Net Greeks (:func:`net_greeks`): the sum of q x Greek over the legs. Units: per share of one unit (delta
in shares per share, gamma per $1, theta per calendar day, vega per 1 vol point);
:meth:`NetGreeks.dollars` turns them into the book's units (x multiplier). A leg whose mid no volatility
reproduces makes the net Greeks unavailable, with the reason: never a guessed IV.

Risk of a two-expiry structure (diagonal, calendar), valued at the front expiry
(:func:`front_expiry_profile`). At the front settlement the front legs pay their intrinsic value and
the back legs are worth their model price (each at its own implied volatility, with the time left from
front to back settlement). As a function of the settlement price S:

    V(S) = sum_front q max(+-(S-K), 0) + sum_back q price(S, K, tau, iv) - entry      (per share)

V is smooth between the front strikes. When every back leg has the same sign of quantity their
combined delta is monotone in S (option prices are convex in S), so V' is monotone on each piece and
V has at most one stationary point there, found by root-finding V' on the analytic (European) or
finite-difference (American) delta. V is monotone between consecutive critical points (front strikes,
stationary points, range ends), so its extremes are among them and each breakeven is a bracketed root.
No grid is sampled.

Range: the model value of a European back leg on a dividend payer grows more slowly than the
short front leg's intrinsic far in the money, so V keeps falling (by a fraction (1 - e^{-q tau}) per
point) as S grows without limit. Extremes are therefore stated over an explicit price range: the
front-expiry distribution's +-``SIGMA_RANGE`` standard deviations around spot (at the largest leg IV),
widened to include every strike. ``RiskProfile.price_range`` reports it.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Final

import numpy as np
from scipy.optimize import brentq

from pricing.chain import PricingInputs, implied_vols, model_greeks, model_price, years_to_settlement
from strategies.structures import FloatArray, RiskProfile, Structure

SIGMA_RANGE: Final = 6.0
_XTOL: Final = 1e-12


# --- net Greeks -------------------------------------------------------------------------------------

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


# --- two-expiry structures at the front expiry ---------------------------------------------------

class _Valuation:
    """V(S) and V'(S) of a two-expiry structure at the front settlement (per share of one unit)."""

    def __init__(self, structure: Structure, entry: float, spot: float, market: PricingInputs) -> None:
        front_day, back_day = structure.expiries
        t = leg_times(structure, market)
        ivs = leg_ivs(structure, spot, market)
        self.front = np.array([leg.contract.expiry == front_day for leg in structure.legs])
        back = ~self.front
        if len(set(np.sign(structure.quantities[back]))) != 1:
            raise ValueError(f"{structure.name}: back legs must all be bought or all be sold")
        bad = [leg.contract.describe() for leg, iv, b in zip(structure.legs, ivs, back) if b and not np.isfinite(iv)]
        if bad:
            raise ValueError(f"no implied volatility for {', '.join(bad)}")
        self.q, self.k, self.call = structure.quantities, structure.strikes, structure.is_call
        self.tau = t[back] - float(np.max(t[self.front]))
        self.back_iv, self.entry, self.market = ivs[back], entry, market
        self.sigma = float(np.nanmax(ivs))
        self.t_front = max(float(np.max(t[self.front])), 0.0)

    def _front_part(self, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Front legs' intrinsic value and its slope at each price."""
        q, k, call = self.q[self.front], self.k[self.front], self.call[self.front]
        x = s[:, None] - k
        value = np.where(call, np.maximum(x, 0.0), np.maximum(-x, 0.0)) @ q
        slope = np.where(call, (x > 0).astype(float), -(x < 0).astype(float)) @ q
        return value, slope

    def value(self, s: FloatArray) -> FloatArray:
        front, _ = self._front_part(s)
        back = ~self.front
        prices = model_price(s[:, None], self.k[back], self.tau, self.back_iv, self.call[back], self.market)
        return np.asarray(front + prices @ self.q[back] - self.entry, dtype=np.float64)

    def back_delta(self, s: FloatArray) -> FloatArray:
        back = ~self.front
        greeks = model_greeks(s[:, None], self.k[back], self.tau, self.back_iv, self.call[back], self.market)
        return np.asarray(greeks["delta"] @ self.q[back], dtype=np.float64)

    def price_range(self, spot: float) -> tuple[float, float]:
        spread = SIGMA_RANGE * self.sigma * math.sqrt(self.t_front)
        return min(spot * math.exp(-spread), float(self.k.min())), max(spot * math.exp(spread), float(self.k.max()))


def _scalar(f: Callable[[FloatArray], FloatArray]) -> Callable[[float], float]:
    return lambda x: float(f(np.array([x]))[0])


def _stationary_points(val: _Valuation, bounds: FloatArray) -> list[float]:
    """The zero of V' inside each piece between consecutive bounds, where V' changes sign."""
    found = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        _, front_slope = val._front_part(np.array([(a + b) / 2.0]))
        def slope(x: float, c: float = float(front_slope[0])) -> float:
            return c + float(val.back_delta(np.array([x]))[0])
        lo, hi = slope(float(a)), slope(float(b))
        if lo * hi < 0:
            found.append(float(brentq(slope, a, b, xtol=_XTOL * max(b, 1.0))))
    return found


def front_expiry_profile(structure: Structure, entry: float, spot: float, market: PricingInputs) -> RiskProfile:
    """Exact-within-range max profit, max loss and breakevens at the front expiry (see module doc)."""
    if len(structure.expiries) != 2:
        raise ValueError(f"{structure.name}: a front-expiry profile needs two expiries")
    val = _Valuation(structure, entry, spot, market)
    lo, hi = val.price_range(spot)
    kinks = val.k[val.front]
    bounds = np.unique(np.concatenate(([lo, hi], kinks[(kinks > lo) & (kinks < hi)])))
    critical = np.unique(np.concatenate((bounds, _stationary_points(val, bounds))))
    values = val.value(critical)
    f = _scalar(val.value)
    crossing = np.flatnonzero(values[:-1] * values[1:] < 0)
    roots = [brentq(f, critical[i], critical[i + 1], xtol=_XTOL * critical[i + 1]) for i in crossing]
    roots += list(critical[values == 0.0])
    note = (f"valued at the front expiry {structure.expiries[0]} for settlement prices "
            f"{lo:.2f}..{hi:.2f} (spot +-{SIGMA_RANGE:g} sd); back legs at their own IV")
    return RiskProfile(entry, float(values.max()), float(-values.min()),
                       tuple(float(r) for r in np.unique(np.asarray(roots, dtype=np.float64))),
                       structure.expiries[0], (lo, hi), note)
