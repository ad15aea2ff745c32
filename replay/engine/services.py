"""LEAN services the double provides: a folder-backed (or in-memory) object store, scheduled events, notify.

They follow LEAN's semantics where ``main.py`` can observe them: the object store keeps text under
string keys and survives a restart when the folder is kept (LEAN maps ``storage/`` the same way);
scheduled events fire at New York wall-clock times before that time step's ``on_data``
(events falling between time steps fire at the next step, as LEAN's ``ScanPastEvents`` does); ``notify`` records messages and sends nothing, as open-source LEAN does outside
QuantConnect's cloud.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any


class ObjectStore:
    """``object_store``: text values under keys, one file per key inside ``folder``; without a folder
    the values live in memory for the run (a replay without an output folder leaves nothing on disk)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: dict[str, bytes] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:80]
        return self.folder / f"{safe}-{digest}"

    def save(self, key: str, text: str) -> bool:
        path = self._path(key)
        if path is None:
            self._memory[key] = text.encode("utf-8")
        else:
            path.write_text(text, encoding="utf-8")
        return True

    def read(self, key: str) -> str:
        """The text under ``key``; bytes that are not UTF-8 decode to U+FFFD, as LEAN's
        ``ObjectStore.Read`` (``Encoding.UTF8.GetString``) does, never an exception."""
        if not self.contains_key(key):
            raise KeyError(f"object store has no key {key!r}")
        path = self._path(key)
        data = self._memory[key] if path is None else path.read_bytes()
        return data.decode("utf-8", errors="replace")

    def contains_key(self, key: str) -> bool:
        path = self._path(key)
        return key in self._memory if path is None else path.is_file()

    def delete(self, key: str) -> bool:
        path = self._path(key)
        if path is None:
            return self._memory.pop(key, None) is not None
        existed = path.is_file()
        if existed:
            path.unlink()
        return existed


@dataclasses.dataclass(frozen=True)
class DateRule:
    """Which days an event runs on: ``applies(day)``."""

    name: str
    test: Callable[[date], bool]

    def applies(self, day: date) -> bool:
        return self.test(day)


@dataclasses.dataclass(frozen=True)
class TimeRule:
    """When in a day an event runs: ``times(day)`` lists the fire times (none on a closed day for
    market-relative rules)."""

    name: str
    times: Callable[[date], list[datetime]]


def _hours_of(algorithm: Any, symbol: Any) -> Any:
    """The exchange hours of ``symbol`` (a Symbol or ticker) in ``algorithm``; None for no symbol."""
    if algorithm is None or symbol is None:
        return None
    return algorithm.securities[symbol].exchange.hours


class DateRules:
    """``algorithm.date_rules`` (``Common/Scheduling/DateRules.cs``): days are exchange trading days when a
    symbol is given, calendar days otherwise."""

    def __init__(self, algorithm: Any = None) -> None:
        self._algorithm = algorithm

    def _trading(self, symbol: Any) -> Callable[[date], bool]:
        hours = _hours_of(self._algorithm, symbol)
        return (lambda day: True) if hours is None else hours.is_date_open

    def every_day(self, symbol: Any = None, extended_market_hours: bool = False) -> DateRule:
        return DateRule("EveryDay", self._trading(symbol))

    def every(self, *days: Any) -> DateRule:
        """``DayOfWeek`` values are .NET's (Sunday = 0); Python's ``weekday()`` has Monday = 0."""
        wanted = frozenset((int(getattr(d, "value", d)) - 1) % 7 for d in days)
        return DateRule("Every", lambda day: day.weekday() in wanted)

    def on(self, *args: Any) -> DateRule:
        dates = {a.date() if isinstance(a, datetime) else a for a in args if isinstance(a, date)}
        if not dates and len(args) == 3:
            dates = {date(int(args[0]), int(args[1]), int(args[2]))}
        return DateRule("On", lambda day: day in dates)

    @property
    def today(self) -> DateRule:
        today = self._algorithm.time.date()
        return DateRule("Today", lambda day: day == today)

    @property
    def tomorrow(self) -> DateRule:
        tomorrow = self._algorithm.time.date() + timedelta(days=1)
        return DateRule("Tomorrow", lambda day: day == tomorrow)

    def week_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        trading = self._trading(symbol)

        def first_of_week(day: date) -> bool:
            monday = day - timedelta(days=day.weekday())
            opens = [monday + timedelta(days=i) for i in range(7) if trading(monday + timedelta(days=i))]
            return len(opens) > days_offset and opens[days_offset] == day

        return DateRule("WeekStart", first_of_week)

    def month_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        trading = self._trading(symbol)

        def first_of_month(day: date) -> bool:
            first = day.replace(day=1)
            opens = [first + timedelta(days=i) for i in range(31)
                     if (first + timedelta(days=i)).month == day.month and trading(first + timedelta(days=i))]
            return len(opens) > days_offset and opens[days_offset] == day

        return DateRule("MonthStart", first_of_month)


