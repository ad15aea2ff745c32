"""tastytrade OAuth2 and quote-token flow, configuration from the environment, secrets in reprs."""
from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from streaming.auth import (
    AuthRejectedError,
    HttpRequest,
    HttpResponse,
    QuoteToken,
    StaticQuoteTokenSource,
    TastytradeAuth,
    TokenUnavailableError,
    urllib_transport,
)
from streaming.config import ConfigError, TastytradeConfig

REFRESH = "refresh-SECRET-1234567"
CLIENT_SECRET = "client-SECRET-7654321"
ACCESS = "access-TOKEN-abcdefgh"
QUOTE = "quote-TOKEN-ijklmnop"
DXLINK_URL = "wss://tasty-openapi-ws.dxfeed.com/realtime"


def oauth_reply(token: str = ACCESS, expires_in: int = 900) -> HttpResponse:
    return HttpResponse(200, json.dumps({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}).encode())


def quote_reply(token: str = QUOTE, url: str = DXLINK_URL, level: str = "api") -> HttpResponse:
    body = {"data": {"token": token, "dxlink-url": url, "level": level}, "context": "/api-quote-tokens"}
    return HttpResponse(200, json.dumps(body).encode())


class FakeTransport:
    """Answers by (method, path) from queues of replies; records every request."""

    def __init__(self, replies: dict[str, list[HttpResponse | Exception]]) -> None:
        self.replies = replies
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        path = request.url.split(".com", 1)[1]
        queue = self.replies[f"{request.method} {path}"]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


def make_config(**overrides: Any) -> TastytradeConfig:
    return TastytradeConfig(refresh_token=REFRESH, client_secret=CLIENT_SECRET, client_id="client-id-1", **overrides)


def make_auth(transport: FakeTransport, config: TastytradeConfig | None = None) -> tuple[TastytradeAuth, list[float]]:
    now = [0.0]
    clock = SimpleNamespace(monotonic=lambda: now[0], time=lambda: 0.0)
    return TastytradeAuth(config or make_config(), transport=transport, clock=clock), now


def test_refresh_token_then_quote_token() -> None:
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [quote_reply()]})
    auth, _ = make_auth(transport)
    token = auth.fetch()
    assert (token.token, token.dxlink_url, token.level, token.delayed) == (QUOTE, DXLINK_URL, "api", False)
    oauth, quote = transport.requests
    assert oauth.url == "https://api.tastyworks.com/oauth/token" and oauth.method == "POST"
    assert json.loads(oauth.body or b"") == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_secret": CLIENT_SECRET,
        "client_id": "client-id-1",
    }
    assert quote.url == "https://api.tastyworks.com/api-quote-tokens"
    assert quote.headers["Authorization"] == f"Bearer {ACCESS}"
    assert all(r.headers["User-Agent"] == "tom-king-framework/1.0" for r in transport.requests)
    assert all(r.timeout_seconds == 10.0 for r in transport.requests)


def test_sandbox_base_url_and_delayed_feed() -> None:
    transport = FakeTransport(
        {
            "POST /oauth/token": [oauth_reply()],
            "GET /api-quote-tokens": [quote_reply(url="wss://tasty-demo-ws.dxfeed.com/delayed", level="demo")],
        }
    )
    auth, _ = make_auth(transport, make_config(environment="sandbox"))
    assert auth.fetch().delayed
    assert transport.requests[0].url == "https://api.cert.tastyworks.com/oauth/token"


def test_access_token_is_reused_until_it_expires_but_quote_token_is_fetched_each_time() -> None:
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [quote_reply()]})
    auth, now = make_auth(transport)
    auth.fetch()
    now[0] = 800.0
    auth.fetch()
    assert [r.method for r in transport.requests] == ["POST", "GET", "GET"]
    now[0] = 900.0  # past expires_in minus the 60 s margin
    auth.fetch()
    assert [r.method for r in transport.requests] == ["POST", "GET", "GET", "POST", "GET"]
    auth.invalidate()
    auth.fetch()
    assert transport.requests[-2].method == "POST"


