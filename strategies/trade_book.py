"""The trade book: every structure the algorithm opened, from entry order to close, as a state machine.

A trade moves only along :data:`TRANSITIONS` and only :class:`TradeBook` moves it; an illegal move
raises :class:`IllegalTransition` (a bug, never a market event). Prices are per share of one unit in
LEAN's combo sign (positive = debit). A trade's P&L per share is ``mark - entry`` where ``entry`` is
the net filled price and ``mark`` the structure's current net mid (``sum of q x leg mid``): a credit
of 2.00 (entry -2.00) marked at -0.80 has made 1.20.
"""
from __future__ import annotations

import dataclasses
import enum
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg, intent_from_record, intent_to_record


class TradeState(enum.Enum):
    WORKING = "working"          # entry order sent, not completely filled
    CANCELLING = "cancelling"    # entry unfilled past its timeout; cancel requested
    OPEN = "open"                # every entry leg filled: exit rules apply
    CLOSING = "closing"          # closing order sent
    CLOSED = "closed"            # closed by its order, or no longer held (settled, by hand)
    CANCELLED = "cancelled"      # entry cancelled unfilled
    FAILED = "failed"            # entry rejected by the broker


TRANSITIONS: dict[TradeState, frozenset[TradeState]] = {
    TradeState.WORKING: frozenset({TradeState.OPEN, TradeState.CANCELLING, TradeState.CANCELLED,
                                   TradeState.FAILED}),
    TradeState.CANCELLING: frozenset({TradeState.OPEN, TradeState.CANCELLED}),
    TradeState.OPEN: frozenset({TradeState.CLOSING, TradeState.CLOSED}),
    TradeState.CLOSING: frozenset({TradeState.OPEN, TradeState.CLOSED}),  # a cancelled close reopens
    TradeState.CLOSED: frozenset(),
    TradeState.CANCELLED: frozenset(),
    TradeState.FAILED: frozenset(),
}

LIVE_STATES = frozenset({TradeState.WORKING, TradeState.CANCELLING, TradeState.OPEN, TradeState.CLOSING})


class IllegalTransition(RuntimeError):
    """A trade was asked to move where its lifecycle does not go."""


@dataclasses.dataclass(frozen=True)
class ExitRules:
    zero_dte_exit: time
    close_days_before_expiry: int
    close_time: time
    entry_timeout: timedelta


@dataclasses.dataclass
class Trade:
    """One structure from entry order to close; written only by :class:`TradeBook`.

    ``fills`` maps order id -> (average price, filled quantity so far); ``done`` holds the order ids
    that are completely filled (partial fills accumulate until then)."""

    trade_id: int
    intent: OrderIntent
    opened: datetime
    entry_ids: frozenset[int]
    fills: dict[int, tuple[float, float]] = dataclasses.field(default_factory=dict)
    done: set[int] = dataclasses.field(default_factory=set)
    _state: TradeState = TradeState.WORKING
    entry_net: float | None = None
    close_ids: frozenset[int] = frozenset()
    close_sent: datetime | None = None
    close_attempts: int = 0
    exit_reason: str = ""
    refused_in: str = ""  # the automation state in which the exit was refused (not retried there)
    exit_blocked_since: datetime | None = None  # an exit is due but a leg's quote is stale
    exit_escalated: bool = False  # that blocked exit went to a human already

    @property
    def state(self) -> TradeState:
        return self._state

    @property
    def strategy(self) -> str:
        return self.intent.strategy

    @property
    def expiry(self) -> date:
        return min(leg.contract.expiry for leg in self.intent.legs if leg.contract is not None)

    @property
    def is_zero_dte(self) -> bool:
        return self.expiry == self.opened.date()

    def net_filled(self, order_ids: frozenset[int]) -> float:
        """Net price per share of one unit of what ``order_ids`` filled (LEAN sign)."""
        units = self.intent.units
        return sum(p * q / units for oid, (p, q) in self.fills.items() if oid in order_ids)


def mark_net(legs: tuple[OrderLeg, ...], mark: Callable[[ContractSpec], float | None]) -> float | None:
    """Net mid per share of one unit, None when any leg has no usable mark."""
    total = 0.0
    for leg in legs:
        price = mark(leg.contract) if leg.contract is not None else None
        if price is None:
            return None
        total += leg.quantity * price
    return total


def capped_close(trade: Trade, limit: float) -> float:
    """A closing limit (LEAN sign: positive pays) inside what the held structure can be worth."""
    if trade.intent.value_range is None:
        return limit
    lowest, highest = trade.intent.value_range
    return min(max(limit, -highest), -lowest)


def _trading_days_between(today: date, expiry: date) -> int:
    return int(np.busday_count(today, expiry))


