"""Removal of credentials and tokens from every text that leaves the package.

Why: LEAN logs are stored in the QuantConnect cloud and shared when asking for help; an exception
message or an HTTP error body must never carry the refresh token, the client secret, the OAuth
access token or the DXLink quote token into them.
"""
from __future__ import annotations

import threading

MASK = "***"
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

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"
