"""Pure timing decisions of the link: back-off, token renewal, keepalive and dead-link timers.

Pure functions of explicit times (seconds) so tests check them with invented clocks instead of
waiting for 60-second timeouts.
"""
from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from streaming.config import StreamSettings
from streaming.market_hours import in_trading_hours, new_york


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
    """Send/receive times of one connection (monotonic seconds)."""

    opened_at: float
    keepalive_interval: float
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

    def verdict(self, now: float) -> TimerVerdict:
        if now - self.last_inbound >= self.dead_link_seconds:
            return TimerVerdict.DEAD_LINK
        if not self.ready and now - self.opened_at >= self.handshake_timeout:
            return TimerVerdict.HANDSHAKE_TIMEOUT
        if now - self.last_sent >= self.keepalive_interval:
            return TimerVerdict.KEEPALIVE
        return TimerVerdict.NONE
