"""``algorithm.trade_builder``: fills grouped into round-trip trades (``Common/Statistics/TradeBuilder.cs``)
with LEAN's defaults, flat-to-flat grouping and FIFO matching: fills in one direction accumulate; a fill
the other way that flattens or reverses the position closes the trade (entry and exit prices the
quantity-weighted averages of the fills on each side, profit ``round((exit - entry) x entry quantity x
multiplier, 2)``) and a reversal's remainder opens the next one. A fill that only reduces the position
is kept with the pending fills, as LEAN does. MAE, MFE and end-trade drawdown are zero, as in LEAN's
flat-to-flat grouping.
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from replay.engine.lean_types import Strict
from replay.engine.symbols import Symbol


class TradeDirection(enum.IntEnum):
    LONG = 0
    SHORT = 1


class Trade(Strict):
    """One closed round trip (``Common/Statistics/Trade.cs``)."""

    def __init__(self, symbol: Symbol, entry_time: datetime | None, entry_price: float, direction: TradeDirection,
                 quantity: float, exit_time: datetime | None, exit_price: float, profit_loss: float,
                 total_fees: float, order_ids: set[int]) -> None:
        self.symbols = [symbol]
        self.entry_time, self.entry_price, self.direction = entry_time, entry_price, direction
        self.quantity, self.exit_time, self.exit_price = quantity, exit_time, exit_price
        self.profit_loss, self.total_fees, self.order_ids = profit_loss, total_fees, order_ids
        self.mae = self.mfe = self.end_trade_drawdown = 0.0

    @property
    def duration(self) -> timedelta:
        if self.entry_time is None or self.exit_time is None:
            return timedelta(0)
        return self.exit_time - self.entry_time

    @property
    def is_win(self) -> bool:
        return self.profit_loss - self.total_fees > 0


class _Fill:
    __slots__ = ("order_id", "time", "price", "quantity")

    def __init__(self, order_id: int, time: datetime | None, price: float, quantity: float) -> None:
        self.order_id, self.time, self.price, self.quantity = order_id, time, price, quantity


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


class TradeBuilder(Strict):
    """Closed trades from the algorithm's fills (see the module docstring)."""

    def __init__(self) -> None:
        self.closed_trades: list[Trade] = []
        self._pending: dict[Symbol, tuple[list[_Fill], float]] = {}

    def has_open_position(self, symbol: Symbol) -> bool:
        return bool(self._pending.get(symbol, ([], 0.0))[0])

    def process_fill(self, event: Any, fee: float, multiplier: float) -> None:
        """``ProcessFill`` / ``ProcessFillUsingFlatToFlat`` for one fill event."""
        fill = _Fill(event.order_id, event.utc_time, float(event.fill_price), float(event.fill_quantity))
        if fill.quantity == 0:
            return
        fills, fees = self._pending.get(event.symbol, ([], 0.0))
        if not fills:
            self._pending[event.symbol] = ([fill], fee)
            return
        held = sum(f.quantity for f in fills)
        same_direction = _sign(fills[0].quantity) == _sign(fill.quantity)
        if same_direction or (held + fill.quantity != 0 and abs(fill.quantity) <= abs(held)):
            fills.append(fill)
            self._pending[event.symbol] = (fills, fees + fee)
            return
        fills.append(fill)
        fees += fee
        reverse_quantity = sum(f.quantity for f in fills)
        entry_quantity = exit_quantity = entry_price = exit_price = 0.0
        for current in fills:  # FIFO
            if _sign(current.quantity) != _sign(fill.quantity):
                entry_quantity += current.quantity
                entry_price += (current.price - entry_price) * current.quantity / entry_quantity
            else:
                exit_quantity += current.quantity
                exit_price += (current.price - exit_price) * current.quantity / exit_quantity
        direction = TradeDirection.LONG if fill.quantity < 0 else TradeDirection.SHORT
        profit = round((exit_price - entry_price) * abs(entry_quantity) * _sign(entry_quantity) * multiplier, 2)
        self.closed_trades.append(Trade(event.symbol, fills[0].time, entry_price, direction, abs(entry_quantity),
                                        fill.time, exit_price, profit, fees, {f.order_id for f in fills}))
        del self._pending[event.symbol]
        if reverse_quantity != 0:
            self._pending[event.symbol] = ([_Fill(fill.order_id, fill.time, fill.price, reverse_quantity)], 0.0)
