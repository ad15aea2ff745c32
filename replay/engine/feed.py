"""Turns one day of LEAN-format files into the minute slices LEAN would deliver to ``on_data``.

Per subscribed series the feed knows, for every minute of the underlying's regular session, whether a
real bar arrived (fresh) or LEAN would fill the last one forward (``is_fill_forward``), carrying
prices across days as LEAN does. The option chain is filtered once a day with the algorithm's own
filter (weeklies, strikes around the money, expiry window), its contracts are registered as
securities, and each minute's chain holds every filtered contract with a known quote.
The replay steps the regular session only: no extended-hours slices are emitted.
"""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from replay.data import LeanDataReader, MinuteGrid, SecurityType as DataType, TradeBars, chain_dense
from replay.engine import double as ld
from replay.engine.iv import LeanIvModel

DATA_TYPE = {
    ld.SecurityType.EQUITY: DataType.EQUITY, ld.SecurityType.INDEX: DataType.INDEX,
    ld.SecurityType.OPTION: DataType.OPTION, ld.SecurityType.INDEX_OPTION: DataType.INDEX_OPTION,
    ld.SecurityType.FUTURE: DataType.FUTURE,
}


@dataclasses.dataclass
class SeriesDay:
    """One series on the session grid: fresh-bar mask and OHLCV (NaN where no bar), plus quotes."""

    symbol: ld.Symbol
    fresh: npt.NDArray[np.bool_]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    bid: npt.NDArray[np.float64]
    ask: npt.NDArray[np.float64]


def _on_grid(bars: TradeBars | None, grid: MinuteGrid, symbol: ld.Symbol) -> SeriesDay:
    n = grid.n
    arrays = {k: np.full(n, np.nan) for k in ("open", "high", "low", "close", "volume", "bid", "ask")}
    fresh = np.zeros(n, dtype=np.bool_)
    if bars is not None and len(bars):
        slots = (bars.times - grid.start_ms) // 60_000
        keep = (slots >= 0) & (slots < n)
        idx = slots[keep]
        fresh[idx] = True
        for name in ("open", "high", "low", "close"):
            arrays[name][idx] = getattr(bars, name)[keep]
        arrays["volume"][idx] = bars.volume[keep]
    return SeriesDay(symbol, fresh, **arrays)


