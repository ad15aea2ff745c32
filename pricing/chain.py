"""Chain-level pricing: the pricing core as its callers use it, and per-contract IV and Greeks from a
chain's live quotes. One module because both choose the model the same way, from the same
:class:`PricingInputs` (rate, dividend yield, exercise style at this bar).

The pricing core as the strategies call it (:func:`years_to_settlement`, :func:`implied_vols`,
:func:`model_price`, :func:`model_greeks`): European (Black-Scholes-Merton, :mod:`pricing.black_scholes`)
for index options, American (Andersen-Lake-Offengenden, :mod:`pricing.american`) when
``PricingInputs.american`` is set (equities). Rate and dividend yield come from the caller's
:class:`PricingInputs` (LEAN's models in ``main.py``); nothing here assumes a rate or a volatility. Time
is calendar years to each contract's settlement instant (:mod:`pricing.expiry`).

Per-contract IV and Greeks for the options held (:func:`greeks_for`): the implied volatility comes
from the quote's mid through the pricing core (Let's Be Rational for European SPX/SPXW,
Andersen-Lake-Offengenden for American equity options). A quote that cannot give a price (NaN, zero
or negative ask, zero bid, crossed, or older than the allowed quote age) falls back to LEAN's own
contract IV, and the result says so; with neither, the contract's Greeks are unavailable. No
volatility is ever assumed.

Units: prices per share; Greeks per share with theta per calendar day, vega and rho per 1 vol point
(as :func:`pricing.black_scholes.bs_greeks` gives them).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.market import ChainColumns, ContractSpec
from pricing.american import american_greeks, american_implied_volatility, american_price
from pricing.expiry import AM_SETTLEMENT, PM_SETTLEMENT, year_fraction_to_expiry
from pricing.black_scholes import Greeks, bs_greeks, bs_price, implied_volatility

FloatArray = NDArray[np.float64]

SOURCE_MID = "mid"
SOURCE_LEAN = "lean-iv (quote unusable)"
SOURCE_EXPIRED = "expired (intrinsic limits)"
SOURCE_NO_TIME_VALUE = "no time value (mid at or below intrinsic: zero-vol limit)"


@dataclasses.dataclass(frozen=True)
class PricingInputs:
    """What pricing an underlying's options needs at this bar (rate, yield as decimals per year)."""

    now: datetime
    spot: float | None
    rate: float
    dividend_yield: float
    american: bool
    max_quote_age_minutes: float = 5.0


# --- the pricing core as the strategies call it ---------------------------------------------------

def years_to_settlement(now: datetime, expiries: Sequence[date] | NDArray[np.datetime64],
                        settles_at_open: ArrayLike) -> FloatArray:
    """Years from ``now`` to each contract's settlement (09:30 for AM-settled, 16:00 otherwise)."""
    days = np.asarray(expiries, dtype="datetime64[D]")
    am = np.broadcast_to(np.asarray(settles_at_open, dtype=np.bool_), days.shape)
    return np.where(am, year_fraction_to_expiry(now, days, AM_SETTLEMENT),
                    year_fraction_to_expiry(now, days, PM_SETTLEMENT))


def implied_vols(price: ArrayLike, spot: float, strike: ArrayLike, t: ArrayLike, is_call: ArrayLike,
                 market: PricingInputs) -> FloatArray:
    """IV (decimal per year) of each price; NaN where no volatility reproduces it."""
    solve = american_implied_volatility if market.american else implied_volatility
    return solve(price, spot, strike, t, market.rate, market.dividend_yield, is_call)


def model_price(spot: ArrayLike, strike: ArrayLike, t: ArrayLike, vol: ArrayLike, is_call: ArrayLike,
                market: PricingInputs) -> FloatArray:
    """Model price per share (t <= 0 gives intrinsic value)."""
    price = american_price if market.american else bs_price
    return price(spot, strike, t, market.rate, market.dividend_yield, vol, is_call)


def model_greeks(spot: ArrayLike, strike: ArrayLike, t: ArrayLike, vol: ArrayLike, is_call: ArrayLike,
                 market: PricingInputs) -> Greeks:
    """Per-share Greeks (delta, gamma, theta/day, vega/point, rho/point)."""
    greeks = american_greeks if market.american else bs_greeks
    return greeks(spot, strike, t, market.rate, market.dividend_yield, vol, is_call)


# --- per-contract IV and Greeks from the chain's quotes --------------------------------------------

@dataclasses.dataclass(frozen=True)
class ContractGreeks:
    """Per-share Greeks of one contract, its IV and where the IV came from."""

    delta: float
    gamma: float
    theta_per_day: float
    vega_per_point: float
    rho_per_point: float
    iv: float
    source: str

    def is_finite(self) -> bool:
        values = (self.delta, self.gamma, self.theta_per_day, self.vega_per_point, self.rho_per_point)
        return bool(np.all(np.isfinite(values)))


