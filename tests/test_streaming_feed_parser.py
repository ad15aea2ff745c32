"""FEED_DATA decoding: COMPACT by the latest FEED_CONFIG layout, FULL, NaN handling, malformed input."""
from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.protocol import COLUMN_NAMES, FEED_EVENT_FIELDS, VALUE_FIELDS, Batch, FeedDecoder, Layout

QUOTE_FIELDS = FEED_EVENT_FIELDS["Quote"]  # eventType, eventSymbol, bidPrice, askPrice, bidSize, askSize


def make_decoder() -> tuple[FeedDecoder, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    decoder = FeedDecoder(lambda key, message: problems.append((key, message)))
    decoder.configure(FEED_EVENT_FIELDS)
    return decoder, problems


def as_dicts(batch: Batch) -> list[dict[str, Any]]:
    names = ("symbol",) + COLUMN_NAMES[batch.event_type]
    return [dict(zip(names, row)) for row in batch.rows()]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_requested_fields_cover_every_kept_value() -> None:
    for kind, fields in VALUE_FIELDS.items():
        assert set(fields) <= set(FEED_EVENT_FIELDS[kind]), kind
        assert len(fields) == len(COLUMN_NAMES[kind])


def test_compact_several_events_per_frame() -> None:
    decoder, problems = make_decoder()
    data = ["Quote", ["Quote", "SPY", 576.88, 576.9, 200.0, 300.0, "Quote", "SPX", 5931.2, 5933.1, "NaN", "NaN"]]
    (batch,) = decoder.decode(data)
    rows = as_dicts(batch)
    assert [r["symbol"] for r in rows] == ["SPY", "SPX"]
    assert rows[0]["bid"] == 576.88 and rows[0]["ask_size"] == 300.0
    assert rows[1]["bid"] == 5931.2 and math.isnan(rows[1]["bid_size"]) and math.isnan(rows[1]["ask_size"])
    assert problems == []


def test_nan_and_infinity_keep_the_event() -> None:
    decoder, _ = make_decoder()
    data = ["Summary", ["Summary", "SPY", 20400, "NaN", "Infinity", "-Infinity"]]
    (row,) = as_dicts(decoder.decode(data)[0])
    assert row["day_id"] == 20400 and math.isnan(row["day_open"])
    assert row["prev_close"] == math.inf and row["open_interest"] == -math.inf  # the cache turns these to NaN


def test_layout_comes_from_feed_config_not_from_the_request() -> None:
    decoder, _ = make_decoder()
    decoder.configure({"Quote": ["eventSymbol", "askPrice", "eventTime", "bidPrice"]})
    (row,) = as_dicts(decoder.decode(["Quote", ["SPY", 2.0, 0, 1.0]])[0])
    assert row["bid"] == 1.0 and row["ask"] == 2.0
    assert math.isnan(row["bid_size"])  # not sent by the server: NaN, event kept


def test_partial_feed_config_keeps_other_layouts() -> None:
    decoder, _ = make_decoder()
    decoder.configure({"Trade": ["eventSymbol", "price"]})
    assert decoder.layout("Quote") is not None
    (trade,) = as_dicts(decoder.decode(["Trade", ["SPX", 5931.0]])[0])
    assert trade == {"symbol": "SPX", "price": 5931.0, "size": trade["size"], "day_volume": trade["day_volume"]}


def test_several_pairs_in_one_frame() -> None:
    decoder, _ = make_decoder()
    data = [
        "Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0],
        "Trade", ["Trade", "SPY", 1.5, 10.0, 1000.0],
    ]  # fmt: skip
    assert [b.event_type for b in decoder.decode(data)] == ["Quote", "Trade"]


def test_full_format_records() -> None:
    decoder, _ = make_decoder()
    data = [
        {"eventType": "Greeks", "eventSymbol": ".SPY251219C500", "delta": 0.5, "gamma": "NaN", "volatility": 0.2},
        {"eventType": "Quote", "eventSymbol": "SPY", "bidPrice": 1.0, "askPrice": 1.1},
        {"eventType": "Greeks", "eventSymbol": ".SPY251219P480", "delta": -0.3, "gamma": 0.01},
    ]
    batches = {b.event_type: as_dicts(b) for b in decoder.decode(data)}
    assert [r["symbol"] for r in batches["Greeks"]] == [".SPY251219C500", ".SPY251219P480"]
    assert batches["Greeks"][0]["delta"] == 0.5 and math.isnan(batches["Greeks"][0]["gamma"])
    assert math.isnan(batches["Greeks"][0]["theta"])  # omitted fields are NaN
    assert batches["Quote"][0]["ask"] == 1.1


def test_full_records_inside_a_pair() -> None:
    decoder, _ = make_decoder()
    (batch,) = decoder.decode(["Quote", [{"eventType": "Quote", "eventSymbol": "SPY", "bidPrice": 1.0}]])
    assert batch.symbols == ["SPY"]


def test_ragged_frame_keeps_complete_records_and_reports() -> None:
    decoder, problems = make_decoder()
    (batch,) = decoder.decode(["Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0, "Quote", "QQQ", 5.0]])
    assert batch.symbols == ["SPY"]
    assert any(key == "ragged-Quote" for key, _ in problems)


def test_misaligned_records_are_dropped_not_misread() -> None:
    decoder, problems = make_decoder()
    assert decoder.decode(["Quote", ["SPY", "Quote", 1.0, 2.0, 3.0, 4.0]]) == []
    assert any(key == "record-Quote" and "1 of 1 Quote records dropped" in text for key, text in problems)


def test_null_and_garbage_values_become_nan() -> None:
    decoder, problems = make_decoder()
    (row,) = as_dicts(decoder.decode(["Quote", ["Quote", "SPY", None, "abc", 1.0, 2.0]])[0])
    assert math.isnan(row["bid"]) and math.isnan(row["ask"]) and row["bid_size"] == 1.0
    assert problems


def test_malformed_data_never_raises() -> None:
    decoder, problems = make_decoder()
    malformed: list[object] = [None, [], {}, "x", [1, 2], ["Quote"], ["Quote", "x"], ["Candle", [1, 2]], [{"eventType": "X"}]]
    for data in malformed:
        assert decoder.decode(data) == []
    assert len(problems) >= 8


def test_data_before_feed_config_is_reported() -> None:
    problems: list[tuple[str, str]] = []
    decoder = FeedDecoder(lambda key, message: problems.append((key, message)))
    assert decoder.decode(["Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0]]) == []
    assert problems[0][0] == "layout-Quote"


def test_config_without_symbol_field_disables_type() -> None:
    decoder, problems = make_decoder()
    decoder.configure({"Quote": ["eventType", "bidPrice"]})
    assert decoder.layout("Quote") is None and problems


json_double = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from(["NaN", "Infinity", "-Infinity"]),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    order=st.permutations(list(VALUE_FIELDS["Greeks"]) + ["eventSymbol", "eventType", "eventTime", "index"]),
    events=st.lists(st.lists(json_double, min_size=7, max_size=7), min_size=1, max_size=20),
)
def test_any_layout_decodes_every_event(order: list[str], events: list[list[Any]]) -> None:
    decoder, problems = make_decoder()
    decoder.configure({"Greeks": order})
    values: list[Any] = []
    for k, event in enumerate(events):
        named = dict(zip(VALUE_FIELDS["Greeks"], event))
        named.update(eventSymbol=f".X{k}", eventType="Greeks", eventTime=0, index=k)
        values.extend(named[name] for name in order)
    (batch,) = decoder.decode(["Greeks", values])
    assert batch.symbols == [f".X{k}" for k in range(len(events))]
    for j, column in enumerate(batch.columns):
        assert all(same(got, float(event[j])) for got, event in zip(column, events))
    assert problems == []


def test_requested_layout_is_the_guarded_fallback() -> None:
    problems: list[tuple[str, str]] = []
    decoder = FeedDecoder(lambda key, message: problems.append((key, message)), FEED_EVENT_FIELDS)
    (batch,) = decoder.decode(["Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0]])
    assert batch.symbols == ["SPY"] and problems[0][0] == "layout-Quote"
    # A server that really used another layout fails the eventType check instead of being misread.
    assert decoder.decode(["Quote", ["SPY", 1.0, 2.0, 3.0, 4.0, 5.0]]) == []
    assert problems[-1][0] == "record-Quote"


# ----- one bad record costs only itself (issue 17 point 5) ---------------------------------------------
def counting_decoder() -> tuple[FeedDecoder, list[tuple[str, str]], list[int]]:
    problems: list[tuple[str, str]] = []
    dropped: list[int] = []
    decoder = FeedDecoder(lambda key, message: problems.append((key, message)), on_dropped=dropped.append)
    decoder.configure(FEED_EVENT_FIELDS)
    return decoder, problems, dropped


def test_a_record_with_a_bad_symbol_is_dropped_alone() -> None:
    decoder, problems, dropped = counting_decoder()
    values = [
        "Quote", "SPY", 1.0, 1.1, 5.0, 6.0,
        "Quote", ["SPY"], 9.0, 9.1, 1.0, 1.0,
        "Quote", None, 9.0, 9.1, 1.0, 1.0,
        "Quote", 42, 9.0, 9.1, 1.0, 1.0,
        "Quote", "SPX", 2.0, 2.1, "NaN", "NaN",
    ]  # fmt: skip
    (batch,) = decoder.decode(["Quote", values])
    rows = as_dicts(batch)
    assert [r["symbol"] for r in rows] == ["SPY", "SPX"]
    assert rows[0]["ask_size"] == 6.0 and rows[1]["bid"] == 2.0 and math.isnan(rows[1]["bid_size"])
    assert dropped == [3]
    assert problems == [("record-Quote", "3 of 5 Quote records dropped (symbol not a string or eventType out of "
                                         "place); the rest of the frame kept")]  # fmt: skip


def test_a_record_whose_type_slot_is_wrong_is_dropped_alone() -> None:
    decoder, problems, dropped = counting_decoder()
    values = ["Quote", "SPY", 1.0, 1.1, 5.0, 6.0, "Trade", "QQQ", 3.0, 3.1, 1.0, 1.0, "Quote", "SPX", 2.0, 2.1, 1.0, 1.0]
    (batch,) = decoder.decode(["Quote", values])
    assert batch.symbols == ["SPY", "SPX"] and batch.columns[0] == [1.0, 2.0] and dropped == [1]


def test_every_record_bad_gives_no_batch() -> None:
    decoder, _, dropped = counting_decoder()
    assert decoder.decode(["Quote", ["Quote", 1, 1.0, 1.1, 5.0, 6.0]]) == [] and dropped == [1]


def test_without_event_type_a_shifted_layout_drops_the_frame() -> None:
    decoder, problems, dropped = counting_decoder()
    decoder.configure({"Quote": ["eventSymbol", "bidPrice", "askPrice"]})
    # the server really sends four fields per record: records after the first are read shifted
    assert decoder.decode(["Quote", ["SPY", 1.0, 1.1, 0, "SPX", 2.0, 2.1, 0, "QQQ", 3.0, 3.1, 0]]) == []
    assert problems[-1][0] == "misaligned-Quote" and dropped == [4]
    assert decoder.decode(["Quote", [0, 1.0, 1.1, "SPY", 2.0, 2.1]]) == []  # first slot wrong, last right
    problems.clear()
    (batch,) = decoder.decode(["Quote", ["SPY", 1.0, 1.1, "SPX", 2.0, 2.1]])
    assert batch.symbols == ["SPY", "SPX"] and batch.columns[1] == [1.1, 2.1]
    assert problems == [] and dropped == [4, 2]  # a clean frame reports nothing and drops nothing


def test_without_event_type_a_bad_symbol_inside_drops_that_record_only() -> None:
    decoder, _, dropped = counting_decoder()
    decoder.configure({"Quote": ["eventSymbol", "bidPrice", "askPrice"]})
    (batch,) = decoder.decode(["Quote", ["SPY", 1.0, 1.1, ["X"], 5.0, 5.1, "SPX", 2.0, 2.1]])
    assert batch.symbols == ["SPY", "SPX"] and batch.columns[0] == [1.0, 2.0] and dropped == [1]


def test_ragged_and_full_records_are_counted() -> None:
    decoder, _, dropped = counting_decoder()
    decoder.decode(["Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0, "Quote", "QQQ"]])
    decoder.decode([{"eventType": "Quote", "eventSymbol": 7}, "junk", {"eventType": "Quote", "eventSymbol": "SPY"}])
    assert dropped == [1, 1, 1]


def test_unknown_event_types_share_one_report_key() -> None:
    decoder, problems, _ = counting_decoder()
    decoder.decode(["Candle", [1, 2], "TimeAndSale", [3]])
    assert [key for key, _ in problems] == ["kind-unrequested", "kind-unrequested"]
    assert problems[0][1] == "unrequested event type 'Candle' ignored"


def test_batches_are_immutable_slotted_values() -> None:
    decoder, _, _ = counting_decoder()
    (batch,) = decoder.decode(["Quote", ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0]])
    layout = decoder.layout("Quote")
    for value in (batch, layout):
        with pytest.raises(AttributeError):
            object.__getattribute__(value, "__dict__")  # slots: no per-object dictionary
    with pytest.raises(AttributeError):
        batch.event_type = "Trade"  # type: ignore[misc]  # frozen: shared with the tool sink as is
    with pytest.raises(AttributeError):
        layout.width = 3  # type: ignore[misc, union-attr]


def test_layout_marks_fields_not_sent_with_minus_one() -> None:
    layout = Layout.from_fields("Quote", ["bidPrice", "eventSymbol", "askSize"])
    assert layout == Layout(width=3, symbol_index=1, type_index=-1, value_indexes=(0, -1, -1, 2))
    assert Layout.from_fields("Quote", ["eventType", "bidPrice"]) is None  # no symbol: unusable


def test_a_fallback_layout_needs_event_type_to_guard_it() -> None:
    problems: list[tuple[str, str]] = []
    fallback = {"Quote": ["eventSymbol", "bidPrice", "askPrice"], "Candle": ["eventType", "eventSymbol"]}
    decoder = FeedDecoder(lambda key, message: problems.append((key, message)), fallback)
    assert decoder.decode(["Quote", ["SPY", 1.0, 1.1]]) == []  # an unguarded guess is not used
    assert problems == [("layout-Quote", "Quote data before any FEED_CONFIG gave its fields; ignored")]


def test_config_fields_must_all_be_names() -> None:
    decoder, problems = make_decoder()
    before = decoder.layout("Quote")
    decoder.configure({"Quote": ["eventType", "eventSymbol", 5, "bidPrice"], "Trade": "price"})
    assert decoder.layout("Quote") == before
    assert [key for key, _ in problems] == ["config-Quote", "config-Trade"]


def test_a_pair_whose_values_are_not_a_list_is_reported_as_such() -> None:
    decoder, problems = make_decoder()
    assert decoder.decode(["Quote", "SPY,1.0,1.1", 7, ["Quote", "SPY", 1.0, 2.0, 3.0, 4.0]]) == []
    assert [key for key, _ in problems] == ["data-pairs", "data-pairs"]
