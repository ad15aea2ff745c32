"""Fast, strict parsing of LEAN's numeric CSV members.

Why not the csv module: a full option chain day (GOOG 2015-12-24) is ~2,200 CSV members and ~280k quote
rows; per-row Python costs seconds. Instead all members of a zip are joined into one byte buffer and
parsed by a single ``numpy.fromstring`` call (~0.2 s for that day). Row -> member bookkeeping is kept as
offsets so any problem can still be reported with path, member and 1-based line number.

Strictness: every line must have exactly ``ncols`` fields; empty fields are allowed only in the
columns listed as nullable (one-sided quotes leave the bid or ask prices empty) and become NaN; the
time column must hold integers. Anything else raises :class:`LeanDataError`.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import numpy.typing as npt

from replay.data.errors import LeanDataError

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

_COMMA = ord(",")
_NEWLINE = ord("\n")


def read_zip(path: Path, accept: Callable[[str], bool] | None = None) -> tuple[list[str], list[bytes]]:
    """Members of a zip as (names, raw bytes), only those ``accept`` ed by name when given (the others are
    not decompressed); a corrupt archive is a :class:`LeanDataError`."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir() and (accept is None or accept(i.filename))]
            return names, [archive.read(n) for n in names]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise LeanDataError(path, f"unreadable zip: {exc}") from exc


@dataclass(frozen=True)
class ParsedMembers:
    """Rows of several members stacked: ``values[offsets[k]:offsets[k+1]]`` came from member k."""

    values: FloatArray  # (rows, ncols)
    offsets: Int64Array  # (members + 1,)


def _normalise(blob: bytes) -> bytes:
    """Drop CR (some index files are CRLF) and trailing blank space; end with exactly one newline."""
    text = blob.replace(b"\r", b"").rstrip(b"\n\t ")
    return text + b"\n" if text else b""


class _Locator:
    """Turns a global row number back into (member, 1-based line) for error messages."""

    def __init__(self, path: Path, names: Sequence[str], offsets: Int64Array):
        self.path, self.names, self.offsets = path, names, offsets

    def error(self, row: int, reason: str) -> LeanDataError:
        k = int(np.searchsorted(self.offsets, row, side="right") - 1)
        return LeanDataError(self.path, reason, self.names[k], row - int(self.offsets[k]) + 1)


def _check_field_counts(buf: bytes, ncols: int, loc: _Locator) -> None:
    raw = np.frombuffer(buf, dtype=np.uint8)
    commas = np.flatnonzero(raw == _COMMA)
    ends = np.flatnonzero(raw == _NEWLINE)
    per_line = np.diff(np.searchsorted(commas, ends), prepend=0)
    bad = np.flatnonzero(per_line != ncols - 1)
    if bad.size:
        row = int(bad[0])
        raise loc.error(row, f"expected {ncols} fields, found {int(per_line[row]) + 1}")


def _fill_empty(buf: bytes) -> bytes:
    """Empty fields -> ``nan`` so the whole buffer is one numeric stream (two passes for ``,,,,``)."""
    buf = buf.replace(b",,", b",nan,").replace(b",,", b",nan,")
    buf = buf.replace(b",\n", b",nan\n").replace(b"\n,", b"\nnan,")
    if buf.startswith(b","):
        buf = b"nan" + buf
    return buf


def _find_unparsable(blobs: Sequence[bytes], loc: _Locator) -> LeanDataError:
    """Slow path, only after a failure: the first field that is not a number."""
    row = 0
    for blob in blobs:
        for line in blob.split(b"\n")[:-1] if blob else []:
            for field in line.split(b","):
                try:
                    if field:
                        float(field)
                except ValueError:
                    return loc.error(row, f"not a number: {field[:40]!r}")
            row += 1
    return LeanDataError(loc.path, "numeric parse failed (location not found)")


def _validate(values: FloatArray, nullable: Sequence[int], loc: _Locator) -> None:
    ncols = values.shape[1]
    required = [c for c in range(ncols) if c not in set(nullable)]
    bad_rows = np.flatnonzero(np.isnan(values[:, required]).any(axis=1))
    if bad_rows.size:
        raise loc.error(int(bad_rows[0]), "empty or NaN value in a required column")
    bad_rows = np.flatnonzero(np.isinf(values).any(axis=1))
    if bad_rows.size:
        raise loc.error(int(bad_rows[0]), "infinite value")
    times = values[:, 0]
    bad_rows = np.flatnonzero(times != np.floor(times))
    if bad_rows.size:
        raise loc.error(int(bad_rows[0]), f"time is not an integer: {times[bad_rows[0]]!r}")


def parse_members(
    path: Path,
    names: Sequence[str],
    blobs: Sequence[bytes],
    ncols: int,
    nullable: Sequence[int] = (),
    pre: Callable[[bytes], bytes] | None = None,
) -> ParsedMembers:
    """Parse numeric CSV members (no header) into one (rows, ncols) float64 block.

    ``pre`` rewrites each member first (the daily reader turns ``YYYYMMDD HH:MM`` into numbers).
    """
    clean = [_normalise(pre(b) if pre else b) for b in blobs]
    counts = np.array([b.count(b"\n") for b in clean], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    loc = _Locator(path, names, offsets)
    buf = b"".join(clean)
    nrows = int(offsets[-1])
    if nrows == 0:
        return ParsedMembers(np.empty((0, ncols)), offsets)
    _check_field_counts(buf, ncols, loc)
    try:
        flat = np.fromstring(_fill_empty(buf).replace(b"\n", b","), dtype=np.float64, sep=",")
    except ValueError:
        raise _find_unparsable(clean, loc) from None
    if flat.size != nrows * ncols:
        raise _find_unparsable(clean, loc)
    values = flat.reshape(nrows, ncols)
    _validate(values, nullable, loc)
    return ParsedMembers(values, offsets)


def parse_zip(
    path: Path,
    ncols: int,
    nullable: Sequence[int] = (),
    accept: Callable[[str], bool] | None = None,
    pre: Callable[[bytes], bytes] | None = None,
) -> tuple[list[str], ParsedMembers]:
    """Read and parse the members of one zip (optionally only those ``accept`` ed by name)."""
    names, blobs = read_zip(path, accept)
    return names, parse_members(path, names, blobs, ncols, nullable, pre)
