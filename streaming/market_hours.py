"""New York calendar rules used by the stream (Friday 0DTE window, quiet hours for token renewal).

Always ``zoneinfo`` "America/New_York", so daylight-saving changes are handled without LEAN.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY = 4
ZERO_DTE_WINDOW = (time(10, 0), time(15, 0))  # spec: skip before 10:00 and from 15:00
TRADING_HOURS = (time(9, 0), time(16, 30))  # a little around the cash session, for quiet-time work
_EPOCH = date(1970, 1, 1)


def new_york(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).astimezone(NEW_YORK)


def in_zero_dte_window(now_ny: datetime, window: tuple[time, time] = ZERO_DTE_WINDOW) -> bool:
    """Fridays from the window start (10:00) to before its end (15:00) New York time."""
    start, end = window
    return now_ny.weekday() == FRIDAY and start <= now_ny.time() < end


def in_trading_hours(now_ny: datetime) -> bool:
    """Weekdays 09:00-16:30 New York: a planned reconnect then would cost live data."""
    start, end = TRADING_HOURS
    return now_ny.weekday() < 5 and start <= now_ny.time() < end


def day_id(day: date) -> int:
    """dxFeed's dayId: days since 1970-01-01 (used to reject a stale Summary)."""
    return (day - _EPOCH).days
