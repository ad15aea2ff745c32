"""One trading day of every subscription as arrays, and the slices LEAN would build from them.

A :class:`DayBlock` holds, for each subscribed security (a row) and each minute of the day (a slot,
stamped at the bar's *end* as LEAN emits it), the real trade bar, the real quote bar (bid and ask OHLC
and sizes, either side may be missing) and the open interest in force. Only bars that start inside the
row's own regular session are kept (no extended hours). From those the block answers:

* the security cache's questions (last real trade/quote bar, last bid/ask) at the current slot;
* what a slice holds at a slot: a row has a trade (quote) bar when a real one arrived or, as LEAN's
  ``FillForwardEnumerator`` does, when an earlier one exists (today or carried from an earlier day) and
  the row's exchange is open: then a copy of that bar re-stamped and flagged ``is_fill_forward``;
* each option chain's contracts with data in the slice (``OptionContract`` fields from that data).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from replay.data import LeanDataReader, SecurityType as DataType
from replay.data.bars import OpenInterest as OiColumns, QuoteBars, TradeBars
from replay.data.factor_files import factor_rows, price_scale
from replay.data.map_files import mapped_ticker, resolve_permtick
from replay.data.paths import STRIKE_SCALE
from replay.engine.exchange import DATA_TYPE
from replay.engine.lean_types import DataNormalizationMode, OptionRight, SecurityType
from replay.engine.market_data import (
    MINUTE, Bar, BaseData, DataDictionary, KeyValuePair, OpenInterest, OptionChain, OptionContract, QuoteBar, TradeBar)
from replay.engine.symbols import Symbol

MS_PER_MINUTE = 60_000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TRADE_FIELDS = ("t_open", "t_high", "t_low", "t_close", "t_volume")
QUOTE_FIELDS = ("b_open", "b_high", "b_low", "b_close", "b_size", "a_open", "a_high", "a_low", "a_close", "a_size")


def _asof(fresh: BoolArray) -> IntArray:
    """Per row and slot, the last slot at or before it with a fresh bar (-1 if none today)."""
    if fresh.size == 0:
        return np.full(fresh.shape, -1, dtype=np.int64)
    marks = np.where(fresh, np.arange(fresh.shape[1], dtype=np.int64)[None, :], -1)
    return np.maximum.accumulate(marks, axis=1)


def _take(values: FloatArray, asof: IntArray, carried: FloatArray) -> FloatArray:
    """``values`` at each row's as-of slot, or the carried value where there is none today."""
    rows = np.arange(values.shape[0])[:, None]
    picked = values[rows, np.maximum(asof, 0)]
    return np.where(asof >= 0, picked, carried[:, None])


