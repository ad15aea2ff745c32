"""Time to expiry from the exchange clock, in years, for option pricing.

Why: for short-dated options the time convention dominates implied volatility (greeks.md 2.4:
the same SPY call is 13.2%, 12.1% or 11.3% depending on whether T is counted in whole days, to
midnight or to the 16:00 close). LEAN uses calendar time to the settlement instant / 365, so this
module does the same with minute resolution:

    t = minutes from ``now`` to the settlement time on the expiry date / (365 * 24 * 60)

Settlement: PM-settled options (equity, ETF, SPXW, PM SPX) stop trading at the 16:00 New York
close: :data:`PM_SETTLEMENT`. AM-settled SPX monthlies settle on the expiry-day opening print:
pass ``settlement=AM_SETTLEMENT`` (09:30).

The minutes are *elapsed* minutes (both instants converted to UTC with the New York zone rules),
so an expiry across a DST change is not off by an hour. A naive wall-clock difference, as LEAN
computes it, differs only in that case, by 60 minutes (60/525600 = 1.1e-4 years).

Past the settlement instant the result is negative; pricing functions treat t <= 0 as expired
(intrinsic value, documented limits, IV NaN).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Final, Union
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

NEW_YORK: Final = ZoneInfo("America/New_York")
PM_SETTLEMENT: Final = time(16, 0)
AM_SETTLEMENT: Final = time(9, 30)
MINUTES_PER_YEAR: Final = 365.0 * 24.0 * 60.0
_EPOCH: Final = datetime(1970, 1, 1)

ExpiryLike = Union[date, str, np.datetime64, ArrayLike]


def _utc_offset_minutes(local: datetime) -> float:
    """UTC offset of a New York wall-clock time, in minutes (-300 in winter, -240 in summer)."""
    offset = local.replace(tzinfo=NEW_YORK).utcoffset()
    assert offset is not None
    return offset.total_seconds() / 60.0


def _now_utc_minutes(now: datetime) -> float:
    """Minutes since the Unix epoch (UTC) of ``now``; naive datetimes are New York wall clock."""
    if now.tzinfo is not None:
        now = now.astimezone(NEW_YORK).replace(tzinfo=None)
    local_minutes = (now - _EPOCH) / timedelta(minutes=1)
    return local_minutes - _utc_offset_minutes(now)


@lru_cache(maxsize=4096)
def _settlement_utc_minutes(day_number: int, settlement: time) -> float:
    """Minutes since the epoch (UTC) of ``settlement`` New York time on day ``day_number``."""
    local = _EPOCH + timedelta(days=day_number, hours=settlement.hour, minutes=settlement.minute,
                               seconds=settlement.second)
    return (local - _EPOCH) / timedelta(minutes=1) - _utc_offset_minutes(local)


def minutes_to_expiry(now: datetime, expiry: ExpiryLike, settlement: time = PM_SETTLEMENT) -> NDArray[np.float64]:
    """Elapsed minutes from ``now`` to ``settlement`` (New York time) on each expiry date.

    ``expiry``: a ``datetime.date``, ISO string, ``numpy.datetime64`` or an array of them (any
    array-like convertible to ``datetime64[D]``; a ``datetime`` is truncated to its date).
    Returns a float64 array of the expiry's shape (0-d for a scalar).
    """
    if isinstance(expiry, datetime):
        expiry = expiry.date()
    days = np.asarray(expiry, dtype="datetime64[D]")
    unique, inverse = np.unique(days.reshape(-1), return_inverse=True)
    epoch_days = unique.astype(np.int64)
    settle = np.array([_settlement_utc_minutes(int(d), settlement) for d in epoch_days], dtype=np.float64)
    minutes = settle[inverse] - _now_utc_minutes(now)
    return minutes.reshape(days.shape)


def year_fraction_to_expiry(now: datetime, expiry: ExpiryLike,
                            settlement: time = PM_SETTLEMENT) -> NDArray[np.float64]:
    """Time to expiry in years: elapsed minutes to settlement / (365*24*60) (calendar time, as LEAN).

    Negative once settlement has passed. Vectorised over ``expiry`` (see :func:`minutes_to_expiry`).
    Example: at 15:00 on expiry day, t = 60 / 525600 = 1.14e-4 years.
    """
    return minutes_to_expiry(now, expiry, settlement) / MINUTES_PER_YEAR
