"""Risk of a two-expiry structure (diagonal, calendar), valued at the front expiry.

At the front settlement the front legs pay their intrinsic value and the back legs are worth their
model price (pricing core, each at its own implied volatility from its quoted mid, with the time left
from front to back settlement). As a function of the settlement price S:

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

import math
from typing import Callable, Final

import numpy as np
from scipy.optimize import brentq

from pricing.chain import PricingInputs, model_greeks, model_price
from strategies.net_greeks import leg_ivs, leg_times
from strategies.structures import FloatArray, RiskProfile, Structure

SIGMA_RANGE: Final = 6.0
_XTOL: Final = 1e-12


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
