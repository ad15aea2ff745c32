"""ProgressiveFridayAnalysis: Tom King's Friday 0DTE pattern score and the parameters it unlocks.

Six signals, measured from plain values (the desk supplies LEAN's data) and each scored with the
spec's thresholds (see :class:`core.settings.FridaySettings`). Every measurement returns a
:class:`core.market.Reading`: the value, or why it cannot be measured. A signal whose data is missing
is ``available=False`` with the reason and contributes 0: the score never rests on an invented number.
Units: percentages are percent (0.5 = 0.5%), ratios are plain ratios.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, time

from core.market import Reading
from core.settings import FridaySettings, ZeroDteParameters


# --- measuring the signals ---------------------------------------------------------------------

MIN_VOLUME_SESSIONS = 5


def gap_pct(previous_close: Reading, today_open: Reading) -> Reading:
    """Today's first regular-session open vs the previous session's close."""
    if previous_close.value is None:
        return Reading.missing(previous_close.reason)
    if today_open.value is None:
        return Reading.missing(f"today's open: {today_open.reason}")
    return Reading((today_open.value - previous_close.value) / previous_close.value * 100.0)


def opening_volume_ratio(now: datetime, window_end: time, today_volume: float,
                         baseline: Sequence[float], sessions_wanted: int) -> Reading:
    """First-window volume today over the mean first-window volume of the previous sessions.

    Only after the window has closed (the spec: after 10:00 New York); at least
    ``min(5, sessions_wanted)`` earlier sessions with volume are needed for a baseline."""
    if now.time() < window_end:
        return Reading.missing(f"opening window ends at {window_end:%H:%M}")
    usable = [v for v in baseline if v > 0]
    need = min(MIN_VOLUME_SESSIONS, sessions_wanted)
    if len(usable) < need:
        plural = "" if len(usable) == 1 else "s"
        return Reading.missing(f"{len(usable)} earlier session{plural} with opening volume (need {need})")
    average = sum(usable) / len(usable)
    if today_volume <= 0:
        return Reading.missing("no volume in today's opening window (the series has no volume)")
    return Reading(today_volume / average)


def put_call_ratio(puts: float, calls: float) -> Reading:
    """Today's put volume over call volume across the subscribed chain (contracts traded)."""
    if calls <= 0:
        return Reading.missing("no call volume traded today yet")
    return Reading(puts / calls)


def advance_decline(changes: Mapping[str, Reading], source: str) -> Reading:
    """Advancers over decliners among ``changes`` (each the % change vs its previous close).

    Needs every member measured; with no decliner the ratio is +inf (breadth as strong as it gets)."""
    missing = sorted(name for name, change in changes.items() if change.value is None)
    if not changes:
        return Reading.missing(f"{source}: no members configured")
    if missing:
        return Reading.missing(f"{source}: no data for {', '.join(missing)}")
    up = sum(1 for c in changes.values() if c.value is not None and c.value > 0)
    down = sum(1 for c in changes.values() if c.value is not None and c.value < 0)
    if up == 0 and down == 0:
        return Reading.missing(f"{source}: all unchanged")
    return Reading(up / down if down else math.inf, source)


def premarket_move_pct(future_at_open: Reading, future_prior_close: Reading) -> Reading:
    """E-mini front contract at the cash open vs its close at the previous cash session's end."""
    if future_prior_close.value is None:
        return Reading.missing(f"E-mini prior close: {future_prior_close.reason}")
    if future_at_open.value is None:
        return Reading.missing(f"E-mini at the open: {future_at_open.reason}")
    return Reading((future_at_open.value - future_prior_close.value) / future_prior_close.value * 100.0)


# --- scoring them ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Signal:
    """One scored signal: its measured value (or why not), its points, and a label."""

    name: str
    reading: Reading
    points: int
    label: str = ""

    @property
    def available(self) -> bool:
        return self.reading.available


@dataclasses.dataclass(frozen=True)
class FridayInputs:
    """Measured values for one Friday bar; ``main.py`` fills what LEAN's data allows."""

    gap_pct: Reading
    volume_ratio: Reading
    vix9d: Reading
    vix: Reading
    put_call_ratio: Reading
    breadth: Reading
    premarket_move_pct: Reading


