"""Exchange hours of a security, from LEAN's market-hours database (``SecurityExchangeHours.cs``).

Times are New York wall-clock datetimes (the replay's single clock; a Chicago exchange such as SPX's
is converted by :mod:`replay.data.market`). Only the regular ("market") session is modelled:
extended hours are out of scope, so ``is_open(..., extended_market_hours=True)`` answers for the
regular session too. Without a database (a bare test folder) US defaults apply: 09:30-16:00 for
equities and equity options, 09:30-16:15 for indexes and index options, weekdays, no holidays.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from replay.data import SecurityType as DataType
from replay.data.market import MarketHours, market_hours
from replay.engine.lean_types import SecurityType, Strict

DATA_TYPE = {SecurityType.EQUITY: DataType.EQUITY, SecurityType.INDEX: DataType.INDEX,
             SecurityType.OPTION: DataType.OPTION, SecurityType.INDEX_OPTION: DataType.INDEX_OPTION,
             SecurityType.FUTURE: DataType.FUTURE}
_DEFAULT_CLOSE = {SecurityType.INDEX: time(16, 15), SecurityType.INDEX_OPTION: time(16, 15)}
_SEARCH_DAYS = 370  # how far to look for the next/previous open day before giving up


class ExchangeHours(Strict):
    """``security.exchange.hours``: sessions by day, open checks, next/previous trading days."""

    def __init__(self, entry: MarketHours | None, security_type: SecurityType) -> None:
        self._entry = entry
        self._default_close = _DEFAULT_CLOSE.get(security_type, time(16, 0))
        self.open = True  # a test can close the exchange by hand
        self._sessions: dict[date, tuple[datetime, datetime] | None] = {}

    def session(self, day: date) -> tuple[datetime, datetime] | None:
        """Regular session [open, close) of ``day`` in New York time, or None when closed."""
        if day not in self._sessions:
            midnight = datetime.combine(day, time())
            if self._entry is None:
                self._sessions[day] = None if day.weekday() >= 5 else (
                    datetime.combine(day, time(9, 30)), datetime.combine(day, self._default_close))
            else:
                found = self._entry.session(day)
                self._sessions[day] = None if found is None else (
                    midnight + timedelta(milliseconds=found[0]), midnight + timedelta(milliseconds=found[1]))
        return self._sessions[day]

    def is_date_open(self, day: date | datetime) -> bool:
        return self.session(day.date() if isinstance(day, datetime) else day) is not None

    def is_open(self, local_time: datetime, extended_market_hours: bool = False) -> bool:
        if not self.open:
            return False
        session = self.session(local_time.date())
        return session is not None and session[0] <= local_time < session[1]

    def is_open_between(self, start: datetime, end: datetime) -> bool:
        """Whether any part of [start, end) is in a session (``IsOpen(start, end, extended)``)."""
        if not self.open:
            return False
        session = self.session(start.date())
        return session is not None and start < session[1] and end > session[0]

    def market_open(self, day: date) -> datetime | None:
        session = self.session(day)
        return session[0] if session else None

    def market_close(self, day: date) -> datetime | None:
        session = self.session(day)
        return session[1] if session else None

    def get_next_trading_day(self, day: datetime | date) -> datetime:
        start = day.date() if isinstance(day, datetime) else day
        for offset in range(1, _SEARCH_DAYS):
            candidate = start + timedelta(days=offset)
            if self.is_date_open(candidate):
                return datetime.combine(candidate, time())
        raise ValueError(f"no trading day within {_SEARCH_DAYS} days after {start}")

    def get_previous_trading_day(self, day: datetime | date) -> datetime:
        start = day.date() if isinstance(day, datetime) else day
        for offset in range(1, _SEARCH_DAYS):
            candidate = start - timedelta(days=offset)
            if self.is_date_open(candidate):
                return datetime.combine(candidate, time())
        raise ValueError(f"no trading day within {_SEARCH_DAYS} days before {start}")

    def get_next_market_close(self, local_time: datetime, extended_market_hours: bool = False) -> datetime:
        """The first session close strictly after ``local_time``."""
        day = local_time.date()
        for offset in range(_SEARCH_DAYS):
            session = self.session(day + timedelta(days=offset))
            if session is not None and session[1] > local_time:
                return session[1]
        raise ValueError(f"no market close within {_SEARCH_DAYS} days after {local_time}")

    def get_next_market_open(self, local_time: datetime, extended_market_hours: bool = False) -> datetime:
        """The first session open strictly after ``local_time``."""
        day = local_time.date()
        for offset in range(_SEARCH_DAYS):
            session = self.session(day + timedelta(days=offset))
            if session is not None and session[0] > local_time:
                return session[0]
        raise ValueError(f"no market open within {_SEARCH_DAYS} days after {local_time}")


class Exchange(Strict):
    """``security.exchange``: its hours and whether it is open at the security's local time."""

    def __init__(self, hours: ExchangeHours, clock: Callable[[], datetime] | None = None) -> None:
        self.hours = hours
        self._clock = clock

    @property
    def exchange_open(self) -> bool:
        return self._clock is not None and self.hours.is_open(self._clock())

    @property
    def time_zone(self) -> str:
        return "America/New_York"


def hours_for(root: Path | None, security_type: SecurityType, ticker: str) -> ExchangeHours:
    """Exchange hours of ``ticker`` from the data folder's market-hours database (defaults without one)."""
    data_type = DATA_TYPE.get(security_type)
    entry = market_hours(root, data_type, ticker) if root is not None and data_type is not None else None
    return ExchangeHours(entry, security_type)
