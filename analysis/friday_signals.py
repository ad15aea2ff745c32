"""Measuring the Progressive Friday signals from plain values (``main.py`` supplies LEAN's data).

Each function returns a :class:`core.market.Reading`: the measured value, or why it cannot be
measured. Units: percentages are percent (0.5 = 0.5%), ratios are plain ratios.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, time

from core.market import Reading

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
        return Reading.missing(f"{len(usable)} earlier sessions with opening volume (need {need})")
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
