"""tastytrade token flow: OAuth2 refresh token -> access token -> DXLink quote token and URL.

Why each piece:
- The DXLink URL is taken from ``GET /api-quote-tokens`` on every connect, never hard-coded: tastytrade
  has served at least two production hosts, and sandbox tokens point at a delayed feed.
- ``/api-quote-tokens`` (not ``/quote-streamer-tokens``, whose use gets accounts put on delayed quotes).
- The HTTP transport is a plain callable so tests replace it without sockets; the default uses urllib
  with short timeouts (standard library only, as LEAN's image has nothing else guaranteed).
- Error messages carry the HTTP status and the API's error code, never response bodies, so credentials
  echoed by a server cannot reach a log.
- Transient vs permanent: only a verdict on the credentials themselves is final. RFC 6749 section 5.2
  defines it: a 4xx reply from the token endpoint with ``invalid_grant`` (the refresh token is
  invalid, expired or revoked) or ``invalid_client`` / ``unauthorized_client`` (the client secret or
  the client is not accepted). tastytrade's ``quote_streamer.customer_not_found_error`` is final too:
  the account cannot have a quote token at all. Everything else (401/403 without such a code, 429,
  5xx, network errors, a reply we cannot read) can be a blip: the stream backs off and tries again
  with a fresh token.
"""
from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from streaming.config import TastytradeConfig
from streaming.timing import Clock, SystemClock

# Renew the 15-minute access token this long before it expires.
ACCESS_TOKEN_MARGIN_SECONDS = 60.0
_ERROR_CODE_RE = re.compile(r"^[\w.:\-]{1,80}$")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = field(repr=False)


HttpTransport = Callable[[HttpRequest], HttpResponse]


def urllib_transport(request: HttpRequest) -> HttpResponse:
    """Sends one request with urllib; HTTP error statuses are returned, network failures raise OSError."""
    prepared = urllib.request.Request(
        request.url, data=request.body, headers=dict(request.headers), method=request.method
    )
    try:
        with urllib.request.urlopen(prepared, timeout=request.timeout_seconds) as response:
            return HttpResponse(response.status, response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpResponse(exc.code, exc.read())


class TokenError(Exception):
    """Base of the token-flow failures."""


class AuthRejectedError(TokenError):
    """Permanent: tastytrade declared the refresh token or client secret invalid (no retry helps)."""


class TokenUnavailableError(TokenError):
    """Transient: network trouble, 401/403 without a final error code, 429, 5xx or an unexpected reply."""


# OAuth2 error codes that are a verdict on the credentials (RFC 6749 section 5.2), and tastytrade's
# code for an account that can never get a quote token.
PERMANENT_ERROR_CODES = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "quote_streamer.customer_not_found_error"}
)


@dataclass(frozen=True)
class QuoteToken:
    """A DXLink quote token (valid 24 h) with the URL it belongs to."""

    token: str = field(repr=False)
    dxlink_url: str
    level: str  # "api" for real-time, "demo" for the sandbox's delayed feed
    fetched_at: float  # monotonic seconds, for the token-age reconnect

    @property
    def delayed(self) -> bool:
        """Sandbox/demo feeds are 15 minutes delayed; the URL path says so (``…/delayed``)."""
        return "delayed" in self.dxlink_url or self.level == "demo"


class QuoteTokenSource(Protocol):
    """Where the client gets a token for each connect."""

    def fetch(self) -> QuoteToken:
        """A fresh quote token; raises AuthRejectedError or TokenUnavailableError."""
        ...

    def invalidate(self) -> bool:
        """Forget cached tokens (DXLink rejected one); False when the next fetch cannot give another."""
        ...


class StaticQuoteTokenSource:
    """A quote token and URL given directly (command line ``--url``, tests).

    The URL is checked here, once: a fixed URL that cannot work never will, so the caller says so at
    once instead of retrying. ``url_name`` is how the caller calls it in that message (``--url``).
    """

    def __init__(
        self, dxlink_url: str, token: str, *, level: str = "api", clock: Clock | None = None, url_name: str = "url"
    ) -> None:
        check_ws_url(dxlink_url, url_name)
        self._url = dxlink_url
        self._token = token
        self._level = level
        self._clock = clock or SystemClock()

    def fetch(self) -> QuoteToken:
        return QuoteToken(self._token, self._url, self._level, self._clock.monotonic())

    def invalidate(self) -> bool:
        """Nothing to refresh: the same token comes back, so repeated rejections end the stream."""
        return False

    def __repr__(self) -> str:
        return f"StaticQuoteTokenSource(url={self._url!r})"


