"""Command-line viewer of the DXLink feed.

    python -m streaming --symbols SPY,VIX                            # credentials from TASTYTRADE_* variables
    TASTYTRADE_QUOTE_TOKEN=T python -m streaming --url ws://HOST:PORT --symbols SPY --seconds 10
    python -m streaming --url wss://HOST/realtime --token-file ~/.dxlink-token --symbols SPY

One JSON object per market event on stdout (``{"type":"Quote","symbol":"SPY","bid":..}``, NaN as null),
connection changes and log lines on stderr. A quote token for ``--url`` comes from a file or the
``TASTYTRADE_QUOTE_TOKEN`` variable: a ``--token`` argument is visible to every user in the process
list, so it still works but says so.

Exit codes: 0 finished; 1 never connected before the connect deadline (``--connect-timeout``, or
``--seconds`` when shorter) or the host of the URL cannot be resolved; 2 bad arguments, a URL that can
never work, or credentials missing or rejected for good; 130 interrupted. Every failure is one line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from streaming.auth import StaticQuoteTokenSource
from streaming.config import ENV_ENVIRONMENT, ConfigError, TastytradeConfig
from streaming.protocol import COLUMN_NAMES, Batch, EndReason
from streaming.signals import ConnectionChanged, ConnectionState, LogLine, Signal
from streaming.tastytrade_websocket import TastytradeWebSocket

EXIT_OK = 0
EXIT_NOT_CONNECTED = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130

ENV_QUOTE_TOKEN = "TASTYTRADE_QUOTE_TOKEN"
UNRESOLVED_TRIES = 3  # an unknown host is given up after this many consecutive failed look-ups
DROP_REPORT_SECONDS = 1.0
HELD_LINES = 20  # log lines kept back until the first connection


def positive_seconds(text: str) -> float:
    """argparse type: a positive, finite number of seconds (rejects -5, 0, nan, inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number of seconds")
    return value


def positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m streaming", description="Print tastytrade DXLink events as JSON lines.")
    parser.add_argument("--symbols", required=True, help="comma-separated streamer symbols, e.g. SPY,VIX,.SPY251219C500")
    parser.add_argument("--url", help=f"DXLink URL to use instead of asking tastytrade (quote token from {ENV_QUOTE_TOKEN})")
    parser.add_argument("--token-file", type=Path, help="file holding the DXLink quote token for --url")
    parser.add_argument("--token", help="quote token for --url (visible in the process list: prefer --token-file)")
    parser.add_argument("--seconds", type=positive_seconds, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument(
        "--connect-timeout", type=positive_seconds, default=30.0, help="give up when not connected after this (30 s)"
    )
    parser.add_argument(
        "--max-backlog", type=positive_count, default=100_000, help="events waiting for stdout before new ones are dropped"
    )
    parser.add_argument("--environment", choices=("production", "sandbox"), help=f"overrides {ENV_ENVIRONMENT}")
    parser.add_argument("--verbose", action="store_true", help="print every connection attempt, also before the first")
    args = parser.parse_args(argv)
    if args.url is None and (args.token is not None or args.token_file is not None):
        parser.error("--token and --token-file go with --url")
    args.symbol_list = [s.strip() for s in args.symbols.split(",") if s.strip()]
    if not args.symbol_list:
        parser.error("--symbols needs at least one symbol")
    return args


def quote_token(args: argparse.Namespace) -> str:
    """The token for --url: --token-file, then --token, then the environment; ValueError naming the flags."""
    if args.token_file is not None:
        try:
            token = args.token_file.read_text().strip()
        except OSError as exc:
            raise ValueError(f"--token-file {args.token_file}: {exc.strerror or exc}") from None
        if not token:
            raise ValueError(f"--token-file {args.token_file} is empty")
        return str(token)
    if args.token is not None:
        print("streaming: warning: --token is visible in the process list; prefer --token-file or "
              f"{ENV_QUOTE_TOKEN}", file=sys.stderr)
        return str(args.token)
    token = os.environ.get(ENV_QUOTE_TOKEN, "").strip()
    if not token:
        raise ValueError(f"--url needs a quote token: set {ENV_QUOTE_TOKEN} or give --token-file")
    return token


class EventBacklog:
    """Batches waiting for stdout, bounded in events; the stream thread never waits on it.

    When stdout cannot keep up, new batches are dropped and counted instead of queued, so a slow
    consumer costs events (reported) rather than unbounded memory.
    """

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self._items: deque[list[Batch]] = deque()
        self._events = 0
        self._dropped = 0
        self._ready = threading.Condition()

    def put(self, batches: list[Batch]) -> None:
        """Runs on the stream thread."""
        size = sum(len(batch) for batch in batches)
        with self._ready:
            if self._events + size > self.max_events:
                self._dropped += size
                return
            self._items.append(batches)
            self._events += size
            self._ready.notify()

    def take(self, timeout: float) -> list[list[Batch]]:
        """Everything waiting, after at most ``timeout`` seconds of waiting for something."""
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            items = list(self._items)
            self._items.clear()
            self._events = 0
        return items

    def take_dropped(self) -> int:
        with self._ready:
            dropped, self._dropped = self._dropped, 0
        return dropped


def build_stream(args: argparse.Namespace, backlog: EventBacklog) -> TastytradeWebSocket:
    if args.url is not None:
        source = StaticQuoteTokenSource(args.url, quote_token(args), url_name="--url")
        return TastytradeWebSocket(None, args.symbol_list, token_source=source, batch_sink=backlog.put)
    config = TastytradeConfig.from_env()
    if args.environment:
        config = dataclasses.replace(config, environment=args.environment)
    return TastytradeWebSocket(config, args.symbol_list, batch_sink=backlog.put)


def event_lines(batches: list[Batch]) -> Iterator[str]:
    """One JSON object per event; non-finite numbers become null (JSON has no NaN)."""
    for batch in batches:
        names = COLUMN_NAMES[batch.event_type]
        for symbol, *values in batch.rows():
            record: dict[str, object] = {"type": batch.event_type, "symbol": symbol}
            record.update(zip(names, (v if math.isfinite(v) else None for v in values)))
            yield json.dumps(record, allow_nan=False)


def describe_signal(signal: Signal) -> str:
    stamp = f"{signal.at:%H:%M:%S}"
    if isinstance(signal, ConnectionChanged):
        return f"{stamp} connection {signal.state.value}: {signal.reason}"
    if isinstance(signal, LogLine):
        return f"{stamp} {signal.level}: {signal.message}"
    return f"{stamp} {signal!r}"


@dataclasses.dataclass
class Viewer:
    """The pump's state: what it has seen of the stream, and where its lines go."""

    stream: TastytradeWebSocket
    backlog: EventBacklog
    out: TextIO
    err: TextIO
    verbose: bool = False
    started: float = 0.0  # monotonic seconds
    connected: bool = False  # reached CONNECTED at least once
    failed: str | None = None  # the FAILED reason, once the stream gave up for good
    held: deque[str] = dataclasses.field(default_factory=lambda: deque(maxlen=HELD_LINES))
    last_drop_report: float = -math.inf

    def copy_events(self, wait: float) -> None:
        lines = [line for batches in self.backlog.take(wait) for line in event_lines(batches)]
        if lines:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()

    def report_signals(self) -> None:
        """Signals to stderr. Until the first connection they are held back (unless verbose) and
        printed once it comes, so a link that never comes up ends with one line, not one per attempt."""
        for signal in self.stream.drain_signals():
            if isinstance(signal, ConnectionChanged):
                if signal.state is ConnectionState.FAILED:
                    self.failed = signal.reason
                    continue
                if signal.state is ConnectionState.CONNECTED and not self.connected:
                    self.connected = True
                    for line in self.held:
                        print(line, file=self.err)
                    self.held.clear()
            if self.connected or self.verbose:
                print(describe_signal(signal), file=self.err, flush=True)
            elif isinstance(signal, LogLine):
                self.held.append(describe_signal(signal))

    def report_drops(self, now: float, final: bool = False) -> None:
        if not final and now - self.last_drop_report < DROP_REPORT_SECONDS:
            return
        dropped = self.backlog.take_dropped()
        if dropped:
            self.last_drop_report = now
            print(f"streaming: {dropped} events dropped: stdout could not keep up "
                  f"(backlog limit {self.backlog.max_events} events, --max-backlog)", file=self.err, flush=True)

    def never_connecting(self, now: float, connect_deadline: float) -> str | None:
        """Why waiting for the first connection is over, or None to keep waiting."""
        if self.connected:
            return None
        status = self.stream.status()
        if status.last_end == EndReason.HOST_UNRESOLVED.value and status.failures_in_a_row >= UNRESOLVED_TRIES:
            return f"the host cannot be resolved ({status.failures_in_a_row} tries; last error: {status.last_error})"
        if now >= connect_deadline:
            return f"not connected after {now - self.started:.1f} s (last error: {status.last_error or 'none'})"
        return None


def pump(viewer: Viewer, deadline: float | None, connect_deadline: float) -> int:
    """Copies events to stdout and signals to stderr until the deadline, a final failure, or a
    first connection that does not come."""
    while True:
        viewer.copy_events(0.05)
        viewer.report_signals()
        now = time.monotonic()
        viewer.report_drops(now)
        if viewer.failed is not None:
            print(f"streaming: failed: {viewer.failed}", file=viewer.err, flush=True)
            return EXIT_FAILED
        reason = viewer.never_connecting(now, connect_deadline)
        if reason is not None:
            print(f"streaming: never connected: {reason}", file=viewer.err, flush=True)
            return EXIT_NOT_CONNECTED
        if deadline is not None and now >= deadline:
            return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backlog = EventBacklog(args.max_backlog)
    try:
        stream = build_stream(args, backlog)
    except (ConfigError, ValueError) as exc:
        print(f"streaming: {exc}", file=sys.stderr)
        return EXIT_FAILED
    viewer = Viewer(stream, backlog, sys.stdout, sys.stderr, args.verbose, time.monotonic())
    stream.connect()
    deadline = None if args.seconds is None else viewer.started + args.seconds
    connect_deadline = viewer.started + min(args.connect_timeout, args.seconds or math.inf)
    try:
        code = pump(viewer, deadline, connect_deadline)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # piped into `head`: stop quietly, and keep Python from flushing again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    finally:
        stream.close()
    if viewer.connected:
        viewer.report_signals()
    viewer.report_drops(time.monotonic(), final=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
