"""LEAN-style instrument <-> DXLink streamer symbol conversions, both ways."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.symbols import (
    FutureContract,
    OptionContract,
    SymbolError,
    equity_streamer_symbol,
    equity_ticker,
    format_strike,
    future_root,
    future_streamer_symbol,
    index_streamer_symbol,
    is_option_symbol,
    occ_to_streamer_symbol,
    option_streamer_symbol,
    parse_future_streamer_symbol,
    parse_option_streamer_symbol,
    streamer_symbol_from_instrument,
    streamer_to_occ_symbol,
)


def test_equities_and_indexes() -> None:
    assert equity_streamer_symbol("SPY") == "SPY"
    assert equity_streamer_symbol(" brk.b ") == "BRK/B"
    assert equity_ticker("BRK/B") == "BRK.B"
    assert index_streamer_symbol("SPX") == "SPX"
    assert index_streamer_symbol("$VIX.X") == "VIX"
    assert index_streamer_symbol("VIX3M") == "VIX3M"


@pytest.mark.parametrize(
    ("root", "expiry", "right", "strike", "expected"),
    [
        ("SPY", date(2025, 12, 19), "call", 500, ".SPY251219C500"),
        ("SPY", date(2025, 12, 19), "P", 502.5, ".SPY251219P502.5"),
        ("SPY", date(2024, 3, 24), "put", Decimal("480.500"), ".SPY240324P480.5"),
        ("SPXW", date(2025, 12, 19), "C", "5000", ".SPXW251219C5000"),
        ("QQQ", date(2026, 1, 16), "c", 0.5, ".QQQ260116C0.5"),
    ],
)
def test_option_symbols_both_ways(root: str, expiry: date, right: str, strike: object, expected: str) -> None:
    symbol = option_streamer_symbol(root, expiry, right, strike)  # type: ignore[arg-type]
    assert symbol == expected
    parsed = parse_option_streamer_symbol(symbol)
    assert parsed == OptionContract(root, expiry, right[0].upper(), Decimal(str(strike)).normalize())


def test_occ_conversions() -> None:
    assert occ_to_streamer_symbol("SPY   251219C00500000") == ".SPY251219C500"
    assert occ_to_streamer_symbol("SPY   240324P00480500") == ".SPY240324P480.5"
    assert occ_to_streamer_symbol("SPXW  251219C05000000") == ".SPXW251219C5000"
    assert streamer_to_occ_symbol(".SPY240324P480.5") == "SPY   240324P00480500"
    assert streamer_to_occ_symbol(".SPXW251219C5000") == "SPXW  251219C05000000"


def test_adjusted_option_root_with_digits_parses() -> None:
    assert parse_option_streamer_symbol(".AAPL1251219C100").root == "AAPL1"


def test_futures_both_ways() -> None:
    assert future_streamer_symbol("ES", 2025, 12, "CME") == "/ESZ25:XCME"
    assert future_streamer_symbol("/MES", 2026, 3, "XCME") == "/MESH26:XCME"
    assert future_streamer_symbol("ZN", 2025, 12, "CBOT") == "/ZNZ25:XCBT"
    parsed = parse_future_streamer_symbol("/ESZ25:XCME")
    assert parsed == FutureContract("ES", 2025, 12, "XCME")
    assert parsed.lean_market == "CME"
    assert parse_future_streamer_symbol("/ZNZ25:XCBT") == FutureContract("ZN", 2025, 12, "XCBT")
    assert future_root("/MESZ25:XCME") == "/MES"
    assert future_root("SPY") is None


def test_rest_streamer_symbol_wins() -> None:
    given_symbol = "./EW4N23C3990:XCME"
    assert option_streamer_symbol("ES", date(2023, 7, 28), "C", 3990, streamer_symbol=given_symbol) == given_symbol
    assert future_streamer_symbol("CL", 2025, 12, "NYMEX", streamer_symbol="/CLZ25:XNYM") == "/CLZ25:XNYM"
    assert equity_streamer_symbol("BRK.B", streamer_symbol="BRK/B") == "BRK/B"
    assert streamer_symbol_from_instrument({"symbol": "/ESZ5", "streamer-symbol": "/ESZ25:XCME"}) == "/ESZ25:XCME"
    assert streamer_symbol_from_instrument({"symbol": "SPY"}) is None


def test_option_detection() -> None:
    assert is_option_symbol(".SPY251219C500")
    assert is_option_symbol("./EW4N23C3990:XCME")
    assert not is_option_symbol("SPY")
    assert not is_option_symbol("/ESZ25:XCME")


@pytest.mark.parametrize("bad", ["SPY", ".SPY2512C500", ".SPY251319C500", ".SPY251219X500"])
def test_bad_option_symbols_raise(bad: str) -> None:
    with pytest.raises(SymbolError):
        parse_option_streamer_symbol(bad)


def test_bad_inputs_raise() -> None:
    with pytest.raises(SymbolError):
        option_streamer_symbol("SPY", date(2025, 1, 17), "straddle", 500)
    with pytest.raises(SymbolError):
        format_strike(-1)
    with pytest.raises(SymbolError):
        future_streamer_symbol("ES", 2025, 13, "CME")
    with pytest.raises(SymbolError):
        parse_future_streamer_symbol("/ESZ5")


@settings(derandomize=True)
@given(
    root=st.from_regex(r"[A-Z]{1,5}", fullmatch=True),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    right=st.sampled_from(["C", "P"]),
    thousandths=st.integers(min_value=1, max_value=99_999_999),
)
def test_option_round_trip(root: str, expiry: date, right: str, thousandths: int) -> None:
    strike = Decimal(thousandths) / 1000
    symbol = option_streamer_symbol(root, expiry, right, strike)
    assert parse_option_streamer_symbol(symbol) == OptionContract(root, expiry, right, strike.normalize())
    assert occ_to_streamer_symbol(streamer_to_occ_symbol(symbol)) == symbol


@settings(derandomize=True)
@given(
    root=st.from_regex(r"[A-Z][A-Z0-9]{0,3}", fullmatch=True),
    year=st.integers(min_value=2000, max_value=2099),
    month=st.integers(min_value=1, max_value=12),
    mic=st.sampled_from(["XCME", "XCBT", "XCEC", "XNYM", "XCBF"]),
)
def test_future_round_trip(root: str, year: int, month: int, mic: str) -> None:
    symbol = future_streamer_symbol(root, year, month, mic)
    assert parse_future_streamer_symbol(symbol) == FutureContract(root, year, month, mic)
