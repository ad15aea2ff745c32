"""Section9BStrategies: the spec's advanced spreads, gated by its rules.

Each analyser first applies the spec's gates (day, time, move, VIX range) with the thresholds from
:class:`core.settings.Section9BSettings`; every refusal carries its reason. A VIX-gated analyser
with no VIX data says "VIX unavailable" instead of assuming a level. Pricing a setup from the
chain (strikes that exist, natural/mid prices, exact risk) is the next step for each analyser and
is not built yet, so no analyser reports a tradeable setup today.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from core.market import MarketSnapshot
from core.settings import Section9BSettings


@dataclasses.dataclass(frozen=True)
class StrategyAnalysis:
    """One analyser's verdict: tradeable with a 0-100 score, or the reason it is not."""

    strategy: str
    can_trade: bool
    score: float
    reason: str


NOT_PRICED = "gates passed; pricing this setup from the chain is not built yet"


def _refuse(strategy: str, reason: str) -> StrategyAnalysis:
    return StrategyAnalysis(strategy, False, 0.0, reason)


class Section9BStrategies:
    """Runs every analyser on one snapshot and ranks the tradeable ones by score."""

    def __init__(self, settings: Section9BSettings) -> None:
        self.settings = settings

    def _vix_between(self, snap: MarketSnapshot, low: float | None, high: float | None) -> str | None:
        """None when VIX is within [low, high]; otherwise the reason it is not."""
        vix = snap.vix.price
        if vix.value is None:
            return f"VIX unavailable ({vix.reason})"
        if low is not None and vix.value < low:
            return f"VIX too low: {vix.value:.2f} < {low:g}"
        if high is not None and vix.value > high:
            return f"VIX too high: {vix.value:.2f} > {high:g}"
        return None

    def analyze_enhanced_butterfly(self, snap: MarketSnapshot) -> StrategyAnalysis:
        name, s = "Enhanced Butterfly", self.settings
        if not snap.is_friday():
            return _refuse(name, "Butterfly only on Friday")
        if snap.time.time() < s.butterfly_entry:
            return _refuse(name, f"Wait until {s.butterfly_entry:%H:%M}")
        move = snap.underlying.move_from_open_pct()
        if move.value is None:
            return _refuse(name, f"Move from open unavailable ({move.reason})")
        if abs(move.value) < s.butterfly_min_move_pct:
            return _refuse(name, f"Insufficient movement: {move.value:.2f}% (need {s.butterfly_min_move_pct:g}%)")
        if not snap.has_same_day_expiry():
            return _refuse(name, "No 0DTE options available")
        return _refuse(name, NOT_PRICED)

    def analyze_diagonal_spreads(self, snap: MarketSnapshot) -> StrategyAnalysis:
        s = self.settings
        reason = self._vix_between(snap, s.diagonal_vix_min, s.diagonal_vix_max)
        return _refuse("Diagonal Spread", reason or NOT_PRICED)

    def analyze_ratio_spreads(self, snap: MarketSnapshot) -> StrategyAnalysis:
        reason = self._vix_between(snap, self.settings.ratio_vix_min, None)
        return _refuse("Ratio Spread", reason or NOT_PRICED)

    def analyze_broken_wing_butterfly(self, snap: MarketSnapshot) -> StrategyAnalysis:
        s = self.settings
        reason = self._vix_between(snap, s.bwb_vix_min, s.bwb_vix_max)
        return _refuse("Broken Wing Butterfly", reason or NOT_PRICED)

    def analyze_batman_spread(self, snap: MarketSnapshot) -> StrategyAnalysis:
        name = "Batman Spread"
        if not snap.is_friday():
            return _refuse(name, "Batman spreads on Fridays only")
        reason = self._vix_between(snap, self.settings.batman_vix_min, None)
        return _refuse(name, reason or NOT_PRICED)

    def analyzers(self) -> list[Callable[[MarketSnapshot], StrategyAnalysis]]:
        return [self.analyze_enhanced_butterfly, self.analyze_diagonal_spreads, self.analyze_ratio_spreads,
                self.analyze_broken_wing_butterfly, self.analyze_batman_spread]

    def analyze_all_section9b(self, snap: MarketSnapshot) -> tuple[list[StrategyAnalysis], list[StrategyAnalysis]]:
        """(every analyser's verdict, tradeable opportunities best first)."""
        verdicts = [analyze(snap) for analyze in self.analyzers()]
        opportunities = sorted((v for v in verdicts if v.can_trade), key=lambda v: v.score, reverse=True)
        return verdicts, opportunities