def test_expired_access_token_is_refreshed_once() -> None:
    denied = HttpResponse(401, b'{"error":{"code":"token_invalid","message":"x"}}')
    transport = FakeTransport(
        {"POST /oauth/token": [oauth_reply("access-old-123456"), oauth_reply()], "GET /api-quote-tokens": [denied, quote_reply()]}
    )
    auth, _ = make_auth(transport)
    assert auth.fetch().token == QUOTE
    assert [r.method for r in transport.requests] == ["POST", "GET", "POST", "GET"]


def test_rejected_credentials() -> None:
    body = json.dumps({"error": "invalid_grant", "error_description": f"bad {REFRESH}"}).encode()
    transport = FakeTransport({"POST /oauth/token": [HttpResponse(401, body)], "GET /api-quote-tokens": [quote_reply()]})
    auth, _ = make_auth(transport)
    with pytest.raises(AuthRejectedError) as caught:
        auth.fetch()
    assert str(caught.value) == "POST /oauth/token: HTTP 401 (invalid_grant)"


def test_not_a_customer_is_rejected() -> None:
    body = b'{"error":{"code":"quote_streamer.customer_not_found_error","message":"not found"}}'
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [HttpResponse(404, body)]})
    auth, _ = make_auth(transport)
    with pytest.raises(AuthRejectedError, match="customer_not_found"):
        auth.fetch()


@pytest.mark.parametrize(
    "reply",
    [
        HttpResponse(503, b"<html>down</html>"),
        HttpResponse(429, b""),
        HttpResponse(200, b'{"data":{}}'),
        HttpResponse(200, b'{"data":{"token":"abcdefgh","dxlink-url":"https://not-ws"}}'),
        TimeoutError("timed out"),
        OSError("connection refused"),
    ],
)
def test_transient_failures(reply: HttpResponse | Exception) -> None:
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [reply]})
    auth, _ = make_auth(transport)
    with pytest.raises(TokenUnavailableError):
        auth.fetch()


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    config = make_config()
    token = QuoteToken(QUOTE, DXLINK_URL, "api", 0.0)
    transport = FakeTransport({"POST /oauth/token": [HttpResponse(500, f'{{"echo":"{REFRESH}"}}'.encode())]})
    auth, _ = make_auth(transport, config)
    with pytest.raises(TokenUnavailableError) as caught:
        auth.fetch()
    texts = [repr(config), str(config), repr(token), repr(auth), repr(transport.requests[0]), str(caught.value)]
    texts.append(repr(StaticQuoteTokenSource("ws://127.0.0.1:1/x", QUOTE)))
    for text in texts:
        for secret in (REFRESH, CLIENT_SECRET, QUOTE, "client-id-1"):
            assert secret not in text


def test_from_env() -> None:
    env = {
        "TASTYTRADE_REFRESH_TOKEN": REFRESH,
        "TASTYTRADE_CLIENT_SECRET": CLIENT_SECRET,
        "TASTYTRADE_ENVIRONMENT": "Sandbox",
    }
    config = TastytradeConfig.from_env(env)
    assert config.refresh_token == REFRESH and config.client_id is None
    assert config.api_base_url == "https://api.cert.tastyworks.com"


def test_from_env_names_missing_variables_only() -> None:
    with pytest.raises(ConfigError) as caught:
        TastytradeConfig.from_env({"TASTYTRADE_CLIENT_SECRET": CLIENT_SECRET})
    assert "TASTYTRADE_REFRESH_TOKEN" in str(caught.value) and CLIENT_SECRET not in str(caught.value)
    with pytest.raises(ConfigError):
        make_config(environment="paper")


