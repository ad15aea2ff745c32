"""Alert delivery by HTTP POST for local live trading, where LEAN's ``notify`` sends nothing.

Open-source LEAN only delivers ``notify`` messages on QuantConnect's cloud. A webhook (Slack,
Discord, ntfy, a home server) fills the gap locally. The URL is checked when the algorithm starts
(:func:`core.params.webhook_url_problem`: https, or http to this machine only; never ``file:``,
``data:``, ``ftp:``). Posting happens on a daemon thread so ``on_data`` never waits on the network; the worker
catches every error, retries a bounded number of times with back-off, keeps a bounded queue, and
leaves its failures for the algorithm thread to log (the thread never calls LEAN). A webhook URL
carries its secret in the path, query or user:password: every text that leaves this module is passed
through :meth:`WebhookAlerter.redact` first, so no part of the secret reaches a log or stderr.
"""
from __future__ import annotations

import collections
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit


Opener = Callable[..., Any]
MAX_QUEUED = 100        # alerts waiting to be posted; beyond this the oldest is dropped (and counted)
MAX_ATTEMPTS = 3        # tries per alert
FIRST_BACKOFF_SECONDS = 1.0  # doubled after each failed try


def redact_url(url: str) -> str:
    """Scheme and host only (path, query and credentials often hold the secret)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or '?'}/..."
    except ValueError:
        return "<unparsable URL>"


class WebhookAlerter:
    """``send(subject, body)`` returns at once; ``drain_failures()`` gives what could not be sent
    (already redacted); ``status()`` sums it up for the ``status`` command."""

    def __init__(self, url: str, timeout_seconds: float = 5.0, opener: Opener = urllib.request.urlopen,
                 max_attempts: int = MAX_ATTEMPTS, backoff_seconds: float = FIRST_BACKOFF_SECONDS,
                 max_queued: int = MAX_QUEUED) -> None:
        self.url, self.timeout, self.opener = url, timeout_seconds, opener
        self.max_attempts, self.backoff, self.max_queued = max_attempts, backoff_seconds, max_queued
        self._secrets = _secret_parts(url)
        self._outbox: collections.deque[dict[str, str]] = collections.deque()
        self._failures: collections.deque[str] = collections.deque(maxlen=MAX_QUEUED)
        self._wake = threading.Condition()
        self._busy = self._dropping = False
        self.sent = self.failed = self.dropped = 0
        self.last_failure = ""
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def redact(self, text: str) -> str:
        """``text`` with every secret part of the URL replaced (redaction before any truncation)."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def send(self, subject: str, body: str) -> None:
        with self._wake:
            if len(self._outbox) >= self.max_queued:
                self._outbox.popleft()
                self.dropped += 1
                if not self._dropping:  # said once per backlog; status() keeps the count
                    self._failures.append(f"webhook {redact_url(self.url)}: queue full ({self.max_queued}), "
                                          f"oldest alert dropped")
                self._dropping = True
            self._outbox.append({"subject": subject, "text": f"{subject}: {body}"})
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._outbox:
                    self._busy = self._dropping = False
                    self._wake.notify_all()
                    self._wake.wait()
                payload = self._outbox.popleft()
                self._busy = True
            self._deliver(payload)

    def _deliver(self, payload: dict[str, str]) -> None:
        """Post one alert, retrying with back-off; any error is caught and reported redacted."""
        delay, error = self.backoff, ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._post(payload)
                self.sent += 1
                return
            except Exception as exc:  # noqa: BLE001 - nothing may kill the alert thread
                error = f"{type(exc).__name__}: {exc}"
            if attempt < self.max_attempts:
                time.sleep(delay)
                delay *= 2
        self.failed += 1
        self.last_failure = (f"webhook {redact_url(self.url)} failed for '{payload['subject']}' after "
                             f"{self.max_attempts} tries: {self.redact(error)}")
        self._failures.append(self.last_failure)

    def _post(self, payload: dict[str, str]) -> None:
        request = urllib.request.Request(
            self.url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "tom-king-framework-alerts/1.0"})
        with self.opener(request, timeout=self.timeout) as response:
            if not 200 <= int(response.status) < 300:
                raise OSError(f"HTTP {response.status}")

    def drain_failures(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self._failures.popleft())
            except IndexError:
                return out

    def status(self) -> str:
        queued = len(self._outbox)
        text = (f"webhook {redact_url(self.url)}: sent {self.sent}, failed {self.failed}, queued {queued}, "
                f"dropped {self.dropped}")
        return text + (f"; last failure: {self.last_failure}" if self.last_failure else "")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until everything queued was attempted (tests and shutdown only)."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._outbox and not self._busy, timeout)


def _secret_parts(url: str) -> list[str]:
    """The URL and every piece of it that may be a secret, longest first (so a whole URL is replaced
    before its parts), in raw and percent-decoded form."""
    try:
        parts = urlsplit(url)
        pieces = [url, parts.path, parts.query, parts.fragment, parts.username or "", parts.password or "",
                  *parts.path.split("/"), *(p.partition("=")[2] for p in parts.query.split("&"))]
    except ValueError:
        pieces = [url]
    found = {p for p in pieces if len(p) >= 4} | {unquote(p) for p in pieces if len(p) >= 4}
    return sorted(found, key=len, reverse=True)
