"""The broken-wing structures: the Broken Wing Butterfly and the Broken Wing Condor, long structures of
one right with the wing on one side wider, entered for a credit.

They share their gates and setup (:func:`broken_wing_setup`: the VIX range, the direction from the move
since the open, the listed expiry nearest ``bwb_dte``, the minimum credit) and differ in the strikes they
build. Each analyser is one ``analyze_*(ctx)`` function whose docstring states its rule and score,
with its score formula just above it: :func:`analyze_broken_wing_butterfly` (:func:`broken_wing_score`),
:func:`analyze_broken_wing_condor` (:func:`condor_score`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import date

import numpy as np

from pricing.chain import years_to_settlement
from strategies.analysers.common import (
    NO_PRICING_INPUTS, Context, Parts, anchor_row, atm_iv, expiry_for, pick_row, same_expiry_setup, spot_problem, tier,
    vix_problem)
from strategies.structures import Structure, legs_from_rows, probability_of_profit
from strategies.verdict import Setup, StrategyAnalysis, decide, refuse, refuse_setup

BROKEN_WING_BUTTERFLY_NAME = "Broken Wing Butterfly"
BROKEN_WING_CONDOR_NAME = "Broken Wing Condor"


# --- the gates and setup both share -----------------------------------------------------------------

def direction(ctx: Context) -> tuple[bool | None, str]:
    """(call side broken?, why unknown): the spec's ``spy.Price > spy.Open``."""
    move = ctx.snap.underlying.move_from_open_pct()
    if move.value is None:
        return None, f"Move from open unavailable ({move.reason})"
    return move.value > 0, ""


@dataclasses.dataclass(frozen=True)
class BrokenWingSetup:
    """A broken-wing structure that passed the shared gates (VIX range, direction, expiry, credit)."""

    setup: Setup
    vix: float
    call_broken: bool
    expiry: date
    credit: float


Builder = Callable[[Context, date, bool], "tuple[Structure | None, str]"]


def broken_wing_setup(ctx: Context, name: str, builder: Builder) -> BrokenWingSetup | StrategyAnalysis:
    """The gates the broken-wing butterfly and condor share, in the spec's order; a refusal otherwise."""
    s = ctx.params.s
    vix, why = vix_problem(ctx, s.bwb_vix_min, s.bwb_vix_max)
    why = why or spot_problem(ctx)
    if why is not None:
        return refuse(name, why)
    call_broken, why = direction(ctx)
    if call_broken is None:
        return refuse(name, why)
    expiry, why = expiry_for(ctx, s.bwb_dte)
    if expiry is None:
        return refuse(name, f"No suitable expiration: {why}")
    structure, why = builder(ctx, expiry, call_broken)
    if structure is None:
        return refuse(name, why)
    assert ctx.spot is not None and vix is not None
    signals = (f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}", f"{'call' if call_broken else 'put'} side broken")
    setup = same_expiry_setup(ctx, name, structure, signals)
    credit, need = setup.prices.credit, s.bwb_min_credit * ctx.scale()
    if credit < need:
        return refuse_setup(setup, f"Insufficient credit: {credit:.2f} (need {need:.2f})")
    return BrokenWingSetup(setup, vix, call_broken, expiry, credit)


# --- Broken Wing Butterfly ---------------------------------------------------------------------------

def butterfly_wings(ctx: Context, expiry: date, is_call: bool, body: float, lower_pts: float, upper_pts: float
                    ) -> tuple[tuple[int, int] | None, str]:
    """Rows of the liquid listed strikes nearest body - lower_pts (below) and body + upper_pts (above)."""
    low, why = pick_row(ctx, expiry, is_call, body - lower_pts, below=body)
    if low is None:
        return None, why
    high, why = pick_row(ctx, expiry, is_call, body + upper_pts, above=body)
    if high is None:
        return None, why
    return (low, high), ""


