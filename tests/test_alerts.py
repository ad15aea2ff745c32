"""Alert delivery: LEAN notify targets in live mode and the local webhook (a real HTTP server on 127.0.0.1)."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from replay.engine import double as ld
from risk.alerts import WebhookAlerter, redact_url


class _Sink(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _Sink)
    _Sink.received = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook/secret-token?key=abc"
    httpd.shutdown()


def test_webhook_posts_json(server):
    alerter = WebhookAlerter(server, timeout_seconds=2.0)
    alerter.send("MANUAL MODE ACTIVATED", "Extreme VIX: 55 > 50")
    alerter.wait_idle()
    assert _Sink.received == [{"subject": "MANUAL MODE ACTIVATED",
                               "text": "MANUAL MODE ACTIVATED: Extreme VIX: 55 > 50"}]
    assert alerter.drain_failures() == [] and alerter.sent == 1


def test_webhook_failure_is_reported_without_the_secret():
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    alerter = WebhookAlerter(f"http://127.0.0.1:{port}/hook/secret-token", timeout_seconds=1.0,
                             backoff_seconds=0.01)
    alerter.send("subject", "body")
    alerter.wait_idle()
    failures = alerter.drain_failures()
    assert len(failures) == 1 and "webhook http://127.0.0.1/... failed for 'subject' after 3 tries" in failures[0]
    assert "secret-token" not in failures[0]
    assert alerter.status().startswith("webhook http://127.0.0.1/...: sent 0, failed 1, queued 0, dropped 0")
    assert redact_url("https://hooks.example/T0/B1/XYZ?x=1") == "https://hooks.example/..."


def test_live_alerts_go_to_notify_targets_and_the_webhook(server, monkeypatch):
    from streaming import TastytradeWebSocket

    monkeypatch.setenv("TASTYTRADE_REFRESH_TOKEN", "r")
    monkeypatch.setenv("TASTYTRADE_CLIENT_SECRET", "c")
    monkeypatch.setattr(TastytradeWebSocket, "connect", lambda self: None)
    algo = ld.start_algorithm({"manual-alert-emails": "a@x.com, b@x.com", "manual-alert-sms": "+15550100",
                               "manual-alert-telegram-chat-id": "42", "manual-alert-webhook-url": server},
                              live_mode=True)
    algo.on_command({"command": "manual", "reason": "test"})
    algo.webhook.wait_idle()
    kinds = [kind for kind, _args in algo.notify.sent]
    assert kinds == ["email", "email", "sms", "telegram"]
    assert algo.notify.sent[0][1][:2] == ("a@x.com", "MANUAL MODE ACTIVATED")
    assert _Sink.received[0]["subject"] == "MANUAL MODE ACTIVATED"


def test_backtests_only_log_alerts():
    algo = ld.start_algorithm({"manual-alert-emails": "a@x.com"})
    algo.on_command({"command": "manual", "reason": "test"})
    assert algo.notify.sent == [] and any(line.startswith("[ALERT] MANUAL MODE ACTIVATED") for line in algo.logs)


@pytest.mark.parametrize("url, problem", [
    ("hooks.slack.com/services/T0/B0/XYZ", "must start with https://"),
    ("http://[::1/x", "is not a valid URL"),
    ("file:///etc/passwd", "must start with https://"),
    ("data:text/plain,hi", "must start with https://"),
    ("ftp://example.com/x", "must start with https://"),
    ("http://example.com/hook", "http:// is allowed only to this machine"),
    ("https:///nohost", "has no host"),
    ("https://hooks.example.com:99999/x", "is not a valid URL"),
])
def test_bad_webhook_urls_stop_initialize_naming_the_parameter_not_the_secret(url, problem):
    from core.params import SettingsError

    with pytest.raises(SettingsError) as raised:
        ld.start_algorithm({"manual-alert-webhook-url": url})
    message = str(raised.value)
    assert f"manual-alert-webhook-url=<secret, not shown>: {problem}" in message
    assert url not in message and "XYZ" not in message


@pytest.mark.parametrize("url", ["https://hooks.example.com/T0/B0/XYZ", "http://127.0.0.1:8080/x",
                                 "http://localhost/x", "http://[::1]:9/x", ""])
def test_good_webhook_urls_are_accepted(url):
    from core.params import webhook_url_problem

    assert webhook_url_problem(url) is None


def test_every_error_is_caught_retried_and_reported_redacted(capsys):
    opener = _Raising()
    url = "https://user:pa55word@hooks.example.com/T0/B0/S3CRETTOKEN?key=K3Y"
    alerter = WebhookAlerter(url, opener=opener, backoff_seconds=0.001)
    for i in range(3):
        alerter.send(f"alert {i}", "body")
    assert alerter.wait_idle(5.0)
    failures = alerter.drain_failures()
    assert len(failures) == 3 and opener.calls == 9  # every alert tried three times
    text = "\n".join(failures) + alerter.status() + capsys.readouterr().err
    for secret in ("S3CRETTOKEN", "K3Y", "pa55word", "user:", "T0/B0"):
        assert secret not in text
    assert alerter._thread.is_alive()
    alerter.send("after", "the thread still works")
    assert alerter.wait_idle(5.0) and alerter.failed == 4


class _Raising:
    """An opener that fails in every way a network library can, echoing the URL it was given."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request, timeout):  # noqa: ANN001 - urllib's signature
        self.calls += 1
        kinds = (ValueError(f"unknown url type: {request.full_url}"), OSError(f"refused {request.full_url}"),
                 RuntimeError("boom " + request.full_url.split("/")[-1]))
        raise kinds[self.calls % 3]


def test_the_queue_is_bounded_and_drops_the_oldest():
    blocked = threading.Event()

    def slow(request, timeout):  # noqa: ANN001
        blocked.wait(5.0)
        raise OSError("down")

    alerter = WebhookAlerter("https://hooks.example.com/x", opener=slow, max_attempts=1, max_queued=3)
    for i in range(10):
        alerter.send(f"alert {i}", "body")
    assert alerter.dropped >= 6
    blocked.set()
    assert alerter.wait_idle(5.0)
    assert any("queue full (3), oldest alert dropped" in f for f in alerter.drain_failures())