_EarlyEvent = Callable[[], object]  # an order event to apply once its order is registered


class TradeBook:
    """What the algorithm has open, and what to do about it each minute."""

    def __init__(self, rules: ExitRules) -> None:
        self.rules = rules
        self.trades: list[Trade] = []
        self._ids = itertools.count(1)
        self._early: dict[int, list[_EarlyEvent]] = {}  # events for orders not yet registered
        self._closed: list[Trade] = []  # closed since take_closed() last ran
        self._fills_seen: set[tuple[int, int]] = set()  # (order id, event id) of every fill applied

    # --- the only writer of trade state ---------------------------------------------------------

    def _move(self, trade: Trade, target: TradeState) -> None:
        if target not in TRANSITIONS[trade.state]:
            raise IllegalTransition(f"trade {trade.trade_id} ({trade.strategy}): {trade.state.value} -> "
                                    f"{target.value} is not a legal transition")
        trade._state = target
        if target is TradeState.CLOSED:
            self._closed.append(trade)

    def take_closed(self) -> list[Trade]:
        """Trades closed since the last call, however they closed (their order filled, even before its
        ids were known; or no longer held)."""
        closed, self._closed = self._closed, []
        return closed

    def next_id_after(self, last: int) -> None:
        self._ids = itertools.count(last + 1)

    def reattach(self, trade: Trade) -> None:
        """A restored trade whose legs are all held: open again under its exit rules (orders it had
        working before the restart are LEAN's business now, under new ids)."""
        if trade.state is not TradeState.OPEN:
            self._move(trade, TradeState.OPEN)
        trade.close_ids, trade.close_sent = frozenset(), None

    def closed_outside(self, trade: Trade) -> None:
        """A restored trade none of whose legs is held any more: it was closed outside the algorithm."""
        self._move(trade, TradeState.CANCELLED if trade.entry_net is None else TradeState.CLOSED)
        trade.exit_reason = "closed outside the algorithm"

    def add_entry(self, intent: OrderIntent, order_ids: list[int], now: datetime) -> Trade:
        trade = Trade(next(self._ids), intent, now, frozenset(order_ids))
        self.trades.append(trade)
        self._replay_early(order_ids)
        return trade

    def request_entry_cancel(self, trade: Trade) -> frozenset[int]:
        """The entry timed out unfilled: the order ids to cancel."""
        self._move(trade, TradeState.CANCELLING)
        return trade.entry_ids

    def close_sent(self, trade: Trade, order_ids: list[int], reason: str, now: datetime) -> None:
        self._move(trade, TradeState.CLOSING)
        trade.close_ids, trade.close_sent, trade.exit_reason = frozenset(order_ids), now, reason
        self._replay_early(order_ids)

    def close_refused(self, trade: Trade, reason: str, automation_state: str) -> None:
        """The gate refused the exit: it became a suggestion, not repeated while in this state."""
        trade.exit_reason, trade.refused_in = reason, automation_state

    def exit_blocked(self, trade: Trade, now: datetime, after: timedelta) -> bool:
        """An exit is due but cannot be priced (a stale leg): True once, when it has waited ``after``."""
        if trade.exit_blocked_since is None:
            trade.exit_blocked_since = now
        if trade.exit_escalated or now - trade.exit_blocked_since < after:
            return False
        trade.exit_escalated = True
        return True

    def exit_unblocked(self, trade: Trade) -> None:
        trade.exit_blocked_since, trade.exit_escalated = None, False

    def close_timed_out(self, trade: Trade) -> frozenset[int]:
        """A close still working after the timeout: the ids to cancel; the retry goes at natural."""
        trade.close_attempts += 1
        return trade.close_ids

    def on_fill(self, order_id: int, price: float, quantity: float, complete: bool = True,
                event_id: int | None = None) -> Trade | None:
        """Record a (partial) leg fill; an entry is open once every leg is completely filled, a close
        is closed likewise. ``quantity`` is this event's fill, as in LEAN's order events; a fill whose
        (order id, ``event_id``) was applied already is ignored (delivered twice)."""
        if event_id is not None:
            if (order_id, event_id) in self._fills_seen:
                return self._owner(order_id)
            self._fills_seen.add((order_id, event_id))
        trade = self._owner(order_id)
        if trade is None:
            self._early.setdefault(order_id, []).append(lambda: self.on_fill(order_id, price, quantity, complete))
            return None
        old_price, old_qty = trade.fills.get(order_id, (0.0, 0.0))
        total = old_qty + quantity
        trade.fills[order_id] = ((old_price * old_qty + price * quantity) / total if total else 0.0, total)
        if complete:
            trade.done.add(order_id)
        if trade.state in (TradeState.WORKING, TradeState.CANCELLING) and trade.entry_ids <= trade.done:
            trade.entry_net = trade.net_filled(trade.entry_ids)
            trade.intent = trade.intent.priced_at(trade.entry_net)  # target and stop from the fill
            self._move(trade, TradeState.OPEN)
        elif trade.state is TradeState.CLOSING and trade.close_ids <= trade.done:
            self._move(trade, TradeState.CLOSED)
        return trade

    def on_invalid(self, order_id: int) -> Trade | None:
        """A rejected entry fails; a rejected close leaves the trade open to be tried again."""
        trade = self._owner(order_id)
        if trade is None:
            self._early.setdefault(order_id, []).append(lambda: self.on_invalid(order_id))
        elif trade.state is TradeState.WORKING and order_id in trade.entry_ids:
            self._move(trade, TradeState.FAILED)
        elif trade.state is TradeState.CLOSING and order_id in trade.close_ids:
            self._reopen(trade)
        return trade

    def on_cancel(self, order_id: int) -> Trade | None:
        trade = self._owner(order_id)
        if trade is None:
            self._early.setdefault(order_id, []).append(lambda: self.on_cancel(order_id))
        elif trade.state in (TradeState.WORKING, TradeState.CANCELLING) and order_id in trade.entry_ids:
            self._move(trade, TradeState.CANCELLED)
        elif trade.state is TradeState.CLOSING and order_id in trade.close_ids:
            self._reopen(trade)  # the close did not happen: still open
        return trade

    def _reopen(self, trade: Trade) -> None:
        self._move(trade, TradeState.OPEN)
        trade.close_ids = frozenset()

    def reconcile(self, held: dict[ContractSpec, float]) -> list[Trade]:
        """Open trades none of whose legs are still held (closed by hand, settled, assigned): closed."""
        gone = [t for t in self.trades if t.state is TradeState.OPEN
                and all(held.get(leg.contract, 0.0) == 0 for leg in t.intent.legs if leg.contract is not None)]
        for trade in gone:
            self._move(trade, TradeState.CLOSED)
            trade.exit_reason = trade.exit_reason or "no longer held"
        return gone

    def _replay_early(self, order_ids: list[int]) -> None:
        """Live events can arrive before the submitting call returned the order ids."""
        for order_id in order_ids:
            for apply in self._early.pop(order_id, []):
                apply()

    def _owner(self, order_id: int) -> Trade | None:
        return next((t for t in self.trades if order_id in t.entry_ids or order_id in t.close_ids), None)

    # --- questions ------------------------------------------------------------------------------

    def get(self, trade_id: int) -> Trade | None:
        return next((t for t in self.trades if t.trade_id == trade_id), None)

    def in_state(self, state: TradeState) -> list[Trade]:
        return [t for t in self.trades if t.state is state]

    def live_strategies(self) -> set[str]:
        return {t.strategy for t in self.trades if t.state in LIVE_STATES}

    def entries_today(self, strategy: str, day: date) -> int:
        return sum(1 for t in self.trades if t.strategy == strategy and t.opened.date() == day)

    def stale_entries(self, now: datetime) -> list[Trade]:
        return [t for t in self.trades if t.state is TradeState.WORKING and now - t.opened >= self.rules.entry_timeout]

    def stale_closes(self, now: datetime) -> list[Trade]:
        """Closes still working after the entry timeout: cancel and send again at the natural price."""
        return [t for t in self.trades if t.state is TradeState.CLOSING and t.close_sent is not None
                and now - t.close_sent >= self.rules.entry_timeout]

    def exit_reason(self, trade: Trade, mark: float | None, now: datetime) -> str | None:
        """Why ``trade`` must be closed now, or None (time rules apply even without a mark)."""
        r, intent = self.rules, trade.intent
        if trade.is_zero_dte and now.time() >= r.zero_dte_exit:
            return f"0DTE time exit at {r.zero_dte_exit:%H:%M}"
        if (not trade.is_zero_dte and now.time() >= r.close_time
                and _trading_days_between(now.date(), trade.expiry) <= r.close_days_before_expiry):
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
        return -(trade.entry_net + trade.net_filled(trade.close_ids))

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

    @staticmethod
    def closing_intent(trade: Trade, reason: str, limit: float | None, now: datetime) -> OrderIntent:
        """The reverse of the entry at ``limit`` (per share, LEAN sign), reducing only, and never
        beyond what the structure can be worth: paying at most minus its lowest value, asking at most
        its highest (its ``value_range``), so no close can lose more than holding it would. ``None``: no
        price is known (a suggestion for a human, never sent)."""
        legs = tuple(dataclasses.replace(leg, quantity=-leg.quantity) for leg in trade.intent.legs)
        capped = None if limit is None else capped_close(trade, limit)
        return OrderIntent(f"{trade.strategy} exit", legs, trade.intent.units, capped, now,
                           signals=(reason,), max_loss=trade.intent.max_loss, reduces_only=True)

    @staticmethod
    def max_loss_at_fill_per_share(trade: Trade) -> float | None:
        """The worst loss per share of one unit at the entry's actual fill (None before it filled)."""
        if trade.entry_net is None:
            return None
        return trade.intent.max_loss_per_share_at(trade.entry_net)


