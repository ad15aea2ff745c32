"""Time sources for the streaming package.

Injected everywhere (instead of calling ``time`` directly) so tests can drive keepalives, dead-link
detection, token age and the Friday 0DTE window with a fake clock instead of waiting in real time.
"""
from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Two readings: one for durations, one for calendar time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps backwards; used for ages and timeouts."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (UTC); used for timestamps and New York trading hours."""
        ...


class SystemClock:
    """The real clocks of the machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()
