"""The two-strike spreads: the Diagonal Spread (sell the front expiry, buy the back, at one strike) and
the 1x2 Put Ratio (buy 1 at-the-money put, sell 2 further down).

Both anchor one leg at the listed strike nearest spot, its quote required liquid, and take the other
from the listed expiry or strike the spec's targets point to. Each analyser is one ``analyze_*(ctx)``
function whose docstring states its rule and score, with its score formula just above it:
:func:`analyze_diagonal` (:func:`diagonal_score`), :func:`analyze_ratio` (:func:`ratio_score`).
"""
from __future__ import annotations

from datetime import date

import numpy as np

from strategies.analysers.common import (
    NO_PRICING_INPUTS, Context, Parts, anchor_row, atm_iv, expiry_for, gated_structure, greeks_of,
    nearest_shared_strike, pick_row, same_expiry_setup, side_rows, spot_problem, tier, vix_problem)
from strategies.structures import Structure, legs_from_rows
from strategies.valuation import front_expiry_profile
from strategies.verdict import NetPrices, Setup, StrategyAnalysis, decide, refuse

DIAGONAL_NAME = "Diagonal Spread"
RATIO_NAME = "Ratio Spread"


# --- Diagonal Spread ---------------------------------------------------------------------------------

def market_bias(move_pct: float | None, threshold_pct: float) -> str:
    """BULLISH / BEARISH beyond +-threshold% from the open, else NEUTRAL (also when the move is unknown)."""
    if move_pct is None or abs(move_pct) <= threshold_pct:
        return "NEUTRAL"
    return "BULLISH" if move_pct > 0 else "BEARISH"


def diagonal_expiries(ctx: Context, vix: float) -> tuple[tuple[date, date] | None, str]:
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


def diagonal_target(spot: float, is_call: bool, scale: float) -> float:
    """The spec's strike: ``round(price)`` for a call diagonal, ``round(price) - 1`` for a put, in SPY
    points; on another underlying the one point below is ``scale`` of its points (SPX at 3,800: 8.4)."""
    return spot if is_call else spot - scale


def build_diagonal(ctx: Context, front: date, back: date, is_call: bool) -> tuple[Structure | None, str]:
    """Sell 1 front, buy 1 back at the strike listed in both expiries nearest the spec's target
    (:func:`diagonal_target`), both quotes liquid."""
    assert ctx.spot is not None
    chain = ctx.snap.chain
    listed = np.ones(len(chain), dtype=np.bool_)
    target = diagonal_target(ctx.spot, is_call, ctx.params.scale(ctx.spot))
    strike = nearest_shared_strike(chain, side_rows(chain, front, is_call, listed),
                                   side_rows(chain, back, is_call, listed), target)
    if strike is None:
        return None, f"No strike listed in both {front.isoformat()} and {back.isoformat()}"
    short, why = anchor_row(ctx, front, is_call, strike)
    long, why_back = anchor_row(ctx, back, is_call, strike)
    if short is None or long is None:
        return None, why or why_back
    kind = "Call" if is_call else "Put"
    name = f"{kind} Diagonal {strike:g} {front.isoformat()}/{back.isoformat()}"
    return Structure(name, legs_from_rows(chain, [short, long], [-1, 1])), ""


def diagonal_score(iv_edge_points: float, vix: float, directional: bool, reward_to_risk: float) -> Parts:
    """Front-minus-back ATM IV >= 3 pts 30 (>= 1 20, > 0 10); VIX 15-28 25 (else 10, the spec's
    "best between 15-28"); a directional bias 20 (neutral 10); front-expiry max profit / max loss
    >= 1 25 (>= 0.5 15)."""
    edge = 30.0 if iv_edge_points >= 3.0 else 20.0 if iv_edge_points >= 1.0 else 10.0 if iv_edge_points > 0 else 0.0
    return (
        ("iv edge", edge),
        ("vix", 25.0 if 15.0 <= vix <= 28.0 else 10.0),
        ("bias", 20.0 if directional else 10.0),
        ("reward/risk", tier(reward_to_risk, [(1.0, 25.0), (0.5, 15.0)])),
    )


