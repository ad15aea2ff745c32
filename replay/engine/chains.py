"""The daily selection of an option chain's contracts (LEAN's ``OptionChainUniverse``) and on-demand chains.

At the start of each trading day D the chain's universe file of the previous trading day is read and
the algorithm's filter run over it (:mod:`replay.engine.universe`); new contracts become securities,
deselected ones leave unless held or with open orders (LEAN never removes those). A day without a
universe file keeps yesterday's selection (LEAN selects only when universe data arrives). Contracts
already expired on D are never selected.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np

from replay.data import LeanDataReader
from replay.data.universe import OptionUniverse
from replay.engine.exchange import DATA_TYPE
from replay.engine.feed import data_ticker
from replay.engine.lean_types import OptionRight, OrderExtensions
from replay.engine.market_data import BaseData
from replay.engine.symbols import Symbol, option_symbol
from replay.engine.universe import OptionFilterUniverse, OptionUniverseRow, apply_filter

_VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "open_interest", "implied_volatility", "delta",
                  "gamma", "vega", "theta", "rho")


def universe_rows(universe: OptionUniverse, canonical: Symbol, day: date) -> tuple[list[OptionUniverseRow], BaseData]:
    """The file's contracts still alive on ``day`` as filter rows, and its underlying row."""
    assert canonical.underlying is not None
    underlying = BaseData(canonical.underlying, datetime.combine(universe.day, datetime.min.time()),
                          universe.underlying.close)
    alive = universe.expiry >= np.datetime64(day, "D")
    columns = {name: getattr(universe, name)[alive].tolist() for name in _VALUE_COLUMNS}
    rows = []
    for i, (expiry, strike, call) in enumerate(zip(universe.expiry[alive].astype(date).tolist(),
                                                   universe.strike[alive].tolist(), universe.is_call[alive].tolist())):
        symbol = option_symbol(canonical.root, canonical.underlying, expiry, float(strike),
                               OptionRight.CALL if call else OptionRight.PUT, canonical.security_type,
                               canonical.style, canonical.market)
        rows.append(OptionUniverseRow(symbol, {name: columns[name][i] for name in _VALUE_COLUMNS}, underlying))
    return rows, underlying


class ChainUniverse:
    """One ``add_option``/``add_index_option`` chain: its filter and current members."""

    def __init__(self, canonical: Any) -> None:
        self.canonical = canonical  # the canonical Option security
        self.members: list[Symbol] = []

    @property
    def symbol(self) -> Symbol:
        symbol: Symbol = self.canonical.symbol
        return symbol

    def select(self, reader: LeanDataReader, day: date, keep: Callable[[Symbol], bool]) -> tuple[list[Symbol], list[Symbol]]:
        """Run the day's selection; returns (added, removed) contract symbols."""
        hours = self.canonical.exchange.hours
        previous = hours.get_previous_trading_day(day).date()
        folder = data_ticker(reader.root, self.symbol, previous)
        universe = reader.universe(DATA_TYPE[self.symbol.security_type], folder, previous)
        alive = [s for s in self.members if s.expiry is not None and s.expiry >= day or keep(s)]
        if universe is None:
            removed = [s for s in self.members if s not in alive]
            self.members = alive
            return [], removed
        rows, underlying = universe_rows(universe, self.symbol, day)
        reference = datetime.combine(day, datetime.min.time())

        def trading_day(when: date) -> date:
            return when if hours.is_date_open(when) else hours.get_next_trading_day(when).date()

        selected = apply_filter(self.canonical.contract_filter, OptionFilterUniverse(rows, underlying, reference,
                                                                                     trading_day))
        chosen = set(selected)
        kept = [s for s in alive if s in chosen or keep(s)]
        added = [s for s in selected if s not in set(kept)]
        removed = [s for s in self.members if s not in set(kept)]
        self.members = kept + added
        return added, removed


def held_or_ordered(algorithm: Any) -> Callable[[Symbol], bool]:
    """LEAN never removes a universe member with holdings or open orders."""
    open_symbols = {o.symbol for o in algorithm.transactions.orders.values() if OrderExtensions.is_open(o.status)}

    def keep(symbol: Symbol) -> bool:
        security = algorithm.securities.get(symbol)
        return symbol in open_symbols or (security is not None and security.holdings.invested)

    return keep
