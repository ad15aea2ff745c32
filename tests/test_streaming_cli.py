"""`python -m streaming` end to end against the DXLink server double (subprocess, real socket)."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming import TastytradeWebSocket
from streaming.__main__ import EventBacklog, Viewer
from streaming.auth import StaticQuoteTokenSource
from streaming.protocol import Batch
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


def run_cli(*args: str, timeout: float = 20.0, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m streaming`` with no TASTYTRADE_* variables but ``token`` as the quote token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTYTRADE_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    if token is not None:
        env["TASTYTRADE_QUOTE_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "streaming", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_prints_one_json_object_per_event(server: DxLinkServerDouble) -> None:
    result = run_cli("--url", server.url, "--symbols", "SPY,VIX", "--seconds", "1.0", token="good-token")
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
    result = run_cli("--url", server.url, "--symbols", "SPY", "--seconds", "10", token="bad-token-123")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("streaming: failed: ") and "fixed quote token was rejected again" in line
    assert "bad-token-123" not in result.stderr + result.stdout
    assert server.rejected_auths == 2


def test_missing_credentials_exit_with_2_and_name_the_variables() -> None:
    result = run_cli("--symbols", "SPY", "--seconds", "1")
    assert result.returncode == 2
    assert "TASTYTRADE_REFRESH_TOKEN" in result.stderr and "TASTYTRADE_CLIENT_SECRET" in result.stderr


def test_url_needs_a_token() -> None:
    result = run_cli("--url", "ws://127.0.0.1:1/x", "--symbols", "SPY")
    assert result.returncode == 2
    assert result.stderr.strip() == "streaming: --url needs a quote token: set TASTYTRADE_QUOTE_TOKEN or give --token-file"
    result = run_cli("--token-file", "t.txt", "--symbols", "SPY")
    assert result.returncode == 2 and "--token and --token-file go with --url" in result.stderr


def test_token_from_a_file_or_the_command_line(server: DxLinkServerDouble, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("good-token\n")
    result = run_cli("--url", server.url, "--token-file", str(token_file), "--symbols", "SPY", "--seconds", "0.5")
    assert result.returncode == 0 and "process list" not in result.stderr
    assert server.connection(0).token == "good-token"
    result = run_cli("--url", server.url, "--token", "good-token", "--symbols", "SPY", "--seconds", "0.5")
    assert result.returncode == 0
    assert "warning: --token is visible in the process list" in result.stderr
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    result = run_cli("--url", server.url, "--token-file", str(empty), "--symbols", "SPY")
    assert result.returncode == 2 and result.stderr.strip() == f"streaming: --token-file {empty} is empty"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:1/x", "streaming: --url must start with ws:// or wss://"),
        ("ws://[::1/x", "streaming: --url is not a valid URL"),
        ("ws://127.0.0.1:99999/x", "streaming: --url is not a valid URL"),
        ("ws:///realtime", "streaming: --url has no host or a port of 0"),
    ],
)
def test_a_url_that_can_never_work_exits_at_once(url: str, message: str) -> None:
    result = run_cli("--url", url, "--symbols", "SPY", token="t0ken-value")
    assert result.returncode == 2 and result.stderr.splitlines() == [message]


def refused_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_refused_port_exits_1_with_one_line_at_the_deadline() -> None:
    url = f"ws://127.0.0.1:{refused_port()}/realtime"
    result = run_cli("--url", url, "--symbols", "SPY", "--seconds", "1", token="t0ken-value")
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("streaming: never connected: not connected after ") and "ConnectionRefusedError" in line


def test_without_seconds_the_connect_timeout_ends_the_wait() -> None:
    url = f"ws://127.0.0.1:{refused_port()}/realtime"
    result = run_cli("--url", url, "--symbols", "SPY", "--connect-timeout", "1", token="t0ken-value")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1


def test_unknown_host_is_given_up_after_a_few_tries() -> None:
    # .invalid never resolves (RFC 2606); a slow resolver may take a few seconds per try
    result = run_cli("--url", "ws://no-such-host.invalid/realtime", "--symbols", "SPY", token="t0ken-value", timeout=90)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("streaming: never connected: the host cannot be resolved (3 tries")


@pytest.mark.parametrize("seconds", ["-5", "0", "nan", "inf", "soon"])
def test_seconds_must_be_positive_and_finite(seconds: str) -> None:
    result = run_cli("--url", "ws://127.0.0.1:1/x", "--symbols", "SPY", "--seconds", seconds, token="t0ken-value")
    assert result.returncode == 2 and "argument --seconds:" in result.stderr


def test_the_backlog_is_bounded_and_counts_what_it_drops() -> None:
    backlog = EventBacklog(max_events=5)
    batch = Batch("Quote", ["SPY", "SPX"], ([1.0, 2.0], [1.1, 2.1], [1.0, 1.0], [1.0, 1.0]))
    for _ in range(4):
        backlog.put([batch])  # 2 events each: the third and fourth do not fit
    assert backlog.take_dropped() == 4 and backlog.take_dropped() == 0
    assert sum(len(b) for batches in backlog.take(0.0) for b in batches) == 4
    backlog.put([batch])  # room again once stdout took the backlog
    assert backlog.take_dropped() == 0


class SlowStdout(io.StringIO):
    """stdout that cannot keep up: each write takes a while."""

    def write(self, text: str) -> int:
        time.sleep(0.05)
        return super().write(text)


def test_dropped_events_are_reported_when_stdout_cannot_keep_up(server: DxLinkServerDouble) -> None:
    backlog = EventBacklog(max_events=10)
    stream = TastytradeWebSocket(None, ["SPY"], token_source=StaticQuoteTokenSource(server.url, "good-token"),
                                 batch_sink=backlog.put)
    err = io.StringIO()
    viewer = Viewer(stream, backlog, SlowStdout(), err, started=time.monotonic())
    stream.connect()
    try:
        connection = server.connection(0)
        assert connection.wait_subscribed([("Quote", "SPY")])
        for n in range(200):
            connection.send_events("Quote", [quote("SPY", float(n), n + 0.1)])
        deadline = time.monotonic() + 5
        while "events dropped" not in err.getvalue() and time.monotonic() < deadline:
            viewer.copy_events(0.01)
            viewer.report_signals()
            viewer.report_drops(time.monotonic())
    finally:
        stream.close()
    viewer.report_drops(time.monotonic(), final=True)
    reports = [line for line in err.getvalue().splitlines() if "events dropped" in line]
    assert reports and "stdout could not keep up (backlog limit 10 events, --max-backlog)" in reports[0]
    printed = len(viewer.out.getvalue().splitlines())  # type: ignore[attr-defined]
    dropped = sum(int(line.split()[1]) for line in reports)
    waiting = sum(len(b) for bs in backlog.take(0.0) for b in bs)
    assert printed + dropped + waiting == 201  # the 200 sent and the fixture's answer to the subscription
