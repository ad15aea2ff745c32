"""Time conventions: every reader returns bar times as int64 milliseconds since midnight New York.

LEAN writes minute files in the *data time zone* of the security (``dataTimeZone`` in
``market-hours-database.json``), not always New York:

* equity, option, index option: America/New_York (``34200000`` = 09:30 ET);
* index (SPX): America/Chicago, so the first SPX bar is ``30600000`` = 08:30 CT = 09:30 ET;
* CME futures (ES): UTC, and the day file is the UTC calendar day.

We convert all of them to milliseconds since New York midnight *of the file's date*, so one clock
serves the whole runner. For a UTC futures file this yields negative values for the previous New York
evening (e.g. -14400000 = 20:00 ET the day before); the New York regular session 09:30-16:00 always lies
inside the UTC file of the same date.

Offsets follow the US daylight-saving rules (1987-2006: first Sunday of April to last Sunday of
October; 2007 on: second Sunday of March to first Sunday of November; switch at 02:00 local). They are
computed here, vectorised and without the system tz database, so results do not depend on the host.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"
UTC = "UTC"

# Standard-time offset from UTC in hours for the zones LEAN uses for US data.
_STD_OFFSET_H: dict[str, int] = {NEW_YORK: -5, CHICAGO: -6, UTC: 0}

Int64Array = npt.NDArray[np.int64]


def supported_zone(zone: str) -> bool:
    return zone in _STD_OFFSET_H


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + dt.timedelta(weeks=n - 1)


def _last_sunday(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def dst_dates(year: int) -> tuple[dt.date, dt.date]:
    """US daylight-saving start and end dates (both at 02:00 local wall time)."""
    if year >= 2007:
        return _nth_sunday(year, 3, 2), _nth_sunday(year, 11, 1)
    if year >= 1987:
        return _nth_sunday(year, 4, 1), _last_sunday(year, 10)
    raise ValueError(f"US DST rules before 1987 are outside this reader's range (year {year})")


def epoch_ms(day: dt.date) -> int:
    """Milliseconds from 1970-01-01 to ``day`` 00:00 on a naive (zone-less) clock."""
    return (day - dt.date(1970, 1, 1)).days * MS_PER_DAY


def _dst_wall_window(zone: str, year: int) -> tuple[int, int]:
    """[start, end) of DST in naive local wall-clock ms (the repeated hour counts as DST)."""
    start, end = dst_dates(year)
    return epoch_ms(start) + 2 * MS_PER_HOUR, epoch_ms(end) + 2 * MS_PER_HOUR


def _offset_from_wall(zone: str, wall: Int64Array, year: int) -> Int64Array:
    std = _STD_OFFSET_H[zone] * MS_PER_HOUR
    if zone == UTC:
        return np.zeros_like(wall)
    lo, hi = _dst_wall_window(zone, year)
    return np.where((wall >= lo) & (wall < hi), std + MS_PER_HOUR, std).astype(np.int64)


def _offset_from_utc(zone: str, utc: Int64Array, year: int) -> Int64Array:
    std = _STD_OFFSET_H[zone] * MS_PER_HOUR
    if zone == UTC:
        return np.zeros_like(utc)
    start, end = dst_dates(year)
    lo = epoch_ms(start) + 2 * MS_PER_HOUR - std  # 02:00 standard time, in UTC
    hi = epoch_ms(end) + 2 * MS_PER_HOUR - (std + MS_PER_HOUR)  # 02:00 daylight time, in UTC
    return np.where((utc >= lo) & (utc < hi), std + MS_PER_HOUR, std).astype(np.int64)


def to_new_york_ms(day: dt.date, ms: Int64Array, zone: str) -> Int64Array:
    """Convert ms-since-midnight in ``zone`` on ``day`` to ms since New York midnight of ``day``.

    Files span at most a day, so DST windows of ``day.year`` are used for every row.
    """
    if zone == NEW_YORK:
        return ms
    if zone not in _STD_OFFSET_H:
        raise ValueError(f"unsupported data time zone {zone!r}")
    base = epoch_ms(day)
    wall = base + ms
    utc = wall - _offset_from_wall(zone, wall, day.year)
    ny_wall = utc + _offset_from_utc(NEW_YORK, utc, day.year)
    return (ny_wall - base).astype(np.int64)


def hhmm_ms(hours: int, minutes: int = 0) -> int:
    """ms since midnight for a wall-clock time, e.g. ``hhmm_ms(9, 30)`` = 34200000."""
    return (hours * 60 + minutes) * MS_PER_MINUTE


def to_datetime64(day: dt.date, ms: Int64Array) -> npt.NDArray[np.datetime64]:
    """Naive New York wall-clock ``datetime64[ms]`` for ms-since-midnight values (display, joins)."""
    return np.datetime64(day, "ms") + ms.astype("timedelta64[ms]")
