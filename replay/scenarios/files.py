"""Byte-deterministic writers for LEAN's on-disk files, used by the built-in scenarios.

Why a module of its own: scenario output must be identical bytes for the same scenario name (tests
compare two writes), so every zip member gets a fixed timestamp and permission bits, members are
written in a fixed order, and numbers are formatted with fixed rules (integers for the x10000 price
columns, ``%.2f`` for unscaled index and futures prices, fixed decimals in universe files).

Layout and names follow LEAN (see :mod:`replay.data.paths`, which reads them back):

* ``<type>/<market>/minute/<ticker>/<YYYYMMDD>_<tick>[_european].zip`` with members
  ``<YYYYMMDD>_<ticker>_minute_<tick>.csv`` (index), ``..._<tick>_<YYYYMM>.csv`` (futures) or
  ``..._<tick>_european_<call|put>_<strike*10000>_<expiry>.csv`` (index options);
* ``<type>/<market>/daily/<ticker>.zip`` holding ``<ticker>.csv``;
* ``indexoption/usa/universes/<ticker>/<YYYYMMDD>.csv``.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from replay.data.paths import ymd

#: Timestamp of every zip member (the zip format's epoch): file bytes must not depend on the clock.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: Deflate level: 6 (zlib's default) is ~2x slower than 1 here for ~8% smaller files; 1 keeps a
#: 5-day scenario well inside its time budget.
ZIP_LEVEL = 6

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def int_rows(values: Int64Array) -> str:
    """Integer matrix -> CSV text, one line per row (``%d`` formatting is the fastest pure path)."""
    rows, cols = values.shape
    if rows == 0:
        return ""
    line = ",".join(["%d"] * cols) + "\n"
    return (line * rows) % tuple(values.ravel().tolist())


def mixed_rows(times: Int64Array, prices: FloatArray, counts: Int64Array) -> str:
    """``ms,p1..pn,c1..cm`` rows: prices as ``%.2f`` (index and futures points), counts as integers."""
    rows = times.shape[0]
    if rows == 0:
        return ""
    line = ",".join(["%d"] + ["%.2f"] * prices.shape[1] + ["%d"] * counts.shape[1]) + "\n"
    cells = np.concatenate([times[:, None].astype(object), prices.astype(object), counts.astype(object)], axis=1)
    return (line * rows) % tuple(cells.ravel().tolist())


def write_zip(path: Path, members: Iterable[tuple[str, str]]) -> int:
    """Write ``(member name, text)`` pairs in the given order; returns the zip's size in bytes."""
    buffer = io.BytesIO()  # built in memory: thousands of small members, one file write
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, text.encode("ascii"), compresslevel=ZIP_LEVEL)
    return write_bytes(path, buffer.getvalue())


def write_bytes(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def write_text(path: Path, text: str) -> int:
    return write_bytes(path, text.encode("ascii"))


# --- LEAN names ---------------------------------------------------------------------------------------


def single_minute_zip(root: Path, sec: str, ticker: str, day: dt.date, tick: str, text: str
                      ) -> tuple[Path, list[tuple[str, str]]]:
    """(path, members) of an equity/index minute zip holding ``<day>_<ticker>_minute_<tick>.csv``."""
    path = root / sec / "usa" / "minute" / ticker / f"{ymd(day)}_{tick}.zip"
    return path, [(f"{ymd(day)}_{ticker}_minute_{tick}.csv", text)]


def daily_zip(root: Path, sec: str, market: str, ticker: str) -> tuple[Path, str]:
    return root / sec / market / "daily" / f"{ticker}.zip", f"{ticker}.csv"


def option_zip(root: Path, ticker: str, day: dt.date, tick: str) -> Path:
    return root / "indexoption" / "usa" / "minute" / ticker / f"{ymd(day)}_{tick}_european.zip"


def option_member(ticker: str, day: dt.date, tick: str, is_call: bool, strike: float, expiry: dt.date) -> str:
    right = "call" if is_call else "put"
    return f"{ymd(day)}_{ticker}_minute_{tick}_european_{right}_{round(strike * 10000)}_{ymd(expiry)}.csv"


def future_zip(root: Path, ticker: str, day: dt.date, tick: str) -> Path:
    return root / "future" / "cme" / "minute" / ticker / f"{ymd(day)}_{tick}.zip"


def future_member(ticker: str, day: dt.date, tick: str, contract_month: int) -> str:
    return f"{ymd(day)}_{ticker}_minute_{tick}_{contract_month}.csv"


def universe_csv(root: Path, ticker: str, day: dt.date) -> Path:
    return root / "indexoption" / "usa" / "universes" / ticker / f"{ymd(day)}.csv"


def daily_rows(days: Sequence[dt.date], ohlc: FloatArray, volume: Int64Array) -> str:
    """LEAN daily rows ``YYYYMMDD 00:00,o,h,l,c,v`` with unscaled two-decimal prices."""
    return "".join(
        f"{ymd(d)} 00:00,{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{int(v)}\n"
        for d, (o, h, lo, c), v in zip(days, ohlc.tolist(), volume.tolist())
    )
