"""Command-line viewer of the DXLink feed.

    python -m streaming --symbols SPY,VIX                      # credentials from TASTYTRADE_* variables
    python -m streaming --url ws://HOST:PORT --token T --symbols SPY --seconds 10

One JSON object per market event on stdout (``{"type":"Quote","symbol":"SPY","bid":..}``, NaN as null),
connection changes and log lines on stderr. Exit codes: 0 finished, 2 credentials missing or rejected
for good, 130 interrupted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import queue
import sys
import time
from collections.abc import Iterator, Sequence

from streaming.auth import StaticQuoteTokenSource
from streaming.config import ENV_ENVIRONMENT, ConfigError, TastytradeConfig
from streaming.protocol import COLUMN_NAMES, Batch
from streaming.signals import ConnectionChanged, ConnectionState, LogLine, Signal
from streaming.tastytrade_websocket import TastytradeWebSocket

EXIT_OK = 0
EXIT_AUTH_FAILED = 2
EXIT_INTERRUPTED = 130


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m streaming", description="Print tastytrade DXLink events as JSON lines.")
    parser.add_argument("--symbols", required=True, help="comma-separated streamer symbols, e.g. SPY,VIX,.SPY251219C500")
    parser.add_argument("--url", help="DXLink URL to use instead of asking tastytrade (needs --token)")
    parser.add_argument("--token", help="DXLink quote token for --url")
    parser.add_argument("--seconds", type=float, help="stop after this many seconds (default: run until Ctrl-C)")
    parser.add_argument("--environment", choices=("production", "sandbox"), help=f"overrides {ENV_ENVIRONMENT}")
    args = parser.parse_args(argv)
    if (args.url is None) != (args.token is None):
        parser.error("--url and --token go together")
    args.symbol_list = [s.strip() for s in args.symbols.split(",") if s.strip()]
    if not args.symbol_list:
        parser.error("--symbols needs at least one symbol")
    return args


def build_stream(args: argparse.Namespace, sink: "queue.SimpleQueue[list[Batch]]") -> TastytradeWebSocket:
    if args.url is not None:
        return TastytradeWebSocket(
            None, args.symbol_list, token_source=StaticQuoteTokenSource(args.url, args.token), batch_sink=sink.put
        )
    config = TastytradeConfig.from_env()
    if args.environment:
        config = dataclasses.replace(config, environment=args.environment)
    return TastytradeWebSocket(config, args.symbol_list, batch_sink=sink.put)


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


def pump(stream: TastytradeWebSocket, events: "queue.SimpleQueue[list[Batch]]", deadline: float | None) -> int:
    """Copies events to stdout and signals to stderr until the deadline or a final auth failure."""
    while deadline is None or time.monotonic() < deadline:
        try:
            pending = [events.get(timeout=0.05)]
        except queue.Empty:
            pending = []
        while not events.empty():
            pending.append(events.get_nowait())
        lines = [line for batches in pending for line in event_lines(batches)]
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        if report_signals(stream):
            return EXIT_AUTH_FAILED
    return EXIT_OK


def report_signals(stream: TastytradeWebSocket) -> bool:
    """Writes queued signals to stderr; True when the stream has failed for good."""
    failed = False
    for signal in stream.drain_signals():
        print(describe_signal(signal), file=sys.stderr, flush=True)
        failed = failed or (isinstance(signal, ConnectionChanged) and signal.state is ConnectionState.FAILED)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    events: queue.SimpleQueue[list[Batch]] = queue.SimpleQueue()
    try:
        stream = build_stream(args, events)
    except (ConfigError, ValueError) as exc:
        print(f"streaming: {exc}", file=sys.stderr)
        return EXIT_AUTH_FAILED
    stream.connect()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        code = pump(stream, events, deadline)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # piped into `head`: stop quietly, and keep Python from flushing again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    finally:
        stream.close()
    report_signals(stream)
    return code


if __name__ == "__main__":
    sys.exit(main())
