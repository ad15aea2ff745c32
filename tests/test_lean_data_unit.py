"""LEAN data readers on small synthetic files (no sample data needed)."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.data import DataEvent, LeanDataError, LeanDataReader, MinuteGrid, SecurityType, chain_dense
from replay.data.paths import parse_future_member, parse_option_member, weekdays_without_data
from replay.data.timestamps import CHICAGO, NEW_YORK, UTC, dst_dates, hhmm_ms, to_new_york_ms
from replay.data.universe import HEADER
from replay.data.zip_csv import parse_members

D = dt.date(2015, 12, 24)
OPT_DIR = "option/usa/minute/abc"


def write_zip(path: Path, members: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return path


def opt_member(tick: str, right: str, strike: float, expiry: str = "20160115") -> str:
    return f"20151224_abc_minute_{tick}_american_{right}_{int(round(strike * 10000))}_{expiry}.csv"


@pytest.fixture()
def chain_root(tmp_path: Path) -> Path:
    """A two-contract chain: call 100 (quotes, trades, OI), put 90 (one-sided quotes only)."""
    q_call = "\n".join(
        [
            "34200000,10000,10000,10000,10000,5,11000,11000,11000,11000,7",  # 09:30 bid 1.00 ask 1.10
            "34320000,,,,,0,12000,12000,12000,12000,3",  # 09:32 ask only -> bid stays 1.00
            "34440000,10500,10500,10500,10500,2,,,,,0",  # 09:34 bid only -> ask stays 1.20
        ]
    )
    q_put = "30000000,20000,20000,20000,20000,1,21000,21000,21000,21000,1\n34260000,,,,,0,22000,22000,22000,22000,4\n"
    write_zip(tmp_path / OPT_DIR / "20151224_quote_american.zip",
              {opt_member("quote", "call", 100): q_call, opt_member("quote", "put", 90): q_put})  # fmt: skip
    write_zip(tmp_path / OPT_DIR / "20151224_trade_american.zip",
              {opt_member("trade", "call", 100): "34260000,10400,10600,10400,10500,12\n"})  # fmt: skip
    write_zip(tmp_path / OPT_DIR / "20151224_openinterest_american.zip",
              {opt_member("openinterest", "call", 100): "23400000,500\n36000000,650\n"})  # fmt: skip
    return tmp_path


def test_parse_members_empty_fields_crlf_and_nan() -> None:
    blobs = [b"1,,,3\r\n2,5,6,7\r\n", b"3,8,,9"]
    parsed = parse_members(Path("x.zip"), ["a.csv", "b.csv"], blobs, 4, nullable=(1, 2))
    assert parsed.offsets.tolist() == [0, 2, 3]
    np.testing.assert_array_equal(parsed.values[:, 0], [1, 2, 3])
    assert np.isnan(parsed.values[0, 1]) and np.isnan(parsed.values[0, 2]) and parsed.values[0, 3] == 3
    assert np.isnan(parsed.values[2, 2])


@pytest.mark.parametrize(
    ("blob", "line", "reason"),
    [
        (b"1,2,3\n4,5\n", 2, "expected 3 fields"),
        (b"1,2,3\n4,5,6\n7,x,9\n", 3, "not a number"),
        (b"1,2,3\n4.5,5,6\n", 2, "time is not an integer"),
        (b"1,2,3\n4,,6\n", 2, "empty"),
        (b"1,2,3\n\n4,5,6\n", 2, "expected 3 fields"),
    ],
)
def test_parse_members_errors_name_member_and_line(blob: bytes, line: int, reason: str) -> None:
    with pytest.raises(LeanDataError) as info:
        parse_members(Path("day.zip"), ["ok.csv", "bad.csv"], [b"0,1,2\n", blob], 3)
    err = info.value
    assert (err.path, err.member, err.line) == (Path("day.zip"), "bad.csv", line)
    assert reason in err.reason and "bad.csv" in str(err) and f"line {line}" in str(err)


row = st.tuples(
    st.integers(0, 86_399).map(lambda s: s * 1000),
    st.one_of(st.none(), st.integers(1, 10**8)),
    st.integers(0, 10**6),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(row, min_size=0, max_size=5), min_size=1, max_size=4))
def test_parse_members_roundtrip(members: list[list[tuple[int, int | None, int]]]) -> None:
    blobs = [
        "".join(f"{t},{'' if p is None else p},{s}\n" for t, p, s in rows).encode() for rows in members
    ]
    parsed = parse_members(Path("p.zip"), [f"m{i}" for i in range(len(blobs))], blobs, 3, nullable=(1,))
    flat = [r for rows in members for r in rows]
    assert parsed.values.shape == (len(flat), 3)
    for got, (t, p, s) in zip(parsed.values, flat):
        assert got[0] == t and got[2] == s
        assert (np.isnan(got[1]) if p is None else got[1] == p)


def test_member_names() -> None:
    m = parse_option_member("20210104_spxw_minute_quote_european_put_38200000_20210108.csv")
    assert m is not None and (m.ticker, m.tick, m.style, m.is_call) == ("spxw", "quote", "european", False)
    assert m.strike_scaled == 38200000 and m.expiry == dt.date(2021, 1, 8)
    f = parse_future_member("20131007_es_minute_trade_201312.csv")
    assert f is not None and f.contract_month == 201312 and f.expiry is None
    assert parse_option_member("20131007_es_minute_trade_201312.csv") is None


def test_time_zone_conversion_matches_zoneinfo() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        ny = zoneinfo.ZoneInfo(NEW_YORK)
        zones = {CHICAGO: zoneinfo.ZoneInfo(CHICAGO), UTC: dt.timezone.utc}
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database on this host")
    days = [dt.date(2013, 10, 7), dt.date(2021, 1, 4), dt.date(2013, 3, 10), dt.date(2013, 11, 3), dt.date(2005, 4, 3)]
    ms = np.arange(0, 86_400_000, 15 * 60_000, dtype=np.int64)
    for day in days:
        for name, tz in zones.items():
            got = to_new_york_ms(day, ms, name)
            for m, g in zip(ms.tolist(), got.tolist()):
                local = dt.datetime.combine(day, dt.time()) + dt.timedelta(milliseconds=m)
                fold0, fold1 = local.replace(tzinfo=tz), local.replace(tzinfo=tz, fold=1)
                if fold0.utcoffset() != fold1.utcoffset():
                    continue  # ambiguous / non-existent wall time around a DST switch
                at_ny = local.replace(tzinfo=tz).astimezone(ny).replace(tzinfo=None)
                expect = (at_ny - dt.datetime.combine(day, dt.time())) // dt.timedelta(milliseconds=1)
                assert g == expect, (day, name, m)


def test_dst_dates() -> None:
    assert dst_dates(2013) == (dt.date(2013, 3, 10), dt.date(2013, 11, 3))
    assert dst_dates(2006) == (dt.date(2006, 4, 2), dt.date(2006, 10, 29))


def test_chain_long_format_and_dense_asof(chain_root: Path) -> None:
    reader = LeanDataReader(chain_root)
    chain = reader.option_chain("abc", D)
    assert chain is not None and len(chain.contracts) == 2
    c = chain.contracts
    assert c.find(dt.date(2016, 1, 15), 100.0, True) == 0 and c.find(dt.date(2016, 1, 15), 90.0, False) == 1
    assert chain.multiplier == 100.0 and c.style == "american"
    dense = chain_dense(chain, MinuteGrid.regular())
    grid = dense.grid
    at = grid.slot_of_end  # value known at emission time
    call, put = 0, 1
    assert at(hhmm_ms(9, 31)) == 0 and grid.ends[-1] == hhmm_ms(16)
    assert dense.bid[call, at(hhmm_ms(9, 31))] == 1.0 and dense.ask[call, at(hhmm_ms(9, 31))] == 1.1
    assert dense.bid[call, at(hhmm_ms(9, 33))] == 1.0 and dense.ask[call, at(hhmm_ms(9, 33))] == 1.2
    assert dense.bid[call, at(hhmm_ms(9, 35))] == 1.05 and dense.ask[call, at(hhmm_ms(9, 35))] == 1.2
    assert dense.bid_size[call, at(hhmm_ms(9, 35))] == 2 and dense.ask_size[call, at(hhmm_ms(9, 35))] == 3
    assert dense.quote_fresh[call].sum() == 3 and dense.quote_fresh[call, at(hhmm_ms(9, 33))]
    assert np.isnan(dense.last[call, at(hhmm_ms(9, 31))]) and dense.last[call, at(hhmm_ms(9, 32))] == 1.05
    assert dense.volume[call].sum() == 12 and dense.volume[call, at(hhmm_ms(9, 32))] == 12
    assert dense.open_interest[call, 0] == 500 and dense.open_interest[call, at(hhmm_ms(10, 1))] == 650
    assert dense.open_interest[call, at(hhmm_ms(10))] == 500
    # put: the 08:20 quote is pre-session and ignored by default; the 09:31 one is ask only
    assert np.isnan(dense.bid[put]).all() and dense.ask[put, at(hhmm_ms(9, 32))] == 2.2
    assert np.isnan(dense.ask[put, at(hhmm_ms(9, 31))])
    assert np.isnan(dense.open_interest[put]).all() and dense.volume[put].sum() == 0
    with_pre = chain_dense(chain, MinuteGrid.regular(), session_only=False)
    assert with_pre.bid[put, 0] == 2.0 and with_pre.bid[put, -1] == 2.0


def test_missing_reported_once_and_run_goes_on(chain_root: Path) -> None:
    events: list[DataEvent] = []
    reader = LeanDataReader(chain_root, on_event=events.append)
    day = dt.date(2015, 12, 28)
    assert reader.option_chain("abc", day) is None
    assert reader.option_chain("abc", day) is None
    assert len(events) == 3 and len(reader.missing) == 3  # quote, trade, OI each once
    assert {e.path.name for e in reader.missing} == {
        "20151228_quote_american.zip", "20151228_trade_american.zip", "20151228_openinterest_american.zip"
    }
    assert reader.option_chain("abc", D) is not None  # other days still read


def test_malformed_member_is_an_error_with_path_member_line(chain_root: Path) -> None:
    bad = opt_member("trade", "call", 100)
    text = "34200000,1,1,1,1,5\n34260000,1,1,oops,1,5\n"
    path = write_zip(chain_root / OPT_DIR / "20151224_trade_american.zip", {bad: text})
    with pytest.raises(LeanDataError) as info:
        LeanDataReader(chain_root).option_chain("abc", D)
    assert (info.value.path, info.value.member, info.value.line) == (path, bad, 2)


def test_unexpected_member_and_corrupt_zip(chain_root: Path) -> None:
    path = write_zip(chain_root / OPT_DIR / "20151224_trade_american.zip", {"readme.txt": "1,2,3,4,5,6\n"})
    with pytest.raises(LeanDataError, match="unrecognised contract member name") as info:
        LeanDataReader(chain_root).option_chain("abc", D)
    assert info.value.member == "readme.txt"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(LeanDataError, match="unreadable zip"):
        LeanDataReader(chain_root).option_chain("abc", D)


def test_doubled_zip_extension_is_accepted_and_noted(chain_root: Path) -> None:
    src = chain_root / OPT_DIR / "20151224_trade_american.zip"
    src.rename(src.with_name(src.name + ".zip"))
    reader = LeanDataReader(chain_root)
    chain = reader.option_chain("abc", D)
    assert chain is not None and chain.trades is not None and len(chain.trades) == 1
    assert [e.path.name for e in reader.log.quirks] == ["20151224_trade_american.zip.zip"]
    assert reader.missing == []


def test_available_dates_and_gaps(chain_root: Path) -> None:
    reader = LeanDataReader(chain_root)
    have = reader.available_dates(SecurityType.OPTION, "abc", dt.date(2015, 12, 21), dt.date(2015, 12, 31))
    assert have == [D]
    assert reader.available_dates(SecurityType.OPTION, "abc", D, D, tick="openinterest") == [D]
    assert weekdays_without_data(dt.date(2015, 12, 23), dt.date(2015, 12, 28), have) == [
        dt.date(2015, 12, 23), dt.date(2015, 12, 25), dt.date(2015, 12, 28)
    ]


def test_daily_bars_and_previous_close(tmp_path: Path) -> None:
    text = "20131008 00:00,10000,20000,5000,15000,7\n20131009 00:00,1,2,1,16500,8"  # no final newline
    write_zip(tmp_path / "equity/usa/daily/xyz.zip", {"xyz.csv": text})
    bars = LeanDataReader(tmp_path).daily(SecurityType.EQUITY, "xyz")
    assert bars is not None and len(bars) == 2 and bars.dates[1] == np.datetime64("2013-10-09")
    assert bars.previous_close(dt.date(2013, 10, 10)) == 1.65 and bars.previous_close(dt.date(2013, 10, 9)) == 1.5
    assert bars.previous_close(dt.date(2013, 10, 8)) is None and bars.on(dt.date(2013, 10, 8)) == 0
    text = "20131008 00:00,1,2,3,4,5\n20131399 00:00,1,2,3,4,5\n"
    write_zip(tmp_path / "equity/usa/daily/bad.zip", {"bad.csv": text})
    with pytest.raises(LeanDataError) as info:
        LeanDataReader(tmp_path).daily(SecurityType.EQUITY, "bad")
    assert info.value.line == 2 and info.value.member == "bad.csv"


def test_universe_parse_errors(tmp_path: Path) -> None:
    folder = tmp_path / "option/usa/universes/xyz"
    folder.mkdir(parents=True)
    header = HEADER + "\n"
    under = ",,,1,2,0.5,1.5,10,,,,,,,\n"
    (folder / "20151223.csv").write_text(header + under + "20151231,450,C,1,1,1,1,0,,0.5,0.9,0.1,0.2,-0.3,0.07\n")
    (folder / "20151222.csv").write_text(header + under + "20151231,450,X,1,1,1,1,0,,,,,,,\n")
    reader = LeanDataReader(tmp_path)
    u = reader.chain_universe(SecurityType.OPTION, "xyz", D)
    assert u is not None and u.day == dt.date(2015, 12, 23) and len(u) == 1 and u.underlying.close == 1.5
    assert np.isnan(u.open_interest[0]) and u.delta[0] == 0.9
    assert len(u.active_on(dt.date(2016, 1, 4))) == 0
    with pytest.raises(LeanDataError) as info:
        reader.universe(SecurityType.OPTION, "xyz", dt.date(2015, 12, 22))
    assert info.value.line == 3 and "right" in info.value.reason
