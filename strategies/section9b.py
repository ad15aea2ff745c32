"""Section9BStrategies: the spec's advanced spreads, chosen from the real chain, priced and risk-checked.

Each analyser applies the spec's gates (day, time, move, VIX range) with the thresholds of
:class:`core.settings.Section9BSettings`, picks listed, liquid contracts nearest the spec's targets,
prices the structure from the quotes (natural and mid), computes its exact risk and scores it 0-100.
Every refusal carries its reason; a VIX-gated analyser with no VIX says "VIX unavailable".
A tradeable verdict carries a ready :class:`core.orders.OrderIntent` (units = 1; the caller sizes it,
e.g. with ``verdict.units_within_risk``, the units whose max loss fits ``max_risk_per_trade``).

The rules and scores of each analyser are documented on its ``analyze_*`` function in :mod:`strategies.analysers`.
"""
from __future__ import annotations

from collections.abc import Callable

from core.market import MarketSnapshot
from core.settings import Section9BSettings
from pricing.chain import PricingInputs
from strategies.analysers.broken_wings import analyze_broken_wing_butterfly, analyze_broken_wing_condor
from strategies.analysers.butterflies import analyze_batman, analyze_butterfly
from strategies.analysers.common import Context
from strategies.analysers.spreads import analyze_diagonal, analyze_ratio
from strategies.params import AnalyserParams
from strategies.verdict import NetPrices, StrategyAnalysis

Analyser = Callable[[Context], StrategyAnalysis]

#: Analysers in report order (ties in score keep this order).
ANALYSERS: tuple[Analyser, ...] = (
    analyze_butterfly, analyze_diagonal, analyze_ratio, analyze_broken_wing_butterfly, analyze_batman,
    analyze_broken_wing_condor)


class Section9BStrategies:
    """Runs every analyser on one snapshot and ranks the tradeable ones by score.

    ``market`` (optional everywhere) gives the rate, dividend yield and exercise style for implied
    volatilities; without it the diagonal and the broken-wing condor refuse (they need IVs) and net
    Greeks read unavailable. Its ``spot`` is not used: the snapshot's underlying price is.
    """

    def __init__(self, settings: Section9BSettings) -> None:
        self.settings = settings
        self.params = AnalyserParams.from_settings(settings)

    def _run(self, analyser: Analyser, snap: MarketSnapshot, market: PricingInputs | None) -> StrategyAnalysis:
        return analyser(Context.build(snap, self.params, market))

    def analyze_enhanced_butterfly(self, snap: MarketSnapshot, market: PricingInputs | None = None
                                   ) -> StrategyAnalysis:
        return self._run(analyze_butterfly, snap, market)

    def analyze_diagonal_spreads(self, snap: MarketSnapshot, market: PricingInputs | None = None
                                 ) -> StrategyAnalysis:
        return self._run(analyze_diagonal, snap, market)

    def analyze_ratio_spreads(self, snap: MarketSnapshot, market: PricingInputs | None = None) -> StrategyAnalysis:
        return self._run(analyze_ratio, snap, market)

    def analyze_broken_wing_butterfly(self, snap: MarketSnapshot, market: PricingInputs | None = None
                                      ) -> StrategyAnalysis:
        return self._run(analyze_broken_wing_butterfly, snap, market)

    def analyze_batman_spread(self, snap: MarketSnapshot, market: PricingInputs | None = None) -> StrategyAnalysis:
        return self._run(analyze_batman, snap, market)

    def analyze_broken_wing_condor(self, snap: MarketSnapshot, market: PricingInputs | None = None
                                   ) -> StrategyAnalysis:
        return self._run(analyze_broken_wing_condor, snap, market)

    def analyze_all_section9b(self, snap: MarketSnapshot, market: PricingInputs | None = None
                              ) -> tuple[list[StrategyAnalysis], list[StrategyAnalysis]]:
        """(every analyser's verdict, tradeable opportunities best first)."""
        ctx = Context.build(snap, self.params, market)  # the liquidity mask once per bar
        verdicts = [analyse(ctx) for analyse in ANALYSERS]
        opportunities = sorted((v for v in verdicts if v.can_trade), key=lambda v: v.score, reverse=True)
        return verdicts, opportunities


__all__ = ["ANALYSERS", "NetPrices", "Section9BStrategies", "StrategyAnalysis"]