class TimeRules:
    """``algorithm.time_rules`` (``Common/Scheduling/TimeRules.cs``); market-relative rules use the
    symbol's regular session and do not fire on days it is closed."""

    def __init__(self, algorithm: Any = None) -> None:
        self._algorithm = algorithm

    def at(self, hour: int, minute: int, second: int = 0) -> TimeRule:
        return TimeRule(f"{hour:02d}:{minute:02d}", lambda day: [datetime.combine(day, time(hour, minute, second))])

    @property
    def midnight(self) -> TimeRule:
        return TimeRule("Midnight", lambda day: [datetime.combine(day, time())])

    @property
    def noon(self) -> TimeRule:
        return TimeRule("Noon", lambda day: [datetime.combine(day, time(12))])

    def _session(self, symbol: Any, day: date) -> tuple[datetime, datetime] | None:
        hours = _hours_of(self._algorithm, symbol)
        if hours is None:  # no symbol: the US equity session
            if day.weekday() >= 5:
                return None
            return datetime.combine(day, time(9, 30)), datetime.combine(day, time(16))
        session: tuple[datetime, datetime] | None = hours.session(day)
        return session

    def after_market_open(self, symbol: Any = None, minutes_after_open: float = 0,
                          extended_market_open: bool = False) -> TimeRule:
        def times(day: date) -> list[datetime]:
            session = self._session(symbol, day)
            return [] if session is None else [session[0] + timedelta(minutes=minutes_after_open)]

        return TimeRule(f"AfterMarketOpen {minutes_after_open}", times)

    def before_market_close(self, symbol: Any = None, minutes_before_close: float = 0,
                            extended_market_close: bool = False) -> TimeRule:
        def times(day: date) -> list[datetime]:
            session = self._session(symbol, day)
            return [] if session is None else [session[1] - timedelta(minutes=minutes_before_close)]

        return TimeRule(f"BeforeMarketClose {minutes_before_close}", times)

    def every(self, interval: timedelta) -> TimeRule:
        """Every ``interval`` from midnight (LEAN's ``TimeRules.Every``)."""
        if interval <= timedelta(0):
            raise ValueError("TimeRules.every needs a positive interval")

        def times(day: date) -> list[datetime]:
            start = datetime.combine(day, time())
            count = int(timedelta(days=1) / interval)
            return [start + interval * i for i in range(count)]

        return TimeRule(f"Every {interval}", times)


@dataclasses.dataclass
class ScheduledEvent:
    name: str
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], Any]


class ScheduleManager:
    """``schedule.on([name,] date_rule, time_rule, callback)``; the runner asks which events are due."""

    def __init__(self) -> None:
        self.events: list[ScheduledEvent] = []
        self._times: dict[tuple[int, date], list[datetime]] = {}

    def _times_of(self, event: ScheduledEvent, day: date) -> list[datetime]:
        key = (id(event), day)
        if key not in self._times:
            if len(self._times) > 10_000:
                self._times.clear()
            self._times[key] = event.time_rule.times(day)
        return self._times[key]

    def on(self, *args: Any) -> ScheduledEvent:
        name = args[0] if isinstance(args[0], str) else ""
        date_rule, time_rule, callback = args[1:] if name else args
        event = ScheduledEvent(name or f"{date_rule.name}: {time_rule.name}", date_rule, time_rule, callback)
        self.events.append(event)
        return event

    def due(self, previous: datetime, now: datetime) -> list[tuple[datetime, ScheduledEvent]]:
        """(fire time, event) for every occurrence in (previous, now], in time order (LEAN fires past
        events when time reaches them, ``ScanPastEvents``)."""
        found = []
        day = previous.date()
        while day <= now.date():
            for event in self.events:
                if not event.date_rule.applies(day):
                    continue
                for moment in self._times_of(event, day):
                    if previous < moment <= now:
                        found.append((moment, event))
            day += timedelta(days=1)
        found.sort(key=lambda pair: pair[0])
        return found


class Notify:
    """``notify``: records what would be sent; open-source LEAN delivers nothing either."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def email(self, *args: Any) -> bool:
        self.sent.append(("email", args))
        return True

    def sms(self, *args: Any) -> bool:
        self.sent.append(("sms", args))
        return True

    def web(self, *args: Any) -> bool:
        self.sent.append(("web", args))
        return True

    def telegram(self, *args: Any) -> bool:
        self.sent.append(("telegram", args))
        return True
