"""LEAN map files: which data-folder ticker an equity had on a date, and when it was delisted.

``equity/usa/map_files/<ticker>.csv`` rows are ``YYYYMMDD,ticker[,exchange]``: a row says which ticker the
data is filed under up to and including that date (``Common/Data/Auxiliary/MapFile.cs``). GOOG's file::

    20140327,goocv,Q
    20140402,goocv,Q
    20501231,goog,Q

so 2014-03-28..2014-04-02 data is under ``goocv`` and later data under ``goog``. A last row before
2050-12-31 is the delisting date. Without a map file the ticker is its own folder name. A ticker is
resolved to its map file as LEAN resolves it (``MapFileResolver``): ``FOXA`` finds ``tfcfa.csv``, whose
rows name ``nwsa`` until 2013-06-28 and ``foxa`` after.
"""
from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache
from pathlib import Path

from replay.data.auxiliary import dated_rows
from replay.data.errors import LeanDataError

END_OF_TIME = dt.date(2050, 12, 31)


@lru_cache(maxsize=256)
def read_map_file(path: Path) -> tuple[tuple[dt.date, str], ...]:
    """(date, ticker) rows of one map file, in date order."""
    rows = []
    for day, fields, number in dated_rows(path, "map file"):
        if not fields:
            raise LeanDataError(path, "map file row without a ticker", line=number)
        rows.append((day, fields[0].lower()))
    return tuple(sorted(rows))


def map_file_path(root: Path, ticker: str, market: str = "usa") -> Path:
    return Path(root) / "equity" / market / "map_files" / f"{ticker.lower()}.csv"


@lru_cache(maxsize=16)
def _entries_by_ticker(folder: Path) -> dict[str, tuple[tuple[dt.date, str], ...]]:
    """Every (row date, permtick) a ticker appears with, over all map files (``MapFileResolver``)."""
    found: dict[str, dict[dt.date, str]] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.csv")):
            for day, ticker in read_map_file(path):
                found.setdefault(ticker, {}).setdefault(day, path.stem.lower())
    return {ticker: tuple(sorted(rows.items())) for ticker, rows in found.items()}


def resolve_permtick(root: Path, ticker: str, market: str = "usa", on: dt.date | None = None) -> str | None:
    """The map file (by its permtick) of the company trading as ``ticker`` on ``on``, LEAN's
    ``MapFileResolver.ResolveMapFile``: the ticker's map-file row on that date, else its next one, else its
    last one. LEAN resolves an algorithm's ticker as of today (``SecurityIdentifier.GenerateEquity`` with no
    resolve date: ``DateTime.Today``), so ``on`` defaults to today. None: no map file."""
    on = on or dt.date.today()
    folder = Path(root) / "equity" / market / "map_files"
    entries = _entries_by_ticker(folder).get(ticker.lower())
    if entries:
        dates = [day for day, _ in entries]
        index = min(bisect.bisect_left(dates, on), len(entries) - 1)
        permtick = entries[index][1]
    else:
        permtick = ticker.lower()
    path = folder / f"{permtick}.csv"
    if not path.is_file():
        return None
    rows = read_map_file(path)
    return permtick if rows and rows[0][0] <= on else None


def mapped_ticker(root: Path, ticker: str, day: dt.date, market: str = "usa") -> str:
    """The folder ticker of ``ticker``'s data on ``day`` (``MapFile.GetMappedSymbol``: the first row dated
    on or after ``day``; the ticker itself without a map file or after its last row)."""
    permtick = resolve_permtick(root, ticker, market)
    if permtick is None:
        return ticker.lower()
    for row_day, row_ticker in read_map_file(map_file_path(root, permtick, market)):
        if row_day >= day:
            return row_ticker
    return ticker.lower()


def delisting_date(root: Path, ticker: str, market: str = "usa") -> dt.date | None:
    """The map file's last date when it is before 2050-12-31 (the equity was delisted then)."""
    permtick = resolve_permtick(root, ticker, market)
    if permtick is None:
        return None
    rows = read_map_file(map_file_path(root, permtick, market))
    return rows[-1][0] if rows and rows[-1][0] < END_OF_TIME else None
