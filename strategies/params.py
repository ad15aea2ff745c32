"""The analysers' parameters: every threshold of :class:`core.settings.Section9BSettings`, plus the
chain-quality and order-plan values that section does not carry yet (read with documented defaults).

Why a separate object: the analysers need a few values the spec never named (liquidity filters, the
limit-price tick, stops). Each is read from ``Section9BSettings`` when the field exists there (so adding
the LEAN parameter is enough) and otherwise takes the default documented in :data:`EXTRA_DEFAULTS`.

Price scale: the spec states strike widths and per-share credits for SPY. They are really fractions
of SPY's price, so ``scale = underlying price / spy_reference_price`` converts them: a 10-point SPY
width is ``10 * scale`` points on any underlying (SPX at 3,800 with the reference 450: 84.4 points),
and a 0.50 SPY credit is ``0.50 * scale`` per share. The scaled width is then snapped to a listed
strike (see :mod:`strategies.analysers.common`).
"""
from __future__ import annotations

import dataclasses
from typing import Final

from core.settings import Section9BSettings

#: Fields this module reads from Section9BSettings when present, else these defaults.
EXTRA_DEFAULTS: Final[dict[str, float]] = {
    "spy_reference_price": 450.0,      # SPY price at which the spec's point widths and credits apply
    "max_spread_pct": 25.0,            # leg quote: ask - bid at most this % of mid ...
    "spread_allowance": 0.10,          # ... or at most this per share (cheap options quote in ticks)
    "min_open_interest": 10.0,         # leg open interest at least this (contracts); unknown fails if > 0
    "max_quote_age_minutes": 5.0,      # leg quote no older than this (minutes since its last real quote)
    "dte_tolerance_ratio": 2.0,        # an expiry is "near" a target DTE only within target/r .. target*r
    "limit_tick": 0.05,                # combo limit price rounded to this (per share), in our favour
    "credit_stop_multiple": 2.0,       # credit trades: stop when the loss reaches this x the credit
    "debit_stop_fraction": 0.5,        # debit trades: stop when the loss reaches this fraction of the debit
    "bias_move_pct": 0.5,              # diagonal: |move from open| above this % is a directional bias
    "bwc_min_score": 70.0,             # broken-wing condor score cut-off
}


@dataclasses.dataclass(frozen=True)
class Liquidity:
    """Which leg quotes are good enough to trade (all per share except open interest, in contracts)."""

    max_spread_pct: float
    spread_allowance: float
    min_open_interest: float
    max_quote_age_minutes: float


@dataclasses.dataclass(frozen=True)
class AnalyserParams:
    """The settings section plus the extra values; ``s`` is the spec's section itself."""

    s: Section9BSettings
    spy_reference_price: float
    liquidity: Liquidity
    dte_tolerance_ratio: float
    limit_tick: float
    credit_stop_multiple: float
    debit_stop_fraction: float
    bias_move_pct: float
    bwc_min_score: float

    @staticmethod
    def from_settings(settings: Section9BSettings) -> AnalyserParams:
        def get(name: str) -> float:
            return float(getattr(settings, name, EXTRA_DEFAULTS[name]))

        return AnalyserParams(
            s=settings, spy_reference_price=get("spy_reference_price"),
            liquidity=Liquidity(get("max_spread_pct"), get("spread_allowance"), get("min_open_interest"),
                                get("max_quote_age_minutes")),
            dte_tolerance_ratio=get("dte_tolerance_ratio"), limit_tick=get("limit_tick"),
            credit_stop_multiple=get("credit_stop_multiple"), debit_stop_fraction=get("debit_stop_fraction"),
            bias_move_pct=get("bias_move_pct"), bwc_min_score=get("bwc_min_score"))

    def scale(self, spot: float) -> float:
        """Multiplier from the spec's SPY points (widths, credits) to this underlying's points."""
        return spot / self.spy_reference_price


def dte_window(target_days: int, ratio: float) -> tuple[float, float]:
    """Days to expiry accepted as "near" ``target_days``: [target/ratio, target*ratio] (a 0DTE never
    stands in for a 28-day target just because it is the only expiry listed)."""
    return target_days / ratio, target_days * ratio
