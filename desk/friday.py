"""The desk's Friday: measure Progressive Friday's signals, score the day, record it, settle it.

Measured from what LEAN gives (see :mod:`analysis.progressive_friday`): the gap from the previous
session's close, the opening-window volume against the last sessions' (LEAN minute history), VIX9D/VIX,
the day's put/call volume from real option trade bars, sector-SPDR breadth, E-mini momentum since the
previous cash close. At ``friday-decision-time`` the reading is recorded with a reference 0DTE condor;
at the next session start it is settled at that Friday's close and stored in the object store.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from analysis import progressive_friday as signals
from analysis.friday_outcome import FridayRecord, ReferenceCondor, reference_condor, summarize
from analysis.progressive_friday import FridayAnalysis, FridayInputs, ProgressiveFridayAnalysis
from core.market import MarketSnapshot, Series
from core.settings import FridaySettings, ZeroDteParameters
from desk.interface import MarketHistory, Outbox, SaveRecord, friday_history_key
from pricing.chain import PricingInputs


class FridayDesk:
    """Per-day Friday state: opening volume, option volume, the reading, the pending record."""

    def __init__(self, settings: FridaySettings, series: Series, history: MarketHistory, outbox: Outbox,
                 live: bool) -> None:
        self.settings = settings
        self.analysis = ProgressiveFridayAnalysis(settings)
        self.series, self.history, self.outbox, self.live = series, history, outbox, live
        self.reading: FridayAnalysis | None = None
        self._baseline: list[float] = []
        self._opening_volume = 0.0
        self._option_volume = {"call": 0.0, "put": 0.0}  # contracts traded today, from real trade bars
        self._pending: FridayRecord | None = None
        self._records: list[FridayRecord] = []
        self._saved: list[Any] = []

    @property
    def window_end(self) -> time:
        minutes = 9 * 60 + 30 + self.settings.opening_minutes
        return time(minutes // 60, minutes % 60)

    def restore(self, text: str | None) -> None:
        """Live: the Fridays recorded by earlier deployments (kept, never overwritten)."""
        if text is None:
            return
        key = friday_history_key(self.live)
        try:
            saved = json.loads(text)
        except ValueError as exc:
            self.outbox.error(f"[Progressive Friday] stored history unreadable ({exc}); starting a new one beside it")
            self.outbox.add(SaveRecord(key + ".unreadable", text))
            return
        self._saved = saved if isinstance(saved, list) else []

    def start_day(self, day: date) -> None:
        self.finish()
        self.reading = None
        self._opening_volume = 0.0
        self._option_volume = {"call": 0.0, "put": 0.0}
        self._baseline = (self.history.opening_volumes(self.settings.volume_sessions, self.window_end)
                          if day.weekday() == 4 else [])

    def count_volume(self, now: datetime, underlying_volume: float, call_volume: float, put_volume: float) -> None:
        """This minute's underlying volume (inside the opening window) and option volume by right."""
        if now.time() <= self.window_end:
            self._opening_volume += underlying_volume
        self._option_volume["call"] += call_volume
        self._option_volume["put"] += put_volume

    def run(self, market: MarketSnapshot, pricing: PricingInputs | None) -> FridayAnalysis | None:
        """At the decision time, take the day's one reading: score it, log the block with the
        parameters it unlocks, record it with a reference 0DTE condor. Held for the rest of the day
        (signals keep moving; the label must not flip under an open trade)."""
        f, now = self.settings, market.time
        if self.reading is not None or now.time() < f.decision_time:
            return self.reading
        future = self.series.state("future", now)
        breadth = {t: self.series.change_pct(f"breadth:{t}", now) for t in self.series.breadth_tickers}
        inputs = FridayInputs(
            gap_pct=signals.gap_pct(market.underlying.previous_close, market.underlying.day_open),
            volume_ratio=signals.opening_volume_ratio(now, self.window_end, self._opening_volume,
                                                      self._baseline, f.volume_sessions),
            vix9d=market.vix9d.price, vix=market.vix.price,
            put_call_ratio=signals.put_call_ratio(self._option_volume["put"], self._option_volume["call"]),
            breadth=signals.advance_decline(breadth, "sector SPDR proxy"),
            premarket_move_pct=signals.premarket_move_pct(future.day_open, future.previous_close))
        analysis = self.reading = self.analysis.analyze_friday_pattern(now, inputs)
        late = f" (taken at {now:%H:%M}, after the decision time {f.decision_time:%H:%M})" if (
            now.time() > f.decision_time) else ""
        self.outbox.log(analysis.render(self.parameters()) + late)
        self.outbox.statistic(f"Progressive Friday {market.today}", (
            f"{analysis.score:g}/10 {analysis.confidence} ({len(analysis.available_signals())}/6 signals"
            f"{'' if analysis.has_evidence else f', {f.min_signals} needed'})"))
        condor: ReferenceCondor | str = "pricing unavailable (underlying price, rate or dividend yield)"
        if market.underlying.price.value and pricing is not None:
            condor = reference_condor(market.chain, pricing, f.outcome_short_delta, f.outcome_wing_pct)
        self._pending = FridayRecord.from_analysis(analysis, condor)
        self.outbox.log(f"[Progressive Friday] recorded at {now:%H:%M}: score {analysis.score:g}; reference "
                        f"condor {condor if isinstance(condor, str) else _describe(condor)}")
        return analysis

    @property
    def is_progressive(self) -> bool:
        """The day's held reading says progressive (False before the decision time)."""
        return bool(self.reading is not None and self.reading.is_progressive)

    def parameters(self) -> ZeroDteParameters:
        """The 0DTE parameters in force now: enhanced only on a progressive reading."""
        return self.analysis.get_enhanced_0dte_parameters(self.is_progressive)

    def finish(self) -> None:
        """Settle the recorded Friday against that day's close, store it, update the statistics."""
        record, self._pending = self._pending, None
        if record is None:
            return
        record.close = self.series["underlying"].last_close_on(record.day)
        self._records.append(record)
        self.outbox.add(SaveRecord(friday_history_key(self.live), json.dumps(
            self._saved + [r.to_record() for r in self._records], sort_keys=True)))
        for label, text in summarize(self._records).items():
            self.outbox.statistic(label, text)
        if record.close is None or record.condor is None or record.pnl_dollars is None:
            why = "no underlying close that day" if record.close is None else "no reference condor was priced"
            self.outbox.log(f"[Progressive Friday] {record.day}: no outcome ({why}); the reading is kept, "
                            "the statistics count only Fridays with an outcome")
            return
        self.outbox.log(f"[Progressive Friday] {record.day}: close {record.close:.2f}, "
                        f"{'won' if record.won else 'lost'}, close {'inside' if record.closed_within_shorts else 'outside'} "
                        f"the short strikes, P&L ${record.pnl_dollars:,.2f} per 1-lot reference condor held to the close")


def _describe(condor: ReferenceCondor) -> str:
    return (f"{condor.long_put:g}/{condor.short_put:g}P - {condor.short_call:g}/{condor.long_call:g}C "
            f"credit {condor.credit:.2f}")