def build_broken_wing_butterfly(ctx: Context, expiry: date, call_broken: bool) -> tuple[Structure | None, str]:
    assert ctx.spot is not None
    s, scale = ctx.params.s, ctx.scale()
    body, why = anchor_row(ctx, expiry, call_broken, ctx.spot)
    if body is None:
        return None, why
    k = float(ctx.snap.chain.strike[body])
    narrow, wide = s.bwb_narrow_wing * scale, s.bwb_wide_wing * scale
    rows, why = butterfly_wings(ctx, expiry, call_broken, k, *((narrow, wide) if call_broken else (wide, narrow)))
    if rows is None:
        return None, why
    low, high = (float(ctx.snap.chain.strike[r]) for r in rows)
    narrow_got, wide_got = (k - low, high - k) if call_broken else (high - k, k - low)
    if wide_got <= narrow_got:
        return None, f"Listed strikes {low:g}/{k:g}/{high:g} give no broken wing"
    if high - low > s.max_butterfly_width * scale:
        return None, f"Fly {low:g}/{high:g} wider than the {s.max_butterfly_width * scale:.2f}-point maximum"
    kind = "Call" if call_broken else "Put"
    legs = legs_from_rows(ctx.snap.chain, [rows[0], body, rows[1]], [1, -2, 1])
    return Structure(f"{kind} Broken Wing Butterfly {low:g}/{k:g}/{high:g} {expiry.isoformat()}", legs), ""


def risk_side_cushion_pct(spot: float, breakevens: tuple[float, ...], call_broken: bool) -> float:
    """Distance from spot to the nearest breakeven on the broken side, % of spot (inf when none)."""
    side = [b for b in breakevens if (b > spot if call_broken else b < spot)]
    if not side:
        return math.inf
    nearest = min(side) if call_broken else max(side)
    return abs(nearest - spot) / spot * 100.0


def broken_wing_score(vix: float, credit: float, reward_to_risk: float, cushion_pct: float, scale: float) -> Parts:
    """VIX 20-30 25 (else 15); credit >= 0.75 25 (>= 0.50 20, >= 0.25 10); max profit / max loss
    >= 1.5 25 (>= 1 15, >= 0.5 5); breakeven on the risk side >= 2% from spot 25 (>= 1% 15)."""
    return (
        ("vix", 25.0 if 20.0 <= vix <= 30.0 else 15.0),
        ("credit", tier(credit, [(0.75 * scale, 25.0), (0.5 * scale, 20.0), (0.25 * scale, 10.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.5, 25.0), (1.0, 15.0), (0.5, 5.0)])),
        ("cushion", tier(cushion_pct, [(2.0, 25.0), (1.0, 15.0)])),
    )


def analyze_broken_wing_butterfly(ctx: Context) -> StrategyAnalysis:
    """Broken Wing Butterfly (spec ``analyze_broken_wing_butterfly``): a long butterfly with one wing
    wider, entered for a credit.

    Rule: VIX within [``bwb_vix_min``, ``bwb_vix_max``]; the listed expiry nearest ``bwb_dte``; direction
    from the move since the open (spec: price above the open -> the call side is broken, else the put
    side). Body: the listed strike nearest spot (sold twice; its quote must be liquid). Narrow wing
    ``bwb_narrow_wing`` and wide wing ``bwb_wide_wing`` SPY points (scaled) on the spec's sides, each
    snapped to the nearest liquid listed strike; the snapped wide wing must stay wider than the narrow
    one and the whole fly within ``max_butterfly_width`` (scaled). Buy 1 lower, sell 2 body, buy 1
    upper, all calls (call side broken) or all puts. Net credit >= ``bwb_min_credit`` (scaled). The loss
    is on the broken side only: (wide - narrow - credit).
    Score: :func:`broken_wing_score`, cut-off ``bwb_min_score``.
    """
    s = ctx.params.s
    found = broken_wing_setup(ctx, BROKEN_WING_BUTTERFLY_NAME, build_broken_wing_butterfly)
    if isinstance(found, StrategyAnalysis):
        return found
    assert ctx.spot is not None
    cushion = risk_side_cushion_pct(ctx.spot, found.setup.risk.breakevens, found.call_broken)
    parts = broken_wing_score(found.vix, found.credit, found.setup.risk.reward_to_risk(), cushion, ctx.scale())
    return decide(found.setup, parts, s.bwb_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)