class DayBlock:
    """All subscriptions of one day on one minute grid (see the module docstring)."""

    def __init__(self, day: date, start_ms: int, slots: int, securities: list[Any]) -> None:
        self.day, self.start_ms, self.n = day, start_ms, slots
        midnight = datetime.combine(day, datetime.min.time())
        self.ends = [midnight + timedelta(milliseconds=start_ms + (j + 1) * MS_PER_MINUTE) for j in range(slots)]
        self.rows = list(securities)
        self.index = {s.symbol: i for i, s in enumerate(self.rows)}
        shape = (len(self.rows), slots)
        self.session = np.zeros(shape, dtype=np.bool_)
        self.t_fresh = np.zeros(shape, dtype=np.bool_)
        self.q_fresh = np.zeros(shape, dtype=np.bool_)
        self.arrays: dict[str, FloatArray] = {name: np.full(shape, np.nan) for name in TRADE_FIELDS + QUOTE_FIELDS}
        self.oi = np.full(shape, np.nan)
        self.slot = -1
        self._memo: dict[tuple[str, int, int], Any] = {}

    # --- loading -----------------------------------------------------------------------------------

    def slots_of(self, start_times: IntArray) -> IntArray:
        return (start_times - self.start_ms) // MS_PER_MINUTE

    def put_trades(self, row: int, bars: TradeBars, rows: IntArray | None = None) -> None:
        self._put(row, bars.times, rows, "t", [bars.open, bars.high, bars.low, bars.close, bars.volume.astype(float)])

    def put_quotes(self, row: int, bars: QuoteBars, rows: IntArray | None = None) -> None:
        self._put(row, bars.times, rows, "q", [bars.bid_open, bars.bid_high, bars.bid_low, bars.bid_close,
                                                 bars.bid_size.astype(float), bars.ask_open, bars.ask_high,
                                                 bars.ask_low, bars.ask_close, bars.ask_size.astype(float)])

    def _put(self, row: int, times: IntArray, rows: IntArray | None, kind: str, columns: list[FloatArray]) -> None:
        """Scatter bars into the arrays; ``rows`` gives a row per bar (a chain), else all go to ``row``."""
        slots = self.slots_of(times)
        target = np.full(times.shape, row, dtype=np.int64) if rows is None else rows
        inside = (slots >= 0) & (slots < self.n) & (target >= 0)
        r, s = target[inside], slots[inside]
        keep = self.session[r, s]  # only bars that start inside the row's own session
        r, s = r[keep], s[keep]
        names = TRADE_FIELDS if kind == "t" else QUOTE_FIELDS
        for name, column in zip(names, columns):
            self.arrays[name][r, s] = column[inside][keep]
        (self.t_fresh if kind == "t" else self.q_fresh)[r, s] = True

    def put_open_interest(self, row: int, data: OiColumns, rows: IntArray | None = None) -> None:
        """Open interest in force from the first slot ending at or after each snapshot (pre-open ones from slot 0)."""
        target = np.full(data.times.shape, row, dtype=np.int64) if rows is None else rows
        first = np.ceil((data.times - self.start_ms) / MS_PER_MINUTE).astype(np.int64) - 1
        first = np.clip(first, 0, None)
        ok = (first < self.n) & (target >= 0)
        order = np.argsort(data.times[ok], kind="stable")
        for r, s, value in zip(target[ok][order].tolist(), first[ok][order].tolist(),
                               data.open_interest[ok][order].tolist()):
            self.oi[r, s:] = float(value)

    def scale_row(self, row: int, factor: float) -> None:
        """``Extensions.Scale`` of an adjusted equity's bars: prices times the factor, volumes and quote
        sizes divided by it (rounded half to even, as .NET's ``Math.Round``)."""
        if factor == 1.0:
            return
        a = self.arrays
        for name in TRADE_FIELDS + QUOTE_FIELDS:
            if name in ("t_volume", "b_size", "a_size"):
                a[name][row] = np.round(a[name][row] / factor)
            else:
                a[name][row] = a[name][row] * factor

    def start_after(self, row: int, since: datetime) -> None:
        """A subscription added at ``since`` (mid-day) has no data ending at or before that time: LEAN's
        reader for a new subscription starts at the current time."""
        cut = (int((since - self.ends[0]).total_seconds() * 1000) // MS_PER_MINUTE) + 1
        if cut <= 0:
            return
        cut = min(cut, self.n)
        self.t_fresh[row, :cut] = False
        self.q_fresh[row, :cut] = False
        self.oi[row, :cut] = np.nan

    def copy_missing_sides(self, carried_quote: list[QuoteBar | None], fill_forward: list[bool]) -> None:
        """``QuoteBarFillForwardEnumerator``: on a fill-forward subscription a quote bar without a bid (ask)
        takes the previous quote bar's bid (ask) bar, sizes excepted; the previous bar may be yesterday's."""
        a = self.arrays
        rows = np.array(fill_forward, dtype=np.bool_)[:, None]
        for prefix, ask in (("b", False), ("a", True)):
            names = [f"{prefix}_{field}" for field in ("open", "high", "low", "close")]
            present = self.q_fresh & np.isfinite(a[names[3]])
            missing = self.q_fresh & ~present & rows
            if not missing.any():
                continue
            source = _asof(present)
            for name, field in zip(names, ("open", "high", "low", "close")):
                carried = np.array([np.nan if q is None or (q.ask if ask else q.bid) is None
                                    else getattr(q.ask if ask else q.bid, field) for q in carried_quote])
                a[name] = np.where(missing, _take(a[name], source, carried), a[name])

    # --- derived arrays ----------------------------------------------------------------------------

    def finish(self, carried_trade: list[TradeBar | None], carried_quote: list[QuoteBar | None],
               carried_oi: list[float]) -> None:
        """As-of indices, fill-forward presence and the per-slot values chains read."""
        a = self.arrays
        self.asof_t, self.asof_q = _asof(self.t_fresh), _asof(self.q_fresh)
        bid_ok = self.q_fresh & np.isfinite(a["b_close"]) & (a["b_close"] != 0)
        ask_ok = self.q_fresh & np.isfinite(a["a_close"]) & (a["a_close"] != 0)
        self.asof_bid, self.asof_ask = _asof(bid_ok), _asof(ask_ok)
        had_trade = np.array([b is not None for b in carried_trade], dtype=np.bool_)[:, None]
        had_quote = np.array([b is not None for b in carried_quote], dtype=np.bool_)[:, None]
        self.has_t = self.session & ((self.asof_t >= 0) | had_trade)
        self.has_q = self.session & ((self.asof_q >= 0) | had_quote)
        carried_oi_arr = np.array(carried_oi, dtype=np.float64)
        self.oi = np.where(np.isfinite(self.oi), self.oi, carried_oi_arr[:, None])
        self.has_oi = self.session & np.isfinite(self.oi)
        self.has_any = self.has_t | self.has_q | self.has_oi
        self.carried_trade, self.carried_quote = carried_trade, carried_quote

        def carried(values: list[float | None]) -> FloatArray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        def side(bar: QuoteBar | None, ask: bool, size: bool) -> float | None:
            if bar is None:
                return None
            part = bar.ask if ask else bar.bid
            if part is None:
                return 0.0
            return (bar.last_ask_size if ask else bar.last_bid_size) if size else part.close

        self.last_close = _take(a["t_close"], self.asof_t, carried([b.close if b else None for b in carried_trade]))
        self.volume_now = np.where(self.t_fresh, np.nan_to_num(a["t_volume"]), 0.0)
        quote_values = {}
        for name, ask, size in (("b_close", False, False), ("a_close", True, False), ("b_size", False, True),
                                ("a_size", True, True)):
            quote_values[name] = _take(a[name], self.asof_q, carried([side(b, ask, size) for b in carried_quote]))
        self.bid_now, self.ask_now = quote_values["b_close"], quote_values["a_close"]
        self.bid_size_now, self.ask_size_now = quote_values["b_size"], quote_values["a_size"]

    # --- bars ------------------------------------------------------------------------------------------

    def _trade_at(self, row: int, slot: int, end: datetime, fill_forward: bool) -> TradeBar:
        a = self.arrays
        return TradeBar(self.rows[row].symbol, end, float(a["t_open"][row, slot]), float(a["t_high"][row, slot]),
                        float(a["t_low"][row, slot]), float(a["t_close"][row, slot]),
                        0.0 if fill_forward else float(a["t_volume"][row, slot]), fill_forward)

    def _quote_at(self, row: int, slot: int, end: datetime, fill_forward: bool) -> QuoteBar:
        a = self.arrays

        def side(prefix: str) -> Bar | None:
            close = float(a[f"{prefix}_close"][row, slot])
            if close != close:  # NaN: no such side
                return None
            return Bar(float(a[f"{prefix}_open"][row, slot]), float(a[f"{prefix}_high"][row, slot]),
                       float(a[f"{prefix}_low"][row, slot]), close)

        bid_size, ask_size = float(a["b_size"][row, slot]), float(a["a_size"][row, slot])
        return QuoteBar(self.rows[row].symbol, side("b"), side("a"), fill_forward, end,
                        bid_size if bid_size == bid_size else 0.0, ask_size if ask_size == ask_size else 0.0)

    def last_trade(self, row: int) -> TradeBar | None:
        if self.slot < 0:
            return None
        slot = int(self.asof_t[row, self.slot])
        if slot < 0:
            return None
        key = ("t", row, slot)
        if key not in self._memo:
            self._memo[key] = self._trade_at(row, slot, self.ends[slot], False)
        bar: TradeBar = self._memo[key]
        return bar

    def last_quote(self, row: int) -> QuoteBar | None:
        if self.slot < 0:
            return None
        slot = int(self.asof_q[row, self.slot])
        if slot < 0:
            return None
        key = ("q", row, slot)
        if key not in self._memo:
            self._memo[key] = self._quote_at(row, slot, self.ends[slot], False)
        bar: QuoteBar = self._memo[key]
        return bar

    def last_side(self, row: int, side: str) -> tuple[float, float] | None:
        if self.slot < 0:
            return None
        asof = self.asof_bid if side == "bid" else self.asof_ask
        slot = int(asof[row, self.slot])
        if slot < 0:
            return None
        prefix = "b" if side == "bid" else "a"
        return float(self.arrays[f"{prefix}_close"][row, slot]), float(np.nan_to_num(self.arrays[f"{prefix}_size"][row, slot]))

    def last_open_interest(self, row: int) -> OpenInterest | None:
        if self.slot < 0:
            return None
        value = self.oi[row, self.slot]
        return OpenInterest(self.rows[row].symbol, self.ends[self.slot], float(value)) if np.isfinite(value) else None

    def slice_trade(self, row: int, slot: int) -> TradeBar:
        """The row's trade bar in the slice at ``slot``: today's real bar, or a fill-forward copy (built from
        the arrays only when its prices are read)."""
        end = self.ends[slot]
        if self.t_fresh[row, slot]:
            return BlockTradeBar(self, row, slot, end, False)
        last = int(self.asof_t[row, slot])
        if last >= 0:
            return BlockTradeBar(self, row, last, end, True)
        bar = self.carried_trade[row]
        assert bar is not None
        copy = TradeBar.__new__(TradeBar)  # a fill-forward copy of an earlier day's bar (fields as __init__ sets)
        copy.__dict__.update(bar.__dict__, end_time=end, period=MINUTE, volume=0.0, is_fill_forward=True)
        return copy

    def slice_quote(self, row: int, slot: int) -> QuoteBar:
        """The row's quote bar in the slice at ``slot`` (built from the arrays only when its prices are read)."""
        end = self.ends[slot]
        if self.q_fresh[row, slot]:
            return BlockQuoteBar(self, row, slot, end, False)
        last = int(self.asof_q[row, slot])
        if last >= 0:
            return BlockQuoteBar(self, row, last, end, True)
        bar = self.carried_quote[row]
        assert bar is not None
        return QuoteBar(bar.symbol, bar.bid, bar.ask, True, end, bar.last_bid_size, bar.last_ask_size)


class BlockTradeBar(TradeBar):
    """A trade bar of the block read from the arrays on first use of its prices (see :class:`BlockQuoteBar`)."""

    def __init__(self, block: DayBlock, row: int, source_slot: int, end: datetime, fill_forward: bool) -> None:
        self._block, self._row, self._source = block, row, source_slot
        self._prices: tuple[float, float, float, float, float] | None = None
        self.symbol, self.end_time, self.period = block.rows[row].symbol, end, MINUTE
        self.is_fill_forward = fill_forward

    def _load(self) -> tuple[float, float, float, float, float]:
        if self._prices is None:
            bar = self._block._trade_at(self._row, self._source, self.end_time, self.is_fill_forward)
            self._prices = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        return self._prices

    @property
    def open(self) -> float:  # type: ignore[override]
        return self._load()[0]

    @property
    def high(self) -> float:  # type: ignore[override]
        return self._load()[1]

    @property
    def low(self) -> float:  # type: ignore[override]
        return self._load()[2]

    @property
    def close(self) -> float:  # type: ignore[override]
        return self._load()[3]

    @property
    def value(self) -> float:  # type: ignore[override]
        return self._load()[3]

    @property
    def volume(self) -> float:  # type: ignore[override]
        return self._load()[4]


class BlockQuoteBar(QuoteBar):
    """A quote bar of the block whose bid and ask bars are read from the arrays on first use (a slice can
    hold hundreds of contracts' bars of which an algorithm often reads only ``is_fill_forward``)."""

    def __init__(self, block: DayBlock, row: int, source_slot: int, end: datetime, fill_forward: bool) -> None:
        self._block, self._row, self._source = block, row, source_slot
        self._sides: tuple[Bar | None, Bar | None, float, float] | None = None
        self.symbol, self.end_time, self.period = block.rows[row].symbol, end, MINUTE
        self.is_fill_forward = fill_forward

    def _load(self) -> tuple[Bar | None, Bar | None, float, float]:
        if self._sides is None:
            full = self._block._quote_at(self._row, self._source, self.end_time, self.is_fill_forward)
            self._sides = (full.bid, full.ask, full.last_bid_size, full.last_ask_size)
        return self._sides

    @property
    def bid(self) -> Bar | None:  # type: ignore[override]
        return self._load()[0]

    @property
    def ask(self) -> Bar | None:  # type: ignore[override]
        return self._load()[1]

    @property
    def last_bid_size(self) -> float:  # type: ignore[override]
        return self._load()[2]

    @property
    def last_ask_size(self) -> float:  # type: ignore[override]
        return self._load()[3]

    @property
    def value(self) -> float:  # type: ignore[override]
        return self.close


class BlockBars(DataDictionary[Any]):
    """``slice.bars`` / ``slice.quote_bars`` of one slot, built from the block on access."""

    def __init__(self, block: DayBlock, slot: int, quotes: bool) -> None:
        super().__init__()
        self._block, self._slot, self._quotes = block, slot, quotes
        self._index = block.index
        self._mask = (block.has_q if quotes else block.has_t)[:, slot]
        self._has: list[bool] = self._mask.tolist()
        self._fresh: list[bool] = (block.q_fresh if quotes else block.t_fresh)[:, slot].tolist()
        self._asof: list[int] = (block.asof_q if quotes else block.asof_t)[:, slot].tolist()
        self._made: list[Any] = [None] * len(self._has)

    def _row(self, symbol: Any) -> int | None:
        row = self._index.get(symbol)
        return row if row is not None and self._has[row] else None

    def _value(self, row: int) -> Any:
        bar = self._made[row]
        if bar is None:
            block, last = self._block, self._asof[row]
            if last < 0:  # only a bar from an earlier day: fill it forward
                bar = block.slice_quote(row, self._slot) if self._quotes else block.slice_trade(row, self._slot)
            else:
                kind = BlockQuoteBar if self._quotes else BlockTradeBar
                bar = kind(block, row, last, block.ends[self._slot], not self._fresh[row])
            self._made[row] = bar
        return bar

    def contains_key(self, symbol: Any) -> bool:
        row = self._index.get(symbol)
        return row is not None and self._has[row]

    def __contains__(self, symbol: object) -> bool:
        row = self._index.get(symbol)
        return row is not None and self._has[row]

    def __getitem__(self, symbol: Any) -> Any:
        row = self._index.get(symbol)
        if row is None or not self._has[row]:
            raise KeyError(f"'{symbol}' wasn't found in the {'QuoteBars' if self._quotes else 'TradeBars'} object")
        bar = self._made[row]
        return bar if bar is not None else self._value(row)

    def get(self, symbol: Any, default: Any = None) -> Any:
        row = self._row(symbol)
        return self._value(row) if row is not None else default

    def try_get_value(self, symbol: Any) -> tuple[bool, Any]:
        row = self._row(symbol)
        return (True, self._value(row)) if row is not None else (False, None)

    def _present(self) -> list[int]:
        return np.flatnonzero(self._mask).tolist()

    def keys(self) -> list[Symbol]:
        return [self._block.rows[r].symbol for r in self._present()]

    def values(self) -> list[Any]:
        return [self._value(r) for r in self._present()]

    def items(self) -> list[tuple[Symbol, Any]]:
        return [(self._block.rows[r].symbol, self._value(r)) for r in self._present()]

    @property
    def count(self) -> int:
        return int(self._mask.sum())

    def __len__(self) -> int:
        return int(self._mask.sum())

    def __iter__(self) -> Iterator[KeyValuePair[Any]]:
        return (KeyValuePair(self._block.rows[r].symbol, self._value(r)) for r in self._present())


class SliceContract(OptionContract):
    """An ``OptionContract`` of a slice's chain: the fields ``OptionContract.__init__`` sets, from the
    block's arrays, without its argument handling (hundreds of contracts a minute)."""

    def __init__(self, symbol: Symbol, bid: float, ask: float, last: float, bid_size: float, ask_size: float,
                 volume: float, open_interest: float, spot: float, time: datetime,
                 iv_model: Callable[[OptionContract], float] | None) -> None:
        self.symbol, self.bid_price, self.ask_price, self.last_price = symbol, bid, ask, last
        self.bid_size, self.ask_size, self.volume, self.open_interest = bid_size, ask_size, volume, open_interest
        self.underlying_last_price, self.time = spot, time
        self._implied_volatility, self.iv_model, self._greeks = 0.0, iv_model, None


class BlockChain(OptionChain):
    """``slice.option_chains[canonical]``: the chain's rows with any data at the slot, built on access."""

    def __init__(self, block: DayBlock, canonical: Symbol, rows: IntArray, slot: int, underlying: BaseData | None,
                 iv_model: Callable[[OptionContract], float] | None) -> None:
        present = rows[block.has_any[rows, slot]]
        super().__init__(canonical, [], underlying, block.ends[slot])
        self._block, self._rows, self._slot, self._iv = block, present, slot, iv_model
        self._built = False

    def _build(self) -> None:
        if self._built:
            return
        b, rows, slot = self._block, self._rows, self._slot
        last = np.nan_to_num(b.last_close[rows, slot]).tolist()
        volume = b.volume_now[rows, slot].tolist()
        bid = np.nan_to_num(b.bid_now[rows, slot]).tolist()
        ask = np.nan_to_num(b.ask_now[rows, slot]).tolist()
        bid_size = np.nan_to_num(b.bid_size_now[rows, slot]).tolist()
        ask_size = np.nan_to_num(b.ask_size_now[rows, slot]).tolist()
        oi = np.nan_to_num(b.oi[rows, slot]).tolist()
        has_t, has_q, has_oi = b.has_t[rows, slot].tolist(), b.has_q[rows, slot].tolist(), b.has_oi[rows, slot].tolist()
        spot = float(self.underlying.price) if self.underlying is not None else 0.0
        end = b.ends[slot]
        contracts: list[OptionContract] = []
        iv, securities = self._iv, b.rows
        for i, row in enumerate(rows.tolist()):
            quoted, traded = has_q[i], has_t[i]
            contracts.append(SliceContract(
                securities[row].symbol, bid[i] if quoted else 0.0, ask[i] if quoted else 0.0,
                last[i] if traded else 0.0, bid_size[i] if quoted else 0.0, ask_size[i] if quoted else 0.0,
                volume[i] if traded else 0.0, oi[i] if has_oi[i] else 0.0, spot, end, iv))
        self._contracts = contracts
        self._built = True

    @property
    def contracts(self) -> DataDictionary[OptionContract]:
        self._build()
        return DataDictionary({c.symbol: c for c in self._contracts})

    def contains_key(self, symbol: Symbol) -> bool:
        row = self._block.index.get(symbol)
        return row is not None and row in set(self._rows.tolist())

    def __iter__(self) -> Iterator[OptionContract]:
        self._build()
        return iter(self._contracts)

    def __len__(self) -> int:
        return int(self._rows.size)

    def __bool__(self) -> bool:
        return bool(self._rows.size)


# --- loading a day ------------------------------------------------------------------------------------

def data_ticker(root: Any, symbol: Symbol, day: date) -> str:
    """The data folder of a security on ``day``: the map-file ticker of an equity (or of an equity
    option's underlying), the option root of an index option, the ticker otherwise."""
    if symbol.security_type is SecurityType.EQUITY:
        return mapped_ticker(root, symbol.value, day, symbol.market)
    if symbol.security_type is SecurityType.OPTION and symbol.underlying is not None:
        return mapped_ticker(root, symbol.underlying.value, day, symbol.market)
    if symbol.security_type is SecurityType.INDEX_OPTION:
        return symbol.root.lower()
    if symbol.security_type is SecurityType.FUTURE:
        return symbol.root.lstrip("/").lower()
    return symbol.value.lower()


def equity_price_scale(root: Any, symbol: Symbol, mode: DataNormalizationMode, day: date) -> float:
    """The factor an equity's prices of ``day`` are multiplied by under ``mode`` (raw: 1;
    ``PriceScaleFactorEnumerator`` with the factor file of the symbol's map file)."""
    if mode is DataNormalizationMode.RAW:
        return 1.0
    permtick = resolve_permtick(root, symbol.value, symbol.market) or symbol.value
    rows = factor_rows(root, permtick, symbol.market)
    return price_scale(rows, day, split_only=mode is DataNormalizationMode.SPLIT_ADJUSTED)


def contract_key(symbol: Symbol) -> tuple[date, bool, int]:
    assert symbol.expiry is not None and symbol.strike is not None
    return symbol.expiry, symbol.right is OptionRight.CALL, int(round(symbol.strike * STRIKE_SCALE))


def build_day(reader: LeanDataReader, day: date, securities: list[Any]) -> DayBlock | None:
    """Read ``day`` for every security (each inside its own session); None when none is open that day."""
    sessions = [s.exchange.hours.session(day) for s in securities]
    open_sessions = [x for x in sessions if x is not None]
    if not open_sessions:
        return None
    midnight = datetime.combine(day, datetime.min.time())

    def ms(moment: datetime) -> int:
        return int((moment - midnight).total_seconds() * 1000)

    start = min(ms(x[0]) for x in open_sessions)
    end = max(ms(x[1]) for x in open_sessions)
    block = DayBlock(day, start, (end - start) // MS_PER_MINUTE, securities)
    for row, session in enumerate(sessions):
        if session is not None:
            first, last = (ms(session[0]) - start) // MS_PER_MINUTE, (ms(session[1]) - start) // MS_PER_MINUTE
            block.session[row, first:last] = True
    options: dict[tuple[DataType, str], list[int]] = {}
    for row, security in enumerate(securities):
        if sessions[row] is None:
            continue
        kind = security.symbol.security_type
        if kind in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
            options.setdefault((DATA_TYPE[kind], data_ticker(reader.root, security.symbol, day)), []).append(row)
        elif kind in (SecurityType.EQUITY, SecurityType.INDEX):
            minute = reader.minute(DATA_TYPE[kind], data_ticker(reader.root, security.symbol, day), day)
            if minute.trades is not None:
                block.put_trades(row, minute.trades)
            if minute.quotes is not None:
                block.put_quotes(row, minute.quotes)
            if kind is SecurityType.EQUITY:
                block.scale_row(row, equity_price_scale(reader.root, security.symbol, security.data_normalization_mode,
                                                        day))
        elif kind is SecurityType.FUTURE:
            _load_continuous_future(reader, block, row, security, day)
    for (data_type, folder), rows in options.items():
        keys = {contract_key(securities[r].symbol): r for r in rows}
        chain = reader.option_chain(folder, day, data_type, wanted=keys.__contains__)
        if chain is None:
            continue
        contracts = chain.contracts
        row_of = np.array([keys.get((e.astype(date), bool(c), int(k)), -1) for e, c, k in
                           zip(contracts.expiry, contracts.is_call, contracts.strike_scaled)], dtype=np.int64)
        if chain.trades is not None:
            block.put_trades(-1, chain.trades.bars, row_of[chain.trades.contract])
        if chain.quotes is not None:
            block.put_quotes(-1, chain.quotes.bars, row_of[chain.quotes.contract])
        if chain.open_interest is not None:
            block.put_open_interest(-1, chain.open_interest.bars, row_of[chain.open_interest.contract])
    for row, security in enumerate(securities):
        block.start_after(row, security.subscribed_since)
    caches = [s.cache for s in securities]
    block.copy_missing_sides([c.carried_quote() for c in caches], [bool(s.fill_forward) for s in securities])
    block.finish([c.carried_trade() for c in caches], [c.carried_quote() for c in caches],
                 [c.carried_open_interest() for c in caches])
    return block


def _load_continuous_future(reader: LeanDataReader, block: DayBlock, row: int, security: Any, day: date) -> None:
    """The continuous contract's bars: the listed contract with the most session volume that day (the
    replay's stand-in for LEAN's open-interest mapping); ``security.mapped`` names it."""
    root = security.symbol.root.lstrip("/").lower()
    chain = reader.future_chain(root, day)
    if chain is None or chain.trades is None or not len(chain.contracts):
        return
    totals = [int(chain.trades.for_contract(i).volume.sum()) for i in range(len(chain.contracts))]
    front = int(np.argmax(totals))
    block.put_trades(row, chain.trades.for_contract(front))
    month = int(chain.contracts.contract_month[front])
    security.mapped = Symbol(f"{root.upper()}{month}", SecurityType.FUTURE, market=security.symbol.market)