@pytest.fixture
def local_http() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 for the urllib transport."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            status = 200 if self.headers.get("User-Agent") == "ua/1" else 401
            reply = json.dumps({"echo": json.loads(body), "path": self.path}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urllib_transport_returns_statuses(local_http: str) -> None:
    ok = urllib_transport(HttpRequest("POST", local_http + "/oauth/token", {"User-Agent": "ua/1"}, b'{"a":1}', 2.0))
    assert ok.status == 200 and json.loads(ok.body) == {"echo": {"a": 1}, "path": "/oauth/token"}
    denied = urllib_transport(HttpRequest("POST", local_http + "/x", {"User-Agent": "other"}, b"{}", 2.0))
    assert denied.status == 401
    with pytest.raises(OSError):
        urllib_transport(HttpRequest("GET", "http://127.0.0.1:1/", {}, None, 2.0))


# ----- transient vs permanent (issue 17 point 1) ---------------------------------------------------
@pytest.mark.parametrize("status", [401, 403, 404, 429, 500, 502, 503])
def test_quote_token_endpoint_errors_are_transient_and_start_again_from_the_refresh_token(status: int) -> None:
    failure = HttpResponse(status, b'{"error":{"code":"token_invalid","message":"no"}}')
    failures = [failure, failure] if status == 401 else [failure]  # a 401 is retried once with a new access token
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [*failures, quote_reply()]})
    auth, _ = make_auth(transport)
    with pytest.raises(TokenUnavailableError, match=f"HTTP {status}"):
        auth.fetch()
    assert auth.fetch().token == QUOTE  # the blip is over
    # the failed access token was dropped: the retry began with a new one from the refresh token
    assert [r.method for r in transport.requests][-2:] == ["POST", "GET"]


@pytest.mark.parametrize(
    "reply",
    [
        HttpResponse(401, b""),  # no error code: cannot tell a blip from a verdict, so retry
        HttpResponse(403, b'{"error":"access_denied"}'),
        HttpResponse(429, b'{"error":"slow_down"}'),
        HttpResponse(500, b'{"error":"invalid_grant"}'),  # a verdict needs a 4xx status
        HttpResponse(200, b'{"token_type":"Bearer"}'),
    ],
)
def test_oauth_endpoint_blips_are_transient(reply: HttpResponse) -> None:
    transport = FakeTransport({"POST /oauth/token": [reply, oauth_reply()], "GET /api-quote-tokens": [quote_reply()]})
    auth, _ = make_auth(transport)
    with pytest.raises(TokenUnavailableError):
        auth.fetch()
    assert auth.fetch().token == QUOTE


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "invalid_grant"), (401, "invalid_grant"), (401, "invalid_client"), (400, "unauthorized_client")],
)
def test_only_a_verdict_on_the_credentials_is_permanent(status: int, code: str) -> None:
    body = json.dumps({"error": code, "error_description": f"echo {CLIENT_SECRET}"}).encode()
    transport = FakeTransport({"POST /oauth/token": [HttpResponse(status, body)], "GET /api-quote-tokens": [quote_reply()]})
    auth, _ = make_auth(transport)
    with pytest.raises(AuthRejectedError) as caught:
        auth.fetch()
    assert str(caught.value) == f"POST /oauth/token: HTTP {status} ({code})"


def test_invalidate_says_whether_another_token_can_come() -> None:
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [quote_reply()]})
    auth, _ = make_auth(transport)
    auth.fetch()
    assert auth.invalidate() is True
    auth.fetch()
    assert [r.method for r in transport.requests] == ["POST", "GET", "POST", "GET"]
    assert StaticQuoteTokenSource("ws://127.0.0.1:1/x", QUOTE).invalidate() is False


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://tasty-openapi-ws.dxfeed.com/realtime", "dxlink-url must start with ws:// or wss://"),
        ("wss://host:70000/realtime", "dxlink-url is not a valid URL"),
        ("wss:///realtime", "dxlink-url has no host or a port of 0"),
        ("ws://host:0/realtime", "dxlink-url has no host or a port of 0"),
    ],
)
def test_dxlink_urls_that_cannot_work(url: str, message: str) -> None:
    transport = FakeTransport({"POST /oauth/token": [oauth_reply()], "GET /api-quote-tokens": [quote_reply(url=url)]})
    auth, _ = make_auth(transport)
    with pytest.raises(TokenUnavailableError, match=message):
        auth.fetch()
    assert StaticQuoteTokenSource("wss://host:443/realtime", QUOTE, url_name="--url") is not None
