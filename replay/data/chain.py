"""Whole-chain day readers: every option (or future) contract of one underlying on one day.

A chain day zip holds one CSV per contract; the contract is encoded only in the member name. We read
each tick type (quote, trade, open interest) in one pass (see :mod:`replay.data.zip_csv`), build one
contract table shared by all three, and keep the rows in *long* format sorted by (contract, time)
with CSR-style ``offsets`` so contract ``i``'s rows are ``offsets[i]:offsets[i+1]``. Dense
contract x minute arrays for a minute-by-minute runner are derived from this in
:mod:`replay.data.dense`.

The contract table is the union over the tick types present (GOOG 2015-12-24: 2,192 quoted contracts,
241 traded, 2,058 with open interest; every traded/OI contract is also quoted). Quirk: SPXW 2021-01-04
open interest lists puts at 3820 where quotes and trades have puts at 3800, so that day's union is 15
contracts of which 12 are quoted; use ``quotes.has_rows`` to count quoted contracts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Hashable, Mapping, Sequence, TypeVar

import numpy as np
import numpy.typing as npt

from replay.data.bars import NCOLS, NULLABLE, OpenInterest, QuoteBars, TradeBars, bars_from_values
from replay.data.zip_csv import Int64Array, ParsedMembers, parse_zip
from replay.data.errors import LeanDataError
from replay.data.paths import STRIKE_SCALE, FutureMember, OptionMember, parse_future_member, parse_option_member

T = TypeVar("T", TradeBars, QuoteBars, OpenInterest)
Int32Array = npt.NDArray[np.int32]


@dataclass(frozen=True)
class ChainSeries(Generic[T]):
    """Rows of all contracts of one tick type, sorted by (contract, start time)."""

    contract: Int32Array  # contract index of each row
    offsets: Int64Array  # (n_contracts + 1,) row ranges per contract
    bars: T

    def __len__(self) -> int:
        return int(self.contract.shape[0])

    @property
    def has_rows(self) -> npt.NDArray[np.bool_]:
        """Per contract: does this tick type have any row (e.g. which contracts are quoted)."""
        return np.diff(self.offsets) > 0

    def for_contract(self, i: int) -> T:
        """The bars of contract ``i`` (possibly empty)."""
        return self.bars.take(slice(int(self.offsets[i]), int(self.offsets[i + 1])))


@dataclass(frozen=True)
class OptionContracts:
    """Contract table of an option chain day, ordered by (expiry, calls first, strike)."""

    ticker: str  # option root / folder name, e.g. "spxw"
    underlying: str  # e.g. "spx"
    style: str  # "american" | "european"
    expiry: npt.NDArray[np.datetime64]  # datetime64[D], expiry date (New York)
    strike: npt.NDArray[np.float64]  # unscaled strike price
    strike_scaled: Int64Array  # strike * 10000 exactly as in the file name (exact key)
    is_call: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.expiry.shape[0])

    def find(self, expiry: dt.date, strike: float, is_call: bool) -> int | None:
        """Index of a contract, or None. Strike compared on the exact x10000 integer."""
        key = round(strike * STRIKE_SCALE)
        hit = np.flatnonzero(
            (self.expiry == np.datetime64(expiry, "D")) & (self.strike_scaled == key) & (self.is_call == is_call)
        )
        return int(hit[0]) if hit.size else None


@dataclass(frozen=True)
class FutureContracts:
    """Contract table of a futures chain day, ordered by contract month."""

    ticker: str
    contract_month: Int64Array  # YYYYMM from the member name
    expiry: npt.NDArray[np.datetime64]  # datetime64[D]; NaT when the name carries no expiry (sample data)

    def __len__(self) -> int:
        return int(self.contract_month.shape[0])

    def find(self, contract_month: int) -> int | None:
        hit = np.flatnonzero(self.contract_month == contract_month)
        return int(hit[0]) if hit.size else None


@dataclass(frozen=True)
class OptionChainDay:
    """One day of an option chain; a tick type whose file is missing is None."""

    day: dt.date
    contracts: OptionContracts
    quotes: ChainSeries[QuoteBars] | None
    trades: ChainSeries[TradeBars] | None
    open_interest: ChainSeries[OpenInterest] | None
    multiplier: float  # contract multiplier (100 for equity and SPX/SPXW options)


@dataclass(frozen=True)
class FutureChainDay:
    """One day of a futures chain. Times are ms since New York midnight of ``day`` (file is a UTC day)."""

    day: dt.date
    contracts: FutureContracts
    quotes: ChainSeries[QuoteBars] | None
    trades: ChainSeries[TradeBars] | None
    open_interest: ChainSeries[OpenInterest] | None
    multiplier: float  # e.g. 50 for ES


K = TypeVar("K", bound=Hashable)
M = TypeVar("M", OptionMember, FutureMember)


@dataclass(frozen=True)
class _TickRead(Generic[K]):
    tick: str
    keys: list[K]  # contract key per member
    parsed: ParsedMembers


def _read_tick(
    path: Path, tick: str, day: dt.date, ticker: str, parse: Callable[[str], M | None], key_of: Callable[[M], K],
    wanted: Callable[[K], bool] | None = None,
) -> tuple[_TickRead[K], list[M]]:
    """Parse one chain zip; every member must be a contract of ``ticker``/``tick``/``day``. With ``wanted``
    only the members whose contract key it accepts are read (a malformed name is still an error)."""

    def accept(name: str) -> bool:
        member = parse(name)
        return member is None or wanted is None or wanted(key_of(member))

    names, parsed = parse_zip(path, NCOLS[tick], NULLABLE[tick], accept=accept if wanted is not None else None)
    members: list[M] = []
    for name in names:
        m = parse(name)
        if m is None:
            raise LeanDataError(path, "unrecognised contract member name", member=name)
        if m.day != day or m.tick != tick or m.ticker != ticker.lower():
            raise LeanDataError(path, f"member does not belong to {ticker} {tick} {day:%Y%m%d}", member=name)
        members.append(m)
    return _TickRead(tick, [key_of(m) for m in members], parsed), members


def _series(read: _TickRead[K], index: Mapping[K, int], n: int, day: dt.date, zone: str, scale: float) -> ChainSeries:
    counts = np.diff(read.parsed.offsets)
    contract = np.repeat(np.array([index[k] for k in read.keys], dtype=np.int32), counts)
    bars = bars_from_values(read.tick, read.parsed.values, day, zone, scale)
    order = np.lexsort((bars.times, contract))
    contract = contract[order]
    offsets = np.searchsorted(contract, np.arange(n + 1), side="left").astype(np.int64)
    return ChainSeries(contract, offsets, bars.take(order))


def _assemble(
    reads: Sequence[_TickRead[K]], sort_key: Callable[[K], tuple], day: dt.date, zone: str, scale: float
) -> tuple[list[K], dict[str, ChainSeries]]:
    keys = sorted({k for r in reads for k in r.keys}, key=sort_key)
    index = {k: i for i, k in enumerate(keys)}
    return keys, {r.tick: _series(r, index, len(keys), day, zone, scale) for r in reads}


OptionKey = tuple[dt.date, bool, int]  # (expiry, is_call, strike_scaled)


def _option_key(m: OptionMember) -> OptionKey:
    return (m.expiry, m.is_call, m.strike_scaled)


def read_option_chain(
    paths: Mapping[str, Path],
    day: dt.date,
    ticker: str,
    underlying: str,
    zone: str,
    scale: float,
    multiplier: float,
    wanted: Callable[[OptionKey], bool] | None = None,
) -> OptionChainDay:
    """Read the quote/trade/openinterest zips given in ``paths`` (tick -> path) for one chain day; with
    ``wanted`` only the contracts it accepts (keys ``(expiry, is_call, strike x 10000)``)."""
    pairs = [_read_tick(p, t, day, ticker, parse_option_member, _option_key, wanted) for t, p in paths.items()]
    reads = [r for r, _ in pairs]
    styles = sorted({m.style for _, members in pairs for m in members})
    if len(styles) > 1:
        raise LeanDataError(next(iter(paths.values())), f"mixed option styles {styles} on {day}")
    keys, series = _assemble(reads, lambda k: (k[0], not k[1], k[2]), day, zone, scale)
    contracts = OptionContracts(
        ticker=ticker.lower(),
        underlying=underlying,
        style=styles[0] if styles else "",
        expiry=np.array([k[0] for k in keys], dtype="datetime64[D]"),
        strike=np.array([k[2] for k in keys], dtype=np.float64) / STRIKE_SCALE,
        strike_scaled=np.array([k[2] for k in keys], dtype=np.int64),
        is_call=np.array([k[1] for k in keys], dtype=np.bool_),
    )
    return OptionChainDay(
        day, contracts, series.get("quote"), series.get("trade"), series.get("openinterest"), multiplier
    )


FutureKey = tuple[int, dt.date | None]  # (contract month YYYYMM, expiry if named)


def _future_key(m: FutureMember) -> FutureKey:
    return (m.contract_month, m.expiry)


def read_future_chain(
    paths: Mapping[str, Path], day: dt.date, ticker: str, zone: str, scale: float, multiplier: float
) -> FutureChainDay:
    """Read the futures quote/trade/openinterest zips of one (UTC) day."""
    reads = [_read_tick(p, t, day, ticker, parse_future_member, _future_key)[0] for t, p in paths.items()]
    keys, series = _assemble(reads, lambda k: (k[0], k[1] or dt.date.min), day, zone, scale)
    contracts = FutureContracts(
        ticker=ticker.lower(),
        contract_month=np.array([k[0] for k in keys], dtype=np.int64),
        expiry=np.array([k[1] if k[1] else "NaT" for k in keys], dtype="datetime64[D]"),
    )
    return FutureChainDay(
        day, contracts, series.get("quote"), series.get("trade"), series.get("openinterest"), multiplier
    )
