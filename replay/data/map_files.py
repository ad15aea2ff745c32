"""LEAN map files: which data-folder ticker an equity had on a date, and when it was delisted.

``equity/usa/map_files/<ticker>.csv`` rows are ``YYYYMMDD,ticker[,exchange]``: a row says which ticker the
data is filed under up to and including that date (``Common/Data/Auxiliary/MapFile.cs``). GOOG's file::

    20140327,goocv,Q
    20140402,goocv,Q
    20501231,goog,Q

so 2014-03-28..2014-04-02 data is under ``goocv`` and later data under ``goog``. A last row before
2050-12-31 is the delisting date. Without a map file the ticker is its own folder name.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from replay.data.errors import LeanDataError

END_OF_TIME = dt.date(2050, 12, 31)


@lru_cache(maxsize=256)
def read_map_file(path: Path) -> tuple[tuple[dt.date, str], ...]:
    """(date, ticker) rows of one map file, in date order."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            day = dt.date(int(parts[0][:4]), int(parts[0][4:6]), int(parts[0][6:8]))
        except (ValueError, IndexError):
            raise LeanDataError(path, f"bad map file row {line[:40]!r}", line=number) from None
        rows.append((day, parts[1].strip().lower()))
    return tuple(sorted(rows))


def map_file_path(root: Path, ticker: str, market: str = "usa") -> Path:
    return Path(root) / "equity" / market / "map_files" / f"{ticker.lower()}.csv"


def mapped_ticker(root: Path, ticker: str, day: dt.date, market: str = "usa") -> str:
    """The folder ticker of ``ticker``'s data on ``day`` (itself when there is no map file)."""
    path = map_file_path(root, ticker, market)
    if not path.is_file():
        return ticker.lower()
    for row_day, row_ticker in read_map_file(path):
        if row_day >= day:
            return row_ticker
    return ticker.lower()


def delisting_date(root: Path, ticker: str, market: str = "usa") -> dt.date | None:
    """The map file's last date when it is before 2050-12-31 (the equity was delisted then)."""
    path = map_file_path(root, ticker, market)
    if not path.is_file():
        return None
    rows = read_map_file(path)
    return rows[-1][0] if rows and rows[-1][0] < END_OF_TIME else None
