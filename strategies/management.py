"""Open Section 9B trades: entry fills, exits (target, stop, 0DTE time exit, close before expiry).

Prices are per share of one unit in LEAN's combo sign (positive = debit). A trade's P&L per share is
``mark - entry`` where ``entry`` is the net filled price and ``mark`` the structure's current net mid
(``sum of q x leg mid``): a credit of 2.00 (entry -2.00) marked at -0.80 has made 1.20.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg

LIVE_STATES = ("working", "open", "closing")


@dataclasses.dataclass(frozen=True)
class ExitRules:
    zero_dte_exit: time
    close_days_before_expiry: int
    close_time: time
    entry_timeout: timedelta


@dataclasses.dataclass
class Trade:
    """One structure from entry order to close; ``fills`` maps order id -> (price, quantity)."""

    intent: OrderIntent
    opened: datetime
    entry_ids: set[int]
    fills: dict[int, tuple[float, float]] = dataclasses.field(default_factory=dict)
    state: str = "working"
    entry_net: float | None = None
    close_ids: set[int] = dataclasses.field(default_factory=set)
    exit_reason: str = ""

    @property
    def strategy(self) -> str:
        return self.intent.strategy

    @property
    def expiry(self) -> date:
        return min(leg.contract.expiry for leg in self.intent.legs if leg.contract is not None)


def mark_net(legs: tuple[OrderLeg, ...], mark: Callable[[ContractSpec], float | None]) -> float | None:
    """Net mid per share of one unit, None when any leg has no usable mark."""
    total = 0.0
    for leg in legs:
        price = mark(leg.contract) if leg.contract is not None else None
        if price is None:
            return None
        total += leg.quantity * price
    return total


def _trading_days_between(today: date, expiry: date) -> int:
    return int(np.busday_count(today, expiry))


class TradeBook:
    """What the algorithm has open from Section 9B, and what to do about it each minute."""

    def __init__(self, rules: ExitRules) -> None:
        self.rules = rules
        self.trades: list[Trade] = []

    def live_strategies(self) -> set[str]:
        return {t.strategy for t in self.trades if t.state in LIVE_STATES}

    def add_entry(self, intent: OrderIntent, order_ids: list[int], now: datetime) -> Trade:
        trade = Trade(intent, now, set(order_ids))
        self.trades.append(trade)
        return trade

    def _owner(self, order_id: int) -> Trade | None:
        return next((t for t in self.trades if order_id in t.entry_ids or order_id in t.close_ids), None)

    def on_fill(self, order_id: int, price: float, quantity: float) -> Trade | None:
        """Record a leg fill; an entry is open once every leg filled, a close is closed likewise."""
        trade = self._owner(order_id)
        if trade is None:
            return None
        trade.fills[order_id] = (price, quantity)
        if trade.state == "working" and trade.entry_ids <= trade.fills.keys():
            units = trade.intent.units
            trade.entry_net = sum(p * q / units for oid, (p, q) in trade.fills.items() if oid in trade.entry_ids)
            trade.state = "open"
        elif trade.state == "closing" and trade.close_ids <= trade.fills.keys():
            trade.state = "closed"
        return trade

    def on_cancel(self, order_id: int) -> None:
        trade = self._owner(order_id)
        if trade is not None and trade.state == "working" and order_id in trade.entry_ids:
            trade.state = "cancelled"
        elif trade is not None and trade.state == "closing" and order_id in trade.close_ids:
            trade.state, trade.close_ids = "open", set()  # the close did not happen: still open

    def stale_entries(self, now: datetime) -> list[Trade]:
        return [t for t in self.trades if t.state == "working" and now - t.opened >= self.rules.entry_timeout]

    def exit_reason(self, trade: Trade, mark: float | None, now: datetime) -> str | None:
        """Why ``trade`` must be closed now, or None (time rules apply even without a mark)."""
        r, intent = self.rules, trade.intent
        zero_dte = trade.expiry == trade.opened.date()
        if zero_dte and now.time() >= r.zero_dte_exit:
            return f"0DTE time exit at {r.zero_dte_exit:%H:%M}"
        if not zero_dte and _trading_days_between(now.date(), trade.expiry) <= r.close_days_before_expiry \
                and now.time() >= r.close_time:
            return f"closing {r.close_days_before_expiry} trading day(s) before expiry {trade.expiry}"
        if mark is None or trade.entry_net is None:
            return None
        pnl = mark - trade.entry_net
        if intent.profit_target is not None and pnl >= intent.profit_target:
            return f"profit target: {pnl:+.2f} >= {intent.profit_target:+.2f} per share"
        if intent.stop_loss is not None and pnl <= intent.stop_loss:
            return f"stop: {pnl:+.2f} <= {intent.stop_loss:+.2f} per share"
        return None

    def closing_intent(self, trade: Trade, reason: str, limit: float, now: datetime) -> OrderIntent:
        """The reverse of the entry at ``limit`` (per share, LEAN sign), reducing only."""
        legs = tuple(dataclasses.replace(leg, quantity=-leg.quantity) for leg in trade.intent.legs)
        return OrderIntent(f"{trade.strategy} exit", legs, trade.intent.units, limit, now,
                           signals=(reason,), reduces_only=True)