def third_friday(day: date) -> date:
    first = day.replace(day=1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


class DayFeed:
    """All slices of one trading day, built on demand minute by minute."""

    def __init__(self, day: date, grid: MinuteGrid, series: list[SeriesDay],
                 carried: dict[ld.Symbol, float]) -> None:
        self.day, self.grid, self.series = day, grid, series
        self.carried = carried  # last known close per series, updated as the day is stepped
        self.chain_symbol: ld.Symbol | None = None
        self.contracts: list[ld.OptionContract] = []
        self.quote_arrays: dict[str, npt.NDArray[np.float64]] = {}
        self.contract_index: dict[ld.Symbol, int] = {}
        self.contract_count_with_data = 0

    def time_at(self, slot: int) -> datetime:
        return datetime.combine(self.day, datetime.min.time()) + timedelta(
            milliseconds=int(self.grid.ends[slot]))

    def slice_at(self, slot: int) -> ld.Slice:
        when = self.time_at(slot)
        bars, quotes = [], []
        for s in self.series:
            if s.fresh[slot]:
                bar = ld.TradeBar(s.symbol, when, s.open[slot], s.high[slot], s.low[slot], s.close[slot],
                                  float(s.volume[slot]))
                self.carried[s.symbol] = float(s.close[slot])
                bars.append(bar)
            elif s.symbol in self.carried:
                price = self.carried[s.symbol]
                bars.append(ld.TradeBar(s.symbol, when, price, price, price, price, 0.0, is_fill_forward=True))
            if math.isfinite(s.bid[slot]) or math.isfinite(s.ask[slot]):
                quotes.append(ld.QuoteBar(s.symbol, _or_none(s.bid[slot]), _or_none(s.ask[slot])))
        chains = []
        if self.chain_symbol is not None and self.contracts:
            chains.append(ld.OptionChain(self.chain_symbol, self._chain_at(slot)))
            bars += self._option_trades(slot, when)
            quotes += self._option_quotes(slot)
        return ld.Slice(when, bars=bars, quotes=quotes, chains=chains)

    def _chain_at(self, slot: int) -> list[ld.OptionContract]:
        a = self.quote_arrays
        bid, ask, last = a["bid"][:, slot], a["ask"][:, slot], a["last"][:, slot]
        volume, oi = a["volume"][:, slot], a["open_interest"][:, slot]
        known = np.isfinite(bid) | np.isfinite(ask) | np.isfinite(last)
        out = []
        for i in np.flatnonzero(known):
            contract = self.contracts[i]
            contract.bid_price = float(bid[i]) if math.isfinite(bid[i]) else 0.0
            contract.ask_price = float(ask[i]) if math.isfinite(ask[i]) else 0.0
            contract.last_price = float(last[i]) if math.isfinite(last[i]) else 0.0
            contract.volume = float(volume[i]) if math.isfinite(volume[i]) else 0.0
            contract.open_interest = float(oi[i]) if math.isfinite(oi[i]) else 0.0
            out.append(contract)
        return out

    def _option_quotes(self, slot: int) -> list[ld.QuoteBar]:
        """Quote bars of the contracts quoted in this minute (fresh, not fill-forward)."""
        fresh = self.quote_arrays["fresh"][:, slot]
        bid, ask = self.quote_arrays["bid"][:, slot], self.quote_arrays["ask"][:, slot]
        return [ld.QuoteBar(self.contracts[i].symbol, _or_none(bid[i]), _or_none(ask[i]))
                for i in np.flatnonzero(fresh)]

    def _option_trades(self, slot: int, when: datetime) -> list[ld.TradeBar]:
        """Trade bars of the contracts that traded in this minute (LEAN puts them in ``slice.bars``)."""
        volume, last = self.quote_arrays["volume"][:, slot], self.quote_arrays["last"][:, slot]
        return [ld.TradeBar(self.contracts[i].symbol, when, last[i], last[i], last[i], last[i], float(volume[i]))
                for i in np.flatnonzero(volume > 0)]

    def settlement_price(self, contract: ld.Symbol) -> float | None:
        """The underlying's settlement on this expiry day: the opening print for AM-settled standard
        SPX options, otherwise the day's last real close; None when the day had no such bar."""
        underlying = self.series[0]
        fresh = np.flatnonzero(underlying.fresh)
        if fresh.size == 0:
            return None
        am_settled = contract.security_type is ld.SecurityType.INDEX_OPTION and contract.value[:6].strip() == "SPX"
        return float(underlying.open[fresh[0]] if am_settled else underlying.close[fresh[-1]])

    def quote(self, symbol: ld.Symbol, slot: int) -> tuple[float, float, float] | None:
        """(bid, ask, last) of a chain contract or series at ``slot`` (NaN where unknown)."""
        index = self.contract_index.get(symbol)
        if index is not None:
            a = self.quote_arrays
            return float(a["bid"][index, slot]), float(a["ask"][index, slot]), float(a["last"][index, slot])
        for s in self.series:
            if s.symbol == symbol:
                last = self.carried.get(symbol, float("nan"))
                return float(s.bid[slot]), float(s.ask[slot]), last
        return None


def _or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclasses.dataclass
class Subscriptions:
    """What the algorithm subscribed in ``initialize``, read from the double."""

    underlying: ld.Symbol
    option: ld.Symbol | None
    option_filter: ld.OptionFilterUniverse
    indexes: list[ld.Symbol]
    future: ld.Symbol | None

    @staticmethod
    def from_algorithm(algorithm: Any) -> Subscriptions:
        symbols = list(algorithm.securities._by_symbol)
        options = [s for s in symbols if s.security_type in (ld.SecurityType.OPTION, ld.SecurityType.INDEX_OPTION)]
        option = options[0] if options else None
        recorder = ld.OptionFilterUniverse()
        if option is not None and algorithm.securities[option].filter is not None:
            algorithm.securities[option].filter(recorder)
        underlying = option.underlying if option is not None and option.underlying else symbols[0]
        indexes = [s for s in symbols if s.security_type in (ld.SecurityType.INDEX, ld.SecurityType.EQUITY)
                   and s != underlying]
        futures = [s for s in symbols if s.security_type is ld.SecurityType.FUTURE]
        return Subscriptions(underlying, option, recorder, indexes, futures[0] if futures else None)


class FeedBuilder:
    """Reads each day's files for the subscriptions and assembles a :class:`DayFeed`."""

    def __init__(self, reader: LeanDataReader, algorithm: Any, subscriptions: Subscriptions) -> None:
        self.reader, self.algorithm, self.subs = reader, algorithm, subscriptions
        self.carried: dict[ld.Symbol, float] = {}
        self.iv_model = LeanIvModel(lambda: self.carried.get(self.subs.underlying), lambda: algorithm.time,
                                    algorithm)

    def session(self, day: date) -> MinuteGrid | None:
        sub = self.subs.underlying
        return self.reader.session_grid(DATA_TYPE[sub.security_type], sub.value.lower(), day)

    def build(self, day: date, grid: MinuteGrid) -> DayFeed:
        series = [self._series(self.subs.underlying, day, grid)]
        series += [self._series(symbol, day, grid) for symbol in self.subs.indexes]
        if self.subs.future is not None:
            series.append(self._future(day, grid))
        feed = DayFeed(day, grid, series, self.carried)
        if self.subs.option is not None:
            self._attach_chain(feed, day, grid)
        return feed

    def _series(self, symbol: ld.Symbol, day: date, grid: MinuteGrid) -> SeriesDay:
        minute = self.reader.minute(DATA_TYPE[symbol.security_type], symbol.value.lower(), day)
        series = _on_grid(minute.trades, grid, symbol)
        if minute.quotes is not None:
            dense = minute.dense(grid)
            series.bid, series.ask = dense.bid[0], dense.ask[0]
        return series

    def _future(self, day: date, grid: MinuteGrid) -> SeriesDay:
        """The continuous front contract: the listed contract with the most session volume."""
        symbol = self.subs.future
        assert symbol is not None
        chain = self.reader.future_chain(symbol.value.strip("/").lower(), day)
        if chain is None or chain.trades is None or not len(chain.contracts):
            return _on_grid(None, grid, symbol)
        totals = [int(chain.trades.for_contract(i).volume.sum()) for i in range(len(chain.contracts))]
        front = int(np.argmax(totals))
        return _on_grid(chain.trades.for_contract(front), grid, symbol)

    def _attach_chain(self, feed: DayFeed, day: date, grid: MinuteGrid) -> None:
        option = self.subs.option
        assert option is not None
        ticker = option.value.lstrip("?").lower()
        chain = self.reader.option_chain(ticker, day, DATA_TYPE[option.security_type])
        if chain is None:
            return
        keep = self._filter(chain.contracts, day) & self._listed(chain.contracts, ticker, option, day)
        dense = chain_dense(chain, grid)
        feed.chain_symbol = option
        feed.quote_arrays = {name: getattr(dense, name)[keep].astype(np.float64)
                             for name in ("bid", "ask", "last", "open_interest")}
        feed.quote_arrays["volume"] = dense.volume[keep].astype(np.float64)
        feed.quote_arrays["fresh"] = dense.quote_fresh[keep].astype(np.float64)
        right = {True: ld.OptionRight.CALL, False: ld.OptionRight.PUT}
        contracts = []
        for i in np.flatnonzero(keep):
            expiry = chain.contracts.expiry[i].astype(date)
            symbol = ld.option_symbol(ticker.upper(), option.underlying or self.subs.underlying, expiry,
                                      float(chain.contracts.strike[i]), right[bool(chain.contracts.is_call[i])],
                                      option.security_type)
            self.algorithm.add_contract(symbol, chain.multiplier)
            contract = ld.OptionContract(symbol)
            contract.iv_model = self.iv_model
            contracts.append(contract)
        feed.contracts = contracts
        feed.contract_index = {c.symbol: i for i, c in enumerate(contracts)}
        feed.contract_count_with_data = int(np.isfinite(feed.quote_arrays["bid"]).any(axis=1).sum())

    def _listed(self, contracts: Any, ticker: str, option: ld.Symbol, day: date) -> npt.NDArray[np.bool_]:
        """Contracts LEAN's chain provider lists (the universe file); all of them when it has none.

        Without a universe file LEAN's backtest would list no contracts that day; the replay keeps the
        contracts found in the minute files instead, and says so in the data log.
        """
        universe = self.reader.chain_universe(DATA_TYPE[option.security_type], ticker, day)
        if universe is None:
            self.reader.log.record("quirk", self.reader.root / f"{ticker} {day}",
                                   "no option universe file: chain taken from the minute files")
            return np.ones(len(contracts), dtype=np.bool_)
        listed = {(e, round(k * 10_000), c) for e, k, c in
                  zip(universe.expiry.astype("datetime64[D]").tolist(), universe.strike.tolist(),
                      universe.is_call.tolist())}
        return np.array([(e, round(k * 10_000), c) in listed for e, k, c in
                         zip(contracts.expiry.astype("datetime64[D]").tolist(), contracts.strike.tolist(),
                             contracts.is_call.tolist())], dtype=np.bool_)

    def _reference_price(self, day: date) -> float | None:
        """LEAN selects the day's contracts before the open: the underlying's last known price."""
        known = self.carried.get(self.subs.underlying)
        if known is not None:
            return known
        minute = self.reader.minute(DATA_TYPE[self.subs.underlying.security_type],
                                    self.subs.underlying.value.lower(), day)
        if minute.trades is not None and len(minute.trades):
            return float(minute.trades.open[0])
        return None

    def _filter(self, contracts: Any, day: date) -> npt.NDArray[np.bool_]:
        """The algorithm's option filter: expiry window, weeklies, strikes around the money."""
        calls = dict(self.subs.option_filter.calls)
        keep = np.ones(len(contracts), dtype=np.bool_)
        days = (contracts.expiry - np.datetime64(day, "D")).astype(np.int64)
        low, high = calls.get("expiration", (0, 10_000))
        keep &= (days >= low) & (days <= high)
        if "include_weeklys" not in calls:
            keep &= np.array([e.astype(date) == third_friday(e.astype(date)) for e in contracts.expiry], dtype=bool)
        if "strikes" in calls:
            reference = self._reference_price(day)
            strikes = np.unique(contracts.strike[keep])
            if reference is not None and strikes.size:
                below, above = calls["strikes"]
                atm = int(np.argmin(np.abs(strikes - reference)))
                chosen = strikes[max(0, atm + below): atm + above + 1]
                keep &= np.isin(contracts.strike, chosen)
        return keep | self._held(contracts)

    def _held(self, contracts: Any) -> npt.NDArray[np.bool_]:
        """Contracts the algorithm holds stay subscribed whatever the filter says (as in LEAN)."""
        held = {(h.symbol.expiry, h.symbol.strike, h.symbol.right is ld.OptionRight.CALL)
                for h in self.algorithm.portfolio.values() if h.invested and h.symbol.expiry is not None}
        if not held:
            return np.zeros(len(contracts), dtype=np.bool_)
        return np.array([(e.astype(date), float(k), bool(c)) in held for e, k, c in
                         zip(contracts.expiry, contracts.strike, contracts.is_call)], dtype=np.bool_)
