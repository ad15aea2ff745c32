"""The replay's stand-in for LEAN's option price model: Greeks of a contract from its mid quote.

LEAN evaluates ``contract.greeks`` lazily with its price model (Black-Scholes for European index
options, a binomial tree for American equity options). The replay solves the implied volatility of
the mid quote with the project's pricing core and returns Black-Scholes-Merton Greeks in LEAN's units
(theta per calendar day, vega and rho per 1 point). Time runs to 16:00 New York on expiry day.
The rate is the US primary credit rate LEAN itself reads from
``alternative/interest-rate/usa/interest-rate.csv``; no dividend yield is modelled.
"""
from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

from replay import lean_double as ld
from risk.pricing import bs_greeks, implied_volatility

MINUTES_PER_YEAR = 365.0 * 24 * 60


class RateCurve:
    """Step curve of the risk-free rate (a fraction) from LEAN's interest-rate file."""

    def __init__(self, points: list[tuple[date, float]]) -> None:
        self.dates = [d for d, _ in points]
        self.rates = [r for _, r in points]

    @staticmethod
    def load(data_root: Path) -> RateCurve | None:
        path = data_root / "alternative" / "interest-rate" / "usa" / "interest-rate.csv"
        if not path.is_file():
            return None
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        points = [(date.fromisoformat(r[0]), float(r[1]) / 100.0) for r in rows[1:] if len(r) >= 2 and r[1]]
        return RateCurve(sorted(points))

    def at(self, day: date) -> float:
        i = bisect.bisect_right(self.dates, day) - 1
        return self.rates[max(i, 0)]


def years_to_close(now: datetime, expiry: date) -> float:
    """Years from ``now`` (New York) to 16:00 New York on ``expiry``."""
    close = datetime.combine(expiry, time(16, 0))
    return (close - now).total_seconds() / 60.0 / MINUTES_PER_YEAR


class ModelGreeks:
    """Callable the double's contracts use for ``.greeks``."""

    def __init__(self, underlying_price: Callable[[], float | None], clock: Callable[[], datetime],
                 rate: Callable[[date], float]) -> None:
        self.underlying_price, self.clock, self.rate = underlying_price, clock, rate

    def __call__(self, contract: ld.OptionContract) -> ld.Greeks:
        nan = float("nan")
        spot = self.underlying_price()
        symbol = contract.symbol
        bid, ask = contract.bid_price, contract.ask_price
        if spot is None or symbol.expiry is None or symbol.strike is None or not (0 <= bid <= ask and ask > 0):
            return ld.Greeks(nan, nan, nan, nan, nan)
        now = self.clock()
        t = years_to_close(now, symbol.expiry)
        rate = self.rate(now.date())
        is_call = symbol.right is ld.OptionRight.CALL
        vol = float(implied_volatility((bid + ask) / 2, spot, symbol.strike, t, rate, 0.0, is_call))
        if not math.isfinite(vol):
            return ld.Greeks(nan, nan, nan, nan, nan)
        g = bs_greeks(spot, symbol.strike, t, rate, 0.0, vol, is_call)
        contract.implied_volatility = vol
        return ld.Greeks(float(g["delta"]), float(g["gamma"]), float(g["theta"]), float(g["vega"]),
                         float(g["rho"]))
