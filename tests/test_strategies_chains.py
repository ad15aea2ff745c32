"""Synthetic chains and snapshots for the strategy tests (a stated model: Black-Scholes quotes on a
given volatility per expiry, a fixed half-spread), plus checks that the builder is what it says."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

import numpy as np
import pytest

from core.market import ChainColumns, ContractSpec, MarketSnapshot, SeriesTracker
from pricing.chain import PricingInputs
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import bs_price, implied_volatility

FRIDAY = datetime(2021, 1, 8, 10, 40)
RATE = 0.01
DIV = 0.015

Vol = float | Callable[[float], float]


def market(now: datetime = FRIDAY, spot: float = 3740.0, american: bool = False) -> PricingInputs:
    return PricingInputs(now=now, spot=spot, rate=RATE, dividend_yield=DIV, american=american)


def bs_chain(now: datetime, spot: float, vols: dict[date, Vol], strikes: np.ndarray | list[float],
             half_spread: float = 0.05, open_interest: float = 500.0, root: str = "SPXW",
             underlying: str = "SPX", multiplier: float = 100.0, age: float = 0.0) -> ChainColumns:
    """Calls and puts on every strike of every expiry, mid = Black-Scholes price at the expiry's vol
    (a number, or a function of the strike for a skew), bid/ask = mid -+ half_spread (bid >= 0)."""
    contracts, rows = [], []
    for expiry, vol in vols.items():
        t = float(year_fraction_to_expiry(now, expiry))
        for is_call in (True, False):
            for k in strikes:
                sigma = vol(float(k)) if callable(vol) else vol
                mid = float(bs_price(spot, k, t, RATE, DIV, sigma, is_call))
                contracts.append(ContractSpec(underlying, root, expiry, float(k), is_call, multiplier))
                rows.append((max(mid - half_spread, 0.0), mid + half_spread, mid, 10.0, open_interest, sigma, age))
    return ChainColumns.from_rows(contracts, rows)


def snapshot(chain: ChainColumns, now: datetime = FRIDAY, spot: float | None = 3740.0,
             day_open: float = 3700.0, vix: float | None = 20.0, portfolio: float = 1e6) -> MarketSnapshot:
    """A snapshot whose underlying opened at ``day_open`` and trades at ``spot`` now (None: no data)."""
    underlying = SeriesTracker("SPX", timedelta(minutes=5))
    underlying.record(now.replace(hour=9, minute=31), day_open)
    if spot is not None:
        underlying.record(now, spot)
    else:
        now = now + timedelta(minutes=30)  # the last price is stale by then
    vix_tracker = SeriesTracker("VIX", timedelta(minutes=5))
    if vix is not None:
        vix_tracker.record(now, vix)
    empty = SeriesTracker("X", timedelta(minutes=5)).state(now)
    return MarketSnapshot(now, underlying.state(now), vix_tracker.state(now), empty, empty, chain, (), portfolio)


def strikes(low: float, high: float, step: float) -> np.ndarray:
    return np.arange(low, high + step / 2, step)


def test_builder_quotes_reproduce_their_volatility():
    now, expiry = FRIDAY, date(2021, 1, 22)
    chain = bs_chain(now, 3740.0, {expiry: lambda k: 0.2 + (3740.0 - k) / 10000.0}, strikes(3600, 3900, 50))
    t = year_fraction_to_expiry(now, expiry)
    mids = (chain.bid + chain.ask) / 2
    iv = implied_volatility(mids, 3740.0, chain.strike, t, RATE, DIV, chain.is_call)
    assert np.allclose(iv, 0.2 + (3740.0 - chain.strike) / 10000.0, atol=1e-10)
    assert np.allclose(chain.ask - chain.bid, 0.10)


def test_snapshot_without_spot_reads_unavailable():
    snap = snapshot(ChainColumns.empty(), spot=None, vix=None)
    assert not snap.underlying.price.available and not snap.vix.price.available
    assert snapshot(ChainColumns.empty()).underlying.move_from_open_pct().value == pytest.approx(40 / 37)
