"""LEAN's auxiliary CSV files (map files, factor files): rows that start with a ``YYYYMMDD`` date."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from replay.data.errors import LeanDataError


def dated_rows(path: Path, what: str) -> list[tuple[dt.date, list[str], int]]:
    """(date, the row's other fields, line number) of each non-blank row, in file order; a row without a
    valid date stops the run naming the file and line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            day = dt.date(int(parts[0][:4]), int(parts[0][4:6]), int(parts[0][6:8]))
        except (ValueError, IndexError):
            raise LeanDataError(path, f"bad {what} row {line[:40]!r}", line=number) from None
        rows.append((day, [p.strip() for p in parts[1:]], number))
    return rows
