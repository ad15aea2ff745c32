"""Parse throughput of DXLink COMPACT FEED_DATA frames into the latest-value cache, and memory bounds.

    python -m benchmarks.stream_parse_bench [--frames 2000] [--events-per-frame 100] [--no-memory]

Throughput, on one core (the process pins itself to one CPU where the OS allows it), always from the
frame *text* (``json.loads`` included), the way the stream thread sees it:
  1. ours, our FEED_SETUP layout (6 fields with eventType): frame text -> FeedDecoder -> MarketCache;
  2. ours on the tastytrade SDK's 12-field Quote layout (no eventType);
  3. when the ``tastytrade`` package is importable, the SDK's own path on the *same* frame texts as 2:
     ``json.loads`` and ``DXLinkStreamer._map_message`` (its COMPACT parser ``Quote.from_stream`` and the
     hand-off into its per-type memory stream; what a consumer later does with the events is not
     counted on either side). Its ratio to 2 is printed.
Every 10th event is an index quote with "NaN" sizes; each run checks that no event is dropped.
Target: 1,000,000 quote events/s on the full path (frame text -> cache).

Memory (tracemalloc, MiB held afterwards):
  4. a server sending 1,000,000 events for symbols nobody subscribed: held by the cache, against the
     same events when every symbol is wanted (what the cache held before it filtered);
  5. the command-line viewer's output backlog with 1,000,000 events waiting for a stalled stdout:
     the bounded ``EventBacklog`` against an unbounded queue.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from typing import Any

from streaming.__main__ import EventBacklog
from streaming.cache import MarketCache
from streaming.protocol import FEED_EVENT_FIELDS, Batch, FeedDecoder
from streaming.timing import SystemClock

TARGET_EVENTS_PER_SECOND = 1_000_000
SYMBOL_COUNT = 500
SDK_QUOTE_FIELDS = [  # tastytrade 13.x Quote model order (FEED_SETUP without eventType)
    "eventSymbol", "eventTime", "sequence", "timeNanoPart", "bidTime", "bidExchangeCode",
    "askTime", "askExchangeCode", "bidPrice", "askPrice", "bidSize", "askSize",
]  # fmt: skip


def quote_values(fields: list[str], index: int, symbol_count: int) -> list[Any]:
    """One Quote record laid out by ``fields``; every 10th is an index quote with NaN sizes."""
    is_index = index % 10 == 0
    price = 100.0 + (index % 997) * 0.01
    named: dict[str, Any] = {
        "eventType": "Quote",
        "eventSymbol": f"IDX{index % symbol_count}" if is_index else f"SYM{index % symbol_count}",
        "eventTime": 0, "sequence": 0, "timeNanoPart": 0, "bidTime": 0, "askTime": 0,
        "bidExchangeCode": "Q", "askExchangeCode": "Q",
        "bidPrice": price, "askPrice": round(price + 0.02, 2),
        "bidSize": "NaN" if is_index else 200.0, "askSize": "NaN" if is_index else 300.0,
    }  # fmt: skip
    return [named[name] for name in fields]


def frame_texts(fields: list[str], frames: int, per_frame: int) -> list[bytes]:
    """FEED_DATA frames as the server sends them: ``{"type":"FEED_DATA","channel":1,"data":["Quote",[...]]}``."""
    texts = []
    for f in range(frames):
        values: list[Any] = []
        for k in range(per_frame):
            values.extend(quote_values(fields, f * per_frame + k, SYMBOL_COUNT))
        texts.append(json.dumps({"type": "FEED_DATA", "channel": 1, "data": ["Quote", values]}).encode())
    return texts


def all_symbols() -> list[str]:
    return [f"{prefix}{n}" for prefix in ("SYM", "IDX") for n in range(SYMBOL_COUNT)]


def best_rate(run: Callable[[], int], repeats: int = 3) -> tuple[float, int]:
    """Best events/s over ``repeats`` runs (best, because other processes share the cores)."""
    best = 0.0
    events = 0
    for _ in range(repeats):
        began = time.perf_counter()
        events = run()
        elapsed = time.perf_counter() - began
        best = max(best, events / elapsed)
    return best, events


def ours(texts: list[bytes], fields: list[str]) -> tuple[Callable[[], int], MarketCache]:
    """What the stream thread does per frame: parse, decode by the FEED_CONFIG layout, store."""
    cache = MarketCache(SystemClock(), all_symbols())
    problems: list[str] = []
    decoder = FeedDecoder(lambda key, message: problems.append(message))
    decoder.configure({"Quote": fields})
    clock = time.monotonic

    def run() -> int:
        count = 0
        for text in texts:
            message = json.loads(text)
            if message.get("type") == "FEED_DATA":
                now = clock()
                for batch in decoder.decode(message["data"]):
                    cache.apply(batch, now)
                    count += len(batch)
        assert not problems, problems[:3]
        return count

    return run, cache


def optional_import(module: str, name: str) -> Any:
    """``module.name`` or None; via importlib so type checking passes with or without the SDK."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def sdk_fields() -> list[str]:
    """The SDK's Quote field order when installed (it decides what its parser expects)."""
    quote_model = optional_import("tastytrade.dxfeed", "Quote")
    to_camel = optional_import("pydantic.alias_generators", "to_camel")
    if quote_model is None or to_camel is None:
        return SDK_QUOTE_FIELDS
    return [to_camel(name) for name in quote_model.model_fields]


