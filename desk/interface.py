"""What crosses between ``main.py`` and the desk: plain inputs built from LEAN, and typed actions.

``main.py`` turns each LEAN slice into one :class:`BarSnapshot` and each order event into one
:class:`OrderUpdate`; the desk answers with a list of :data:`Action` values that ``main.py`` carries
out in order (LEAN's ``log``, ``plot``, ``notify``, ``object_store``, orders and cancels). Nothing
here imports LEAN. Prices are per share, times New York wall clock (the algorithm's time zone).
"""
from __future__ import annotations

import dataclasses
import enum
import json
import re
from datetime import date, datetime, time
from typing import Any, Protocol

from core.market import BookPosition, ChainColumns, Reading, SeriesBar
from core.orders import OrderIntent

# --- inputs ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BarSnapshot:
    """Everything the desk learns from one LEAN slice.

    ``in_session``: the underlying's regular session is open for this bar (LEAN exchange hours);
    ``previous_session``: LEAN's previous trading day; ``call_volume``/``put_volume``: option
    contracts traded this minute (real trade bars only); ``rate``/``dividend_yield``: LEAN's
    risk-free rate and the underlying's dividend yield (decimals per year, or why unavailable);
    ``future_contract``: the E-mini contract LEAN's continuous series maps to now; ``stream_connected``:
    the live DXLink stream's state, None when no stream runs (backtests, or none configured);
    ``stream_failure``: why the stream stopped for good (its FAILED state), None otherwise.
    """

    time: datetime
    in_session: bool
    previous_session: date
    bars: tuple[SeriesBar, ...]
    chain: ChainColumns
    positions: tuple[BookPosition, ...]
    portfolio_value: float
    rate: Reading
    dividend_yield: Reading
    call_volume: float = 0.0
    put_volume: float = 0.0
    future_contract: str = ""
    stream_connected: bool | None = None
    stream_failure: str | None = None


class OrderStatus(enum.Enum):
    """The LEAN order statuses the desk acts on (everything else is OTHER)."""

    SUBMITTED = "Submitted"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELED = "Canceled"
    INVALID = "Invalid"
    OTHER = "Other"


@dataclasses.dataclass(frozen=True)
class OrderUpdate:
    """One LEAN order event: ``fill_quantity`` is this event's fill (signed), ``order_key`` is one key
    per order as the trader sees it (a combo's legs share their group's key), ``event_id`` LEAN's id of
    the event within its order (a fill delivered twice is applied once)."""

    order_id: int
    status: OrderStatus
    time: datetime
    fill_price: float = 0.0
    fill_quantity: float = 0.0
    message: str = ""
    order_key: str = ""
    event_id: int | None = None


class MarketHistory(Protocol):
    """LEAN history the desk reads at the start of a session (``main.py`` implements it)."""

    def last_daily_close(self, series: str) -> tuple[date, float] | None:
        """(session date, close) of the latest daily bar of ``series`` before today, or None."""

    def opening_volumes(self, sessions: int, window_end: time) -> list[float]:
        """The underlying's volume in (09:30, ``window_end``] of each of the last ``sessions`` sessions."""


# --- actions -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Log:
    text: str
    error: bool = False


@dataclasses.dataclass(frozen=True)
class EntryPurpose:
    """A new position for ``strategy`` (the trade book follows it once sent)."""

    strategy: str


@dataclasses.dataclass(frozen=True)
class ClosePurpose:
    """The exit of the trade numbered ``trade_id`` in the trade book, for ``reason``."""

    trade_id: int
    reason: str


@dataclasses.dataclass(frozen=True)
class HedgePurpose:
    """A delta hedge in the beta reference's shares (not a trade: no exit rules follow it)."""

    reason: str


@dataclasses.dataclass(frozen=True)
class SendOrder:
    """An order the desk wants sent. ``main.py`` hands it back to ``Desk.send`` with a way to place
    it: the gate decides at that moment, with the state as it is then."""

    intent: OrderIntent
    purpose: EntryPurpose | ClosePurpose | HedgePurpose


@dataclasses.dataclass(frozen=True)
class CancelOrder:
    order_id: int


@dataclasses.dataclass(frozen=True)
class CancelAllOrders:
    pass


@dataclasses.dataclass(frozen=True)
class Plot:
    chart: str
    series: str
    value: float


@dataclasses.dataclass(frozen=True)
class Alert:
    """Log it; in live mode also LEAN ``notify`` targets and the webhook."""

    subject: str
    body: str


@dataclasses.dataclass(frozen=True)
class SetStatistic:
    name: str
    value: str


@dataclasses.dataclass(frozen=True)
class SaveRecord:
    """Write ``text`` to LEAN's object store under ``key``."""

    key: str
    text: str


Action = Log | SendOrder | CancelOrder | CancelAllOrders | Plot | Alert | SetStatistic | SaveRecord


class Outbox:
    """Collects the actions of one desk call; remembers recurring lines so they are said once."""

    def __init__(self) -> None:
        self._actions: list[Action] = []
        self._last_said: dict[str, str] = {}

    def add(self, action: Action) -> None:
        self._actions.append(action)

    def log(self, text: str) -> None:
        self._actions.append(Log(text))

    def error(self, text: str) -> None:
        self._actions.append(Log(text, error=True))

    def log_once(self, key: str, text: str, by_kind: bool = False) -> None:
        """Log a recurring status line only when it changes (minute bars would repeat it 390 times a
        day); ``by_kind`` compares it with its numbers masked, so a drifting price is no change."""
        seen = mask_numbers(text) if by_kind else text
        if self._last_said.get(key) != seen:
            self._last_said[key] = seen
            self.log(text)

    def statistic(self, name: str, value: str) -> None:
        self._actions.append(SetStatistic(name, value))

    def take(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions


def mask_numbers(text: str) -> str:
    """``text`` with every number replaced by ``#`` (to compare what a line says, not its values)."""
    return re.sub(r"[-+]?[0-9][0-9.,]*", "#", text)


# --- object-store records ----------------------------------------------------------------------


def manual_mode_key(live: bool) -> str:
    """Live and backtest records are kept apart so a backtest never starts from, or overwrites,
    the live algorithm's safety state."""
    return f"tom-king/{'live' if live else 'backtest'}/manual-mode.json"


def friday_history_key(live: bool) -> str:
    return f"tom-king/{'live' if live else 'backtest'}/progressive-friday.json"


def trade_book_key(live: bool) -> str:
    """The open trades with their exit rules (saved on every change, restored by a live restart)."""
    return f"tom-king/{'live' if live else 'backtest'}/trade-book.json"


def command_field(data: Any, key: str) -> str | None:
    """One field of a LEAN live command's payload, as text (None when absent): LEAN hands ``on_command``
    a dynamic object, a dict or a JSON string depending on how the command was sent."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if isinstance(data, dict):
        value = data.get(key)
    else:
        try:
            value = getattr(data, key)
        except Exception:  # noqa: BLE001 - LEAN's dynamic object raises on a missing member
            value = None
    return None if value is None else str(value)
