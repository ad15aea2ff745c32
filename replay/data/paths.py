"""Where LEAN keeps each file, how zip members are named, and which days have data.

Layout (LEAN ``Data/readme.md``)::

    <root>/<type>/<market>/minute/<ticker>/<YYYYMMDD>_<tick>[_<style>].zip   one zip per day
    <root>/<type>/<market>/{daily,hour}/<ticker>.zip                          one zip per ticker
    <root>/{option,indexoption}/<market>/universes/<ticker>/<YYYYMMDD>.csv    chain discovery

Quirks handled here (seen in the sample data):

* ``indexoption/usa/minute/spxw/20210104_{trade,openinterest}_european.zip.zip`` is an ordinary zip
  with a doubled extension. :func:`resolve_minute_zip` falls back to ``<name>.zip`` and says so.
* SPXW (weekly SPX) options live under their own ticker folder ``spxw`` but their underlying is the
  SPX index (``index/usa/minute/spx``); :func:`option_underlying` maps them.
* Future contracts inside a day zip are named by contract month only (``..._trade_201312.csv``),
  not by expiry date.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal

TickType = Literal["trade", "quote", "openinterest"]
TICK_TYPES: tuple[TickType, ...] = ("trade", "quote", "openinterest")
OPTION_STYLES = ("american", "european")


class SecurityType(str, Enum):
    """LEAN's folder name for each asset class we read."""

    EQUITY = "equity"
    INDEX = "index"
    OPTION = "option"
    INDEX_OPTION = "indexoption"
    FUTURE = "future"

    @property
    def is_option(self) -> bool:
        return self in (SecurityType.OPTION, SecurityType.INDEX_OPTION)


# Integer price scale of minute/daily files: stored value / scale = price in dollars (index points for
# indexes, index points per unit for index options). Equities and all options use deci-cents (x10000,
# LEAN `LeanData.OptionUseScaleFactor`); index and future prices are written as plain decimals.
PRICE_SCALE: dict[SecurityType, float] = {
    SecurityType.EQUITY: 10000.0,
    SecurityType.OPTION: 10000.0,
    SecurityType.INDEX_OPTION: 10000.0,
    SecurityType.INDEX: 1.0,
    SecurityType.FUTURE: 1.0,
}

# Strikes in option member names are always strike * 10000, whatever the security type.
STRIKE_SCALE = 10000.0

DEFAULT_MARKET: dict[SecurityType, str] = {
    SecurityType.EQUITY: "usa",
    SecurityType.INDEX: "usa",
    SecurityType.OPTION: "usa",
    SecurityType.INDEX_OPTION: "usa",
    SecurityType.FUTURE: "cme",
}

# Option tickers whose folder name differs from their underlying's (weeklies / PM-settled roots).
_UNDERLYING_OF: dict[str, str] = {"spxw": "spx", "vixw": "vix", "ndxp": "ndx", "rutw": "rut"}


def option_underlying(ticker: str) -> str:
    """Underlying ticker of an option root, e.g. ``spxw`` -> ``spx`` (SPXW options are SPX options)."""
    t = ticker.lower()
    return _UNDERLYING_OF.get(t, t)


def ymd(day: dt.date) -> str:
    """``YYYYMMDD`` as used in every LEAN file name."""
    return day.strftime("%Y%m%d")


