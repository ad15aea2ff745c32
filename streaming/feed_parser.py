"""Decoding of DXLink FEED_DATA frames (COMPACT and FULL) into column batches.

Why columns: a COMPACT frame is one flat list, event *k* at ``values[k*N:(k+1)*N]`` with N and the
field order taken from the latest FEED_CONFIG. Slicing that list with a stride (``values[i::N]``) and
mapping ``float`` over each slice runs in C, so a frame of quotes costs a few C loops instead of one
Python object per event; that is what makes ~1M quotes/s possible in CPython.

Why ``float``: DXLink doubles are JSON numbers or the strings "NaN", "Infinity", "-Infinity";
``float()`` accepts all of them, so a NaN field never costs the event. Anything else that is not a
number (null, garbage) becomes NaN on a slower path, with a rate-limited log line.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NAN = math.nan

# (DXLink field, our name) of the values kept per event type, in cache order.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "Quote": (("bidPrice", "bid"), ("askPrice", "ask"), ("bidSize", "bid_size"), ("askSize", "ask_size")),
    "Trade": (("price", "price"), ("size", "size"), ("dayVolume", "day_volume")),
    "Greeks": (
        ("price", "price"),
        ("volatility", "volatility"),
        ("delta", "delta"),
        ("gamma", "gamma"),
        ("theta", "theta"),
        ("rho", "rho"),
        ("vega", "vega"),
    ),
    "Summary": (
        ("dayId", "day_id"),
        ("dayOpenPrice", "day_open"),
        ("prevDayClosePrice", "prev_close"),
        ("openInterest", "open_interest"),
    ),
}
VALUE_FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(f for f, _ in cols) for kind, cols in COLUMNS.items()}
COLUMN_NAMES: dict[str, tuple[str, ...]] = {kind: tuple(n for _, n in cols) for kind, cols in COLUMNS.items()}

ProblemSink = Callable[[str, str], None]  # (repeat key, message)


@dataclass(frozen=True, slots=True)
class Batch:
    """Events of one type from one frame: ``columns[j][k]`` is value j (COLUMNS order) of event k."""

    event_type: str
    symbols: list[str]
    columns: tuple[list[float], ...]

    def __len__(self) -> int:
        return len(self.symbols)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """(symbol, value...) per event; for tools, not for the hot path."""
        return zip(self.symbols, *self.columns)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where our values sit inside one COMPACT record of ``width`` fields (-1 = not sent)."""

    width: int
    symbol_index: int
    type_index: int
    value_indexes: tuple[int, ...]

    @classmethod
    def from_fields(cls, event_type: str, fields: list[str]) -> Layout | None:
        position = {name: i for i, name in enumerate(fields)}
        if "eventSymbol" not in position:
            return None
        return cls(
            width=len(fields),
            symbol_index=position["eventSymbol"],
            type_index=position.get("eventType", -1),
            value_indexes=tuple(position.get(name, -1) for name in VALUE_FIELDS[event_type]),
        )


