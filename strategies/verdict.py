"""An analyser's verdict and the ready order it carries when tradeable.

Units used throughout a verdict:
    prices, profit_target, stop_loss, RiskProfile values: per share of one unit;
    max_loss_dollars, OrderIntent.max_loss: account currency for one unit (units = 1);
    limit and net prices: LEAN combo sign, positive = debit, negative = credit.
``profit_target`` / ``stop_loss`` on the intent are P&L per share relative to the entry price
(target > 0, stop < 0): close when (sum of q x leg mark) - limit_price reaches either.
"""
from __future__ import annotations

import dataclasses
import math
from datetime import datetime

from core.orders import ExitRule, OrderIntent, floor_to_tick
from strategies.params import AnalyserParams
from strategies.structures import RiskProfile, Structure
from strategies.valuation import NetGreeks


@dataclasses.dataclass(frozen=True)
class NetPrices:
    """Net prices per share of one unit from the chain's quotes (positive = debit)."""

    natural: float
    mid: float
    far: float
    limit: float

    @staticmethod
    def of(structure: Structure, tick: float) -> NetPrices:
        """The limit is the mid rounded to ``tick`` in our favour, never through the natural price."""
        natural, mid = structure.natural(), structure.mid()
        return NetPrices(natural, mid, structure.far(), min(floor_to_tick(mid, tick), natural))

    @property
    def credit(self) -> float:
        """Credit the limit asks for, per share (negative when the order is a debit)."""
        return -self.limit

    def describe(self) -> str:
        kind = "credit" if self.limit < 0 else "debit"
        return (f"{kind} {abs(self.limit):.2f} limit (mid {self.mid:+.2f}, natural {self.natural:+.2f}, "
                f"far {self.far:+.2f}) per share")


@dataclasses.dataclass(frozen=True)
class StrategyAnalysis:
    """One analyser's verdict: tradeable with a 0-100 score and a ready order, or the reason it is not.

    Fields beyond the first four are filled as far as the analysis got: a setup refused for its score
    still shows its structure, prices and risk.
    """

    strategy: str
    can_trade: bool
    score: float
    reason: str
    structure: Structure | None = None
    prices: NetPrices | None = None
    risk: RiskProfile | None = None
    greeks: NetGreeks | None = None
    score_parts: tuple[tuple[str, float], ...] = ()
    signals: tuple[str, ...] = ()
    intent: OrderIntent | None = None
    max_loss_dollars: float | None = None
    units_within_risk: int = 0


def refuse(strategy: str, reason: str, signals: tuple[str, ...] = ()) -> StrategyAnalysis:
    return StrategyAnalysis(strategy, False, 0.0, reason, signals=signals)


def refuse_setup(setup: Setup, reason: str, parts: tuple[tuple[str, float], ...] = ()) -> StrategyAnalysis:
    """A priced setup that fails a rule: the verdict still shows what was priced."""
    return StrategyAnalysis(setup.strategy, False, 0.0, reason, setup.structure, setup.prices, setup.risk,
                            setup.greeks, parts, setup.signals)


@dataclasses.dataclass(frozen=True)
class Setup:
    """A priced structure an analyser wants to score and possibly trade."""

    strategy: str
    structure: Structure
    prices: NetPrices
    risk: RiskProfile
    greeks: NetGreeks
    signals: tuple[str, ...]


def exit_rule(params: AnalyserParams) -> ExitRule:
    """Section 9B's exits as a rule of the entry price (set again at the limit sent and at the fill).

    Target: ``butterfly_target_profit`` (spec: 50%) of the max profit, for every analyser (the spec
    gives only the butterfly's). Stop: a credit trade stops when the loss reaches
    ``credit_stop_multiple`` x the credit, a debit trade at ``debit_stop_fraction`` of the debit;
    never beyond the structure's max loss.
    """
    return ExitRule(target_of_max_profit=params.s.butterfly_target_profit,
                    credit_stop_multiple=params.credit_stop_multiple, debit_stop_fraction=params.debit_stop_fraction)


def exit_plan(setup: Setup, params: AnalyserParams) -> tuple[float | None, float | None]:
    """(profit target, stop) as P&L per share of one unit at the setup's limit."""
    return exit_rule(params).levels(setup.prices.limit, setup.risk.value_range())


def _intent(setup: Setup, created: datetime, params: AnalyserParams, parts: tuple[tuple[str, float], ...]
            ) -> OrderIntent:
    score_text = " + ".join(f"{name} {points:g}" for name, points in parts)
    return OrderIntent(
        strategy=setup.strategy, legs=tuple(leg.order_leg() for leg in setup.structure.legs), units=1,
        limit_price=setup.prices.limit, created=created, signals=(*setup.signals, f"score: {score_text}"),
        max_loss=setup.risk.max_loss_dollars(setup.structure.multiplier),
        value_range=setup.risk.value_range(), exit_rule=exit_rule(params)).priced_at(setup.prices.limit)


def units_within(max_loss: float | None, budget: float) -> int:
    """Units whose combined max loss fits ``budget`` dollars (1 for a structure that cannot lose)."""
    if max_loss is None or not math.isfinite(budget):
        return 0
    return int(budget // max_loss) if max_loss > 0 else 1


def decide(setup: Setup, parts: tuple[tuple[str, float], ...], min_score: float, created: datetime,
           portfolio_value: float, params: AnalyserParams) -> StrategyAnalysis:
    """Score the setup, check one unit fits the per-trade risk budget
    (``max_risk_per_trade`` x portfolio value), and build the order."""
    score = min(100.0, sum(points for _, points in parts))
    max_loss = setup.risk.max_loss_dollars(setup.structure.multiplier)
    budget = params.s.max_risk_per_trade * portfolio_value if portfolio_value > 0 else float("nan")
    verdict = StrategyAnalysis(setup.strategy, False, score, "", setup.structure, setup.prices, setup.risk,
                               setup.greeks, parts, setup.signals, None, max_loss, units_within(max_loss, budget))
    if score < min_score:
        return dataclasses.replace(verdict, reason=f"Score too low: {score:g}/100 (need {min_score:g})")
    if max_loss is None:
        return dataclasses.replace(verdict, reason="Max loss unbounded")
    if not math.isfinite(budget):
        return dataclasses.replace(verdict, reason=f"Portfolio value unavailable ({portfolio_value:g})")
    if verdict.units_within_risk < 1:
        return dataclasses.replace(verdict, reason=(
            f"Max loss ${max_loss:,.2f} per unit exceeds {params.s.max_risk_per_trade:.0%} of portfolio "
            f"(${budget:,.2f})"))
    intent = _intent(setup, created, params, parts)
    reason = f"ENTER {setup.structure.describe()} for {setup.prices.describe()}"
    return dataclasses.replace(verdict, can_trade=True, reason=reason, intent=intent)
