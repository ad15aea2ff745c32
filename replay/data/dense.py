"""Dense, aligned (contract x minute) arrays for a runner that walks a day minute by minute.

Grid convention: slot ``j`` of a :class:`MinuteGrid` is the minute bar that STARTS at
``grid.starts[j]`` and is EMITTED at ``grid.ends[j] = starts[j] + 1 min`` (LEAN time). The regular
session grid has 390 slots whose emission times run 09:31 ... 16:00 New York. Every value in slot ``j``
is what a LEAN algorithm would know at ``ends[j]``:

* ``bid``/``ask`` and their sizes: close of the latest quote bar with start <= starts[j], filled
  forward per side (a one-sided bar leaves the other side's previous value, as LEAN's security cache
  does). NaN before the first quote.
* ``last``: close of the latest trade bar (forward filled); ``volume``: volume of the trade bar in
  this very slot (0 if none; not filled forward).
* ``open_interest``: latest snapshot at or before the slot start, including pre-open snapshots
  (LEAN writes them around 06:30 ET).
* ``quote_fresh``: a quote bar started in this slot (False = value is forward filled / stale).

With ``session_only`` (default) quote and trade bars starting before the grid are ignored, matching
LEAN without extended market hours (equity files carry pre-market quotes from 04:00). Bars after the
grid's end are never used. A grid longer than the trading day (e.g. the 390-slot grid on the 13:00
half-day 2015-12-24) simply keeps the last values: build the grid from the real session if that matters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from replay.data.bars import OpenInterest, QuoteBars, TradeBars
from replay.data.chain import ChainSeries
from replay.data.zip_csv import FloatArray, Int64Array
from replay.data.timestamps import MS_PER_DAY, MS_PER_MINUTE, hhmm_ms

BoolArray = npt.NDArray[np.bool_]
_T0 = -2 * MS_PER_DAY  # time keys are shifted by this so negative (UTC-day futures) times sort too
_SPAN = 5 * MS_PER_DAY


@dataclass(frozen=True)
class MinuteGrid:
    """``n`` consecutive one-minute slots starting at ``start_ms`` (ms since New York midnight)."""

    start_ms: int
    n: int

    @classmethod
    def regular(cls) -> MinuteGrid:
        """US regular session: bars 09:30..15:59 start, emitted 09:31..16:00 (390 slots)."""
        return cls(hhmm_ms(9, 30), 390)

    @classmethod
    def between(cls, open_ms: int, close_ms: int) -> MinuteGrid:
        """Session [open, close), e.g. ``between(hhmm_ms(9, 30), hhmm_ms(13))`` for a half day."""
        return cls(open_ms, (close_ms - open_ms) // MS_PER_MINUTE)

    @property
    def starts(self) -> Int64Array:
        return self.start_ms + MS_PER_MINUTE * np.arange(self.n, dtype=np.int64)

    @property
    def ends(self) -> Int64Array:
        """Emission times (LEAN ``EndTime``) of the slots."""
        return self.starts + MS_PER_MINUTE

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.n * MS_PER_MINUTE

    def slot_of_end(self, end_ms: int) -> int:
        """Slot whose emission time is ``end_ms`` (e.g. 09:31 -> 0)."""
        return (end_ms - self.start_ms) // MS_PER_MINUTE - 1


@dataclass(frozen=True)
class DenseChain:
    """Values known at each slot end, shape (n_contracts, grid.n); see module docstring."""

    grid: MinuteGrid
    bid: FloatArray
    ask: FloatArray
    bid_size: FloatArray
    ask_size: FloatArray
    quote_fresh: BoolArray
    last: FloatArray
    volume: Int64Array
    open_interest: FloatArray

    @property
    def mid(self) -> FloatArray:
        return (self.bid + self.ask) / 2.0


def _asof_rows(
    contract: npt.NDArray[np.integer], times: Int64Array, keep: BoolArray, n_contracts: int, grid: MinuteGrid
) -> Int64Array:
    """Row index of the latest kept row with start <= slot start, per (contract, slot); -1 if none."""
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return np.full((n_contracts, grid.n), -1, dtype=np.int64)
    c = contract[rows].astype(np.int64)
    keys = c * _SPAN + (times[rows] - _T0)
    queries = np.arange(n_contracts, dtype=np.int64)[:, None] * _SPAN + (grid.starts - _T0)[None, :]
    pos = np.searchsorted(keys, queries, side="right") - 1
    safe = np.maximum(pos, 0)
    found = (pos >= 0) & (c[safe] == np.arange(n_contracts)[:, None])
    return np.where(found, rows[safe], -1)


def _gather(values: npt.NDArray[np.generic], idx: Int64Array) -> FloatArray:
    out = np.full(idx.shape, np.nan)
    hit = idx >= 0
    out[hit] = values[idx[hit]]
    return out


def _in_grid(times: Int64Array, grid: MinuteGrid, session_only: bool) -> BoolArray:
    lower = times >= grid.start_ms if session_only else np.ones(times.shape, dtype=np.bool_)
    return lower & (times < grid.end_ms)


def _slots(contract: npt.NDArray[np.integer], times: Int64Array, grid: MinuteGrid) -> tuple[Int64Array, Int64Array]:
    inside = (times >= grid.start_ms) & (times < grid.end_ms)
    return contract[inside].astype(np.int64), (times[inside] - grid.start_ms) // MS_PER_MINUTE


def _quotes(dense: dict[str, np.ndarray], q: ChainSeries[QuoteBars], n: int, grid: MinuteGrid, so: bool) -> None:
    b = q.bars
    base = _in_grid(b.times, grid, so)
    for side, price, size in (("bid", b.bid_close, b.bid_size), ("ask", b.ask_close, b.ask_size)):
        idx = _asof_rows(q.contract, b.times, base & ~np.isnan(price), n, grid)
        dense[side], dense[f"{side}_size"] = _gather(price, idx), _gather(size, idx)
    c, s = _slots(q.contract, b.times, grid)
    dense["quote_fresh"][c, s] = True


def _trades(dense: dict[str, np.ndarray], t: ChainSeries[TradeBars], n: int, grid: MinuteGrid, so: bool) -> None:
    b = t.bars
    dense["last"] = _gather(b.close, _asof_rows(t.contract, b.times, _in_grid(b.times, grid, so), n, grid))
    c, s = _slots(t.contract, b.times, grid)
    inside = (b.times >= grid.start_ms) & (b.times < grid.end_ms)
    np.add.at(dense["volume"], (c, s), b.volume[inside])


def _open_interest(dense: dict[str, np.ndarray], oi: ChainSeries[OpenInterest], n: int, grid: MinuteGrid) -> None:
    b = oi.bars
    idx = _asof_rows(oi.contract, b.times, b.times < grid.end_ms, n, grid)
    dense["open_interest"] = _gather(b.open_interest, idx)


def dense_chain(
    n_contracts: int,
    grid: MinuteGrid,
    quotes: ChainSeries[QuoteBars] | None,
    trades: ChainSeries[TradeBars] | None,
    open_interest: ChainSeries[OpenInterest] | None,
    session_only: bool = True,
) -> DenseChain:
    """Aligned arrays for all contracts; a missing tick type leaves its arrays NaN/0/False."""
    shape = (n_contracts, grid.n)
    dense: dict[str, np.ndarray] = {
        name: np.full(shape, np.nan) for name in ("bid", "ask", "bid_size", "ask_size", "last", "open_interest")
    }
    dense["quote_fresh"] = np.zeros(shape, dtype=np.bool_)
    dense["volume"] = np.zeros(shape, dtype=np.int64)
    if quotes is not None:
        _quotes(dense, quotes, n_contracts, grid, session_only)
    if trades is not None:
        _trades(dense, trades, n_contracts, grid, session_only)
    if open_interest is not None:
        _open_interest(dense, open_interest, n_contracts, grid)
    return DenseChain(grid=grid, **dense)


def _single(bars: QuoteBars | TradeBars | OpenInterest | None) -> ChainSeries | None:
    if bars is None:
        return None
    n = len(bars)
    return ChainSeries(np.zeros(n, dtype=np.int32), np.array([0, n], dtype=np.int64), bars)


def dense_security(
    grid: MinuteGrid,
    quotes: QuoteBars | None,
    trades: TradeBars | None,
    open_interest: OpenInterest | None = None,
    session_only: bool = True,
) -> DenseChain:
    """Same arrays for one security (shape (1, grid.n)), e.g. the underlying equity or index."""
    return dense_chain(1, grid, _single(quotes), _single(trades), _single(open_interest), session_only)