@dataclasses.dataclass(frozen=True)
class FridayAnalysis:
    """One scored Friday. ``is_progressive`` needs the score *and* the evidence: at least
    ``min_signals`` of the six signals measured (a score resting on one signal proves nothing)."""

    time: datetime
    score: float
    is_progressive: bool
    confidence: str
    signals: tuple[Signal, ...]
    min_signals: int = 0

    def available_signals(self) -> list[str]:
        return [s.name for s in self.signals if s.available]

    def unavailable_signals(self) -> list[str]:
        return [s.name for s in self.signals if not s.available]

    @property
    def has_evidence(self) -> bool:
        return len(self.available_signals()) >= self.min_signals

    def headline(self) -> str:
        if self.is_progressive:
            return "PROGRESSIVE FRIDAY DETECTED!"
        if not self.has_evidence:
            return (f"FRIDAY PATTERN (not progressive: {len(self.available_signals())}/{len(self.signals)} "
                    f"signals measured, {self.min_signals} needed)")
        return "FRIDAY PATTERN (not progressive)"

    def render(self, params: ZeroDteParameters | None = None) -> str:
        """The spec's log block (only values that were measured are printed as numbers), with the
        recommendation the 0DTE parameters in force (``params``) carry out."""
        by_name = {s.name: s for s in self.signals}
        missing = self.unavailable_signals()
        lines = [
            "========================================",
            self.headline(),
            "========================================",
            f"Score: {self.score:g}/10",
            f"Confidence: {self.confidence}",
            f"Signals measured: {len(self.available_signals())}/{len(self.signals)}"
            + (f" (unavailable: {', '.join(missing)})" if missing else ""),
            "Signals:",
            f"- Gap: {by_name['gap'].reading.describe(unit='%')} ({by_name['gap'].points:+d})",
            f"- Volume: {by_name['volume'].reading.describe(unit='x average')} ({by_name['volume'].points:+d})",
            f"- VIX Structure: {_label_or_reason(by_name['vix_structure'])} ({by_name['vix_structure'].points:+d})",
            f"- P/C Ratio: {by_name['pc_ratio'].reading.describe()} ({by_name['pc_ratio'].points:+d})",
            f"- Breadth: {by_name['breadth'].reading.describe()} ({by_name['breadth'].points:+d}, half weight)",
            f"- Momentum: {by_name['momentum'].reading.describe(unit='%')} ({by_name['momentum'].points:+d}, half weight)",
        ]
        if params is not None:
            lines += ["", *recommendation(self.is_progressive, params)]
        return "\n".join([*lines, "========================================"])


def _label_or_reason(signal: Signal) -> str:
    """A measured signal's label (the spec's BACKWARDATION, ...); an unmeasured one says why, like the
    other signal lines, instead of a bare UNKNOWN."""
    return signal.label if signal.available else signal.reading.describe()


def recommendation(progressive: bool, params: ZeroDteParameters) -> list[str]:
    """The spec's RECOMMENDATION lines, with the values of the parameters in force."""
    change = (params.position_multiplier - 1.0) * 100.0
    size = (f"Increase position size by {change:.0f}%" if change > 0 else
            f"Reduce position size by {-change:.0f}%" if change < 0 else "Normal position size")
    return [f"RECOMMENDATION: {'Enhanced' if progressive else 'Normal'} 0DTE opportunity",
            f"- {size}",
            f"- {'Tighten stop loss' if progressive else 'Stop loss'} to {params.stop_loss_multiplier:g}x credit",
            f"- Target {params.profit_target * 100:.0f}% of credit received",
            f"- Entries {params.entry_start:%H:%M}-{params.entry_end:%H:%M}, up to {params.max_contracts} contracts, "
            f"minimum credit {params.min_credit:g} (SPY scale)"]


