"""Column-array bar types and the readers for single-security minute files and daily/hour files.

Time convention (all minute types): ``times`` is the bar START in int64 milliseconds since midnight
New York of the file's date, exactly as LEAN stamps bars in its files (after the time-zone conversion
of :mod:`replay.data.timestamps`). LEAN *emits* a minute bar at its end, ``times + 60000``: the 09:30 bar is
what an algorithm sees at 09:31. ``end_times`` gives that. Prices are unscaled floats (dollars, or
index points for indexes); sizes, volumes and open interest are int64 counts (shares/contracts).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self, cast

import numpy as np
import numpy.typing as npt

from replay.data.zip_csv import FloatArray, Int64Array, ParsedMembers, parse_zip
from replay.data.errors import LeanDataError
from replay.data.timestamps import MS_PER_MINUTE, to_new_york_ms

TRADE_COLS = 6  # ms, open, high, low, close, volume
QUOTE_COLS = 11  # ms, bid o/h/l/c, bid size, ask o/h/l/c, ask size
OI_COLS = 2  # ms, open interest
QUOTE_NULLABLE = (1, 2, 3, 4, 6, 7, 8, 9)  # one-sided quote bars leave the other side's prices empty

class _Columns:
    """Shared helpers for frozen dataclasses whose fields are equal-length arrays."""

    times: Int64Array

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def end_times(self) -> Int64Array:
        """Emission time of each minute bar (start + 1 minute), ms since New York midnight."""
        return self.times + MS_PER_MINUTE

    def take(self, index: npt.NDArray[np.integer] | slice) -> Self:
        """Rows selected by an index array or slice, as the same type."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(cast(Any, self))})


@dataclass(frozen=True)
class TradeBars(_Columns):
    """Minute trade bars; prices unscaled, volume in shares/contracts."""

    times: Int64Array
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: Int64Array


@dataclass(frozen=True)
class QuoteBars(_Columns):
    """Minute quote bars. A side with no quote in the minute has NaN prices and size 0."""

    times: Int64Array
    bid_open: FloatArray
    bid_high: FloatArray
    bid_low: FloatArray
    bid_close: FloatArray
    bid_size: Int64Array
    ask_open: FloatArray
    ask_high: FloatArray
    ask_low: FloatArray
    ask_close: FloatArray
    ask_size: Int64Array


@dataclass(frozen=True)
class OpenInterest(_Columns):
    """Open-interest snapshots (LEAN writes a few per day, mostly before the open)."""

    times: Int64Array
    open_interest: Int64Array


def _times(values: FloatArray, day: dt.date, zone: str) -> Int64Array:
    return to_new_york_ms(day, values[:, 0].astype(np.int64), zone)


def trade_bars(values: FloatArray, day: dt.date, zone: str, scale: float) -> TradeBars:
    p = values[:, 1:5] / scale
    return TradeBars(_times(values, day, zone), p[:, 0], p[:, 1], p[:, 2], p[:, 3], values[:, 5].astype(np.int64))


def quote_bars(values: FloatArray, day: dt.date, zone: str, scale: float) -> QuoteBars:
    b = values[:, 1:5] / scale
    a = values[:, 6:10] / scale
    return QuoteBars(
        _times(values, day, zone),
        b[:, 0], b[:, 1], b[:, 2], b[:, 3], values[:, 5].astype(np.int64),
        a[:, 0], a[:, 1], a[:, 2], a[:, 3], values[:, 10].astype(np.int64),
    )  # fmt: skip


def open_interest(values: FloatArray, day: dt.date, zone: str) -> OpenInterest:
    return OpenInterest(_times(values, day, zone), values[:, 1].astype(np.int64))


NCOLS = {"trade": TRADE_COLS, "quote": QUOTE_COLS, "openinterest": OI_COLS}
NULLABLE: dict[str, tuple[int, ...]] = {"trade": (), "quote": QUOTE_NULLABLE, "openinterest": ()}


