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
``batman_min_credit`` (scaled). Score: :func:`strategies.scoring.batman_score`, cut-off ``batman_min_score``.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from strategies.analysers.common import (
    Context, anchor_row, gated_structure, nearest_shared_strike, pick_row, same_expiry_setup, side_rows)
from strategies.scoring import batman_score
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import StrategyAnalysis, decide, refuse, refuse_setup

NAME = "Batman Spread"


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


def _side(ctx: Context, expiry: date, is_call: bool, k: float, inner: float, outer: float
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


def build(ctx: Context, expiry: date) -> tuple[Structure | None, str]:
    s, scale = ctx.params.s, ctx.scale()
    k, why = center_strike(ctx, expiry)
    if k is None:
        return None, why
    inner, outer = s.batman_inner_width * scale, s.batman_outer_width * scale
    puts, why = _side(ctx, expiry, False, k, inner, outer)
    calls, why_calls = _side(ctx, expiry, True, k, inner, outer)
    if puts is None or calls is None:
        return None, why or why_calls
    strikes = [float(ctx.snap.chain.strike[r]) for r in (puts[2], puts[1], calls[1], calls[2])]
    if strikes[3] - strikes[0] > s.max_condor_width * scale:
        return None, f"Batman {strikes[0]:g}/{strikes[3]:g} wider than the {s.max_condor_width * scale:.2f}-point maximum"
    legs = legs_from_rows(ctx.snap.chain, [*puts, *calls], [1, -2, 1, 1, -2, 1])
    name = f"Batman {strikes[0]:g}/{strikes[1]:g}/{k:g}/{strikes[2]:g}/{strikes[3]:g} {expiry.isoformat()}"
    return Structure(name, legs), ""


def analyze(ctx: Context) -> StrategyAnalysis:
    s = ctx.params.s
    if not ctx.snap.is_friday():
        return refuse(NAME, "Batman spreads on Fridays only")
    gated = gated_structure(ctx, NAME, s.batman_vix_min, None, s.batman_dte, build)
    if isinstance(gated, StrategyAnalysis):
        return gated
    vix, structure = gated
    assert ctx.spot is not None
    scale = ctx.scale()
    center = structure.legs[0].contract.strike
    signals = (f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}", f"centre {center:g}")
    setup = same_expiry_setup(ctx, NAME, structure, signals)
    credit = setup.prices.credit
    if credit < s.batman_min_credit * scale:
        return refuse_setup(setup, f"Insufficient credit: {credit:.2f} (need {s.batman_min_credit * scale:.2f})")
    off_center = abs(ctx.spot - center) / (s.batman_inner_width * scale)
    parts = batman_score(vix, credit, setup.risk.reward_to_risk(), off_center, scale)
    return decide(setup, parts, s.batman_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
