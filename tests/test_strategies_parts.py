"""The strategy building blocks: liquidity rules, expiry/strike choice, parameters, probability of
profit, net Greeks and the order plan."""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import numpy as np
import pytest
from scipy.integrate import quad

from core.market import ChainColumns, ContractSpec
from core.settings import Section9BSettings, load_settings
from pricing.expiry import year_fraction_to_expiry
from pricing.black_scholes import bs_price
from core.orders import ceil_to_tick, floor_to_tick
from strategies.analysers.common import atm_iv, liquid_mask, nearest_expiry, nearest_row, why_illiquid
from strategies.params import EXTRA_DEFAULTS, AnalyserParams, Liquidity, dte_window
from strategies.structures import Leg, Structure, prob_above, probability_of_profit, same_expiry_profile
from strategies.valuation import leg_ivs, net_greeks
from strategies.verdict import NetPrices, Setup, exit_plan
from tests.test_strategies_chains import DIV, FRIDAY, RATE, bs_chain, market, strikes

SETTINGS = load_settings(lambda name: None).section9b
PARAMS = AnalyserParams.from_settings(SETTINGS)
RULES = Liquidity(max_spread_pct=25.0, spread_allowance=0.10, min_open_interest=10.0, max_quote_age_minutes=5.0)


def one_row_chains(rows: list[tuple[float, ...]]) -> ChainColumns:
    contracts = [ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3700.0 + 5 * i, True, 100.0) for i in range(len(rows))]
    return ChainColumns.from_rows(contracts, rows)


def test_liquidity_rules_one_by_one():
    chain = one_row_chains([
        (1.00, 1.20, 1.1, 0, 50, np.nan, 0.0),       # ok: 18% of mid
        (0.00, 0.05, 0.0, 0, 50, np.nan, 0.0),       # no bid
        (1.20, 1.00, 1.1, 0, 50, np.nan, 0.0),       # crossed
        (1.00, 1.60, 1.3, 0, 50, np.nan, 0.0),       # 46% of mid
        (0.05, 0.15, 0.1, 0, 50, np.nan, 0.0),       # 100% of mid, but within the 0.10 allowance
        (1.00, 1.20, 1.1, 0, 5, np.nan, 0.0),        # open interest 5
        (1.00, 1.20, 1.1, 0, np.nan, np.nan, 0.0),   # open interest unknown
        (1.00, 1.20, 1.1, 0, 50, np.nan, 6.0),       # quote 6 minutes old
        (1.00, 1.20, 1.1, 0, 50, np.nan, np.nan),    # never quoted
        (np.nan, 1.20, 1.1, 0, 50, np.nan, 0.0),     # no bid at all
    ])
    assert liquid_mask(chain, RULES).tolist() == [True, False, False, False, True, False, False, False, False, False]
    assert liquid_mask(chain, dataclasses.replace(RULES, min_open_interest=0.0))[[5, 6]].all()
    reasons = [why_illiquid(chain, i, RULES) for i in (1, 3, 5, 6, 7)]
    assert reasons == [
        "SPXW 2021-01-08 3705C: no two-sided quote (bid 0, ask 0.05)",
        "SPXW 2021-01-08 3715C: spread 0.60 wider than 25% of mid 1.30",
        "SPXW 2021-01-08 3725C: open interest 5 below 10",
        "SPXW 2021-01-08 3730C: open interest unknown below 10",
        "SPXW 2021-01-08 3735C: quote 6 minutes old",
    ]


def test_nearest_expiry_ties_window_and_reasons():
    today = date(2021, 1, 8)
    chain = bs_chain(FRIDAY, 3740.0, {today: 0.2, date(2021, 1, 15): 0.2, date(2021, 1, 29): 0.2}, [3740.0])
    assert nearest_expiry(chain, today, 14, 2.0) == (date(2021, 1, 15), "")       # 7 and 21 tie: earlier
    assert nearest_expiry(chain, today, 21, 2.0) == (date(2021, 1, 29), "")
    assert nearest_expiry(chain, today, 45, 2.0) == (None, "nearest expiry to 45 DTE is 2021-01-29 (21 DTE), "
                                                           "outside 22.5..90 DTE")
    assert nearest_expiry(chain, today, 0, 2.0) == (today, "")
    assert nearest_expiry(chain, date(2021, 2, 1), 5, 2.0) == (None, "no listed expiries")
    assert dte_window(28, 2.0) == (14.0, 56.0)


