"""Broken Wing Butterfly (spec ``analyze_broken_wing_butterfly``): a long butterfly with one wing
wider, entered for a credit.

Rule: VIX within [``bwb_vix_min``, ``bwb_vix_max``]; the listed expiry nearest ``bwb_dte``; direction from
the move since the open (spec: price above the open -> the call side is broken, else the put side).
Body: the listed strike nearest spot (sold twice; its quote must be liquid). Narrow wing ``bwb_narrow_wing`` and wide wing
``bwb_wide_wing`` SPY points (scaled) on the spec's sides, each snapped to the nearest liquid listed
strike; the snapped wide wing must stay wider than the narrow one and the whole fly within
``max_butterfly_width`` (scaled). Buy 1 lower, sell 2 body, buy 1 upper, all calls (call side
broken) or all puts. Net credit >= ``bwb_min_credit`` (scaled). The loss is on the broken side only:
(wide - narrow - credit). Score: :func:`strategies.scoring.broken_wing_score`, cut-off ``bwb_min_score``.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import date

from strategies.analysers.common import (
    Context, anchor_row, expiry_for, pick_row, same_expiry_setup, spot_problem, vix_problem)
from strategies.scoring import broken_wing_score
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import Setup, StrategyAnalysis, decide, refuse, refuse_setup

NAME = "Broken Wing Butterfly"


def direction(ctx: Context) -> tuple[bool | None, str]:
    """(call side broken?, why unknown): the spec's ``spy.Price > spy.Open``."""
    move = ctx.snap.underlying.move_from_open_pct()
    if move.value is None:
        return None, f"Move from open unavailable ({move.reason})"
    return move.value > 0, ""


def wings(ctx: Context, expiry: date, is_call: bool, body: float, lower_pts: float, upper_pts: float
          ) -> tuple[tuple[int, int] | None, str]:
    """Rows of the liquid listed strikes nearest body - lower_pts (below) and body + upper_pts (above)."""
    low, why = pick_row(ctx, expiry, is_call, body - lower_pts, below=body)
    if low is None:
        return None, why
    high, why = pick_row(ctx, expiry, is_call, body + upper_pts, above=body)
    if high is None:
        return None, why
    return (low, high), ""


def build(ctx: Context, expiry: date, call_broken: bool) -> tuple[Structure | None, str]:
    assert ctx.spot is not None
    s, scale = ctx.params.s, ctx.scale()
    body, why = anchor_row(ctx, expiry, call_broken, ctx.spot)
    if body is None:
        return None, why
    k = float(ctx.snap.chain.strike[body])
    narrow, wide = s.bwb_narrow_wing * scale, s.bwb_wide_wing * scale
    rows, why = wings(ctx, expiry, call_broken, k, *((narrow, wide) if call_broken else (wide, narrow)))
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


def analyze(ctx: Context) -> StrategyAnalysis:
    s = ctx.params.s
    found = broken_wing_setup(ctx, NAME, build)
    if isinstance(found, StrategyAnalysis):
        return found
    assert ctx.spot is not None
    cushion = risk_side_cushion_pct(ctx.spot, found.setup.risk.breakevens, found.call_broken)
    parts = broken_wing_score(found.vix, found.credit, found.setup.risk.reward_to_risk(), cushion, ctx.scale())
    return decide(found.setup, parts, s.bwb_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