def analyze_diagonal(ctx: Context) -> StrategyAnalysis:
    """Diagonal Spread (spec ``analyze_diagonal_spreads``): sell the front expiry, buy the back, when the
    chain's own IV term structure is in backwardation.

    Rule: VIX within [``diagonal_vix_min``, ``diagonal_vix_max``]; DTE targets ``diagonal_front_dte`` /
    ``diagonal_back_dte`` (the ``*_high_vix`` pair above ``diagonal_vix_high``), each the nearest listed
    expiry; ATM implied volatility (call/put mean at the liquid strike nearest spot, from quoted mids via
    the pricing core) of the front must exceed the back's. Bias from the move since the open (spec
    ``detect_market_bias``: beyond +-``bias_move_pct``%): bearish -> puts, otherwise calls. Strike: as the
    spec, one strike for both legs, listed in both expiries with both quotes liquid: nearest spot for
    calls (``round(price)``), one SPY point below spot, scaled to the underlying, for puts
    (``round(price) - 1``): the spec's near-the-money calendar. Risk is valued at the front expiry with the
    back leg priced by the pricing core at its own IV (:func:`strategies.valuation.front_expiry_profile`).
    Score: :func:`diagonal_score`, cut-off ``diagonal_min_score``.
    """
    s = ctx.params.s
    vix, why = vix_problem(ctx, s.diagonal_vix_min, s.diagonal_vix_max)
    why = why or spot_problem(ctx) or (f"IV term structure needs {NO_PRICING_INPUTS}" if ctx.market is None else None)
    if why is not None:
        return refuse(DIAGONAL_NAME, why)
    assert ctx.spot is not None and ctx.market is not None
    pair, why = diagonal_expiries(ctx, vix)
    if pair is None:
        return refuse(DIAGONAL_NAME, why)
    front, back = pair
    front_iv, why_front = atm_iv(ctx.snap.chain, front, ctx.spot, ctx.usable, ctx.market)
    back_iv, why_back = atm_iv(ctx.snap.chain, back, ctx.spot, ctx.usable, ctx.market)
    if not (np.isfinite(front_iv) and np.isfinite(back_iv)):
        return refuse(DIAGONAL_NAME, f"IV term structure unavailable: {why_front or why_back}")
    signals: tuple[str, ...] = (f"VIX {vix:.2f}", f"ATM IV front {front.isoformat()} {front_iv:.2%} vs back {back.isoformat()} "
               f"{back_iv:.2%}")
    if front_iv <= back_iv:
        return refuse(DIAGONAL_NAME, f"No IV backwardation: front {front_iv:.2%} <= back {back_iv:.2%}", signals)
    move = ctx.snap.underlying.move_from_open_pct()
    bias = market_bias(move.value, ctx.params.bias_move_pct)
    signals += (f"bias {bias} (move {move.describe(2, '%')})",)
    structure, why = build_diagonal(ctx, front, back, bias != "BEARISH")
    if structure is None:
        return refuse(DIAGONAL_NAME, why, signals)
    prices = NetPrices.of(structure, ctx.params.limit_tick)
    try:
        risk = front_expiry_profile(structure, prices.limit, ctx.spot, ctx.market)
    except ValueError as problem:
        return refuse(DIAGONAL_NAME, f"Cannot value the diagonal: {problem}", signals)
    setup = Setup(DIAGONAL_NAME, structure, prices, risk, greeks_of(ctx, structure), signals)
    parts = diagonal_score((front_iv - back_iv) * 100.0, vix, bias != "NEUTRAL", risk.reward_to_risk())
    return decide(setup, parts, s.diagonal_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)


# --- 1x2 Put Ratio -----------------------------------------------------------------------------------

def build_ratio(ctx: Context, expiry: date) -> tuple[Structure | None, str]:
    assert ctx.spot is not None
    long, why = anchor_row(ctx, expiry, False, ctx.spot)
    if long is None:
        return None, why
    k_long = float(ctx.snap.chain.strike[long])
    short, why = pick_row(ctx, expiry, False, k_long - ctx.params.s.ratio_width * ctx.scale(), below=k_long)
    if short is None:
        return None, why
    k_short = float(ctx.snap.chain.strike[short])
    name = f"1x2 Put Ratio {k_long:g}/{k_short:g} {expiry.isoformat()}"
    return Structure(name, legs_from_rows(ctx.snap.chain, [long, short], [1, -2])), ""


def cushion_pct(spot: float, breakevens: tuple[float, ...]) -> float:
    """How far below spot the lowest breakeven is, % of spot (0 when none is below spot)."""
    below = [b for b in breakevens if b < spot]
    return (spot - min(below)) / spot * 100.0 if below else 0.0


def ratio_score(vix: float, credit: float, cushion_pct: float, scale: float) -> Parts:
    """VIX >= 25 35 (>= 20 25); credit >= 0.50 35 (no debit 20); lowest breakeven >= 5% below spot
    30 (>= 3% 15)."""
    return (
        ("vix", tier(vix, [(25.0, 35.0), (20.0, 25.0)])),
        ("credit", tier(credit, [(0.5 * scale, 35.0), (0.0, 20.0)])),
        ("cushion", tier(cushion_pct, [(5.0, 30.0), (3.0, 15.0)])),
    )


def analyze_ratio(ctx: Context) -> StrategyAnalysis:
    """1x2 Put Ratio (spec ``analyze_ratio_spreads``): buy 1 at-the-money put, sell 2 further down.

    Rule: VIX >= ``ratio_vix_min``; the listed expiry nearest ``ratio_dte``; long put at the listed strike
    nearest spot (its quote must be liquid), short puts at the liquid strike nearest ``ratio_width`` SPY
    points (scaled) below it.
    Risk: the second short put is naked. Its loss grows as the underlying falls and is largest at a
    settlement of 0, where the payoff is finite (2 x short strike - long strike); that worst case is the
    max loss reported (never a made-up stop-based number), so the risk budget usually refuses it unless
    the account is large. Score: :func:`ratio_score`, cut-off ``ratio_min_score``.
    """
    s = ctx.params.s
    gated = gated_structure(ctx, RATIO_NAME, s.ratio_vix_min, None, s.ratio_dte, build_ratio)
    if isinstance(gated, StrategyAnalysis):
        return gated
    vix, structure = gated
    assert ctx.spot is not None
    signals = (f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}", "undefined risk: naked short put, worst case at 0")
    setup = same_expiry_setup(ctx, RATIO_NAME, structure, signals)
    cushion = cushion_pct(ctx.spot, setup.risk.breakevens)
    parts = ratio_score(vix, setup.prices.credit, cushion, ctx.scale())
    return decide(setup, parts, s.ratio_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