def test_nearest_row_ties_to_the_lower_strike_and_respects_bounds():
    chain = bs_chain(FRIDAY, 3740.0, {date(2021, 1, 8): 0.2}, strikes(3700, 3780, 10))
    calls = np.flatnonzero(chain.is_call)
    assert chain.strike[nearest_row(chain, calls, 3745.0)] == 3740.0
    assert chain.strike[nearest_row(chain, calls, 3745.0, above=3740.0)] == 3750.0
    assert chain.strike[nearest_row(chain, calls, 3600.0, below=3740.0)] == 3700.0
    assert nearest_row(chain, calls, 3600.0, below=3700.0) is None


def test_atm_iv_reads_the_chain_own_volatility():
    expiry = date(2021, 1, 22)
    chain = bs_chain(FRIDAY, 3740.0, {expiry: 0.23}, strikes(3600, 3900, 25))
    iv, why = atm_iv(chain, expiry, 3740.0, np.ones(len(chain), dtype=np.bool_), market())
    assert why == "" and iv == pytest.approx(0.23, abs=1e-9)
    iv, why = atm_iv(chain, expiry, 3740.0, np.zeros(len(chain), dtype=np.bool_), market())
    assert math.isnan(iv) and why == "no liquid quotes for 2021-01-22"


def test_params_read_new_fields_when_the_settings_have_them():
    assert PARAMS.liquidity.min_open_interest == EXTRA_DEFAULTS["min_open_interest"]
    assert PARAMS.scale(900.0) == pytest.approx(900.0 / EXTRA_DEFAULTS["spy_reference_price"])
    extended = dataclasses.make_dataclass("Extended", [("min_open_interest", float, 250.0), ("limit_tick", float, 0.01)],
                                          bases=(Section9BSettings,), frozen=True)
    params = AnalyserParams.from_settings(extended())
    assert params.liquidity.min_open_interest == 250.0 and params.limit_tick == 0.01


@pytest.mark.parametrize("price, tick, expected", [
    (1.01, 0.05, 1.00), (-1.01, 0.05, -1.05), (1.05, 0.05, 1.05), (-1.0, 0.05, -1.0), (0.999999999, 0.05, 0.95),
    (2.37, 0.01, 2.37)])
def test_floor_to_tick(price, tick, expected):
    assert floor_to_tick(price, tick) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("price, tick, expected", [
    (1.01, 0.05, 1.05), (-1.01, 0.05, -1.00), (1.05, 0.05, 1.05), (1.05 + 1e-12, 0.05, 1.05), (3 * 0.35, 0.05, 1.05),
    (28.000000001 * 0.05, 0.05, 1.40), (2.37, 0.01, 2.37)])
def test_ceil_to_tick(price, tick, expected):
    """Marketable closing limits: up to the tick, but an exact multiple with float noise stays put."""
    assert ceil_to_tick(price, tick) == pytest.approx(expected, abs=1e-12)


def _leg(strike, is_call, q, bid, ask, expiry=date(2021, 1, 22)):
    return Leg(ContractSpec("SPX", "SPXW", expiry, strike, is_call, 100.0), q, bid, ask)


def test_probability_of_profit_matches_numerical_integration():
    fly = Structure("fly", (_leg(3700, True, 1, 0, 0), _leg(3740, True, -2, 0, 0), _leg(3825, True, 1, 0, 0)))
    risk = same_expiry_profile(fly, -5.0)
    spot, sigma, t = 3740.0, 0.2, 17 / 365
    pop = probability_of_profit(fly, risk, spot, sigma, t, RATE, DIV)
    mu = math.log(spot) + (RATE - DIV - 0.5 * sigma * sigma) * t
    sd = sigma * math.sqrt(t)

    def density(s: float) -> float:
        return math.exp(-0.5 * ((math.log(s) - mu) / sd) ** 2) / (s * sd * math.sqrt(2 * math.pi))

    (upper,) = risk.breakevens
    brute, _ = quad(density, 1e-9, upper, limit=200)
    assert pop == pytest.approx(brute, abs=1e-7)
    assert prob_above(0.0, spot, sigma, t, RATE, DIV) == 1.0 and prob_above(math.inf, spot, sigma, t, RATE, DIV) == 0.0
    assert math.isnan(probability_of_profit(fly, risk, spot, 0.0, t, RATE, DIV))


