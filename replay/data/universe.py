"""Option universe CSVs: the daily chain listing LEAN's backtest chain provider reads.

File ``<type>/usa/universes/<ticker>/<YYYYMMDD>.csv``::

    #expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,delta,gamma,vega,theta,rho
    ,,,747.9300,748.7700,747.8600,748.4000,106129,,,,,,,          <- first row: the underlying
    20151231,450,C,300.0500,...                                   <- one row per contract

Prices are plain decimals (no x10000). Empty fields (often open interest, Greeks) become NaN.

Which file serves trading day D: LEAN's ``BacktestingChainProvider`` asks for universe data *before* D
(the daily bar dated D-1 ends at D) and keeps contracts with expiry >= D. In the sample,
``goog/20151223.csv`` lists the 2015-12-24 expiries, ``goog/20151224.csv`` no longer does; and SPXW
has only ``20201231.csv`` for its 2021-01-04..08 minute data, so 2021-01-05.. have no universe within
the lookback and must fall back to the minute zips (:func:`chain_from_universe` returns None).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Self

import numpy as np
import numpy.typing as npt

from replay.data.zip_csv import FloatArray
from replay.data.errors import DataLog, LeanDataError
from replay.data.paths import SecurityType, universe_path

HEADER = "#expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,delta,gamma,vega,theta,rho"
_NCOLS = 15
_PRICE_COLS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class UnderlyingRow:
    """The underlying's bar as printed in the universe file (unscaled)."""

    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class OptionUniverse:
    """Contracts listed in one universe file; all arrays have one entry per contract."""

    day: dt.date  # date in the file name
    path: Path
    underlying: UnderlyingRow
    expiry: npt.NDArray[np.datetime64]  # datetime64[D]
    strike: FloatArray
    is_call: npt.NDArray[np.bool_]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    open_interest: FloatArray  # NaN when empty
    implied_volatility: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray

    def __len__(self) -> int:
        return int(self.expiry.shape[0])

    def active_on(self, day: dt.date) -> Self:
        """Only the contracts not yet expired on ``day`` (expiry >= day), as LEAN filters them."""
        keep = self.expiry >= np.datetime64(day, "D")
        scalar = {"day", "path", "underlying"}
        cols = {f.name: getattr(self, f.name) for f in fields(self)}
        cols.update({k: v[keep] for k, v in cols.items() if k not in scalar})
        return type(self)(**cols)


def _num(text: str, path: Path, line: int) -> float:
    if text == "":
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise LeanDataError(path, f"not a number: {text[:40]!r}", line=line) from None


def _rows(path: Path) -> list[list[str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LeanDataError(path, f"unreadable: {exc}") from exc
    if not lines or not lines[0].startswith("#expiry"):
        raise LeanDataError(path, "missing '#expiry,...' header", line=1)
    rows = [ln.split(",") for ln in lines[1:]]
    for i, r in enumerate(rows):
        if len(r) != _NCOLS:
            raise LeanDataError(path, f"expected {_NCOLS} fields, found {len(r)}", line=i + 2)
    if not rows or rows[0][0] != "":
        raise LeanDataError(path, "first data row is not the underlying (empty expiry)", line=2)
    return rows


def _contract_fields(path: Path, rows: list[list[str]]) -> tuple[list[dt.date], list[bool], list[list[float]]]:
    expiry, is_call, nums = [], [], []
    for i, r in enumerate(rows, start=3):
        try:
            expiry.append(dt.date(int(r[0][:4]), int(r[0][4:6]), int(r[0][6:8])))
        except ValueError:
            raise LeanDataError(path, f"bad expiry {r[0]!r}", line=i) from None
        if r[2] not in ("C", "P"):
            raise LeanDataError(path, f"bad right {r[2]!r}", line=i)
        is_call.append(r[2] == "C")
        nums.append([_num(x, path, i) for x in [r[1], *r[3:]]])
    return expiry, is_call, nums


def read_option_universe(path: Path, day: dt.date) -> OptionUniverse:
    """Parse one universe CSV (raises :class:`LeanDataError` on malformed content)."""
    rows = _rows(path)
    u = [_num(x, path, 2) for x in rows[0][3:8]]
    expiry, is_call, nums = _contract_fields(path, rows[1:])
    m = np.array(nums, dtype=np.float64).reshape(-1, _NCOLS - 2)
    names = ("strike", *_PRICE_COLS, "open_interest", "implied_volatility", "delta", "gamma", "vega", "theta", "rho")
    cols = {name: m[:, j] for j, name in enumerate(names)}
    return OptionUniverse(
        day=day,
        path=path,
        underlying=UnderlyingRow(*u),
        expiry=np.array(expiry, dtype="datetime64[D]"),
        is_call=np.array(is_call, dtype=np.bool_),
        **cols,
    )


def chain_from_universe(
    root: Path,
    sec: SecurityType,
    ticker: str,
    day: dt.date,
    log: DataLog,
    lookback_weekdays: int = 3,
    market: str | None = None,
) -> OptionUniverse | None:
    """Contracts tradable on ``day`` per the latest universe file dated before it (LEAN semantics).

    Tries the previous ``lookback_weekdays`` weekdays (holidays count: we have no calendar here).
    When none exists the nearest candidate path is logged as missing and None returned.
    """
    candidates: list[Path] = []
    probe = day
    while len(candidates) < lookback_weekdays:
        probe -= dt.timedelta(days=1)
        if probe.weekday() < 5:
            candidates.append(universe_path(root, sec, ticker, probe, market))
            if candidates[-1].is_file():
                return read_option_universe(candidates[-1], probe).active_on(day)
    log.record("missing", candidates[0], f"no {ticker} universe within {lookback_weekdays} weekdays before {day}")
    return None
