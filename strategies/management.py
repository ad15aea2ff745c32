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

LIVE_STATES = ("working", "cancelling", "open", "closing")


@dataclasses.dataclass(frozen=True)
class ExitRules:
    zero_dte_exit: time
    close_days_before_expiry: int
    close_time: time
    entry_timeout: timedelta


@dataclasses.dataclass
class Trade:
    """One structure from entry order to close.

    ``fills`` maps order id -> (average price, filled quantity so far); ``done`` holds the order ids
    that are completely filled (partial fills accumulate until then)."""

    intent: OrderIntent
    opened: datetime
    entry_ids: set[int]
    fills: dict[int, tuple[float, float]] = dataclasses.field(default_factory=dict)
    done: set[int] = dataclasses.field(default_factory=set)
    state: str = "working"
    entry_net: float | None = None
    close_ids: set[int] = dataclasses.field(default_factory=set)
    close_sent: datetime | None = None
    close_attempts: int = 0
    exit_reason: str = ""
    refused_in: str = ""  # the automation state in which the exit was refused (not retried there)

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
        self._early: dict[int, list[tuple[float, float, bool]]] = {}  # fills seen before add_entry

    def live_strategies(self) -> set[str]:
        return {t.strategy for t in self.trades if t.state in LIVE_STATES}

    def add_entry(self, intent: OrderIntent, order_ids: list[int], now: datetime) -> Trade:
        trade = Trade(intent, now, set(order_ids))
        self.trades.append(trade)
        for order_id in order_ids:  # live fills can arrive before the submitting call returned
            for price, quantity, complete in self._early.pop(order_id, []):
                self.on_fill(order_id, price, quantity, complete)
        return trade

    def entries_today(self, strategy: str, day: date) -> int:
        return sum(1 for t in self.trades if t.strategy == strategy and t.opened.date() == day)

    def _owner(self, order_id: int) -> Trade | None:
        return next((t for t in self.trades if order_id in t.entry_ids or order_id in t.close_ids), None)

    def on_fill(self, order_id: int, price: float, quantity: float, complete: bool = True) -> Trade | None:
        """Record a (partial) leg fill; an entry is open once every leg is completely filled, a close
        is closed likewise. ``quantity`` is this event's fill, as in LEAN's order events."""
        trade = self._owner(order_id)
        if trade is None:
            self._early.setdefault(order_id, []).append((price, quantity, complete))
            return None
        old_price, old_qty = trade.fills.get(order_id, (0.0, 0.0))
        total = old_qty + quantity
        trade.fills[order_id] = ((old_price * old_qty + price * quantity) / total if total else 0.0, total)
        if complete:
            trade.done.add(order_id)
        if trade.state in ("working", "cancelling") and trade.entry_ids <= trade.done:
            units = trade.intent.units
            trade.entry_net = sum(p * q / units for oid, (p, q) in trade.fills.items() if oid in trade.entry_ids)
            trade.state = "open"
        elif trade.state == "closing" and trade.close_ids <= trade.done:
            trade.state = "closed"
        return trade

    def on_invalid(self, order_id: int) -> Trade | None:
        """A rejected entry fails; a rejected close leaves the trade open to be tried again."""
        trade = self._owner(order_id)
        if trade is not None and trade.state == "working" and order_id in trade.entry_ids:
            trade.state = "failed"
        elif trade is not None and trade.state == "closing" and order_id in trade.close_ids:
            trade.state, trade.close_ids = "open", set()
        return trade

    def stale_closes(self, now: datetime) -> list[Trade]:
        """Closes still working after the entry timeout: cancel and send again at the natural price."""
        return [t for t in self.trades if t.state == "closing" and t.close_sent is not None
                and now - t.close_sent >= self.rules.entry_timeout]

    def reconcile(self, held: dict[ContractSpec, float]) -> list[Trade]:
        """Open trades none of whose legs are still held (closed by hand, settled, assigned): closed."""
        gone = [t for t in self.trades if t.state == "open"
                and all(held.get(leg.contract, 0.0) == 0 for leg in t.intent.legs if leg.contract is not None)]
        for trade in gone:
            trade.state, trade.exit_reason = "closed", trade.exit_reason or "no longer held"
        return gone

    def on_cancel(self, order_id: int) -> None:
        trade = self._owner(order_id)
        if trade is not None and trade.state in ("working", "cancelling") and order_id in trade.entry_ids:
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

    @staticmethod
    def realized_pnl_per_share(trade: Trade) -> float | None:
        """Closed by its exit order: credit/debit of the entry and of the close, per share of one unit."""
        if trade.entry_net is None or not trade.close_ids or not trade.close_ids <= trade.done:
            return None
        exit_net = sum(p * q / trade.intent.units for oid, (p, q) in trade.fills.items() if oid in trade.close_ids)
        return -(trade.entry_net + exit_net)

    @staticmethod
    def settled_pnl_per_share(trade: Trade, settlement: float) -> float | None:
        """Held to expiry: the structure is worth its intrinsic value at ``settlement``."""
        if trade.entry_net is None:
            return None
        value = 0.0
        for leg in trade.intent.legs:
            if leg.contract is None:
                return None
            k = leg.contract.strike
            value += leg.quantity * (max(settlement - k, 0.0) if leg.contract.is_call else max(k - settlement, 0.0))
        return value - trade.entry_net

    def closing_intent(self, trade: Trade, reason: str, limit: float, now: datetime) -> OrderIntent:
        """The reverse of the entry at ``limit`` (per share, LEAN sign), reducing only."""
        legs = tuple(dataclasses.replace(leg, quantity=-leg.quantity) for leg in trade.intent.legs)
        return OrderIntent(f"{trade.strategy} exit", legs, trade.intent.units, limit, now,
                           signals=(reason,), max_loss=trade.intent.max_loss, reduces_only=True)