def test_net_greeks_match_a_bumped_revaluation():
    expiry = date(2021, 1, 22)
    chain = bs_chain(FRIDAY, 3740.0, {expiry: lambda k: 0.2 + (3740 - k) / 5000}, strikes(3650, 3850, 50))
    rows = [int(np.flatnonzero((chain.strike == k) & ~chain.is_call)[0]) for k in (3700.0, 3750.0, 3800.0)]
    legs = tuple(Leg(chain.contracts[r], q, float(chain.bid[r]), float(chain.ask[r])) for r, q in zip(rows, (1, -2, 1)))
    fly = Structure("fly", legs)
    greeks = net_greeks(fly, 3740.0, market())
    ivs = leg_ivs(fly, 3740.0, market())
    t = year_fraction_to_expiry(FRIDAY, expiry)

    def value(spot: float) -> float:
        return float(np.sum(fly.quantities * bs_price(spot, fly.strikes, t, RATE, DIV, ivs, fly.is_call)))

    h = 0.01
    assert greeks.delta == pytest.approx((value(3740 + h) - value(3740 - h)) / (2 * h), abs=1e-6)
    assert greeks.gamma == pytest.approx((value(3740 + h) - 2 * value(3740) + value(3740 - h)) / h**2, abs=1e-4)
    assert greeks.dollars(100.0)["delta"] == pytest.approx(greeks.delta * 100)
    broken = Structure("bad", (_leg(3700, True, 1, 0.01, 0.02),))  # deep ITM call quoted far below intrinsic
    assert net_greeks(broken, 3740.0, market()).reason == "no implied volatility for SPXW 2021-01-22 3700C"


def _setup(limit: float, max_profit: float, max_loss: float) -> Setup:
    structure = Structure("x", (_leg(3700, True, 1, 1.0, 1.1),))
    risk = same_expiry_profile(structure, limit)
    risk = dataclasses.replace(risk, max_profit=max_profit, max_loss=max_loss)
    return Setup("x", structure, NetPrices(limit, limit, limit, limit), risk, None, ())  # type: ignore[arg-type]


def test_exit_plan_targets_half_the_max_profit_and_stops_by_premium():
    assert exit_plan(_setup(-2.0, 2.0, 3.0), PARAMS) == (1.0, -3.0)       # 2 x credit = 4 capped at max loss 3
    assert exit_plan(_setup(-1.0, 1.0, 9.0), PARAMS) == (0.5, -2.0)       # 2 x credit
    assert exit_plan(_setup(4.0, 10.0, 4.0), PARAMS) == (5.0, -2.0)       # half the debit
    assert exit_plan(_setup(4.0, math.inf, 4.0), PARAMS) == (None, -2.0)  # unbounded profit: no target


def test_decide_refuses_unbounded_loss_and_unknown_portfolio():
    from strategies.verdict import decide

    naked = Structure("naked call", (_leg(3800, True, -1, 10.0, 10.4),))
    prices = NetPrices.of(naked, 0.05)
    setup = Setup("x", naked, prices, same_expiry_profile(naked, prices.limit), None, ())  # type: ignore[arg-type]
    parts = (("all", 100.0),)
    assert decide(setup, parts, 70.0, FRIDAY, 1e6, PARAMS).reason == "Max loss unbounded"
    spread = Structure("call spread", (_leg(3800, True, -1, 10.0, 10.4), _leg(3810, True, 1, 6.0, 6.2)))
    prices = NetPrices.of(spread, 0.05)
    setup = Setup("x", spread, prices, same_expiry_profile(spread, prices.limit), None, ())  # type: ignore[arg-type]
    assert decide(setup, parts, 70.0, FRIDAY, float("nan"), PARAMS).reason == "Portfolio value unavailable (nan)"
    verdict = decide(setup, parts, 70.0, FRIDAY, 1e5, PARAMS)
    assert verdict.can_trade and verdict.units_within_risk == int(5000 // verdict.max_loss_dollars)
    assert verdict.intent is not None and verdict.intent.limit_price == pytest.approx(-4.10)
    assert decide(setup, (("all", 69.5),), 70.0, FRIDAY, 1e5, PARAMS).reason == "Score too low: 69.5/100 (need 70)"
