"""Enhanced Butterfly (spec ``analyze_enhanced_butterfly``): a 0DTE short butterfly on a Friday move.

Rule: Friday, at or after ``butterfly_entry`` (10:35), |move from today's open| >= ``butterfly_min_move_pct``
(1%), a 0DTE expiry listed, VIX known (the wing width depends on it). Puts after an up move, calls
after a down move (the spec's choice). Body: the listed strike nearest spot (refused if its quote fails the liquidity rules). Wings: the
spec's width ``price x butterfly_wing_base_pct% x sqrt(VIX / butterfly_wing_vix_reference)``, snapped to
the symmetric listed distance nearest it (both wings listed and liquid), at most
``max_butterfly_width`` SPY points scaled.

Direction of the trade: the spec demands a net *credit* of at least ``min_credit`` and scores max
profit / max loss; a symmetric butterfly receives a credit only when it is sold. So this is a
short butterfly: sell 1 lower wing, buy 2 body, sell 1 upper wing. It keeps the credit when the
move carries price beyond a wing by expiry and loses at most (width - credit) if price pins the body.
Score: :func:`strategies.scoring.butterfly_score` (the spec's), cut-off ``butterfly_min_score``.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np

from strategies.analysers.common import (
    Context, anchor_row, pick_row, same_expiry_setup, side_rows, spot_problem, vix_problem)
from strategies.scoring import butterfly_score
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import StrategyAnalysis, decide, refuse, refuse_setup

NAME = "Enhanced Butterfly"


def wing_width(spot: float, vix: float, base_pct: float, vix_reference: float) -> float:
    """The spec's optimal wing width in the underlying's points (before snapping to listed strikes)."""
    return spot * base_pct / 100.0 * math.sqrt(vix / vix_reference)


def symmetric_wings(ctx: Context, expiry: date, is_call: bool, body_row: int, target: float
                    ) -> tuple[float | None, str]:
    """The wing distance nearest ``target`` at which both wings are listed and liquid (ties: narrower)."""
    chain = ctx.snap.chain
    strikes = chain.strike[side_rows(chain, expiry, is_call, ctx.usable)]
    body = float(chain.strike[body_row])
    below, above = body - strikes[strikes < body], strikes[strikes > body] - body
    common = below[np.isclose(below[:, None], above[None, :], rtol=0, atol=1e-9).any(axis=1)]
    if common.size == 0:
        return None, f"No symmetric listed wings around {body:g} on {expiry.isoformat()}"
    return float(common[np.lexsort((common, np.abs(common - target)))[0]]), ""


def _gates(ctx: Context) -> tuple[float, str | None]:
    """(move from open %, None) when the spec's day/time/move/0DTE gates pass, else (nan, reason)."""
    snap, s = ctx.snap, ctx.params.s
    if not snap.is_friday():
        return math.nan, "Butterfly only on Friday"
    if snap.time.time() < s.butterfly_entry:
        return math.nan, f"Wait until {s.butterfly_entry:%H:%M}"
    move = snap.underlying.move_from_open_pct()
    if move.value is None:
        return math.nan, f"Move from open unavailable ({move.reason})"
    if abs(move.value) < s.butterfly_min_move_pct:
        return math.nan, f"Insufficient movement: {move.value:.2f}% (need {s.butterfly_min_move_pct:g}%)"
    if not snap.has_same_day_expiry():
        return math.nan, "No 0DTE options available"
    return move.value, None


def build(ctx: Context, expiry: date, is_call: bool, wing_target: float) -> tuple[Structure | None, str]:
    """Short butterfly around the liquid strike nearest spot with the snapped symmetric wing."""
    assert ctx.spot is not None
    body, why = anchor_row(ctx, expiry, is_call, ctx.spot)
    if body is None:
        return None, why
    width, why = symmetric_wings(ctx, expiry, is_call, body, wing_target)
    if width is None:
        return None, why
    limit = ctx.params.s.max_butterfly_width * ctx.scale()
    if width > limit:
        return None, f"Nearest listed wing {width:g} wider than the {limit:.2f}-point maximum"
    k = float(ctx.snap.chain.strike[body])
    low, _ = pick_row(ctx, expiry, is_call, k - width)
    high, _ = pick_row(ctx, expiry, is_call, k + width)
    assert low is not None and high is not None
    kind = "Call" if is_call else "Put"
    legs = legs_from_rows(ctx.snap.chain, [low, body, high], [-1, 2, -1])
    return Structure(f"Short {kind} Butterfly {k - width:g}/{k:g}/{k + width:g}", legs), ""


def analyze(ctx: Context) -> StrategyAnalysis:
    move, why = _gates(ctx)
    if why is not None:
        return refuse(NAME, why)
    vix, why = vix_problem(ctx, None, None)
    why = why or spot_problem(ctx)
    if why is not None:
        return refuse(NAME, why)
    assert ctx.spot is not None
    s, scale = ctx.params.s, ctx.scale()
    target = wing_width(ctx.spot, vix, s.butterfly_wing_base_pct, s.butterfly_wing_vix_reference)
    is_call = move < 0
    structure, why = build(ctx, ctx.snap.today, is_call, target)
    signals = (f"move {move:+.2f}% from open", f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}",
               f"wing target {target:.2f} points")
    if structure is None:
        return refuse(NAME, why, signals)
    setup = same_expiry_setup(ctx, NAME, structure, signals)
    credit = setup.prices.credit
    if credit < s.min_credit * scale:
        return refuse_setup(setup, f"Insufficient credit: {credit:.2f} (need {s.min_credit * scale:.2f})")
    parts = butterfly_score(move, vix, credit, setup.risk.reward_to_risk(), scale)
    return decide(setup, parts, s.butterfly_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
