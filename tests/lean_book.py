"""A bare LEAN-double algorithm with hand-set minute bars, to check the replay's LEAN rules one at a time.

Stated model: a security's cache holds exactly the bars a test gives it (no data folder, US default
exchange hours: 09:30-16:00 equities and equity options, 09:30-16:15 indexes and index options); the
clock moves only when a test calls :meth:`Book.step`, which runs the backtesting brokerage's scan as
LEAN does once per time step.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from replay.engine.algorithm import QCAlgorithm
from replay.engine.lean_types import OptionRight, SecurityType
from replay.engine.market_data import Bar, QuoteBar, TradeBar
from replay.engine.orders import OrderEvent
from replay.engine.securities import Option, Security
from replay.engine.symbols import Symbol, option_symbol


def side(close: float, low: float | None = None, high: float | None = None, open: float | None = None) -> Bar:
    """One side of a quote bar; unspecified fields equal the close."""
    return Bar(close if open is None else open, close if high is None else high, close if low is None else low, close)


class RecordingAlgorithm(QCAlgorithm):
    """A QCAlgorithm that keeps its order events (LEAN calls ``on_order_event`` for each)."""

    def __init__(self) -> None:
        super().__init__()
        self.order_events: list[OrderEvent] = []
        self.assignment_events: list[OrderEvent] = []

    def on_order_event(self, order_event: Any) -> None:
        self.order_events.append(order_event)

    def on_assignment_order_event(self, assignment_event: Any) -> None:
        self.assignment_events.append(assignment_event)


class Book:
    """The algorithm, its clock and helpers to add securities and set their last bars."""

    def __init__(self, when: datetime = datetime(2021, 1, 4, 10, 0), cash: float = 100_000.0,
                 brokerage: Any = None) -> None:
        self.algorithm = RecordingAlgorithm()
        self.algorithm.time = when
        self.algorithm.set_cash(cash)
        if brokerage is not None:
            self.algorithm.set_brokerage_model(brokerage)

    @property
    def now(self) -> datetime:
        return self.algorithm.time

    @property
    def cash(self) -> float:
        return float(self.algorithm.portfolio.cash)

    def equity(self, ticker: str, price: float, spread: float = 0.0) -> Security:
        security = self.algorithm.add_equity(ticker)
        self.trade(security.symbol, price)
        self.quote(security.symbol, price - spread / 2, price + spread / 2)
        return security

    def index(self, ticker: str, price: float) -> Security:
        security = self.algorithm.add_index(ticker)
        self.trade(security.symbol, price)
        return security

    def option(self, underlying: Security, expiry: date, strike: float, right: OptionRight,
               root: str | None = None) -> Option:
        kind = SecurityType.INDEX_OPTION if underlying.type is SecurityType.INDEX else SecurityType.OPTION
        symbol = option_symbol(root or underlying.symbol.value, underlying.symbol, expiry, strike, right, kind)
        return self.algorithm.add_contract(symbol)

    def quote(self, symbol: Symbol, bid: Bar | float | None, ask: Bar | float | None,
              end: datetime | None = None) -> None:
        """The security's last quote bar, ending at ``end`` (default: now, i.e. this time step's bar)."""
        self.algorithm.securities[symbol].cache.seed(quote=QuoteBar(symbol, bid, ask, end_time=end or self.now))

    def trade(self, symbol: Symbol, price: float, end: datetime | None = None) -> None:
        bar = TradeBar(symbol, end or self.now, price, price, price, price, 100)
        self.algorithm.securities[symbol].cache.seed(trade=bar)

    def hold(self, security: Security, quantity: float, average_price: float) -> None:
        """A position as earlier fills would have left it."""
        security.holdings.set_holdings(average_price, quantity)

    def step(self, minutes: int = 1) -> None:
        """The next time step: the clock moves, then the brokerage scans the open orders."""
        self.algorithm.time = self.now + timedelta(minutes=minutes)
        self.algorithm.transactions.scan()