def bars_from_values(
    tick: str, values: FloatArray, day: dt.date, zone: str, scale: float
) -> TradeBars | QuoteBars | OpenInterest:
    if tick == "trade":
        return trade_bars(values, day, zone, scale)
    if tick == "quote":
        return quote_bars(values, day, zone, scale)
    return open_interest(values, day, zone)


def read_single_minute(
    path: Path, tick: str, day: dt.date, zone: str, scale: float
) -> TradeBars | QuoteBars | OpenInterest:
    """Read an equity/index day zip: exactly one CSV member (``<date>_<ticker>_minute_<tick>.csv``)."""
    names, parsed = parse_zip(path, NCOLS[tick], NULLABLE[tick])
    if len(names) != 1:
        raise LeanDataError(path, f"expected one CSV member, found {len(names)}")
    bars = bars_from_values(tick, parsed.values, day, zone, scale)
    if np.any(np.diff(bars.times) < 0):  # never seen in LEAN data, but as-of lookups need order
        bars = bars.take(np.argsort(bars.times, kind="stable"))
    return bars


# --- daily / hour -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyBars:
    """Daily (or hour) trade bars of one ticker; ``dates`` as datetime64[D] in the data time zone.

    ``stamp_ms`` is the HH:MM of each row's stamp in ms (0 for daily files: ``YYYYMMDD 00:00``).
    LEAN emits a daily bar after its day ends, so the last close known *during* day D is the close
    of the bar dated before D: use :meth:`previous_close`.
    """

    dates: npt.NDArray[np.datetime64]
    stamp_ms: Int64Array
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: Int64Array

    def __len__(self) -> int:
        return int(self.dates.shape[0])

    def previous_close(self, day: dt.date) -> float | None:
        """Close of the last bar dated strictly before ``day`` (None if there is none)."""
        i = int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="left")) - 1
        return float(self.close[i]) if i >= 0 else None

    def on(self, day: dt.date) -> int | None:
        """Row index of the bar dated ``day`` (first one for hour files), or None."""
        target = np.datetime64(day, "D")
        i = int(np.searchsorted(self.dates, target, side="left"))
        return i if i < len(self) and self.dates[i] == target else None


def yyyymmdd_to_datetime64(numbers: FloatArray) -> npt.NDArray[np.datetime64]:
    """Vectorised 20131010 -> numpy.datetime64('2013-10-10')."""
    n = numbers.astype(np.int64)
    months = (n // 10000 - 1970) * 12 + (n // 100 % 100 - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (n % 100 - 1).astype("timedelta64[D]")


def _stamp_to_fields(blob: bytes) -> bytes:
    """``20131010 00:00,o,...`` -> ``20131010,00,00,o,...`` so the numeric fast path applies."""
    return blob.replace(b" ", b",").replace(b":", b",")


def read_daily_bars(path: Path, scale: float) -> DailyBars:
    """Read ``<ticker>.zip`` with rows ``YYYYMMDD HH:MM,o,h,l,c,v`` (same price scaling as minute)."""
    names, parsed = parse_zip(path, 8, (), pre=_stamp_to_fields)
    return _daily_from(parsed, path, names, scale)


def _daily_from(parsed: ParsedMembers, path: Path, names: list[str], scale: float) -> DailyBars:
    if len(names) != 1:
        raise LeanDataError(path, f"expected one CSV member, found {len(names)}")
    v = parsed.values
    n = v[:, 0].astype(np.int64)
    bad = np.flatnonzero((n // 100 % 100 < 1) | (n // 100 % 100 > 12) | (n % 100 < 1) | (n % 100 > 31))
    if bad.size:
        raise LeanDataError(path, f"bad date {int(n[bad[0]])}", names[0], int(bad[0]) + 1)
    dates = yyyymmdd_to_datetime64(v[:, 0])
    stamp = ((v[:, 1] * 60 + v[:, 2]) * MS_PER_MINUTE).astype(np.int64)
    p = v[:, 3:7] / scale
    return DailyBars(dates, stamp, p[:, 0], p[:, 1], p[:, 2], p[:, 3], v[:, 7].astype(np.int64))
