"""Two-expiry structures valued at the front expiry, checked against brute-force evaluation on a
dense grid over the stated price range (brute force in tests only)."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from core.market import ContractSpec
from pricing.american import american_price
from pricing.chain import PricingInputs
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import bs_price
from strategies.structures import Leg, Structure
from strategies.valuation import front_expiry_profile, leg_ivs
from tests.test_strategies_chains import DIV, RATE

NOW = datetime(2021, 1, 7, 11, 0)
FRONT, BACK = date(2021, 1, 22), date(2021, 2, 19)
SPOT = 3740.0


def quoted(strike: float, is_call: bool, expiry: date, vol: float, quantity: int, american: bool = False,
           spot: float = SPOT) -> Leg:
    t = year_fraction_to_expiry(NOW, expiry)
    price = american_price if american else bs_price
    mid = float(price(spot, strike, t, RATE, DIV, vol, is_call))
    return Leg(ContractSpec("SPX", "SPXW", expiry, strike, is_call, 100.0), quantity, mid - 0.05, mid + 0.05)


def brute(structure: Structure, entry: float, market: PricingInputs, grid: np.ndarray, spot: float) -> np.ndarray:
    ivs = leg_ivs(structure, spot, market)
    t_front = year_fraction_to_expiry(NOW, FRONT)
    price = american_price if market.american else bs_price
    total = np.full(grid.shape, -entry)
    for leg_, iv in zip(structure.legs, ivs):
        c = leg_.contract
        if c.expiry == FRONT:
            total += leg_.quantity * (np.maximum(grid - c.strike, 0) if c.is_call else np.maximum(c.strike - grid, 0))
        else:
            tau = year_fraction_to_expiry(NOW, c.expiry) - t_front
            total += leg_.quantity * price(grid, c.strike, tau, market.rate, market.dividend_yield, iv, c.is_call)
    return total


def check(structure: Structure, market: PricingInputs, spot: float = SPOT, points: int = 200_001) -> None:
    entry = structure.mid()
    risk = front_expiry_profile(structure, entry, spot, market)
    lo, hi = risk.price_range
    grid = np.union1d(np.linspace(lo, hi, points), structure.strikes)  # kinks on the grid
    pnl = brute(structure, entry, market, grid, spot)
    step = (hi - lo) / (points - 1)
    assert risk.max_profit >= pnl.max() - 1e-9 and risk.max_profit == pytest.approx(pnl.max(), abs=1e-3 * step + 1e-6)
    assert risk.max_loss >= -pnl.min() - 1e-9 and risk.max_loss == pytest.approx(-pnl.min(), abs=1e-3 * step + 1e-6)
    crossings = grid[:-1][np.sign(pnl[:-1]) * np.sign(pnl[1:]) < 0]
    assert len(crossings) == len(risk.breakevens)
    for left, b in zip(crossings, risk.breakevens):
        assert left <= b <= left + step
        assert brute(structure, entry, market, np.array([b]), spot)[0] == pytest.approx(0.0, abs=1e-7)
    assert risk.valued_at == FRONT and "front expiry" in risk.note


def test_call_calendar_matches_brute_force():
    market = PricingInputs(NOW, SPOT, RATE, DIV, american=False)
    check(Structure("cal", (quoted(3750, True, FRONT, 0.25, -1), quoted(3750, True, BACK, 0.21, 1))), market)


def test_put_diagonal_with_different_strikes_matches_brute_force():
    market = PricingInputs(NOW, SPOT, RATE, DIV, american=False)
    check(Structure("diag", (quoted(3700, False, FRONT, 0.26, -1), quoted(3750, False, BACK, 0.22, 1))), market)


def test_double_diagonal_matches_brute_force():
    market = PricingInputs(NOW, SPOT, RATE, DIV, american=False)
    legs = (quoted(3650, False, FRONT, 0.27, -1), quoted(3600, False, BACK, 0.24, 1),
            quoted(3850, True, FRONT, 0.22, -1), quoted(3900, True, BACK, 0.19, 1))
    check(Structure("double diagonal", legs), market)


def test_american_call_calendar_matches_brute_force():
    market = PricingInputs(NOW, 750.0, 0.004, 0.0, american=True)
    legs = (quoted(750, False, FRONT, 0.30, -1, american=True, spot=750.0),
            quoted(750, False, BACK, 0.27, 1, american=True, spot=750.0))
    check(Structure("american put calendar", legs), market, spot=750.0, points=20_001)


def test_calendar_max_loss_is_about_the_debit_and_range_is_stated():
    market = PricingInputs(NOW, SPOT, RATE, DIV, american=False)
    cal = Structure("cal", (quoted(3750, True, FRONT, 0.25, -1), quoted(3750, True, BACK, 0.21, 1)))
    risk = front_expiry_profile(cal, cal.mid(), SPOT, market)
    assert cal.mid() < risk.max_loss < cal.mid() * 1.15  # the dividend carry far out adds a little
    lo, hi = risk.price_range
    assert lo < 3750 < hi and len(risk.breakevens) == 2


def test_back_legs_of_both_signs_are_refused():
    market = PricingInputs(NOW, SPOT, RATE, DIV, american=False)
    legs = (quoted(3750, True, FRONT, 0.25, -1), quoted(3750, True, BACK, 0.21, 1), quoted(3800, True, BACK, 0.2, -1))
    with pytest.raises(ValueError, match="back legs"):
        front_expiry_profile(Structure("mixed", legs), 0.0, SPOT, market)
