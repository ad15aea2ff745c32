"""LEAN's risk-free rate for the replay: the US primary credit rate LEAN itself reads from
``alternative/interest-rate/usa/interest-rate.csv`` (percent per year, stepped by date)."""
from __future__ import annotations

import bisect
import csv
import math
from datetime import date
from pathlib import Path

from replay.data import LeanDataError


class RateCurve:
    """Step curve of the risk-free rate (a fraction) from LEAN's interest-rate file."""

    RELATIVE_PATH = Path("alternative") / "interest-rate" / "usa" / "interest-rate.csv"

    def __init__(self, points: list[tuple[date, float]]) -> None:
        self.dates = [d for d, _ in points]
        self.rates = [r for _, r in points]

    @staticmethod
    def load(data_root: Path) -> RateCurve | None:
        path = data_root / RateCurve.RELATIVE_PATH
        if not path.is_file():
            return None
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
        except UnicodeDecodeError as exc:
            raise LeanDataError(path, f"not UTF-8 text (byte {exc.start})") from None
        points = []
        for line, row in enumerate(rows[1:], start=2):
            if len(row) < 2 or not row[1]:
                continue
            try:
                point = (date.fromisoformat(row[0].strip()), float(row[1]) / 100.0)
            except ValueError as exc:
                raise LeanDataError(path, f"expected DATE,RATE(%): {exc}", line=line) from None
            if not math.isfinite(point[1]):
                raise LeanDataError(path, f"rate {row[1]!r} is not a finite number", line=line)
            points.append(point)
        if not points:
            raise LeanDataError(path, "no DATE,RATE rows")
        return RateCurve(sorted(points))

    def at(self, day: date) -> float:
        i = bisect.bisect_right(self.dates, day) - 1
        return self.rates[max(i, 0)]
