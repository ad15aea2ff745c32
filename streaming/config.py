"""Credentials, their redaction, and the timing settings of the tastytrade market-data stream.

Credentials come from environment variables or from LEAN parameters that are not committed; this
module takes them as plain values so nothing here reads files or LEAN objects. They are excluded from
every ``repr`` so a logged config object cannot leak them, and the :class:`Redactor` masks them (and
every token fetched with them) in any text that leaves the package: LEAN logs are stored in the
QuantConnect cloud and shared when asking for help, so an exception message or an HTTP error body must
never carry the refresh token, the client secret, the OAuth access token or the DXLink quote token.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

PRODUCTION_API_URL = "https://api.tastyworks.com"
SANDBOX_API_URL = "https://api.cert.tastyworks.com"
ENVIRONMENTS = {"production": PRODUCTION_API_URL, "sandbox": SANDBOX_API_URL}

ENV_REFRESH_TOKEN = "TASTYTRADE_REFRESH_TOKEN"
ENV_CLIENT_SECRET = "TASTYTRADE_CLIENT_SECRET"
ENV_CLIENT_ID = "TASTYTRADE_CLIENT_ID"
ENV_ENVIRONMENT = "TASTYTRADE_ENVIRONMENT"
ENV_USER_AGENT = "TASTYTRADE_USER_AGENT"

# tastytrade answers 401 to REST calls without a "<product>/<version>" User-Agent.
DEFAULT_USER_AGENT = "tom-king-framework/1.0"


class ConfigError(ValueError):
    """Missing or invalid settings; the message names variables, never their values."""


@dataclass(frozen=True)
class TastytradeConfig:
    """OAuth2 credentials of a tastytrade personal OAuth application, plus REST settings."""

    refresh_token: str = field(repr=False)
    client_secret: str = field(repr=False)
    client_id: str | None = field(default=None, repr=False)
    environment: str = "production"  # "production" or "sandbox" (api.cert, separate credentials)
    user_agent: str = DEFAULT_USER_AGENT
    http_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.refresh_token or not self.client_secret:
            raise ConfigError("tastytrade refresh token and client secret are both required")
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"environment must be one of {sorted(ENVIRONMENTS)}, got {self.environment!r}")
        if not self.user_agent:
            raise ConfigError("a User-Agent is required by the tastytrade API")
        if self.http_timeout_seconds <= 0:
            raise ConfigError("http_timeout_seconds must be positive")

    @property
    def api_base_url(self) -> str:
        return ENVIRONMENTS[self.environment]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TastytradeConfig:
        """Reads ``TASTYTRADE_REFRESH_TOKEN``, ``TASTYTRADE_CLIENT_SECRET`` and the optional
        ``TASTYTRADE_CLIENT_ID``, ``TASTYTRADE_ENVIRONMENT``, ``TASTYTRADE_USER_AGENT``."""
        env = os.environ if environ is None else environ
        missing = [name for name in (ENV_REFRESH_TOKEN, ENV_CLIENT_SECRET) if not env.get(name)]
        if missing:
            raise ConfigError(f"set the environment variable(s) {', '.join(missing)}")
        return cls(
            refresh_token=env[ENV_REFRESH_TOKEN],
            client_secret=env[ENV_CLIENT_SECRET],
            client_id=env.get(ENV_CLIENT_ID) or None,
            environment=(env.get(ENV_ENVIRONMENT) or "production").strip().lower(),
            user_agent=env.get(ENV_USER_AGENT) or DEFAULT_USER_AGENT,
        )


MASK = "***"
# Longest text from outside (server messages, close reasons, exception texts) that reaches a log line.
MAX_TEXT_CHARS = 300
# Shorter strings are not credentials, and masking them would garble ordinary words.
_MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces every registered secret in a text by ``***``; thread-safe, cheap when idle."""

    def __init__(self, secrets: tuple[str | None, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Registers more secrets (e.g. each new access or quote token as it is fetched)."""
        fresh = [s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH]
        if not fresh:
            return
        with self._lock:
            merged = set(self._secrets).union(fresh)
            # Longest first so a secret containing another one is masked whole.
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def clip(self, text: str, limit: int = MAX_TEXT_CHARS) -> str:
        """Redacted, then cut to ``limit`` characters.

        Always in this order: cutting first could keep the first characters of a secret that the
        cut no longer shows whole, and the redactor only recognises whole secrets.
        """
        text = self(text)
        return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


@dataclass(frozen=True)
class StreamSettings:
    """Timings and limits of the DXLink link; times in seconds. Defaults follow the reference notes.

    The two SETUP fields mean what the dxLink AsyncAPI spec (``dxlink-specification/asyncapi.yml``,
    "Connection Maintenance") says: "The server must send any message to the client before the
    client's ``keepaliveTimeout`` expires. The client's ``keepaliveTimeout`` is sent in the ``SETUP``
    message from the client", and ``acceptKeepaliveTimeout`` is "the desired time to disconnect the
    receiver if no messages are received", i.e. how long we ask the server to wait for *our* frames.
    So ``keepalive_timeout_seconds`` is the silence the server agreed not to exceed: past it the link
    is reported ``stale``; past ``dead_link_seconds`` it is closed and reconnected.

    Tests shrink them (e.g. a 0.5 s dead-link timeout) instead of waiting for the real values.
    """

    keepalive_interval_seconds: float = 20.0  # our KEEPALIVE cadence (LEAN 20 s, SDK 30 s), halved if the server asks
    keepalive_timeout_seconds: float = 30.0  # SETUP keepaliveTimeout: the server sends within this, else stale
    accept_keepalive_timeout_seconds: float = 60.0  # SETUP acceptKeepaliveTimeout: how long the server may wait for us
    dead_link_seconds: float = 60.0  # no inbound frame for this long = dead link, reconnect
    handshake_timeout_seconds: float = 10.0  # SETUP..CHANNEL_OPENED must finish within this
    connect_timeout_seconds: float = 10.0  # TCP + TLS + HTTP upgrade
    close_timeout_seconds: float = 1.0  # wait for the server's close frame when we close
    poll_interval_seconds: float = 0.25  # socket read timeout: how often timers and new subscriptions are checked
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    backoff_jitter: float = 0.2  # +-20 % so many clients do not reconnect in lock-step
    stable_session_seconds: float = 30.0  # a session this long resets the back-off
    token_max_age_seconds: float = 23 * 3600.0  # quote tokens live 24 h: always reconnect before
    token_quiet_refresh_age_seconds: float = 12 * 3600.0  # older tokens are renewed outside trading hours
    subscription_chunk_size: int = 250  # (type, symbol) pairs per FEED_SUBSCRIPTION frame (LEAN uses 250)
    aggregation_period_seconds: float = 0.1
    error_limit: int = 5  # ERROR frames tolerated within error_window_seconds; one more reconnects
    error_window_seconds: float = 60.0
    max_quote_age_seconds: float = 60.0  # get_real_time_quote answers None for an older quote
    max_queued_signals: int = 10_000
    log_repeat_interval_seconds: float = 60.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every unsafe combination, worded for the person who set it."""
        found = []
        if not 0 < self.keepalive_interval_seconds < self.accept_keepalive_timeout_seconds:
            found.append("keepalive_interval_seconds must be positive and well inside acceptKeepaliveTimeout")
        if not 0 < self.keepalive_timeout_seconds <= self.dead_link_seconds:
            found.append("keepalive_timeout_seconds must be positive and at most dead_link_seconds")
        if self.backoff_initial_seconds > self.backoff_max_seconds:
            found.append("backoff_initial_seconds must not exceed backoff_max_seconds")
        if self.token_max_age_seconds >= 24 * 3600.0:
            found.append("token_max_age_seconds must be below the 24 h quote-token lifetime")
        if self.subscription_chunk_size < 1 or self.poll_interval_seconds <= 0:
            found.append("subscription_chunk_size and poll_interval_seconds must be positive")
        if self.error_limit < 1 or self.error_window_seconds <= 0 or self.max_quote_age_seconds <= 0:
            found.append("error_limit, error_window_seconds and max_quote_age_seconds must be positive")
        return found
