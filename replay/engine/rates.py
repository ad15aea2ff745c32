"""LEAN's risk-free rate for the replay: the US primary credit rate LEAN itself reads from
``alternative/interest-rate/usa/interest-rate.csv`` (percent per year, stepped by date)."""
from __future__ import annotations

import bisect
import csv
from datetime import date
from pathlib import Path


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
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        points = [(date.fromisoformat(r[0]), float(r[1]) / 100.0) for r in rows[1:] if len(r) >= 2 and r[1]]
        return RateCurve(sorted(points))

    def at(self, day: date) -> float:
        i = bisect.bisect_right(self.dates, day) - 1
        return self.rates[max(i, 0)]
