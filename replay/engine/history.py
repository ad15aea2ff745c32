"""``algorithm.history``: past bars from the LEAN data folder as LEAN's pandas frames.

Frames are indexed by (symbol, time) with the bar's *end* time, as LEAN's Python history is; columns
are LEAN's lowercase names (``open high low close volume`` for trade bars, ``bidclose askclose ...``
for quote bars, ``openinterest``). Supported requests (everything else raises ``NotImplementedInDouble``):

* ``history(symbol(s), n, Resolution.DAILY)``: the last n daily bars ending before today
  (daily files; LEAN ends a daily bar at the close: 16:00 New York);
* ``history(symbol(s), n | timedelta, Resolution.MINUTE)`` (the default resolution): minute trade
  bars of the regular session ending at or before now;
* ``history(TradeBar | QuoteBar | OpenInterest, symbol(s), n | timedelta, resolution)``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from replay.data import LeanDataError, LeanDataReader, OpenInterest as OiColumns, QuoteBars, TradeBars
from replay.engine.exchange import DATA_TYPE
from replay.engine.feed import contract_key, data_ticker, equity_price_scale
from replay.engine.lean_types import DataNormalizationMode, NotImplementedInDouble, Resolution, SecurityType
from replay.engine.market_data import OpenInterest, QuoteBar, TradeBar
from replay.engine.symbols import Symbol, as_symbol

TRADE_COLUMNS = ["open", "high", "low", "close", "volume"]
QUOTE_COLUMNS = ["askclose", "askhigh", "asklow", "askopen", "asksize", "bidclose", "bidhigh", "bidlow", "bidopen",
                 "bidsize", "close", "high", "low", "open"]
_MAX_LOOKBACK_DAYS = 3660


class History:
    """Reads history for one algorithm (its clock, securities and data folder)."""

    def __init__(self, algorithm: Any, reader: LeanDataReader) -> None:
        self.algorithm, self.reader = algorithm, reader
        self._days: dict[tuple[Symbol, date, str], list[tuple[Any, ...]]] = {}
        self.failure: LeanDataError | None = None  # the first malformed file a request met

    def request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> pd.DataFrame:
        """The frame of one ``history`` call. A malformed file raises as LEAN would, and is also kept in
        :attr:`failure`: an algorithm that catches every error (main.py halts its trading) must not hide
        bad data from the run's result."""
        try:
            return self._request(args, kwargs)
        except LeanDataError as exc:
            self.failure = self.failure or exc
            raise

    def _request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> pd.DataFrame:
        items = list(args)
        data_type: type = TradeBar
        if items and isinstance(items[0], type):
            data_type = items.pop(0)
        if not items:
            raise TypeError("history needs symbols")
        symbols_arg = items.pop(0)
        span = items.pop(0) if items else kwargs.get("periods", kwargs.get("span"))
        resolution = items.pop(0) if items else kwargs.get("resolution")
        symbols = [as_symbol(s) for s in (symbols_arg if isinstance(symbols_arg, (list, tuple)) else [symbols_arg])]
        if resolution is None:
            resolution = Resolution.MINUTE
        if span is None:
            raise NotImplementedInDouble("LEAN double's history needs a bar count or a time span")
        frames = [self._one(data_type, s, span, resolution) for s in symbols]
        frames = [f for f in frames if not f.empty]
        if not frames:
            columns = ["openinterest"] if data_type is OpenInterest else TRADE_COLUMNS
            return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_arrays([[], []], names=["symbol", "time"]))
        return pd.concat(frames)

    def _one(self, data_type: type, symbol: Symbol, span: Any, resolution: Resolution) -> pd.DataFrame:
        now: datetime = self.algorithm.time
        if resolution is Resolution.DAILY and data_type is TradeBar:
            return self._daily(symbol, span, now)
        if resolution is not Resolution.MINUTE:
            raise NotImplementedInDouble(f"LEAN double's history reads minute and daily data, not {resolution.name}")
        if data_type is OpenInterest:
            kind, columns = "openinterest", ["openinterest"]
        elif data_type is QuoteBar:
            kind, columns = "quote", QUOTE_COLUMNS
        elif data_type is TradeBar:
            kind, columns = "trade", TRADE_COLUMNS
        else:
            raise NotImplementedInDouble(f"LEAN double's history does not read {getattr(data_type, '__name__', data_type)}")
        rows: list[tuple[Any, ...]] = []
        if isinstance(span, timedelta):
            start = now - span
            day = now.date()
            while day >= start.date():
                rows = [r for r in self._minute_day(symbol, day, kind) if start < r[0] <= now] + rows
                day -= timedelta(days=1)
        else:
            wanted, day, looked = int(span), now.date(), 0
            while len(rows) < wanted and looked < _MAX_LOOKBACK_DAYS:
                rows = [r for r in self._minute_day(symbol, day, kind) if r[0] <= now] + rows
                day, looked = day - timedelta(days=1), looked + 1
            rows = rows[-wanted:]
        index = pd.MultiIndex.from_arrays([[symbol] * len(rows), [r[0] for r in rows]], names=["symbol", "time"])
        return pd.DataFrame([r[1:] for r in rows], columns=columns, index=index)

    def _daily(self, symbol: Symbol, periods: Any, now: datetime) -> pd.DataFrame:
        if not isinstance(periods, int):
            raise NotImplementedInDouble("LEAN double's daily history takes a bar count")
        bars = self.reader.daily(DATA_TYPE[symbol.security_type], data_ticker(self.reader.root, symbol, now.date()))
        rows = []
        if bars is not None:
            for d, o, h, lo, c, v in zip(bars.dates.astype(date).tolist(), bars.open.tolist(), bars.high.tolist(),
                                         bars.low.tolist(), bars.close.tolist(), bars.volume.tolist()):
                if d < now.date():
                    f = self._scale(symbol, d)
                    rows.append((datetime.combine(d, time(16, 0)), o * f, h * f, lo * f, c * f,
                                 float(round(v / f))))
        rows = rows[-periods:]
        index = pd.MultiIndex.from_arrays([[symbol] * len(rows), [r[0] for r in rows]], names=["symbol", "time"])
        return pd.DataFrame([r[1:] for r in rows], columns=TRADE_COLUMNS, index=index)

    def _scale(self, symbol: Symbol, day: date) -> float:
        """Equities: the price factor of ``day`` in the security's normalization mode (LEAN's default,
        adjusted, for an equity the algorithm has not added)."""
        if symbol.security_type is not SecurityType.EQUITY:
            return 1.0
        security = self.algorithm.securities.get(symbol)
        mode = security.data_normalization_mode if security is not None else DataNormalizationMode.ADJUSTED
        return equity_price_scale(self.reader.root, symbol, mode, day)

    def _minute_day(self, symbol: Symbol, day: date, kind: str) -> list[tuple[Any, ...]]:
        key = (symbol, day, kind)
        if key not in self._days:
            self._days[key] = self._read_minute_day(symbol, day, kind)
        return self._days[key]

    def _read_minute_day(self, symbol: Symbol, day: date, kind: str) -> list[tuple[Any, ...]]:
        security = self.algorithm.securities.get(symbol)
        hours = security.exchange.hours if security is not None else None
        session = hours.session(day) if hours is not None else None
        if session is None:
            return []
        midnight = datetime.combine(day, datetime.min.time())
        open_ms = int((session[0] - midnight).total_seconds() * 1000)
        close_ms = int((session[1] - midnight).total_seconds() * 1000)
        ticker = data_ticker(self.reader.root, symbol, day)
        if symbol.security_type in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
            key = contract_key(symbol)
            chain = self.reader.option_chain(ticker, day, DATA_TYPE[symbol.security_type], wanted=key.__eq__)
            if chain is None or not len(chain.contracts):
                return []
            series: Any = {"trade": chain.trades, "quote": chain.quotes, "openinterest": chain.open_interest}[kind]
            bars: TradeBars | QuoteBars | OiColumns | None = series.for_contract(0) if series is not None else None
        elif symbol.security_type in (SecurityType.EQUITY, SecurityType.INDEX):
            if kind == "openinterest":
                return []
            minute = self.reader.minute(DATA_TYPE[symbol.security_type], ticker, day)
            bars = minute.trades if kind == "trade" else minute.quotes
        else:
            raise NotImplementedInDouble(f"LEAN double's history does not read {symbol.security_type.name} data")
        if bars is None or not len(bars):
            return []
        if isinstance(bars, OiColumns):
            return [(midnight + timedelta(milliseconds=int(t)), float(v))
                    for t, v in zip(bars.times.tolist(), bars.open_interest.tolist())]
        keep = (bars.times >= open_ms) & (bars.times < close_ms)
        ends = [midnight + timedelta(milliseconds=int(t) + 60_000) for t in bars.times[keep].tolist()]
        f = self._scale(symbol, day)
        if isinstance(bars, TradeBars):
            cols = [bars.open * f, bars.high * f, bars.low * f, bars.close * f, np.round(bars.volume / f)]
            return list(zip(ends, *[c[keep].tolist() for c in cols]))
        bid = [bars.bid_close * f, bars.bid_high * f, bars.bid_low * f, bars.bid_open * f, np.round(bars.bid_size / f)]
        ask = [bars.ask_close * f, bars.ask_high * f, bars.ask_low * f, bars.ask_open * f, np.round(bars.ask_size / f)]
        mid = [np.where(np.isnan(a) | np.isnan(b), np.where(np.isnan(a), b, a), (a + b) / 2)
               for a, b in ((bars.ask_close, bars.bid_close), (bars.ask_high, bars.bid_high),
                            (bars.ask_low, bars.bid_low), (bars.ask_open, bars.bid_open))]
        return list(zip(ends, *[c[keep].tolist() for c in ask + bid + mid]))
