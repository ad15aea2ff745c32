"""Diagonal Spread (spec ``analyze_diagonal_spreads``): sell the front expiry, buy the back, when the
chain's own IV term structure is in backwardation.

Rule: VIX within [``diagonal_vix_min``, ``diagonal_vix_max``]; DTE targets ``diagonal_front_dte`` /
``diagonal_back_dte`` (the ``*_high_vix`` pair above ``diagonal_vix_high``), each the nearest listed
expiry; ATM implied volatility (call/put mean at the liquid strike nearest spot, from quoted mids via
the pricing core) of the front must exceed the back's. Bias from the move since the open (spec
``detect_market_bias``: beyond +-``bias_move_pct``%): bearish -> puts, otherwise calls. Strike: as the
spec, one strike for both legs (the strike nearest spot listed in both expiries, both quotes liquid), so it is
the at-the-money diagonal the spec prices (a calendar). Risk is valued at the front expiry with the
back leg priced by the pricing core at its own IV (:func:`strategies.valuation.front_expiry_profile`).
Score: :func:`strategies.scoring.diagonal_score`, cut-off ``diagonal_min_score``.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from strategies.analysers.common import (
    NO_PRICING_INPUTS, Context, anchor_row, atm_iv, expiry_for, greeks_of, nearest_shared_strike, side_rows,
    spot_problem, vix_problem)
from strategies.scoring import diagonal_score
from strategies.structures import Structure, legs_from_rows
from strategies.valuation import front_expiry_profile
from strategies.verdict import NetPrices, Setup, StrategyAnalysis, decide, refuse

NAME = "Diagonal Spread"


def market_bias(move_pct: float | None, threshold_pct: float) -> str:
    """BULLISH / BEARISH beyond +-threshold% from the open, else NEUTRAL (also when the move is unknown)."""
    if move_pct is None or abs(move_pct) <= threshold_pct:
        return "NEUTRAL"
    return "BULLISH" if move_pct > 0 else "BEARISH"


def expiries(ctx: Context, vix: float) -> tuple[tuple[date, date] | None, str]:
    s = ctx.params.s
    high = vix > s.diagonal_vix_high
    front_dte = s.diagonal_front_dte_high_vix if high else s.diagonal_front_dte
    back_dte = s.diagonal_back_dte_high_vix if high else s.diagonal_back_dte
    front, why_front = expiry_for(ctx, front_dte)
    back, why_back = expiry_for(ctx, back_dte)
    if front is None or back is None:
        return None, f"Cannot find suitable expirations: {why_front or why_back}"
    if front >= back:
        return None, f"Cannot find suitable expirations: front and back are both {front.isoformat()}"
    return (front, back), ""


def build(ctx: Context, front: date, back: date, is_call: bool) -> tuple[Structure | None, str]:
    """Sell 1 front, buy 1 back at the strike nearest spot listed in both expiries (both quotes liquid)."""
    assert ctx.spot is not None
    chain = ctx.snap.chain
    listed = np.ones(len(chain), dtype=np.bool_)
    strike = nearest_shared_strike(chain, side_rows(chain, front, is_call, listed),
                                   side_rows(chain, back, is_call, listed), ctx.spot)
    if strike is None:
        return None, f"No strike listed in both {front.isoformat()} and {back.isoformat()}"
    short, why = anchor_row(ctx, front, is_call, strike)
    long, why_back = anchor_row(ctx, back, is_call, strike)
    if short is None or long is None:
        return None, why or why_back
    kind = "Call" if is_call else "Put"
    name = f"{kind} Diagonal {strike:g} {front.isoformat()}/{back.isoformat()}"
    return Structure(name, legs_from_rows(chain, [short, long], [-1, 1])), ""


def analyze(ctx: Context) -> StrategyAnalysis:
    s = ctx.params.s
    vix, why = vix_problem(ctx, s.diagonal_vix_min, s.diagonal_vix_max)
    why = why or spot_problem(ctx) or (f"IV term structure needs {NO_PRICING_INPUTS}" if ctx.market is None else None)
    if why is not None:
        return refuse(NAME, why)
    assert ctx.spot is not None and ctx.market is not None
    pair, why = expiries(ctx, vix)
    if pair is None:
        return refuse(NAME, why)
    front, back = pair
    front_iv, why_front = atm_iv(ctx.snap.chain, front, ctx.spot, ctx.usable, ctx.market)
    back_iv, why_back = atm_iv(ctx.snap.chain, back, ctx.spot, ctx.usable, ctx.market)
    if not (np.isfinite(front_iv) and np.isfinite(back_iv)):
        return refuse(NAME, f"IV term structure unavailable: {why_front or why_back}")
    signals: tuple[str, ...] = (f"VIX {vix:.2f}", f"ATM IV front {front.isoformat()} {front_iv:.2%} vs back {back.isoformat()} "
               f"{back_iv:.2%}")
    if front_iv <= back_iv:
        return refuse(NAME, f"No IV backwardation: front {front_iv:.2%} <= back {back_iv:.2%}", signals)
    move = ctx.snap.underlying.move_from_open_pct()
    bias = market_bias(move.value, ctx.params.bias_move_pct)
    signals += (f"bias {bias} (move {move.describe(2, '%')})",)
    structure, why = build(ctx, front, back, bias != "BEARISH")
    if structure is None:
        return refuse(NAME, why, signals)
    prices = NetPrices.of(structure, ctx.params.limit_tick)
    try:
        risk = front_expiry_profile(structure, prices.limit, ctx.spot, ctx.market)
    except ValueError as problem:
        return refuse(NAME, f"Cannot value the diagonal: {problem}", signals)
    setup = Setup(NAME, structure, prices, risk, greeks_of(ctx, structure), signals)
    parts = diagonal_score((front_iv - back_iv) * 100.0, vix, bias != "NEUTRAL", risk.reward_to_risk())
    return decide(setup, parts, s.diagonal_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
