"""LEAN's dividend yield model for the double (``Common/Data/DividendYieldProvider.cs``)."""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from pathlib import Path

from replay.engine.lean_types import NotImplementedInDouble, SecurityType, Strict
from replay.engine.symbols import Symbol


class DividendYieldProvider(Strict):
    """LEAN's dividend yield model for one underlying: trailing-year dividends over the price.

    As LEAN's provider, it reads the equity's factor file (``equity/usa/factor_files``): between two
    rows the price factor steps by the dividend, ``dividend = reference price x (1 - pf / next pf)``.
    Indexes pay none here; an equity without a factor file yields 0, as LEAN's provider returns then.
    The runner sets ``data_root``; a test can give ``yields`` directly.
    """

    yields: dict[str, float] = {}
    data_root: Path | None = None

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol

    def get_dividend_yield(self, when: datetime | date, security_price: float | None = None) -> float:
        if self.symbol.value in self.yields:
            return self.yields[self.symbol.value]
        if self.symbol.security_type is SecurityType.INDEX:
            return 0.0
        if self.data_root is None:
            raise NotImplementedInDouble(f"LEAN double has no dividend data for {self.symbol}: set "
                                         "DividendYieldProvider.data_root or .yields")
        day = when.date() if isinstance(when, datetime) else when
        return _trailing_yield(self.data_root / "equity" / "usa" / "factor_files" /
                               f"{self.symbol.value.lower()}.csv", day, security_price)


@functools.lru_cache(maxsize=64)
def _factor_rows(path: Path) -> tuple[tuple[date, float, float], ...]:
    """(date, price factor, reference price) rows of a LEAN factor file (read once per run)."""
    if not path.is_file():
        return ()
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split(",")
        if len(parts) >= 4:
            rows.append((date(int(parts[0][:4]), int(parts[0][4:6]), int(parts[0][6:8])), float(parts[1]),
                         float(parts[3])))
    return tuple(rows)


def _trailing_yield(path: Path, day: date, price: float | None) -> float:
    rows = _factor_rows(path)
    if not rows:
        return 0.0
    dividends, reference = 0.0, None
    for (when, factor, ref), (_next_day, next_factor, _next_ref) in zip(rows, rows[1:]):
        if when <= day:
            reference = ref or reference
        if day - timedelta(days=365) < when <= day and next_factor > 0:
            dividends += ref * (1.0 - factor / next_factor)
    base = price if price else reference
    return dividends / base if base else 0.0
