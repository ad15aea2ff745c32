"""Alert delivery: LEAN notify targets in live mode and the local webhook (a real HTTP server on 127.0.0.1)."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from replay.engine import double as ld
from risk.webhook import WebhookAlerter, redact_url


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
    alerter = WebhookAlerter(f"http://127.0.0.1:{port}/hook/secret-token", timeout_seconds=1.0)
    alerter.send("subject", "body")
    alerter.wait_idle()
    failures = alerter.drain_failures()
    assert len(failures) == 1 and "webhook http://127.0.0.1/... failed for 'subject'" in failures[0]
    assert "secret-token" not in failures[0]
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