class TastytradeAuth:
    """OAuth2 refresh-token flow and quote-token fetch against the tastytrade REST API."""

    def __init__(
        self,
        config: TastytradeConfig,
        *,
        transport: HttpTransport = urllib_transport,
        clock: Clock | None = None,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self._config = config
        self._transport = transport
        self._clock = clock or SystemClock()
        self._on_secret = on_secret or (lambda _secret: None)
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._access_expires_at = 0.0

    def __repr__(self) -> str:
        return f"TastytradeAuth(environment={self._config.environment!r})"

    def fetch(self) -> QuoteToken:
        """``GET /api-quote-tokens`` with a valid access token (once more with a new one on HTTP 401).

        Raises AuthRejectedError only for a final verdict on the credentials (see the module
        docstring); any other failure is a TokenUnavailableError and the access token is dropped, so
        the next attempt starts from the refresh token.
        """
        with self._lock:
            status, payload = self._get_quote_token(self._access())
            if status == 401:
                self._access_token = None
                status, payload = self._get_quote_token(self._access())
            if status == 200:
                return self._quote_token(payload)
            self._access_token = None
            error = _describe("GET /api-quote-tokens", status, payload)
            if _is_verdict(status, payload):
                raise AuthRejectedError(error)
            raise TokenUnavailableError(error)

    def invalidate(self) -> bool:
        with self._lock:
            self._access_token = None
        return True

    def _access(self) -> str:
        now = self._clock.monotonic()
        if self._access_token is not None and now < self._access_expires_at:
            return self._access_token
        body: dict[str, str] = {
            "grant_type": "refresh_token",
            "refresh_token": self._config.refresh_token,
            "client_secret": self._config.client_secret,
        }
        if self._config.client_id:
            body["client_id"] = self._config.client_id
        status, payload = self._call("POST", "/oauth/token", body=body)
        if _is_verdict(status, payload):
            raise AuthRejectedError(_describe("POST /oauth/token", status, payload))
        reply = payload if isinstance(payload, dict) else {}
        token = reply.get("access_token")
        if status != 200 or not isinstance(token, str) or not token:
            raise TokenUnavailableError(_describe("POST /oauth/token", status, payload))
        self._on_secret(token)
        lifetime = _number(reply.get("expires_in"), default=900.0)
        self._access_token = token
        self._access_expires_at = now + max(lifetime - ACCESS_TOKEN_MARGIN_SECONDS, 0.0)
        return token

    def _get_quote_token(self, access_token: str) -> tuple[int, object]:
        return self._call("GET", "/api-quote-tokens", bearer=access_token)

    def _quote_token(self, payload: object) -> QuoteToken:
        data = payload.get("data") if isinstance(payload, dict) else None
        token = data.get("token") if isinstance(data, dict) else None
        url = data.get("dxlink-url") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token or not isinstance(url, str):
            raise TokenUnavailableError("GET /api-quote-tokens: reply without token or dxlink-url")
        self._on_secret(token)
        try:
            check_ws_url(url, "dxlink-url")
        except ValueError as exc:
            raise TokenUnavailableError(f"GET /api-quote-tokens: {exc}") from None
        level = data.get("level") if isinstance(data, dict) else None
        return QuoteToken(token, url, level if isinstance(level, str) else "", self._clock.monotonic())

    def _call(
        self, method: str, path: str, *, body: dict[str, str] | None = None, bearer: str | None = None
    ) -> tuple[int, object]:
        headers = {"User-Agent": self._config.user_agent, "Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        request = HttpRequest(
            method, self._config.api_base_url + path, headers, data, self._config.http_timeout_seconds
        )
        try:
            response = self._transport(request)
        except (OSError, ValueError) as exc:  # URLError, timeouts, connection resets
            raise TokenUnavailableError(f"{method} {path}: {type(exc).__name__}") from None
        try:
            payload: object = json.loads(response.body) if response.body else None
        except ValueError:
            payload = None
        return response.status, payload


def check_ws_url(url: str, name: str) -> None:
    """Raises ValueError naming ``name`` unless ``url`` is a ws:// or wss:// URL with a host and a valid port."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        raise ValueError(f"{name} is not a valid URL") from None
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"{name} must start with ws:// or wss://")
    if not parts.hostname or port == 0:
        raise ValueError(f"{name} has no host or a port of 0")


def _number(value: object, *, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _is_verdict(status: int, payload: object) -> bool:
    """A client-error reply (4xx) whose error code says the credentials themselves are not accepted."""
    return 400 <= status < 500 and _error_code(payload) in PERMANENT_ERROR_CODES


def _describe(what: str, status: int, payload: object) -> str:
    """``POST /oauth/token: HTTP 401 (invalid_grant)``: status and error code only, never the body."""
    code = _error_code(payload)
    return f"{what}: HTTP {status}" + (f" ({code})" if code else "")


def _error_code(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        error = error.get("code")
    if isinstance(error, str) and _ERROR_CODE_RE.match(error):
        return error
    return None
