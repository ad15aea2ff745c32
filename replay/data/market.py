"""Reference data from the LEAN data folder: market hours (time zones, sessions) and symbol properties.

* ``market-hours/market-hours-database.json``: the *data* time zone decides how file times are read
  (SPX index files are in Chicago time, ES futures in UTC, see :mod:`replay.data.timestamps`); the regular
  session, holidays and early closes give the minute grid of a day (2015-12-24 closes at 13:00).
* ``symbol-properties/symbol-properties-database.csv``: contract multiplier (100 for equity and
  SPX/SPXW index options, 50 for ES).

Both files are optional: built-in defaults (the values those files hold for US data) apply when they
are absent, so tests with a partial data folder still work.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from replay.data.errors import LeanDataError
from replay.data.paths import DEFAULT_MARKET, SecurityType
from replay.data.timestamps import CHICAGO, NEW_YORK, UTC, supported_zone, to_new_york_ms

DEFAULT_DATA_ZONE: dict[SecurityType, str] = {
    SecurityType.EQUITY: NEW_YORK,
    SecurityType.OPTION: NEW_YORK,
    SecurityType.INDEX_OPTION: NEW_YORK,
    SecurityType.INDEX: CHICAGO,
    SecurityType.FUTURE: UTC,
}
DEFAULT_MULTIPLIER: dict[SecurityType, float] = {
    SecurityType.EQUITY: 1.0,
    SecurityType.INDEX: 1.0,
    SecurityType.OPTION: 100.0,
    SecurityType.INDEX_OPTION: 100.0,
    SecurityType.FUTURE: 1.0,
}
_MHDB_TYPE = {
    SecurityType.EQUITY: "Equity",
    SecurityType.INDEX: "Index",
    SecurityType.OPTION: "Option",
    SecurityType.INDEX_OPTION: "IndexOption",
    SecurityType.FUTURE: "Future",
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class MarketHours:
    """One market-hours entry; session times are ms since midnight in ``exchange_time_zone``."""

    data_time_zone: str
    exchange_time_zone: str
    market_segments: dict[str, list[tuple[int, int]]]  # weekday -> [(open_ms, close_ms)] "market" state
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    early_closes: dict[dt.date, int] = field(default_factory=dict)

    def session(self, day: dt.date) -> tuple[int, int] | None:
        """Regular session [open, close) in ms since New York midnight, or None if closed."""
        segments = self.market_segments.get(_WEEKDAYS[day.weekday()], [])
        if day in self.holidays or not segments:
            return None
        open_ms, close_ms = segments[0][0], segments[-1][1]
        close_ms = min(close_ms, self.early_closes.get(day, close_ms))
        if not supported_zone(self.exchange_time_zone):
            raise ValueError(f"unsupported exchange time zone {self.exchange_time_zone!r}")
        ny = to_new_york_ms(day, np.array([open_ms, close_ms], dtype=np.int64), self.exchange_time_zone)
        return int(ny[0]), int(ny[1])


def _span_ms(text: str) -> int:
    """``HH:MM:SS``, ``d.HH:MM:SS`` or ``d:HH:MM:SS`` -> ms."""
    days = 0
    if "." in text.split(":")[0]:
        d, text = text.split(".", 1)
        days = int(d)
    parts = [int(p) for p in text.split(":")]
    if len(parts) == 4:
        days, parts = parts[0], parts[1:]
    h, m, s = parts
    return ((days * 24 + h) * 60 + m) * 60_000 + s * 1000


def _mdy(text: str) -> dt.date:
    m, d, y = (int(p) for p in text.split("/"))
    return dt.date(y, m, d)


def _entry(raw: dict[str, Any]) -> MarketHours:
    segments = {
        day: [(_span_ms(s["start"]), _span_ms(s["end"])) for s in raw.get(day, []) if s.get("state") == "market"]
        for day in _WEEKDAYS
    }
    return MarketHours(
        data_time_zone=raw["dataTimeZone"],
        exchange_time_zone=raw["exchangeTimeZone"],
        market_segments=segments,
        holidays=frozenset(_mdy(h) for h in raw.get("holidays", [])),
        early_closes={_mdy(k): _span_ms(v) for k, v in raw.get("earlyCloses", {}).items()},
    )


@lru_cache(maxsize=4)
def _mhdb(path: Path) -> dict[str, Any]:
    """The database's entries; a file that is not the database's JSON is a :class:`LeanDataError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except json.JSONDecodeError as exc:
        raise LeanDataError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise LeanDataError(path, f"not UTF-8 text (byte {exc.start})") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise LeanDataError(path, 'no "entries" object')
    return entries


_OPTION_UNDERLYING_TYPE = {SecurityType.OPTION: SecurityType.EQUITY, SecurityType.INDEX_OPTION: SecurityType.INDEX}


def _raw_entry(entries: dict[str, Any], sec: SecurityType, market: str, ticker: str) -> dict[str, Any] | None:
    prefix = f"{_MHDB_TYPE[sec]}-{market}-"
    raw: dict[str, Any] | None = entries.get(prefix + ticker.upper()) or entries.get(prefix + "[*]")
    return raw


def _merged(entries: dict[str, Any], sec: SecurityType, market: str, ticker: str) -> MarketHours | None:
    """One entry as LEAN's ``MarketHoursDatabaseJsonConverter`` resolves it: an option entry without
    holidays or early closes takes its underlying's; then the ``[*]`` entry of the same type adds its
    holidays and early closes (``GetUnderlyingEntry``, ``CreateCommonKey``)."""
    raw = _raw_entry(entries, sec, market, ticker)
    if raw is None:
        return None
    entry = _entry(raw)
    holidays, early = set(entry.holidays), dict(entry.early_closes)
    underlying_type = _OPTION_UNDERLYING_TYPE.get(sec)
    if underlying_type is not None:
        from replay.data.paths import option_underlying

        base = _merged(entries, underlying_type, DEFAULT_MARKET[underlying_type], option_underlying(ticker))
        if base is not None:
            holidays = holidays or set(base.holidays)
            early = early or dict(base.early_closes)
    common = entries.get(f"{_MHDB_TYPE[sec]}-{market}-[*]")
    if common is not None:
        shared = _entry(common)
        holidays |= set(shared.holidays)
        early = {**shared.early_closes, **early}
    return MarketHours(entry.data_time_zone, entry.exchange_time_zone, entry.market_segments,
                       frozenset(holidays), early)


def market_hours(
    root: Path, sec: SecurityType, ticker: str, market: str | None = None
) -> MarketHours | None:
    """Entry ``<Type>-<market>-<TICKER>`` or the ``[*]`` wildcard, with holidays and early closes merged
    as LEAN merges them (see :func:`_merged`); None without the database."""
    path = Path(root) / "market-hours" / "market-hours-database.json"
    if not path.is_file():
        return None
    return _cached_hours(path, sec, ticker.upper(), market or DEFAULT_MARKET[sec])


@lru_cache(maxsize=256)
def _cached_hours(path: Path, sec: SecurityType, ticker: str, market: str) -> MarketHours | None:
    entries = _mhdb(path)
    try:
        return _merged(entries, sec, market, ticker)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise LeanDataError(path, f"malformed entry: {reason}", member=f"{_MHDB_TYPE[sec]}-{market}-{ticker}") from None


def data_time_zone(root: Path, sec: SecurityType, ticker: str, market: str | None = None) -> str:
    """Time zone of the minute files' ms-since-midnight column."""
    entry = market_hours(root, sec, ticker, market)
    return entry.data_time_zone if entry else DEFAULT_DATA_ZONE[sec]


@lru_cache(maxsize=4)
def _symbol_properties(path: Path) -> dict[tuple[str, str, str], float]:
    table: dict[tuple[str, str, str], float] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) > 5 and not row[0].startswith("#") and row[0] != "market":
                try:
                    table[(row[0].lower(), row[1].upper(), row[2].lower())] = float(row[5])
                except ValueError:
                    continue
    return table


def contract_multiplier(root: Path, sec: SecurityType, ticker: str, market: str | None = None) -> float:
    """Symbol-properties ``contract_multiplier`` for ticker, else the ``[*]`` row, else a default."""
    path = Path(root) / "symbol-properties" / "symbol-properties-database.csv"
    mkt = (market or DEFAULT_MARKET[sec]).lower()
    if path.is_file():
        table = _symbol_properties(path)
        for sym in (ticker.upper(), "[*]"):
            value = table.get((mkt, sym, sec.value))
            if value is not None:
                return value
    return DEFAULT_MULTIPLIER[sec]