class ProgressiveFridayAnalysis:
    """Scores a Friday from its signals (spec: base 5, >= 7 progressive, >= 8 HIGH confidence)."""

    def __init__(self, settings: FridaySettings) -> None:
        self.settings = settings
        self.pattern_history: list[FridayAnalysis] = []

    def gap_signal(self, gap_pct: Reading) -> Signal:
        s = self.settings
        if gap_pct.value is None:
            return Signal("gap", gap_pct, 0, "UNKNOWN")
        size = abs(gap_pct.value)
        points = 0
        if s.gap_small_pct <= size <= s.gap_moderate_max_pct:
            points = 2
        elif size < s.gap_small_pct:
            points = 1
        elif size > s.gap_large_pct:
            points = -1
        return Signal("gap", gap_pct, points, "UP" if gap_pct.value > 0 else "DOWN")

    def volume_signal(self, ratio: Reading) -> Signal:
        s = self.settings
        return Signal("volume", ratio, _tiered(ratio, s.volume_high_ratio, s.volume_elevated_ratio,
                                              s.volume_low_ratio))

    def vix_structure_signal(self, vix9d: Reading, vix: Reading) -> Signal:
        if vix9d.value is None or vix.value is None or vix.value <= 0:
            reason = vix9d.reason if vix9d.value is None else vix.reason or "VIX not positive"
            return Signal("vix_structure", Reading.missing(reason), 0, "UNKNOWN")
        ratio = vix9d.value / vix.value
        reading = Reading(ratio, as_of=vix.as_of)
        if ratio > self.settings.vix_backwardation:
            return Signal("vix_structure", reading, 2, "BACKWARDATION")
        if ratio < self.settings.vix_contango:
            return Signal("vix_structure", reading, 1, "CONTANGO")
        return Signal("vix_structure", reading, 0, "FLAT")

    def put_call_signal(self, ratio: Reading) -> Signal:
        s = self.settings
        return Signal("pc_ratio", ratio, _tiered(ratio, s.pc_high, s.pc_elevated, s.pc_low))

    def breadth_signal(self, adv_dec: Reading) -> Signal:
        s = self.settings
        return Signal("breadth", adv_dec, _tiered(adv_dec, s.breadth_strong, s.breadth_positive, s.breadth_weak))

    def momentum_signal(self, move_pct: Reading) -> Signal:
        s = self.settings
        if move_pct.value is None:
            return Signal("momentum", move_pct, 0)
        size = abs(move_pct.value)
        points = 0
        if s.momentum_low_pct <= size <= s.momentum_high_pct:
            points = 2
        elif size > s.momentum_extreme_pct:
            points = -1
        return Signal("momentum", move_pct, points)

    def score_progressive_setup(self, signals: tuple[Signal, ...]) -> float:
        """Base score + main signals + half-weight breadth and momentum, clamped to 0-10."""
        half = {"breadth", "momentum"}
        total = self.settings.base_score + sum(
            s.points * (0.5 if s.name in half else 1.0) for s in signals)
        return min(10.0, max(0.0, total))

    def analyze_friday_pattern(self, now: datetime, inputs: FridayInputs) -> FridayAnalysis:
        """Score one Friday bar (the caller checks it is a Friday with a same-day expiry)."""
        signals = (
            self.gap_signal(inputs.gap_pct),
            self.volume_signal(inputs.volume_ratio),
            self.vix_structure_signal(inputs.vix9d, inputs.vix),
            self.put_call_signal(inputs.put_call_ratio),
            self.breadth_signal(inputs.breadth),
            self.momentum_signal(inputs.premarket_move_pct),
        )
        score = self.score_progressive_setup(signals)
        s = self.settings
        confidence = "HIGH" if score >= s.high_confidence else "MEDIUM" if score >= s.progressive_threshold else "LOW"
        measured = sum(1 for signal in signals if signal.available)
        progressive = score >= s.progressive_threshold and measured >= s.min_signals
        return FridayAnalysis(now, score, progressive, confidence, signals, s.min_signals)

    def get_enhanced_0dte_parameters(self, is_progressive: bool) -> ZeroDteParameters:
        return self.settings.zero_dte(is_progressive)


def _tiered(reading: Reading, high: float, elevated: float, low: float) -> int:
    """+2 above ``high``, +1 above ``elevated``, -1 below ``low``, else 0 (0 when unavailable)."""
    if reading.value is None:
        return 0
    if reading.value > high:
        return 2
    if reading.value > elevated:
        return 1
    if reading.value < low:
        return -1
    return 0