def parse_ymd(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _market(sec: SecurityType, market: str | None) -> str:
    return market if market is not None else DEFAULT_MARKET[sec]


def minute_dir(root: Path, sec: SecurityType, ticker: str, market: str | None = None) -> Path:
    return Path(root) / sec.value / _market(sec, market) / "minute" / ticker.lower()


def minute_zip_name(day: dt.date, tick: TickType, style: str | None) -> str:
    suffix = f"_{style}" if style else ""
    return f"{ymd(day)}_{tick}{suffix}.zip"


def minute_zip_candidates(
    root: Path, sec: SecurityType, ticker: str, day: dt.date, tick: TickType, market: str | None = None
) -> list[Path]:
    """Paths to try, in order; the first is the canonical name (reported when all are absent)."""
    folder = minute_dir(root, sec, ticker, market)
    styles: tuple[str | None, ...] = (None,)
    if sec is SecurityType.OPTION:
        styles = OPTION_STYLES  # US equity options are American
    elif sec is SecurityType.INDEX_OPTION:
        styles = OPTION_STYLES[::-1]  # SPX/SPXW are European
    names = [minute_zip_name(day, tick, s) for s in styles]
    return [folder / n for n in names] + [folder / (n + ".zip") for n in names]


@dataclass(frozen=True)
class Resolved:
    """A located file; ``quirk`` explains a non-canonical name when one was needed."""

    path: Path
    quirk: str | None = None


def resolve_minute_zip(
    root: Path, sec: SecurityType, ticker: str, day: dt.date, tick: TickType, market: str | None = None
) -> Resolved | None:
    """Find the day zip, accepting the doubled ``.zip.zip`` extension seen in the SPXW sample."""
    for path in minute_zip_candidates(root, sec, ticker, day, tick, market):
        if path.is_file():
            quirk = "doubled .zip extension" if path.name.endswith(".zip.zip") else None
            return Resolved(path, quirk)
    return None


def bar_zip_path(
    root: Path, sec: SecurityType, ticker: str, resolution: str = "daily", market: str | None = None
) -> Path:
    """Daily or hour file: one zip per ticker holding ``<ticker>.csv``."""
    return Path(root) / sec.value / _market(sec, market) / resolution / f"{ticker.lower()}.zip"


def universe_path(
    root: Path, sec: SecurityType, ticker: str, day: dt.date, market: str | None = None
) -> Path:
    return Path(root) / sec.value / _market(sec, market) / "universes" / ticker.lower() / f"{ymd(day)}.csv"


@dataclass(frozen=True)
class OptionMember:
    """Parsed name of one option contract CSV inside a day zip."""

    day: dt.date
    ticker: str
    tick: str
    style: str
    is_call: bool
    strike_scaled: int  # strike * 10000
    expiry: dt.date


_OPTION_MEMBER = re.compile(
    r"^(\d{8})_([^_]+)_minute_(trade|quote|openinterest)_(american|european)_(call|put)_(\d+)_(\d{8})\.csv$",
    re.IGNORECASE,
)


def parse_option_member(name: str) -> OptionMember | None:
    """``YYYYMMDD_<ticker>_minute_<tick>_<style>_<call|put>_<strike*10000>_<expiry>.csv`` or None."""
    m = _OPTION_MEMBER.match(name)
    if m is None:
        return None
    return OptionMember(
        day=parse_ymd(m[1]),
        ticker=m[2].lower(),
        tick=m[3].lower(),
        style=m[4].lower(),
        is_call=m[5].lower() == "call",
        strike_scaled=int(m[6]),
        expiry=parse_ymd(m[7]),
    )


@dataclass(frozen=True)
class FutureMember:
    """Parsed name of one future contract CSV: contract month, and expiry if the name carries one."""

    day: dt.date
    ticker: str
    tick: str
    contract_month: int  # YYYYMM
    expiry: dt.date | None


_FUTURE_MEMBER = re.compile(
    r"^(\d{8})_([^_]+)_minute_(trade|quote|openinterest)_(\d{6})(?:_(\d{8}))?\.csv$", re.IGNORECASE
)


def parse_future_member(name: str) -> FutureMember | None:
    """``YYYYMMDD_<ticker>_minute_<tick>_<YYYYMM>[_<YYYYMMDD>].csv`` or None."""
    m = _FUTURE_MEMBER.match(name)
    if m is None:
        return None
    return FutureMember(
        day=parse_ymd(m[1]),
        ticker=m[2].lower(),
        tick=m[3].lower(),
        contract_month=int(m[4]),
        expiry=parse_ymd(m[5]) if m[5] else None,
    )


_DAY_ZIP = re.compile(r"^(\d{8})_(trade|quote|openinterest)(?:_(?:american|european))?\.zip(?:\.zip)?$")
_UNIVERSE_CSV = re.compile(r"^(\d{8})\.csv$")


def _dates_in(folder: Path, pattern: re.Pattern[str], tick: str | None) -> list[dt.date]:
    if not folder.is_dir():
        return []
    found: set[dt.date] = set()
    for entry in folder.iterdir():
        m = pattern.match(entry.name)
        if m is None or (tick is not None and m.lastindex and m.lastindex >= 2 and m[2] != tick):
            continue
        found.add(parse_ymd(m[1]))
    return sorted(found)


def available_dates(
    root: Path,
    sec: SecurityType,
    ticker: str,
    start: dt.date,
    end: dt.date,
    tick: TickType | None = None,
    market: str | None = None,
) -> list[dt.date]:
    """Dates in [start, end] for which a minute zip exists (of ``tick`` type, or any type if None).

    This is the only source of truth for "is there data on day D": the runner reports the other days
    as skipped instead of inventing a calendar.
    """
    dates = _dates_in(minute_dir(root, sec, ticker, market), _DAY_ZIP, tick)
    return [d for d in dates if start <= d <= end]


def available_universe_dates(
    root: Path, sec: SecurityType, ticker: str, start: dt.date, end: dt.date, market: str | None = None
) -> list[dt.date]:
    """Dates in [start, end] that have an option universe CSV."""
    folder = Path(root) / sec.value / _market(sec, market) / "universes" / ticker.lower()
    return [d for d in _dates_in(folder, _UNIVERSE_CSV, None) if start <= d <= end]


def weekdays_without_data(start: dt.date, end: dt.date, have: list[dt.date]) -> list[dt.date]:
    """Mon-Fri dates in [start, end] missing from ``have`` (holidays included: we do not guess them)."""
    present = set(have)
    out: list[dt.date] = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in present:
            out.append(day)
        day += dt.timedelta(days=1)
    return out
