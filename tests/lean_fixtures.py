"""Builders for LEAN-double slices used by the main.py tests (synthetic, stated model: fixed quotes)."""
from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd

from replay.engine import double as ld


def spx_contract(algorithm: object, expiry: date, strike: float, right: ld.OptionRight,
                 bid: float, ask: float, volume: float = 0.0, greeks: ld.Greeks | None = None
                 ) -> ld.OptionContract:
    """A SPXW contract registered as a security (as LEAN's universe does) with the given quote."""
    underlying = algorithm.underlying_symbol  # type: ignore[attr-defined]
    symbol = ld.option_symbol("SPXW", underlying, expiry, strike, right)
    algorithm.add_contract(symbol)  # type: ignore[attr-defined]
    return ld.OptionContract(symbol, bid_price=bid, ask_price=ask, last_price=(bid + ask) / 2,
                             volume=volume, open_interest=100, implied_volatility=0.2, greeks=greeks)


def bar_slice(algorithm: object, when: datetime, spx: float | None = None, vix: float | None = None,
              contracts: list[ld.OptionContract] | None = None, fill_forward: bool = False,
              trades: list[tuple[ld.OptionContract, float, bool]] | None = None,
              fresh_quotes: bool = True, spy: float | None = None) -> ld.Slice:
    """A minute slice; ``trades`` are option trade bars (contract, volume, is_fill_forward): as in LEAN a
    fill-forward bar carries no volume (``TradeBar.Clone(fillForward)`` zeroes it) and a traded contract's
    chain volume is its bar's; the contracts' quotes are fresh quote bars unless ``fresh_quotes`` is False
    (LEAN fill-forward); ``spy`` a bar of the beta reference."""
    bars = [ld.TradeBar(c.symbol, when, c.last_price, c.last_price, c.last_price, c.last_price,
                        0.0 if ff else volume, is_fill_forward=ff) for c, volume, ff in trades or []]
    for contract, volume, ff in trades or []:
        contract.volume = 0.0 if ff else volume
    if spx is not None:
        bars.append(ld.TradeBar(algorithm.underlying_symbol, when, spx, spx, spx, spx,  # type: ignore[attr-defined]
                                is_fill_forward=fill_forward))
    if vix is not None:
        bars.append(ld.TradeBar(algorithm.vix_symbol, when, vix, vix, vix, vix))  # type: ignore[attr-defined]
    if spy is not None:  # the beta reference, whose shares are the unit of book delta
        bars.append(ld.TradeBar(algorithm.beta_symbol, when, spy, spy, spy, spy))  # type: ignore[attr-defined]
    chains = []
    if contracts is not None:
        chains.append(ld.OptionChain(algorithm.option_symbol, contracts))  # type: ignore[attr-defined]
    quotes = [ld.QuoteBar(c.symbol, c.bid_price, c.ask_price, is_fill_forward=not fresh_quotes, end_time=when)
              for c in contracts or []]
    return ld.Slice(when, bars=bars, quotes=quotes, chains=chains)


def hold(algorithm: object, symbol: ld.Symbol, quantity: float, average_price: float = 0.0) -> None:
    """Give the algorithm a position, as fills would have (the double's portfolio keeps holdings per security)."""
    algorithm.securities[symbol].holdings.set_holdings(average_price, quantity)  # type: ignore[attr-defined]


class DailyHistory:
    """A history source serving daily bars from a table, in LEAN's frame shape ((symbol, time) index, bars
    ending at the 16:00 close); a stand-in for the data folder in main.py tests."""

    def __init__(self, bars: dict[ld.Symbol, list[tuple[date, float, float, float, float, float]]]) -> None:
        self.bars = bars

    def request(self, args: tuple, kwargs: dict) -> pd.DataFrame:
        symbol, periods, resolution = args[0], args[1], args[2] if len(args) > 2 else kwargs.get("resolution")
        rows = []
        if resolution is ld.Resolution.DAILY and isinstance(periods, int):
            rows = [(datetime.combine(d, time(16, 0)), o, h, lo, c, v) for d, o, h, lo, c, v in self.bars.get(symbol, [])]
            rows = rows[-periods:]
        index = pd.MultiIndex.from_arrays([[symbol] * len(rows), [r[0] for r in rows]], names=["symbol", "time"])
        return pd.DataFrame([r[1:] for r in rows], columns=["open", "high", "low", "close", "volume"], index=index)