# --- Broken Wing Condor ------------------------------------------------------------------------------

def _condor_rows(ctx: Context, expiry: date, call_broken: bool, narrow: float, wide: float
                 ) -> tuple[list[int] | None, str]:
    """Rows K1..K4 from the at-the-money strike outwards (see :func:`analyze_broken_wing_condor`)."""
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


def build_broken_wing_condor(ctx: Context, expiry: date, call_broken: bool) -> tuple[Structure | None, str]:
    s, scale = ctx.params.s, ctx.scale()
    rows, why = _condor_rows(ctx, expiry, call_broken, s.bwb_narrow_wing * scale, s.bwb_wide_wing * scale)
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


def condor_score(vix: float, credit: float, probability: float, target_probability: float,
                 reward_to_risk: float, scale: float) -> Parts:
    """VIX 20-30 25 (else 15); credit as the broken-wing butterfly; probability of profit >= target
    + 10 pts 25 (>= target 15); max profit / max loss >= 1.5 25 (>= 1 15, >= 0.5 5)."""
    return (
        ("vix", 25.0 if 20.0 <= vix <= 30.0 else 15.0),
        ("credit", tier(credit, [(0.75 * scale, 25.0), (0.5 * scale, 20.0), (0.25 * scale, 10.0)])),
        ("probability", tier(probability, [(target_probability + 0.10, 25.0), (target_probability, 15.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.5, 25.0), (1.0, 15.0), (0.5, 5.0)])),
    )


def analyze_broken_wing_condor(ctx: Context) -> StrategyAnalysis:
    """Broken Wing Condor: named by the spec, not specified there. Designed in the broken-wing
    butterfly's style, with the condor settings the spec does give.

    Rule: VIX within the broken-wing range [``bwb_vix_min``, ``bwb_vix_max``]; the listed expiry nearest
    ``bwb_dte``; direction as the broken-wing butterfly (price above the open -> call side broken).
    Strikes (one right, K1 < K2 < K3 < K4), the at-the-money one the listed strike
    nearest spot (its quote must be liquid), the others the liquid listed strike nearest their target::

        call side broken: K2 = at the money, K1 ~ K2 - narrow, K3 ~ K2 + narrow, K4 ~ K3 + wide
        put side broken:  K3 = at the money, K4 ~ K3 + narrow, K2 ~ K3 - narrow, K1 ~ K2 - wide

    with narrow/wide = ``bwb_narrow_wing`` / ``bwb_wide_wing`` SPY points (scaled). Buy K1, sell K2, sell K3,
    buy K4: a long condor whose plateau (K2..K3) pays the narrow width and whose broken side loses
    (wide - narrow - credit). The snapped wide wing must stay wider than the narrow one; K4 - K1 at most
    ``max_condor_width`` (scaled). Net credit >= ``bwb_min_credit`` (scaled). Probability of profit (lognormal
    at the expiry's ATM IV, exact breakevens) >= ``iron_condor_probability``.
    Score: :func:`condor_score`, cut-off ``bwc_min_score`` (default 70).
    """
    s = ctx.params.s
    found = broken_wing_setup(ctx, BROKEN_WING_CONDOR_NAME, build_broken_wing_condor)
    if isinstance(found, StrategyAnalysis):
        return found
    setup = found.setup
    if ctx.market is None:
        return refuse_setup(setup, f"Probability of profit needs {NO_PRICING_INPUTS}")
    pop, why = profit_probability(ctx, setup, found.expiry)
    if not np.isfinite(pop):
        return refuse_setup(setup, f"Probability of profit unavailable ({why})")
    setup = Setup(BROKEN_WING_CONDOR_NAME, setup.structure, setup.prices, setup.risk, setup.greeks,
                  (*setup.signals, f"P(profit) {pop:.1%}"))
    if pop < s.iron_condor_probability:
        return refuse_setup(setup, f"Probability of profit {pop:.1%} below {s.iron_condor_probability:.0%}")
    parts = condor_score(found.vix, found.credit, pop, s.iron_condor_probability, setup.risk.reward_to_risk(),
                         ctx.scale())
    return decide(setup, parts, ctx.params.bwc_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
