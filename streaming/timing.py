"""Time for the stream: the injectable clock, New York market hours, and the link's timing decisions.

Why one module: everything here answers "what time is it, and what is due now?". The clock is injected
everywhere (instead of calling ``time`` directly) and the decisions are pure functions of explicit times
(seconds), so tests drive keepalives, dead-link detection, back-off, token age and the Friday 0DTE window
with a fake clock instead of waiting for 60-second timeouts. New York rules always use ``zoneinfo``
"America/New_York", so daylight-saving changes are handled without LEAN.
"""
from __future__ import annotations

import enum
import random
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from streaming.config import StreamSettings


# ----- clocks -------------------------------------------------------------------------------------
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
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()


# ----- New York calendar (Friday 0DTE window, quiet hours for token renewal) -----------------------
NEW_YORK = ZoneInfo("America/New_York")
FRIDAY = 4
ZERO_DTE_WINDOW = (time(10, 0), time(15, 0))  # spec: skip before 10:00 and from 15:00
TRADING_HOURS = (time(9, 0), time(16, 30))  # a little around the cash session, for quiet-time work
_EPOCH = date(1970, 1, 1)


def new_york(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).astimezone(NEW_YORK)


def in_zero_dte_window(now_ny: datetime, window: tuple[time, time] = ZERO_DTE_WINDOW) -> bool:
    """Fridays from the window start (10:00) to before its end (15:00) New York time."""
    start, end = window
    return now_ny.weekday() == FRIDAY and start <= now_ny.time() < end


def in_trading_hours(now_ny: datetime) -> bool:
    """Weekdays 09:00-16:30 New York: a planned reconnect then would cost live data."""
    start, end = TRADING_HOURS
    return now_ny.weekday() < 5 and start <= now_ny.time() < end


def day_id(day: date) -> int:
    """dxFeed's dayId: days since 1970-01-01 (used to reject a stale Summary)."""
    return (day - _EPOCH).days


# ----- the link's timers: back-off, token renewal, keepalive, dead link ----------------------------
def backoff_delay(failures: int, settings: StreamSettings, rng: random.Random) -> float:
    """Seconds to wait before the next attempt: 1, 2, 4 ... capped at 30, each cut by up to 20 %.

    Jitter only shortens the delay, so the cap is a true maximum and clients at the cap still spread.
    """
    base = min(settings.backoff_max_seconds, settings.backoff_initial_seconds * 2.0 ** min(failures, 32))
    return base * rng.uniform(1.0 - settings.backoff_jitter, 1.0)


def token_refresh_due(token_age_seconds: float, now_epoch_seconds: float, settings: StreamSettings) -> bool:
    """Reconnect with a new quote token before its 24 h lifetime ends.

    Past ``token_quiet_refresh_age_seconds`` the renewal waits for a moment outside New York trading
    hours (a reconnect then loses nothing); past ``token_max_age_seconds`` it happens regardless.
    """
    if token_age_seconds >= settings.token_max_age_seconds:
        return True
    if token_age_seconds < settings.token_quiet_refresh_age_seconds:
        return False
    return not in_trading_hours(new_york(now_epoch_seconds))


class TimerVerdict(str, enum.Enum):
    NONE = "none"
    KEEPALIVE = "keepalive"  # nothing sent for the keepalive interval: send KEEPALIVE
    DEAD_LINK = "dead_link"  # nothing received for dead_link_seconds
    HANDSHAKE_TIMEOUT = "handshake_timeout"  # the DXLink handshake did not finish in time


@dataclass
class LinkTimers:
    """Send/receive times of one connection (monotonic seconds).

    ``stale_after`` is the keepalive timeout our SETUP declared: the server agreed to send something
    within it, so a longer silence makes the link stale (still open, data not trustworthy);
    ``dead_link_seconds`` of silence closes it.
    """

    opened_at: float
    keepalive_interval: float
    stale_after: float
    dead_link_seconds: float
    handshake_timeout: float
    last_inbound: float = 0.0
    last_sent: float = 0.0
    ready: bool = False

    def __post_init__(self) -> None:
        self.last_inbound = self.last_sent = self.opened_at

    def adopt_server_timeout(self, server_keepalive_timeout: float) -> None:
        """The server's SETUP says how long it waits for us; keep sending at half of that at most."""
        self.keepalive_interval = min(self.keepalive_interval, server_keepalive_timeout / 2.0)

    def silence(self, now: float) -> float:
        """Seconds since the last inbound frame."""
        return now - self.last_inbound

    def is_stale(self, now: float) -> bool:
        """The feed is up but the server said nothing for longer than the agreed keepalive timeout."""
        return self.ready and now - self.last_inbound > self.stale_after

    def verdict(self, now: float) -> TimerVerdict:
        if now - self.last_inbound >= self.dead_link_seconds:
            return TimerVerdict.DEAD_LINK
        if not self.ready and now - self.opened_at >= self.handshake_timeout:
            return TimerVerdict.HANDSHAKE_TIMEOUT
        if now - self.last_sent >= self.keepalive_interval:
            return TimerVerdict.KEEPALIVE
        return TimerVerdict.NONE