def to_float(value: object) -> float:
    """Any JSON value to a float; non-numbers (null, "", garbage) become NaN instead of an error."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN


class FeedDecoder:
    """Per-connection decoder; owns the field layouts announced by FEED_CONFIG.

    Not thread-safe: used only by the stream thread. ``on_problem`` receives malformed-input reports
    (the caller rate-limits them); decoding never raises on bad input.
    """

    def __init__(self, on_problem: ProblemSink, fallback_fields: Mapping[str, list[str]] | None = None) -> None:
        """``fallback_fields`` (the FEED_SETUP request) is used for a type no FEED_CONFIG described yet,
        guarded by the eventType alignment check, so a server that never echoes fields loses nothing."""
        self._problem = on_problem
        self._layouts: dict[str, Layout] = {}
        self._fallback: dict[str, Layout] = {}
        for kind, fields in (fallback_fields or {}).items():
            layout = Layout.from_fields(kind, fields) if kind in VALUE_FIELDS else None
            if layout is not None and layout.type_index >= 0:
                self._fallback[kind] = layout

    def configure(self, event_fields: object) -> None:
        """Merges a FEED_CONFIG ``eventFields``: it may name only some types and can change at any time."""
        if not isinstance(event_fields, Mapping):
            self._problem("config-shape", "FEED_CONFIG eventFields is not an object; ignored")
            return
        for kind, fields in event_fields.items():
            if kind not in VALUE_FIELDS:
                continue
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                self._problem(f"config-{kind}", f"FEED_CONFIG fields for {kind} are not a list of names; ignored")
                continue
            layout = Layout.from_fields(kind, fields)
            if layout is None:
                self._layouts.pop(kind, None)
                self._problem(f"config-{kind}", f"FEED_CONFIG for {kind} lacks eventSymbol; its data will be ignored")
            else:
                self._layouts[kind] = layout

    def layout(self, event_type: str) -> Layout | None:
        return self._layouts.get(event_type)

    def decode(self, data: object) -> list[Batch]:
        """FEED_DATA ``data`` to batches; COMPACT ``[type, [values], ...]`` or FULL ``[{...}, ...]``."""
        if type(data) is not list or not data:
            self._problem("data-shape", "FEED_DATA without a non-empty data list ignored")
            return []
        head = data[0]
        if type(head) is str:
            return self._decode_pairs(data)
        if type(head) is dict:
            return self._decode_full(data)
        self._problem("data-shape", "FEED_DATA data is neither COMPACT nor FULL; ignored")
        return []

    def _decode_pairs(self, data: list[Any]) -> list[Batch]:
        if len(data) % 2:
            self._problem("data-pairs", "COMPACT FEED_DATA with an odd number of elements; last one ignored")
        batches: list[Batch] = []
        for i in range(0, len(data) - 1, 2):
            kind, values = data[i], data[i + 1]
            if type(kind) is not str or type(values) is not list:
                self._problem("data-pairs", "COMPACT FEED_DATA pair is not (type, list); ignored")
            elif values and type(values[0]) is dict:  # FULL records inside a pair
                batches.extend(self._decode_full(values))
            else:
                batch = self._decode_compact(kind, values)
                if batch is not None:
                    batches.append(batch)
        return batches

    def _decode_compact(self, kind: str, values: list[Any]) -> Batch | None:
        layout = self._layouts.get(kind) or self._fallback_layout(kind)
        if layout is None:
            return None
        width = layout.width
        count, extra = divmod(len(values), width)
        if extra:
            self._problem(
                f"ragged-{kind}",
                f"{kind} data has {len(values)} values, not a multiple of {width}; last {extra} ignored",
            )
            values = values[: count * width]
        if not count:
            return None
        if not self._aligned(kind, values, layout, count):
            return None
        symbols = values[layout.symbol_index :: width]
        columns = tuple(self._column(kind, values, index, width, count) for index in layout.value_indexes)
        return Batch(kind, symbols, columns)

    def _fallback_layout(self, kind: str) -> Layout | None:
        layout = self._fallback.get(kind)
        if layout is not None:
            self._problem(f"layout-{kind}", f"{kind} data before any FEED_CONFIG gave its fields; using the requested order")
        elif kind in VALUE_FIELDS:
            self._problem(f"layout-{kind}", f"{kind} data before any FEED_CONFIG gave its fields; ignored")
        else:
            self._problem(f"kind-{kind[:20]}", f"unrequested event type {kind[:20]!r} ignored")
        return layout

    def _aligned(self, kind: str, values: list[Any], layout: Layout, count: int) -> bool:
        """Cheap check that records line up with the layout (a stale layout would shift every field)."""
        if layout.type_index >= 0:
            ok = values[layout.type_index :: layout.width].count(kind) == count
        else:
            ok = type(values[layout.symbol_index]) is str and type(values[-layout.width + layout.symbol_index]) is str
        if not ok:
            self._problem(f"misaligned-{kind}", f"{kind} records do not match the FEED_CONFIG layout; frame ignored")
        return ok

    def _column(self, kind: str, values: list[Any], index: int, width: int, count: int) -> list[float]:
        if index < 0:
            return [NAN] * count
        raw = values[index::width]
        try:
            return list(map(float, raw))
        except (TypeError, ValueError):
            self._problem(f"values-{kind}", f"non-numeric {kind} values kept as NaN")
            return [to_float(v) for v in raw]

    def _decode_full(self, records: list[Any]) -> list[Batch]:
        grouped: dict[str, tuple[list[str], list[list[float]]]] = {}
        for record in records:
            if type(record) is not dict:
                self._problem("full-record", "FULL FEED_DATA element is not an object; ignored")
                continue
            kind, symbol = record.get("eventType"), record.get("eventSymbol")
            if not isinstance(kind, str) or kind not in VALUE_FIELDS or not isinstance(symbol, str):
                self._problem("full-record", "FULL record without a known eventType and an eventSymbol ignored")
                continue
            fields = VALUE_FIELDS[kind]
            entry = grouped.get(kind)
            if entry is None:
                entry = grouped[kind] = ([], [[] for _ in fields])
            entry[0].append(symbol)
            for column, name in zip(entry[1], fields):
                column.append(to_float(record.get(name)))
        return [Batch(kind, symbols, tuple(columns)) for kind, (symbols, columns) in grouped.items()]
