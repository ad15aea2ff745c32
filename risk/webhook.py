"""Alert delivery by HTTP POST for local live trading, where LEAN's ``notify`` sends nothing.

Open-source LEAN only delivers ``notify`` messages on QuantConnect's cloud. A webhook (Slack,
Discord, ntfy, a home server) fills the gap locally. Posting happens on a daemon thread with a short
timeout so ``on_data`` never waits on the network; failures are queued for the algorithm thread to
log (the thread never calls LEAN). URLs are shown without path or query, which often hold secrets.
"""
from __future__ import annotations

import json
import queue
import threading
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Opener = Callable[..., Any]


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/..."


class WebhookAlerter:
    """``send(subject, body)`` returns at once; ``drain_failures()`` gives what could not be sent."""

    def __init__(self, url: str, timeout_seconds: float = 5.0, opener: Opener = urllib.request.urlopen) -> None:
        self.url, self.timeout, self.opener = url, timeout_seconds, opener
        self._outbox: queue.Queue[dict[str, str]] = queue.Queue()
        self._failures: queue.Queue[str] = queue.Queue()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def send(self, subject: str, body: str) -> None:
        self._outbox.put({"subject": subject, "text": f"{subject}: {body}"})

    def _run(self) -> None:
        while True:
            payload = self._outbox.get()
            request = urllib.request.Request(
                self.url, data=json.dumps(payload).encode(), method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "tom-king-framework-alerts/1.0"})
            try:
                with self.opener(request, timeout=self.timeout) as response:
                    if not 200 <= int(response.status) < 300:
                        raise OSError(f"HTTP {response.status}")
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised into LEAN
                self._failures.put(f"webhook {redact_url(self.url)} failed for '{payload['subject']}': "
                                   f"{type(exc).__name__}: {exc}")
            finally:
                self._outbox.task_done()

    def drain_failures(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self._failures.get_nowait())
            except queue.Empty:
                return out

    def wait_idle(self) -> None:
        """Block until everything queued was attempted (tests and shutdown only)."""
        self._outbox.join()
