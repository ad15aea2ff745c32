"""Trading time: the chart's x axis, with the nights and weekends taken out.

A week of minute data drawn against calendar time is 70% empty nights, and a line across each night
draws the overnight gap as a slope. Here each session is laid end to end (09:30..16:00 New York, one
unit per minute, a short gap between sessions where a dashed line marks the new day), so a minute is
the same width everywhere and a jump at the open is drawn as a jump.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, datetime, time

SESSION_GAP = 20.0  # minutes of blank axis between two sessions
OPEN, CLOSE = time(9, 30), time(16, 0)


class TradingTime:
    """Maps datetimes of the sessions in ``times`` to axis positions (minutes of trading time)."""

    def __init__(self, times: Iterable[datetime]) -> None:
        days = sorted({t.date() for t in times if OPEN <= t.time() <= CLOSE})
        self.days: list[date] = days
        self.starts: list[float] = []
        position = 0.0
        for _day in days:
            self.starts.append(position)
            position += _minutes(CLOSE) - _minutes(OPEN) + SESSION_GAP
        self.end = max(position - SESSION_GAP, 0.0)

    def x(self, when: datetime) -> float:
        """The axis position of ``when``; a time outside a session sits at the nearest session edge."""
        if not self.days:
            return 0.0
        i = bisect.bisect_right(self.days, when.date()) - 1
        if i < 0:
            return 0.0
        if self.days[i] != when.date():  # a day without a session: the end of the previous one
            return self.starts[i] + _minutes(CLOSE) - _minutes(OPEN)
        minutes = min(max(_minutes(when.time()), _minutes(OPEN)), _minutes(CLOSE)) - _minutes(OPEN)
        return self.starts[i] + minutes

    def day_ticks(self) -> list[tuple[float, str]]:
        """(position, label) at each session's open: ``Mon 08-09``."""
        return [(start, f"{day:%a %m-%d}") for start, day in zip(self.starts, self.days)]

    def hour_ticks(self) -> list[float]:
        """Positions of 10:00, 11:00 ... 15:00 in every session."""
        return [start + h * 60 - _minutes(OPEN) for start in self.starts for h in range(10, 16)]

    def boundaries(self) -> list[float]:
        """Where each session after the first begins (a new day)."""
        return [start - SESSION_GAP / 2 for start in self.starts[1:]]


def _minutes(moment: time) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60.0
