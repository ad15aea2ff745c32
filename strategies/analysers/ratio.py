"""1x2 Put Ratio (spec ``analyze_ratio_spreads``): buy 1 at-the-money put, sell 2 further down.

Rule: VIX >= ``ratio_vix_min``; the listed expiry nearest ``ratio_dte``; long put at the listed strike
nearest spot (its quote must be liquid), short puts at the liquid strike nearest ``ratio_width`` SPY points (scaled) below it.
Risk: the second short put is naked. Its loss grows as the underlying falls and is largest at a
settlement of 0, where the payoff is finite (2 x short strike - long strike); that worst case is the
max loss reported (never a made-up stop-based number), so the risk budget usually refuses it unless
the account is large. Score: :func:`strategies.scoring.ratio_score`, cut-off ``ratio_min_score``.
"""
from __future__ import annotations

from datetime import date

from strategies.analysers.common import Context, anchor_row, gated_structure, pick_row, same_expiry_setup
from strategies.scoring import ratio_score
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import StrategyAnalysis, decide

NAME = "Ratio Spread"


def build(ctx: Context, expiry: date) -> tuple[Structure | None, str]:
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


def analyze(ctx: Context) -> StrategyAnalysis:
    s = ctx.params.s
    gated = gated_structure(ctx, NAME, s.ratio_vix_min, None, s.ratio_dte, build)
    if isinstance(gated, StrategyAnalysis):
        return gated
    vix, structure = gated
    assert ctx.spot is not None
    signals = (f"VIX {vix:.2f}", f"spot {ctx.spot:.2f}", "undefined risk: naked short put, worst case at 0")
    setup = same_expiry_setup(ctx, NAME, structure, signals)
    cushion = cushion_pct(ctx.spot, setup.risk.breakevens)
    parts = ratio_score(vix, setup.prices.credit, cushion, ctx.scale())
    return decide(setup, parts, s.ratio_min_score, ctx.snap.time, ctx.snap.portfolio_value, ctx.params)
