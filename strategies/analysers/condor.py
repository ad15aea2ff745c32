"""Broken Wing Condor: named by the spec, not specified there. Designed in the broken-wing
butterfly's style, with the condor settings the spec does give.

Rule: VIX within the broken-wing range [``bwb_vix_min``, ``bwb_vix_max``]; the listed expiry nearest
``bwb_dte``; direction as the broken-wing butterfly (price above the open -> call side broken).
Strikes (one right, K1 < K2 < K3 < K4), the at-the-money one the listed strike
nearest spot (its quote must be liquid), the others the liquid listed strike nearest their target:
    call side broken: K2 = at the money, K1 ~ K2 - narrow, K3 ~ K2 + narrow, K4 ~ K3 + wide
    put side broken:  K3 = at the money, K4 ~ K3 + narrow, K2 ~ K3 - narrow, K1 ~ K2 - wide
with narrow/wide = ``bwb_narrow_wing`` / ``bwb_wide_wing`` SPY points (scaled). Buy K1, sell K2, sell K3,
buy K4: a long condor whose plateau (K2..K3) pays the narrow width and whose broken side loses
(wide - narrow - credit). The snapped wide wing must stay wider than the narrow one; K4 - K1 at most
``max_condor_width`` (scaled). Net credit >= ``bwb_min_credit`` (scaled). Probability of profit (lognormal
at the expiry's ATM IV, exact breakevens) >= ``iron_condor_probability``.
Score: :func:`strategies.scoring.condor_score`, cut-off ``bwc_min_score`` (default 70).
"""
from __future__ import annotations

from datetime import date

import numpy as np

from pricing.chain import years_to_settlement
from strategies.analysers.broken_wing import broken_wing_setup
from strategies.analysers.common import NO_PRICING_INPUTS, Context, anchor_row, atm_iv, pick_row
from strategies.scoring import condor_score
from strategies.structures import Structure, legs_from_rows, probability_of_profit
from strategies.verdict import Setup, StrategyAnalysis, decide, refuse_setup

NAME = "Broken Wing Condor"


def _strike_rows(ctx: Context, expiry: date, call_broken: bool, narrow: float, wide: float
                 ) -> tuple[list[int] | None, str]:
    """Rows K1..K4 from the at-the-money strike outwards (see module doc)."""
    assert ctx.spot is not None
    strike = ctx.snap.chain.strike
    atm, why = anchor_row(ctx, expiry, call_broken, ctx.spot)
    if atm is None:
        return None, why
    k = float(strike[atm])
    sign = 1.0 if call_broken else -1.0
    inner, why = _pick_beyond(ctx, expiry, call_broken, k + sign * narrow, k, sign)
    if inner is None:
        return None, why
    k_inner = float(strike[inner])
    outer, why = _pick_beyond(ctx, expiry, call_broken, k_inner + sign * wide, k_inner, sign)
    if outer is None:
        return None, why
    other, why = _pick_beyond(ctx, expiry, call_broken, k - sign * narrow, k, -sign)
    if other is None:
        return None, why
    rows = [other, atm, inner, outer] if call_broken else [outer, inner, atm, other]
    return rows, ""


def _pick_beyond(ctx: Context, expiry: date, is_call: bool, target: float, pivot: float, sign: float
                 ) -> tuple[int | None, str]:
    """The liquid strike nearest ``target`` strictly beyond ``pivot`` (above when sign > 0)."""
    if sign > 0:
        return pick_row(ctx, expiry, is_call, target, above=pivot)
    return pick_row(ctx, expiry, is_call, target, below=pivot)


def build(ctx: Context, expiry: date, call_broken: bool) -> tuple[Structure | None, str]:
    s, scale = ctx.params.s, ctx.scale()
    rows, why = _strike_rows(ctx, expiry, call_broken, s.bwb_narrow_wing * scale, s.bwb_wide_wing * scale)
    if rows is None:
        return None, why
    k1, k2, k3, k4 = (float(ctx.snap.chain.strike[r]) for r in rows)
    narrow_got, wide_got = (k2 - k1, k4 - k3) if call_broken else (k4 - k3, k2 - k1)
    if wide_got <= narrow_got:
        return None, f"Listed strikes {k1:g}/{k2:g}/{k3:g}/{k4:g} give no broken wing"
    if k4 - k1 > s.max_condor_width * scale:
        return None, f"Condor {k1:g}/{k4:g} wider than the {s.max_condor_width * scale:.2f}-point maximum"
    kind = "Call" if call_broken else "Put"
    name = f"{kind} Broken Wing Condor {k1:g}/{k2:g}/{k3:g}/{k4:g} {expiry.isoformat()}"
    return Structure(name, legs_from_rows(ctx.snap.chain, rows, [1, -1, -1, 1])), ""


def profit_probability(ctx: Context, setup: Setup, expiry: date) -> tuple[float, str]:
    """P(profit at expiry) at the expiry's ATM IV, or NaN and why."""
    assert ctx.spot is not None and ctx.market is not None
    sigma, why = atm_iv(ctx.snap.chain, expiry, ctx.spot, ctx.usable, ctx.market)
    if not np.isfinite(sigma):
        return float("nan"), why
    contract = setup.structure.legs[0].contract
    t = float(years_to_settlement(ctx.market.now, [expiry], [contract.settles_at_open])[0])
    pop = probability_of_profit(setup.structure, setup.risk, ctx.spot, sigma, t, ctx.market.rate,
                                ctx.market.dividend_yield)
    return pop, "" if np.isfinite(pop) else "expired"


def analyze(ctx: Context) -> StrategyAnalysis:
    s = ctx.params.s
    found = broken_wing_setup(ctx, NAME, build)
    if isinstance(found, StrategyAnalysis):
        return found
    setup = found.setup
    if ctx.market is None:
        return refuse_setup(setup, f"Probability of profit needs {NO_PRICING_INPUTS}")
    pop, why = profit_probability(ctx, setup, found.expiry)
    if not np.isfinite(pop):
        return refuse_setup(setup, f"Probability of profit unavailable ({why})")
    setup = Setup(NAME, setup.structure, setup.prices, setup.risk, setup.greeks, (*setup.signals, f"P(profit) {pop:.1%}"))
    if pop < s.iron_condor_probability:
        return refuse_setup(setup, f"Probability of profit {pop:.1%} below {s.iron_condor_probability:.0%}")
    parts = condor_score(found.vix, found.credit, pop, s.iron_condor_probability, setup.risk.reward_to_risk(),
                         ctx.scale())
    return decide(setup, parts, ctx.params.bwc_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
