"""The butterflies centred at the money: the Enhanced Butterfly (a 0DTE short butterfly on a Friday
move) and the Batman (a call butterfly above and a put butterfly below the money, back to back).

Both are Friday trades built around the listed strike nearest spot, its quote required liquid, with
wings snapped to listed strikes. Each analyser is one ``analyze_*(ctx)`` function whose docstring
states its rule and score, with its score formula just above it: :func:`analyze_butterfly`
(:func:`butterfly_score`), :func:`analyze_batman` (:func:`batman_score`).
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np

from strategies.analysers.common import (
    Context, Parts, anchor_row, gated_structure, nearest_shared_strike, pick_row, same_expiry_setup, side_rows,
    spot_problem, tier, vix_problem)
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import StrategyAnalysis, decide, refuse, refuse_setup

BUTTERFLY_NAME = "Enhanced Butterfly"
BATMAN_NAME = "Batman Spread"


# --- Enhanced Butterfly ------------------------------------------------------------------------------

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


def _butterfly_gates(ctx: Context) -> tuple[float, str | None]:
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


def build_butterfly(ctx: Context, expiry: date, is_call: bool, wing_target: float) -> tuple[Structure | None, str]:
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


def butterfly_score(move_pct: float, vix: float, credit: float, reward_to_risk: float, scale: float) -> Parts:
    """Spec: |move| 1-3% 30 (>3% 15); VIX 18-25 25 (15-30 15); credit >= 1.00 25 (>= 0.50 15);
    max profit / max loss >= 0.5 20 (>= 0.3 10)."""
    move = abs(move_pct)
    return (
        ("move", 30.0 if 1.0 <= move <= 3.0 else 15.0 if move > 3.0 else 0.0),
        ("vix", 25.0 if 18.0 <= vix <= 25.0 else 15.0 if 15.0 <= vix <= 30.0 else 0.0),
        ("credit", tier(credit, [(1.0 * scale, 25.0), (0.5 * scale, 15.0)])),
        ("reward/risk", tier(reward_to_risk, [(0.5, 20.0), (0.3, 10.0)])),
    )


def analyze_butterfly(ctx: Context) -> StrategyAnalysis:
    """Enhanced Butterfly (spec ``analyze_enhanced_butterfly``): a 0DTE short butterfly on a Friday move.

    Rule: Friday, at or after ``butterfly_entry`` (10:35), |move from today's open| >= ``butterfly_min_move_pct``
    (1%), a 0DTE expiry listed, VIX known (the wing width depends on it). Puts after an up move, calls
    after a down move (the spec's choice). Body: the listed strike nearest spot (refused if its quote
    fails the liquidity rules). Wings: the spec's width
    ``price x butterfly_wing_base_pct% x sqrt(VIX / butterfly_wing_vix_reference)``, snapped to the
    symmetric listed distance nearest it (both wings listed and liquid), at most ``max_butterfly_width``
    SPY points scaled.

    Direction of the trade: the spec demands a net *credit* of at least ``min_credit`` and scores max
    profit / max loss; a symmetric butterfly receives a credit only when it is sold. So this is a
    short butterfly: sell 1 lower wing, buy 2 body, sell 1 upper wing. It keeps the credit when the
    move carries price beyond a wing by expiry and loses at most (width - credit) if price pins the body.
    Score: :func:`butterfly_score` (the spec's), cut-off ``butterfly_min_score``.
    """
    move, why = _butterfly_gates(ctx)
    if why is not None:
        return refuse(BUTTERFLY_NAME, why)
    vix, why = vix_problem(ctx, None, None)
    why = why or spot_problem(ctx)
    if why is not None:
        return refuse(BUTTERFLY_NAME, why)
    assert ctx.spot is not None
    s, scale = ctx.params.s, ctx.scale()
    target = wing_width(ctx.spot, vix, s.butterfly_wing_base_pct, s.butterfly_wing_vix_reference)
    is_call = move < 0
    structure, why = build_butterfly(ctx, ctx.snap.today, is_call, target)
    signals = (f"move {move:+.2f}% from open", f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}",
               f"wing target {target:.2f} points")
    if structure is None:
        return refuse(BUTTERFLY_NAME, why, signals)
    setup = same_expiry_setup(ctx, BUTTERFLY_NAME, structure, signals)
    credit = setup.prices.credit
    if credit < s.min_credit * scale:
        return refuse_setup(setup, f"Insufficient credit: {credit:.2f} (need {s.min_credit * scale:.2f})")
    parts = butterfly_score(move, vix, credit, setup.risk.reward_to_risk(), scale)
    return decide(setup, parts, s.butterfly_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)


# --- Batman ------------------------------------------------------------------------------------------

def center_strike(ctx: Context, expiry: date) -> tuple[float | None, str]:
    """The strike nearest spot listed for both rights (ties: the lower); both quotes must be liquid."""
    assert ctx.spot is not None
    chain = ctx.snap.chain
    listed = np.ones(len(chain), dtype=np.bool_)
    k = nearest_shared_strike(chain, side_rows(chain, expiry, True, listed),
                              side_rows(chain, expiry, False, listed), ctx.spot)
    if k is None:
        return None, f"No strike listed for calls and puts on {expiry.isoformat()}"
    for is_call in (False, True):
        row, why = anchor_row(ctx, expiry, is_call, k)
        if row is None:
            return None, why
    return k, ""


def _batman_side(ctx: Context, expiry: date, is_call: bool, k: float, inner: float, outer: float
                 ) -> tuple[list[int] | None, str]:
    """Rows (ATM, near, far) of one butterfly."""
    sign = 1.0 if is_call else -1.0
    atm, why = pick_row(ctx, expiry, is_call, k)
    if atm is None:
        return None, why
    near, why = (pick_row(ctx, expiry, is_call, k + inner, above=k) if is_call
                 else pick_row(ctx, expiry, is_call, k - inner, below=k))
    if near is None:
        return None, why
    k_near = float(ctx.snap.chain.strike[near])
    far, why = (pick_row(ctx, expiry, is_call, k + sign * outer, above=k_near) if is_call
                else pick_row(ctx, expiry, is_call, k + sign * outer, below=k_near))
    if far is None:
        return None, why
    return [atm, near, far], ""


def build_batman(ctx: Context, expiry: date) -> tuple[Structure | None, str]:
    s, scale = ctx.params.s, ctx.scale()
    k, why = center_strike(ctx, expiry)
    if k is None:
        return None, why
    inner, outer = s.batman_inner_width * scale, s.batman_outer_width * scale
    puts, why = _batman_side(ctx, expiry, False, k, inner, outer)
    calls, why_calls = _batman_side(ctx, expiry, True, k, inner, outer)
    if puts is None or calls is None:
        return None, why or why_calls
    strikes = [float(ctx.snap.chain.strike[r]) for r in (puts[2], puts[1], calls[1], calls[2])]
    if strikes[3] - strikes[0] > s.max_condor_width * scale:
        return None, f"Batman {strikes[0]:g}/{strikes[3]:g} wider than the {s.max_condor_width * scale:.2f}-point maximum"
    legs = legs_from_rows(ctx.snap.chain, [*puts, *calls], [1, -2, 1, 1, -2, 1])
    name = f"Batman {strikes[0]:g}/{strikes[1]:g}/{k:g}/{strikes[2]:g}/{strikes[3]:g} {expiry.isoformat()}"
    return Structure(name, legs), ""


def batman_score(vix: float, credit: float, reward_to_risk: float, off_center: float, scale: float) -> Parts:
    """VIX >= 30 30 (>= 25 25, >= 22 15); credit >= 2.50 30 (>= 2.00 20, >= 1.50 10); max profit /
    max loss >= 1 20 (>= 0.5 10); |spot - centre strike| <= 25% of the inner width 20 (<= 50% 10)
    (``off_center`` is that fraction)."""
    return (
        ("vix", tier(vix, [(30.0, 30.0), (25.0, 25.0), (22.0, 15.0)])),
        ("credit", tier(credit, [(2.5 * scale, 30.0), (2.0 * scale, 20.0), (1.5 * scale, 10.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.0, 20.0), (0.5, 10.0)])),
        ("centring", 20.0 if off_center <= 0.25 else 10.0 if off_center <= 0.5 else 0.0),
    )


def analyze_batman(ctx: Context) -> StrategyAnalysis:
    """Batman Spread (spec ``analyze_batman_spread``): two broken-wing butterflies back to back, whose
    expiry P&L has two peaks ("ears") at the inner strikes, entered for a credit.

    The spec names four strikes (far put ATM - outer, near put ATM - inner, near call ATM + inner, far
    call ATM + outer) and a credit of at least 1.50. Built as: a put butterfly (+1 ATM put, -2 near put,
    +1 far put) and a call butterfly (+1 ATM call, -2 near call, +1 far call). The wings are broken
    (inner < outer - inner), which is what makes a credit possible: P&L = credit at the ATM strike,
    inner + credit at each ear, and -(outer - 2 x inner) + credit beyond each far strike.

    Rule: Friday; VIX >= ``batman_vix_min``; the listed expiry nearest ``batman_dte``; ATM = the strike
    nearest spot listed for both rights (both quotes must be liquid); inner/outer = ``batman_inner_width`` /
    ``batman_outer_width`` SPY points (scaled), each snapped to the nearest liquid listed strike beyond
    the previous one; far-call minus far-put at most ``max_condor_width`` (scaled); credit >=
    ``batman_min_credit`` (scaled). Score: :func:`batman_score`, cut-off ``batman_min_score``.
    """
    s = ctx.params.s
    if not ctx.snap.is_friday():
        return refuse(BATMAN_NAME, "Batman spreads on Fridays only")
    gated = gated_structure(ctx, BATMAN_NAME, s.batman_vix_min, None, s.batman_dte, build_batman)
    if isinstance(gated, StrategyAnalysis):
        return gated
    vix, structure = gated
    assert ctx.spot is not None
    scale = ctx.scale()
    center = structure.legs[0].contract.strike
    signals = (f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}", f"centre {center:g}")
    setup = same_expiry_setup(ctx, BATMAN_NAME, structure, signals)
    credit = setup.prices.credit
    if credit < s.batman_min_credit * scale:
        return refuse_setup(setup, f"Insufficient credit: {credit:.2f} (need {s.batman_min_credit * scale:.2f})")
    off_center = abs(ctx.spot - center) / (s.batman_inner_width * scale)
    parts = batman_score(vix, credit, setup.risk.reward_to_risk(), off_center, scale)
    return decide(setup, parts, s.batman_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