# --- persistence and the restart reconciliation ----------------------------------------------------

class TradeRecordError(ValueError):
    """What makes a saved trade book unusable."""


def _trade_to_record(trade: Trade) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id, "state": trade.state.value, "intent": intent_to_record(trade.intent),
        "opened": trade.opened.isoformat(), "entry_ids": sorted(trade.entry_ids),
        "fills": {str(k): list(v) for k, v in sorted(trade.fills.items())}, "done": sorted(trade.done),
        "entry_net": trade.entry_net, "close_ids": sorted(trade.close_ids),
        "close_sent": trade.close_sent.isoformat() if trade.close_sent else None,
        "close_attempts": trade.close_attempts, "exit_reason": trade.exit_reason, "refused_in": trade.refused_in}


def _trade_from_record(record: dict[str, Any]) -> Trade:
    trade = Trade(int(record["trade_id"]), intent_from_record(record["intent"]),
                  datetime.fromisoformat(record["opened"]), frozenset(int(i) for i in record["entry_ids"]))
    trade._state = TradeState(record["state"])
    trade.fills = {int(k): (float(v[0]), float(v[1])) for k, v in dict(record["fills"]).items()}
    trade.done = {int(i) for i in record["done"]}
    trade.entry_net = None if record["entry_net"] is None else float(record["entry_net"])
    trade.close_ids = frozenset(int(i) for i in record["close_ids"])
    trade.close_sent = datetime.fromisoformat(record["close_sent"]) if record["close_sent"] else None
    trade.close_attempts, trade.exit_reason = int(record["close_attempts"]), str(record["exit_reason"])
    trade.refused_in = str(record["refused_in"])
    if trade.state in (TradeState.OPEN, TradeState.CLOSING) and trade.entry_net is None:
        raise TradeRecordError(f"trade {trade.trade_id} is {trade.state.value} without an entry price")
    return trade


