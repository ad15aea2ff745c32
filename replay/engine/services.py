"""LEAN services the double provides: a folder-backed object store, scheduled events, notify.

They follow LEAN's semantics where ``main.py`` can observe them: the object store keeps text under
string keys and survives a restart when the folder is kept (LEAN maps ``storage/`` the same way);
scheduled events fire at New York wall-clock minutes on trading days before that minute's
``on_data``; ``notify`` records messages and sends nothing, as open-source LEAN does outside
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
    """``object_store``: text values under keys, one file per key inside ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:80]
        return self.folder / f"{safe}-{digest}"

    def save(self, key: str, text: str) -> bool:
        self._path(key).write_text(text, encoding="utf-8")
        return True

    def read(self, key: str) -> str:
        """The text under ``key``; bytes that are not UTF-8 decode to U+FFFD, as LEAN's
        ``ObjectStore.Read`` (``Encoding.UTF8.GetString``) does, never an exception."""
        path = self._path(key)
        if not path.is_file():
            raise KeyError(f"object store has no key {key!r}")
        return path.read_bytes().decode("utf-8", errors="replace")

    def contains_key(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self._path(key)
        existed = path.is_file()
        if existed:
            path.unlink()
        return existed


@dataclasses.dataclass(frozen=True)
class DateRule:
    """Which trading days an event runs on (None = every trading day)."""

    weekdays: frozenset[int] | None
    name: str

    def applies(self, day: date) -> bool:
        return self.weekdays is None or day.weekday() in self.weekdays


@dataclasses.dataclass(frozen=True)
class TimeRule:
    """When in the day: a fixed New York time, or minutes after the open / before the close; an
    ``every`` interval rule exists for live algorithms and is never due in the minute-stepped replay."""

    at: time | None = None
    after_open: float | None = None
    before_close: float | None = None
    every: timedelta | None = None

    def fire_time(self, open_at: datetime, close_at: datetime) -> datetime:
        if self.every is not None:
            return datetime.max
        if self.at is not None:
            return datetime.combine(open_at.date(), self.at)
        if self.after_open is not None:
            return open_at + timedelta(minutes=self.after_open)
        assert self.before_close is not None
        return close_at - timedelta(minutes=self.before_close)


class DateRules:
    def every_day(self, *_symbol: Any) -> DateRule:
        return DateRule(None, "every day")

    def every(self, *days: Any) -> DateRule:
        """``DayOfWeek`` values are .NET's (Sunday = 0); Python's ``weekday()`` has Monday = 0."""
        return DateRule(frozenset((int(getattr(d, "value", d)) - 1) % 7 for d in days), "weekdays")


class TimeRules:
    def at(self, hour: int, minute: int, second: int = 0) -> TimeRule:
        return TimeRule(at=time(hour, minute, second))

    def after_market_open(self, _symbol: Any = None, minutes_after_open: float = 0) -> TimeRule:
        return TimeRule(after_open=minutes_after_open)

    def before_market_close(self, _symbol: Any = None, minutes_before_close: float = 0) -> TimeRule:
        return TimeRule(before_close=minutes_before_close)

    def every(self, interval: timedelta) -> TimeRule:
        return TimeRule(every=interval)


@dataclasses.dataclass
class ScheduledEvent:
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], Any]


class ScheduleManager:
    """``schedule.on(date_rule, time_rule, callback)``; the runner asks which events are due."""

    def __init__(self) -> None:
        self.events: list[ScheduledEvent] = []

    def on(self, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], Any]) -> ScheduledEvent:
        event = ScheduledEvent(date_rule, time_rule, callback)
        self.events.append(event)
        return event

    def due(self, previous: datetime, now: datetime, open_at: datetime, close_at: datetime
            ) -> list[ScheduledEvent]:
        """Events whose fire time is in (previous, now] on a day their date rule accepts."""
        return [e for e in self.events if e.date_rule.applies(now.date())
                and previous < e.time_rule.fire_time(open_at, close_at) <= now]


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
