"""Error and notice types for the LEAN data readers.

Two kinds of trouble are kept apart on purpose: a *missing* file is normal in sparse sample data (the
runner reports "skipped, no data" and goes on), while a file that exists but cannot be parsed means the
data or the reader is wrong, and silently skipping it would hide a bad backtest. The first is recorded
in a :class:`DataLog` (once per path); the second raises :class:`LeanDataError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

EventKind = Literal["missing", "quirk"]


class LeanDataError(Exception):
    """A LEAN data file exists but is unreadable or malformed.

    ``member`` is the CSV inside the zip (None for plain CSV files) and ``line`` the 1-based line
    number inside that member (None when the whole file is bad, e.g. not a zip).
    """

    def __init__(self, path: Path, reason: str, member: str | None = None, line: int | None = None):
        self.path = Path(path)
        self.reason = reason
        self.member = member
        self.line = line
        where = str(self.path)
        if member is not None:
            where += f" [{member}]"
        if line is not None:
            where += f" line {line}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class DataEvent:
    """One notice about the data: a missing file, or a quirk that was worked around (e.g. `.zip.zip`)."""

    kind: EventKind
    path: Path
    detail: str


@dataclass
class DataLog:
    """Collects :class:`DataEvent` s, each (kind, path) only once, and forwards new ones to ``sink``.

    Readers never print; the runner decides how to report. A day read twice does not report its
    missing files twice.
    """

    sink: Callable[[DataEvent], None] | None = None
    events: list[DataEvent] = field(default_factory=list)
    _seen: set[tuple[str, Path]] = field(default_factory=set, repr=False)

    def record(self, kind: EventKind, path: Path, detail: str) -> None:
        key = (kind, Path(path))
        if key in self._seen:
            return
        self._seen.add(key)
        event = DataEvent(kind, Path(path), detail)
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)

    @property
    def missing(self) -> list[DataEvent]:
        """Missing-file events in the order they were first seen."""
        return [e for e in self.events if e.kind == "missing"]

    @property
    def quirks(self) -> list[DataEvent]:
        """Worked-around oddities (renamed files and the like)."""
        return [e for e in self.events if e.kind == "quirk"]
