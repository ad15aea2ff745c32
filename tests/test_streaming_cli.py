"""`python -m streaming` end to end against the DXLink server double (subprocess, real socket)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dxlink_server import DxLinkConnection, DxLinkServerDouble, quote

REPO_ROOT = Path(__file__).resolve().parents[1]


def feed_on_subscribe(connection: DxLinkConnection, added: list[tuple[str, str]]) -> None:
    """Answers each Quote subscription with one event (VIX as an index: NaN sizes)."""
    records = [
        quote(symbol, 576.88, 576.9, 200.0, 300.0) if symbol == "SPY" else quote(symbol, 17.1, 17.2, "NaN", "NaN")
        for kind, symbol in added
        if kind == "Quote"
    ]
    if records:
        connection.send_events("Quote", records)


@pytest.fixture
def server() -> Iterator[DxLinkServerDouble]:
    with DxLinkServerDouble(on_subscribe=feed_on_subscribe) as double:
        yield double


def run_cli(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTYTRADE_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "streaming", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_prints_one_json_object_per_event(server: DxLinkServerDouble) -> None:
    result = run_cli("--url", server.url, "--token", "good-token", "--symbols", "SPY,VIX", "--seconds", "1.0")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    by_symbol = {e["symbol"]: e for e in events if e["type"] == "Quote"}
    assert by_symbol["SPY"] == {
        "type": "Quote", "symbol": "SPY", "bid": 576.88, "ask": 576.9, "bid_size": 200.0, "ask_size": 300.0
    }  # fmt: skip
    assert by_symbol["VIX"]["bid"] == 17.1 and by_symbol["VIX"]["bid_size"] is None  # NaN as null
    assert "connection connected" in result.stderr and "connection closed" in result.stderr
    assert "good-token" not in result.stderr
    assert server.all_violations() == []


def test_final_auth_failure_exits_with_2(server: DxLinkServerDouble) -> None:
    result = run_cli("--url", server.url, "--token", "bad-token-123", "--symbols", "SPY", "--seconds", "10")
    assert result.returncode == 2
    assert "connection failed" in result.stderr and "rejected again" in result.stderr
    assert "bad-token-123" not in result.stderr + result.stdout
    assert server.rejected_auths == 2


def test_missing_credentials_exit_with_2_and_name_the_variables() -> None:
    result = run_cli("--symbols", "SPY", "--seconds", "1")
    assert result.returncode == 2
    assert "TASTYTRADE_REFRESH_TOKEN" in result.stderr and "TASTYTRADE_CLIENT_SECRET" in result.stderr


def test_url_needs_a_token() -> None:
    result = run_cli("--url", "ws://127.0.0.1:1/x", "--symbols", "SPY")
    assert result.returncode == 2 and "--url and --token go together" in result.stderr
