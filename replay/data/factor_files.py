"""LEAN factor files: an equity's price and split factors by date (``Common/Data/Auxiliary/CorporateFactorProvider.cs``,
``CorporateFactorRow.cs``, ``PriceScalingExtensions.cs``).

``equity/usa/factor_files/<permtick>.csv`` rows are ``YYYYMMDD,price_factor,split_factor[,reference_price]``
(the permtick is the map file's name, see :mod:`replay.data.map_files`). For a date, the row in force is
the first one dated on or after it (``GetPriceFactor``); its price scale is ``price_factor x
split_factor`` for adjusted data, ``split_factor`` for split-adjusted data, 1 for raw data. A row whose
next row has another price factor announces a dividend paid on the next trading day
(``HasDividendEventOnNextTradingDay``): ``round(reference - reference x ratio, 2)`` per share, the ratio
being this row's price factor over the next one's (``Dividend.ComputeDistribution``); a change of split
factor announces a split (``HasSplitEventOnNextTradingDay``).
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from functools import lru_cache
from pathlib import Path

from replay.data.auxiliary import dated_rows
from replay.data.errors import LeanDataError


@dataclasses.dataclass(frozen=True)
class FactorRow:
    date: dt.date
    price_factor: float
    split_factor: float
    reference_price: float


@lru_cache(maxsize=256)
def read_factor_file(path: Path) -> tuple[FactorRow, ...]:
    rows = []
    for day, fields, number in dated_rows(path, "factor file"):
        try:
            rows.append(FactorRow(day, float(fields[0]), float(fields[1]), float(fields[2]) if len(fields) > 2 else 0.0))
        except (ValueError, IndexError):
            raise LeanDataError(path, f"bad factor file row {','.join(fields)[:40]!r}", line=number) from None
    return tuple(sorted(rows, key=lambda r: r.date))


def factor_rows(root: Path, permtick: str, market: str = "usa") -> tuple[FactorRow, ...]:
    """The factor file of ``permtick`` (empty without one: every scale is 1)."""
    path = Path(root) / "equity" / market / "factor_files" / f"{permtick.lower()}.csv"
    return read_factor_file(path) if path.is_file() else ()


def _row_in_force(rows: tuple[FactorRow, ...], day: dt.date) -> FactorRow | None:
    index = bisect.bisect_left([r.date for r in rows], day)
    return rows[index] if index < len(rows) else None


def price_scale(rows: tuple[FactorRow, ...], day: dt.date, split_only: bool = False) -> float:
    """The factor prices of ``day`` are multiplied by (adjusted, or split-adjusted with ``split_only``)."""
    row = _row_in_force(rows, day)
    if row is None:
        return 1.0
    return row.split_factor if split_only else row.price_factor * row.split_factor


def dividend_after(rows: tuple[FactorRow, ...], day: dt.date) -> tuple[float, float] | None:
    """(per-share dividend, reference price) paid on the trading day after ``day``, when ``day`` announces one."""
    dates = [r.date for r in rows]
    index = bisect.bisect_left(dates, day)
    if index >= len(rows) - 1 or dates[index] != day:
        return None
    this, following = rows[index], rows[index + 1]
    if this.price_factor == following.price_factor:
        return None
    ratio = this.price_factor / following.price_factor
    return round(this.reference_price - this.reference_price * ratio, 2), this.reference_price


def split_after(rows: tuple[FactorRow, ...], day: dt.date) -> float | None:
    """The split factor taking effect on the trading day after ``day``, when ``day`` announces one."""
    dates = [r.date for r in rows]
    index = bisect.bisect_left(dates, day)
    if index >= len(rows) - 1 or dates[index] != day:
        return None
    this, following = rows[index], rows[index + 1]
    return this.split_factor / following.split_factor if this.split_factor != following.split_factor else None