def usable_mid(bid: NDArray[np.float64], ask: NDArray[np.float64], age_minutes: NDArray[np.float64],
               max_age_minutes: float) -> NDArray[np.float64]:
    """Mid where the quote is two-sided, not crossed (bid > 0, ask >= bid) and fresh, else NaN."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid) & (age_minutes <= max_age_minutes)
    return np.where(ok, (bid + ask) / 2.0, np.nan)


def _discounted_intrinsic(market: PricingInputs, strike: NDArray[np.float64], t: NDArray[np.float64],
                          is_call: NDArray[np.bool_]) -> NDArray[np.float64]:
    """max(0, ±(S e^(-qt) - K e^(-rt))): the no-arbitrage floor of a European price (American: >= it)."""
    assert market.spot is not None
    tt = np.maximum(t, 0.0)
    forward_gap = market.spot * np.exp(-market.dividend_yield * tt) - strike * np.exp(-market.rate * tt)
    floor = np.maximum(0.0, np.where(is_call, forward_gap, -forward_gap))
    if market.american:  # early exercise: the floor is the undiscounted intrinsic
        floor = np.maximum(floor, np.where(is_call, market.spot - strike, strike - market.spot))
    return floor


def _theta_within_time_value(market: PricingInputs, strike: NDArray[np.float64], t: NDArray[np.float64],
                             vol: NDArray[np.float64], is_call: NDArray[np.bool_], theta: NDArray[np.float64]
                             ) -> NDArray[np.float64]:
    """Theta per calendar day, but for an option with less than a day left no larger than the time
    value it still has: it cannot lose more than that before it expires (0DTE theta as a one-day rate
    would otherwise overstate the decay many times over)."""
    short = (t > 0) & (t < 1.0 / 365.0)
    if not np.any(short):
        return theta
    assert market.spot is not None
    price = model_price(market.spot, strike, np.maximum(t, 0.0), np.nan_to_num(vol), is_call, market)
    intrinsic = np.maximum(0.0, np.where(is_call, market.spot - strike, strike - market.spot))
    time_value = np.maximum(price - intrinsic, 0.0)
    return np.where(short, np.maximum(theta, -time_value), theta)


def greeks_for(contracts: Sequence[ContractSpec], chain: ChainColumns, market: PricingInputs
               ) -> dict[ContractSpec, ContractGreeks]:
    """Greeks of ``contracts`` found in ``chain`` (vectorised); absent ones are left out."""
    if market.spot is None or not contracts or not len(chain):
        return {}
    index = chain.row_of
    wanted = [c for c in contracts if c in index]
    if not wanted:
        return {}
    rows = np.array([index[c] for c in wanted])
    strike, is_call = chain.strike[rows], chain.is_call[rows]
    t = years_to_settlement(market.now, chain.expiry[rows], [c.settles_at_open for c in wanted])
    mid = usable_mid(chain.bid[rows], chain.ask[rows], chain.quote_age_minutes[rows], market.max_quote_age_minutes)
    iv = implied_vols(mid, market.spot, strike, t, is_call, market)
    expired = t <= 0
    from_mid = np.isfinite(iv) & ~expired
    # a usable mid with no time value (deep in the money near expiry) has no IV: the market is
    # pricing the zero-volatility limit, so its Greeks are that limit rather than unknown
    intrinsic = _discounted_intrinsic(market, strike, t, is_call)
    last_mid = usable_mid(chain.bid[rows], chain.ask[rows], np.zeros(len(rows)), np.inf)  # fresh or not
    with np.errstate(invalid="ignore"):
        flat = (~from_mid & ~expired & np.isfinite(last_mid) & (last_mid <= intrinsic + 1e-9)
                & ~np.isfinite(chain.lean_iv[rows]))
    vol = np.where(expired | flat, 0.0, np.where(from_mid, iv, chain.lean_iv[rows]))
    g = model_greeks(market.spot, strike, t, vol, is_call, market)
    theta = _theta_within_time_value(market, strike, t, vol, is_call, g["theta"])
    sources = np.where(expired, SOURCE_EXPIRED, np.where(
        from_mid, SOURCE_MID, np.where(flat, SOURCE_NO_TIME_VALUE, SOURCE_LEAN)))
    out = {}
    for j, contract in enumerate(wanted):
        if not np.isfinite(vol[j]):
            continue
        out[contract] = ContractGreeks(
            float(g["delta"][j]), float(g["gamma"][j]), float(theta[j]), float(g["vega"][j]),
            float(g["rho"][j]), float(vol[j]), str(sources[j]))
    return out