def book_to_text(book: TradeBook) -> str:
    """The live trades (what a restart must not forget) as JSON."""
    return json.dumps({"trades": [_trade_to_record(t) for t in book.trades if t.state in LIVE_STATES]},
                      sort_keys=True)


def restore_book(book: TradeBook, text: str) -> list[Trade]:
    """Load saved live trades into an empty ``book``; raises :class:`TradeRecordError` saying what is wrong."""
    try:
        data = json.loads(text)
        trades = [_trade_from_record(r) for r in data["trades"]]
    except TradeRecordError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise TradeRecordError(f"{type(exc).__name__}: {exc}") from None
    book.trades = trades
    book.next_id_after(max((t.trade_id for t in trades), default=0))
    return trades


@dataclasses.dataclass(frozen=True)
class Reconciled:
    """What the restart reconciliation found: trades re-attached to their exit rules, trades whose
    positions are gone (closed outside the algorithm), trades held only in part, and holdings no saved
    trade explains (contract -> signed quantity)."""

    attached: list[Trade]
    closed_outside: list[Trade]
    partial: list[Trade]
    orphans: dict[ContractSpec, float]


def reconcile_restart(book: TradeBook, held: Mapping[ContractSpec, float]) -> Reconciled:
    """After a restart, match the saved trades with what the brokerage holds. LEAN gives restored orders
    new ids, so an order working before the restart is not followed: a trade is open when all of its
    legs are held in full, closed outside the algorithm when none is, partial otherwise."""
    remaining = dict(held)
    attached, outside, partial = [], [], []
    for trade in [t for t in book.trades if t.state in LIVE_STATES]:
        wanted = {leg.contract: leg.quantity * trade.intent.units for leg in trade.intent.legs if leg.contract}
        full = all(remaining.get(c, 0.0) * q > 0 and abs(remaining.get(c, 0.0)) >= abs(q) for c, q in wanted.items())
        none = all(remaining.get(c, 0.0) * q <= 0 for c, q in wanted.items())
        if full and trade.entry_net is not None:
            book.reattach(trade)
            attached.append(trade)
            for contract, quantity in wanted.items():
                remaining[contract] -= quantity
        elif none:
            book.closed_outside(trade)
            outside.append(trade)
        else:
            partial.append(trade)
    orphans = {c: q for c, q in remaining.items() if q != 0}
    return Reconciled(attached, outside, partial, orphans)
