"""``trades.csv``: one row per trade, as a trader keeps a trade journal.

A trade is a structure from its entry to its exit, not an order or a fill: for ``main.py`` the desk's
trade book (``strategies.trade_book``) knows each structure's strategy, legs, max loss and exit reason;
any other algorithm gets LEAN's own round trips (``algorithm.trade_builder``: flat-to-flat per
contract, strategy = the entry order's tag). Prices are per share of one unit in LEAN's sign (positive:
paid, negative: received), so a credit spread opened for 0.45 and bought back for 0.20 reads ``-0.45``
then ``0.20`` (held to expiry: minus its settlement value); P&L is dollars after fees. Entry and exit times are those of the last fill on each side.
"""
from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from datetime import datetime, time
from pathlib import Path
from typing import Any

COLUMNS = ("strategy", "legs", "units", "entry_time", "entry_price", "exit_time", "exit_price", "max_loss",
           "pnl", "fees", "exit_reason")
OPEN_AT_END = "open at the end of the run"


@dataclasses.dataclass(frozen=True)
class TradeRow:
    strategy: str
    legs: str
    units: int
    entry_time: datetime | None
    entry_price: float | None
    exit_time: datetime | None
    exit_price: float | None
    max_loss: float | None  # dollars, at the entry's fill price
    pnl: float | None  # dollars after fees; None while open
    fees: float
    exit_reason: str

    @property
    def closed(self) -> bool:
        return self.pnl is not None

    def cells(self) -> list[str]:
        def stamp(when: datetime | None) -> str:
            return f"{when:%Y-%m-%d %H:%M:%S}" if when is not None else ""

        def number(value: float | None, digits: int) -> str:
            return "" if value is None else f"{value + 0.0:.{digits}f}"

        return [self.strategy, self.legs, str(self.units), stamp(self.entry_time), number(self.entry_price, 2),
                stamp(self.exit_time), number(self.exit_price, 2), number(self.max_loss, 2), number(self.pnl, 2),
                number(self.fees, 2), self.exit_reason]


def trade_rows(algorithm: Any, fills: list[Any]) -> list[TradeRow]:
    """The run's trades, from the desk's trade book when the algorithm has one, else LEAN's round trips."""
    desk = vars(algorithm).get("desk")  # not getattr: the double raises on a member LEAN does not have
    if desk is not None:
        return _desk_rows(desk, fills)
    return _lean_rows(algorithm)


def _fill_times(fills: list[Any]) -> tuple[dict[int, datetime], dict[int, float]]:
    last: dict[int, datetime] = {}
    fees: dict[int, float] = {}
    for fill in fills:
        last[fill.order_id] = max(last.get(fill.order_id, fill.time), fill.time)
        fees[fill.order_id] = fees.get(fill.order_id, 0.0) + fill.fee
    return last, fees


def _desk_rows(desk: Any, fills: list[Any]) -> list[TradeRow]:
    from strategies.trade_book import TradeBook, TradeState

    last, fees = _fill_times(fills)
    rows = []
    for trade in desk.trading.book.trades:
        if trade.entry_net is None:
            continue  # never filled: an order, not a trade
        units = trade.intent.units
        multiplier = next((leg.contract.multiplier for leg in trade.intent.legs if leg.contract is not None), 1.0)
        worst = TradeBook.max_loss_at_fill_per_share(trade)
        paid = sum(fees.get(order_id, 0.0) for order_id in trade.entry_ids | trade.close_ids)
        entry_time = max((last[i] for i in trade.entry_ids if i in last), default=trade.opened)
        per_share, exit_time, reason = _exit(desk, trade, last)
        if trade.state is not TradeState.CLOSED:
            per_share, exit_time, reason = None, None, OPEN_AT_END
        pnl = None if per_share is None else per_share * multiplier * units - paid
        rows.append(TradeRow(
            trade.strategy, _legs(trade.intent.legs), units, entry_time, trade.entry_net, exit_time,
            None if per_share is None else -(trade.entry_net + per_share),  # the closing order's net price
            None if worst is None else worst * multiplier * units,
            pnl, paid, reason))
    return rows


def _exit(desk: Any, trade: Any, last: dict[int, datetime]) -> tuple[float | None, datetime | None, str]:
    """(P&L per share of one unit, exit time, reason): by its closing fills, else held to expiry and
    settled at the underlying's close that day."""
    from strategies.trade_book import TradeBook

    realized = TradeBook.realized_pnl_per_share(trade)
    if realized is not None:
        return realized, max((last[i] for i in trade.close_ids if i in last), default=None), trade.exit_reason
    close = desk.series["underlying"].last_close_on(trade.expiry)
    settled = None if close is None else TradeBook.settled_pnl_per_share(trade, close)
    reason = trade.exit_reason or "held to expiry"
    return settled, datetime.combine(trade.expiry, time(16, 0)), f"{reason} (settled at {close})"


def _legs(legs: Iterable[Any]) -> str:
    return " ".join(f"{leg.quantity:+d} {leg.label()}" if hasattr(leg, "label") else f"{leg.quantity:+d} {leg.name}"
                    for leg in legs)


def _lean_rows(algorithm: Any) -> list[TradeRow]:
    rows = []
    for trade in algorithm.trade_builder.closed_trades:
        first = algorithm.transactions.get_order_by_id(min(trade.order_ids)) if trade.order_ids else None
        tag = getattr(first, "tag", "") or str(trade.symbols[0])
        sign = 1 if trade.direction.name == "LONG" else -1
        rows.append(TradeRow(tag, f"{sign * trade.quantity:+g} {trade.symbols[0]}", 1, trade.entry_time,
                             sign * trade.entry_price, trade.exit_time, -sign * trade.exit_price, None,
                             trade.profit_loss - trade.total_fees, trade.total_fees, ""))
    return rows


def write_trades(rows: list[TradeRow], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(row.cells() for row in rows)
    return path


def by_strategy(rows: list[TradeRow]) -> list[str]:
    """The summary's per-strategy lines: trades, wins, P&L after fees, open trades."""
    lines = []
    for strategy in sorted({row.strategy for row in rows}):
        mine = [row for row in rows if row.strategy == strategy]
        closed = [row for row in mine if row.pnl is not None]
        wins = sum(1 for row in closed if row.pnl is not None and row.pnl > 0)
        total = sum(row.pnl for row in closed if row.pnl is not None)
        still_open = len(mine) - len(closed)
        lines.append(f"{strategy}: {len(closed)} closed ({wins} won), P&L ${total:+,.2f}"
                     + (f", {still_open} open" if still_open else ""))
    return lines
