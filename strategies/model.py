"""The pricing core as the strategies use it: IVs from quoted mids, model prices, deltas, Greeks.

European (Black-Scholes-Merton, :mod:`pricing.black_scholes`) for index options, American
(Andersen-Lake-Offengenden, :mod:`pricing.american`) when ``PricingInputs.american`` is set (equities).
Rate and dividend yield come from the caller's :class:`pricing.chain.PricingInputs` (LEAN's
models in ``main.py``); nothing here assumes a rate or a volatility. Time is calendar years to each
contract's settlement instant (:mod:`pricing.expiry`). Prices per share; Greeks per share with
theta per calendar day and vega per 1 vol point, as :func:`pricing.black_scholes.bs_greeks` gives them.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pricing.american import american_greeks, american_implied_volatility, american_price
from pricing.chain import PricingInputs
from pricing.expiry import AM_SETTLEMENT, PM_SETTLEMENT, year_fraction_to_expiry
from pricing.black_scholes import Greeks, bs_greeks, bs_price, implied_volatility

FloatArray = NDArray[np.float64]


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
