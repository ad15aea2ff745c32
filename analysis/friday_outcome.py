"""Did the Friday's 0DTE trade work? The measurement that tests Progressive Friday's claimed edge.

At the decision time the day's analysis is recorded together with a reference 0DTE iron condor
priced from the real chain: short put and call at the listed strikes whose delta (pricing core, from
the live mid) is nearest the target, long wings at the listed strikes nearest ``wing_pct`` further
out; credit at mid. At the close the condor settles at intrinsic: it *won* when its P&L (credit minus
settlement value, in dollars per 1-lot) is positive; whether the close stayed strictly between the
short strikes is recorded too. The reference is held to the close with no stop, so it measures the
pattern, not the trade the desk took (that one is in the trades and the 0DTE statistics).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

from analysis.progressive_friday import FridayAnalysis
from core.market import ChainColumns
from pricing.chain import PricingInputs, greeks_for, usable_mid


@dataclasses.dataclass(frozen=True)
class ReferenceCondor:
    """Strikes (points) and the mid credit (per share) of the reference iron condor."""

    long_put: float
    short_put: float
    short_call: float
    long_call: float
    credit: float
    multiplier: float

    def settlement_value(self, close: float) -> float:
        """What the condor costs to close at expiry (per share): intrinsic of its spreads."""
        put_side = min(max(self.short_put - close, 0.0), self.short_put - self.long_put)
        call_side = min(max(close - self.short_call, 0.0), self.long_call - self.short_call)
        return put_side + call_side


def reference_condor(chain: ChainColumns, market: PricingInputs, short_delta: float, wing_pct: float
                     ) -> ReferenceCondor | str:
    """The reference condor from today's expiry, or the reason it cannot be built."""
    assert market.spot is not None
    today = np.datetime64(market.now.date(), "D")
    rows = np.flatnonzero(chain.expiry == today)
    mid = usable_mid(chain.bid, chain.ask, chain.quote_age_minutes, market.max_quote_age_minutes)
    rows = rows[np.isfinite(mid[rows])]
    if rows.size < 4:
        return "fewer than four quoted same-day contracts"
    greeks = greeks_for([chain.contracts[i] for i in rows], chain, market)
    picks = {}
    for is_call, sign in ((False, -1.0), (True, 1.0)):
        side = [i for i in rows if chain.is_call[i] == is_call and chain.contracts[i] in greeks]
        if not side:
            return f"no quoted same-day {'calls' if is_call else 'puts'} with Greeks"
        short = min(side, key=lambda i: abs(greeks[chain.contracts[i]].delta - sign * short_delta))
        target = chain.strike[short] + sign * market.spot * wing_pct / 100.0
        further = [i for i in side if sign * (chain.strike[i] - chain.strike[short]) > 0]
        if not further:
            return f"no listed {'call' if is_call else 'put'} strike beyond the short {chain.strike[short]:g}"
        picks[is_call] = (short, min(further, key=lambda i: abs(chain.strike[i] - target)))
    (sp, lp), (sc, lc) = picks[False], picks[True]
    credit = float(mid[sp] + mid[sc] - mid[lp] - mid[lc])
    return ReferenceCondor(float(chain.strike[lp]), float(chain.strike[sp]), float(chain.strike[sc]),
                           float(chain.strike[lc]), credit, float(chain.multiplier[sp]))


@dataclasses.dataclass
class FridayRecord:
    """One analysed Friday: the decision-time analysis, the reference condor and the outcome."""

    day: date
    decided_at: datetime
    score: float
    is_progressive: bool
    confidence: str
    signals: dict[str, Any]
    condor: ReferenceCondor | None
    condor_unavailable: str = ""
    close: float | None = None

    @staticmethod
    def from_analysis(analysis: FridayAnalysis, condor: ReferenceCondor | str) -> FridayRecord:
        signals = {s.name: {"value": s.reading.value, "points": s.points, "reason": s.reading.reason,
                            "label": s.label} for s in analysis.signals}
        built = condor if isinstance(condor, ReferenceCondor) else None
        return FridayRecord(analysis.time.date(), analysis.time, analysis.score, analysis.is_progressive,
                            analysis.confidence, signals, built, condor if isinstance(condor, str) else "")

    @property
    def won(self) -> bool | None:
        """The reference condor made money (None when it could not be built or settled)."""
        pnl = self.pnl_dollars
        return None if pnl is None else pnl > 0

    @property
    def closed_within_shorts(self) -> bool | None:
        if self.condor is None or self.close is None:
            return None
        return self.condor.short_put < self.close < self.condor.short_call

    @property
    def pnl_dollars(self) -> float | None:
        """Per 1-lot: (credit - settlement value) x multiplier."""
        if self.condor is None or self.close is None:
            return None
        return (self.condor.credit - self.condor.settlement_value(self.close)) * self.condor.multiplier

    def to_record(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(day=self.day.isoformat(), decided_at=self.decided_at.isoformat(), won=self.won,
                    closed_within_shorts=self.closed_within_shorts, pnl_dollars=self.pnl_dollars)
        return data


def summarize(records: Sequence[FridayRecord]) -> dict[str, str]:
    """Progressive vs other Fridays with an outcome: count, win rate, mean P&L per 1-lot."""
    out = {}
    for label, flag in (("Progressive Fridays", True), ("Other Fridays", False)):
        done = [r for r in records if r.is_progressive == flag and r.won is not None]
        if not done:
            out[label] = "0 with an outcome"
            continue
        wins = sum(1 for r in done if r.won)
        pnl = [r.pnl_dollars for r in done if r.pnl_dollars is not None]
        out[label] = (f"{len(done)}: win rate {wins / len(done):.0%}, mean P&L "
                      f"${sum(pnl) / len(pnl):,.2f} per 1-lot reference condor held to the close")
    return out