def sdk(texts: list[bytes]) -> tuple[Callable[[], int], Callable[[], None]] | None:
    """The SDK streamer's per-frame work on the same texts: json.loads, then its ``_map_message``
    (``Quote.from_stream`` and ``send_nowait`` into the Quote memory stream); returns (run, drain)."""
    streamer_class = optional_import("tastytrade.streamer", "DXLinkStreamer")
    memory_stream = optional_import("anyio", "create_memory_object_stream")
    if streamer_class is None or memory_stream is None:
        return None
    streamer = object.__new__(streamer_class)  # no session, no socket: only the parsing state it needs
    send, receive = memory_stream(math.inf)
    streamer._channels_reversed = {1: "Quote"}
    streamer._send = {"Quote": send}

    def run() -> int:
        for text in texts:
            message = json.loads(text)
            if message["type"] == "FEED_DATA":
                streamer._map_message(message["data"], message["channel"])
        return int(receive.statistics().current_buffer_used)

    def drain() -> None:
        while receive.statistics().current_buffer_used:
            receive.receive_nowait()

    return run, drain


def sdk_rate(texts: list[bytes]) -> tuple[float, int] | None:
    pair = sdk(texts)
    if pair is None:
        return None
    run, drain = pair
    best, events = 0.0, 0
    for _ in range(3):
        began = time.perf_counter()
        events = run()
        best = max(best, events / (time.perf_counter() - began))
        drain()
    return best, events


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return "not pinned (no sched_setaffinity)"


def throughput(frames: int, per_frame: int) -> float:
    total = frames * per_frame
    print(f"DXLink Quote parse benchmark: {frames} frames x {per_frame} events, {pin_to_one_core()}")
    our_fields, their_fields = FEED_EVENT_FIELDS["Quote"], sdk_fields()
    shared = frame_texts(their_fields, frames, per_frame)
    results: dict[str, float] = {}
    for label, texts, fields in (
        ("frame text -> cache, our 6-field layout", frame_texts(our_fields, frames, per_frame), our_fields),
        ("frame text -> cache, SDK 12-field layout", shared, their_fields),
    ):
        run, cache = ours(texts, fields)
        rate, events = best_rate(run)
        assert events == total, f"{label}: {events} of {total} events decoded"
        index = cache.quote("IDX0")
        assert index is not None and math.isnan(index.bid_size), "NaN-size event lost"
        results[label] = rate
        print(f"  ours  {label:<45} {rate:>12,.0f} events/s   (0 of {total:,} dropped)")
    measured = sdk_rate(shared)
    if measured is None:
        print("  tastytrade SDK not importable: reference skipped (pip install tastytrade to compare)")
    else:
        rate, events = measured
        print(f"  SDK   {'same frame texts -> _map_message':<45} {rate:>12,.0f} events/s   "
              f"({total - events:,} of {total:,} dropped)")
        print(f"  ratio ours/SDK on the same frames: {results['frame text -> cache, SDK 12-field layout'] / rate:.1f}x")
    full_path = min(results.values())
    verdict = "meets" if full_path >= TARGET_EVENTS_PER_SECOND else "MISSES"
    print(f"  target {TARGET_EVENTS_PER_SECOND:,} events/s from frame text: {verdict} (slowest layout {full_path:,.0f})")
    return full_path


def held_mib(build: Callable[[], object]) -> float:
    """MiB still allocated after ``build()`` ran, while its result is alive."""
    gc.collect()
    tracemalloc.start()
    kept = build()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return held / 2**20


def decoded(events: int, per_frame: int, symbol: Callable[[int], str]) -> list[Batch]:
    """Fresh batches, as the decoder makes them from frames of ``per_frame`` events each."""
    decoder = FeedDecoder(lambda key, message: None)
    decoder.configure({"Quote": ["eventSymbol", "bidPrice", "askPrice", "bidSize", "askSize"]})
    batches = []
    for start in range(0, events, per_frame):
        values: list[Any] = []
        for n in range(start, start + per_frame):
            values.extend((symbol(n), 1.0, 1.01, 100.0, 100.0))
        batches.extend(decoder.decode(["Quote", values]))
    return batches


def memory(events: int = 1_000_000, per_frame: int = 100) -> None:
    print(f"Memory held after {events:,} events (tracemalloc):")

    def unrequested(wanted: bool) -> Callable[[], object]:
        def build() -> object:
            cache = MarketCache(SystemClock(), ["SPY"])
            if wanted:
                cache.retain(f"JUNK{n}" for n in range(events))
            for batch in decoded(events, per_frame, lambda n: f"JUNK{n}"):
                cache.apply(batch, 0.0)
            return cache

        return build

    bounded = held_mib(unrequested(False))
    unbounded = held_mib(unrequested(True))
    print(f"  cache, {events:,} unrequested symbols: {bounded:8.1f} MiB   (all wanted, as before the filter: "
          f"{unbounded:.1f} MiB)")

    def backlog(bounded_queue: bool) -> Callable[[], object]:
        def build() -> object:
            queue: Any = EventBacklog(100_000) if bounded_queue else deque()
            put = queue.put if bounded_queue else queue.append
            for batch in decoded(events, per_frame, lambda n: f"SYM{n % SYMBOL_COUNT}"):
                put([batch])
            return queue

        return build

    print(f"  viewer backlog, stdout stalled: {held_mib(backlog(True)):8.1f} MiB   (--max-backlog 100,000; "
          f"unbounded queue: {held_mib(backlog(False)):.1f} MiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_parse_bench")
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--events-per-frame", type=int, default=100)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    args = parser.parse_args(argv)
    throughput(args.frames, args.events_per_frame)
    if not args.no_memory:
        memory()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
