"""LEAN data readers against the real sample data (skipped when ../shared/lean-data is absent).

Expected values are parsed independently from the raw CSV text in each test (zipfile + str.split), never
from the reader, so a scaling, time-zone or alignment mistake makes these fail.
"""
from __future__ import annotations

import datetime as dt
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from replay.data import DataEvent, LeanDataReader, MinuteGrid, OptionChainDay, SecurityType, chain_dense
from replay.data.paths import parse_ymd

pytestmark = pytest.mark.lean_data

GOOG_DAY = dt.date(2015, 12, 24)
SPXW_DAYS = [dt.date(2021, 1, d) for d in range(4, 9)]
HOUR = 3_600_000


def raw_members(path: Path) -> dict[str, list[list[str]]]:
    """Every member of a zip as rows of text fields."""
    with zipfile.ZipFile(path) as z:
        return {n: [ln.split(",") for ln in z.read(n).decode().splitlines() if ln] for n in z.namelist()}


def raw_asof(rows: list[list[str]], start_ms: int, col: int) -> float:
    """Independent as-of: last non-empty value of ``col`` among rows starting at or before start_ms."""
    value = float("nan")
    for r in rows:
        if int(r[0]) <= start_ms and r[col] != "":
            value = float(r[col])
    return value


@pytest.fixture(scope="module")
def reader(lean_data_dir: Path) -> LeanDataReader:
    return LeanDataReader(lean_data_dir)


@pytest.fixture(scope="module")
def goog_chain(reader: LeanDataReader) -> OptionChainDay:
    chain = reader.option_chain("goog", GOOG_DAY)
    assert chain is not None
    return chain


def test_spx_index_minute_first_bar_unscaled_in_new_york(reader: LeanDataReader, lean_data_dir: Path) -> None:
    (rows,) = raw_members(lean_data_dir / "index/usa/minute/spx/20210104_trade.zip").values()
    day = reader.minute(SecurityType.INDEX, "spx", dt.date(2021, 1, 4))
    assert day.quotes is None and day.trades is not None and len(day.trades) == len(rows)
    first = rows[0]
    assert int(first[0]) == 30_600_000  # the file says 08:30 Chicago ...
    assert day.trades.times[0] == int(first[0]) + HOUR == 34_200_000  # ... which is 09:30 New York
    t = day.trades
    assert [t.open[0], t.high[0], t.low[0], t.close[0]] == [float(x) for x in first[1:5]]
    assert day.trades.volume[0] == int(first[5])
    assert day.trades.close[0] == pytest.approx(3766.63)  # not divided by 10000
    assert day.trades.end_times[0] == 34_260_000  # emitted 09:31


def test_spxw_week_quotes(reader: LeanDataReader, lean_data_dir: Path) -> None:
    folder = lean_data_dir / "indexoption/usa/minute/spxw"
    sizes = []
    for day in SPXW_DAYS:
        raw = raw_members(folder / f"{day:%Y%m%d}_quote_european.zip")
        chain = reader.option_chain("spxw", day, sec=SecurityType.INDEX_OPTION)
        assert chain is not None and chain.quotes is not None
        assert chain.contracts.underlying == "spx" and chain.multiplier == 100.0 and chain.contracts.style == "european"
        sizes.append(int(chain.quotes.has_rows.sum()))
        assert sizes[-1] == len(raw)
        dense = chain_dense(chain)
        for name, rows in raw.items():
            m = re.search(r"_(call|put)_(\d+)_(\d{8})\.csv$", name)
            assert m is not None
            i = chain.contracts.find(parse_ymd(m[3]), int(m[2]) / 10000, m[1] == "call")
            assert i is not None
            bars = chain.quotes.for_contract(i)
            assert len(bars) == len(rows)
            for k in (0, len(rows) // 2, -1):  # bid/ask close at a minute == raw / 10000
                r = rows[k]
                assert bars.times[k] == int(r[0])
                assert np.isnan(bars.bid_close[k]) if r[4] == "" else bars.bid_close[k] == int(r[4]) / 10000
                assert np.isnan(bars.ask_close[k]) if r[9] == "" else bars.ask_close[k] == int(r[9]) / 10000
            slot = dense.grid.slot_of_end(11 * HOUR)  # known at 11:00 = bar started 10:59
            expect_bid = raw_asof(rows, 11 * HOUR - 60_000, 4) / 10000
            expect_ask = raw_asof(rows, 11 * HOUR - 60_000, 9) / 10000
            assert np.array_equal([dense.bid[i, slot], dense.ask[i, slot]], [expect_bid, expect_ask], equal_nan=True)
    assert sizes == [12, 8, 16, 4, 16]
    notes = {e.path.name for e in reader.log.quirks}
    assert "20210104_openinterest_european.zip.zip" in notes and "20210104_trade_european.zip.zip" in notes


def test_goog_full_chain(goog_chain: OptionChainDay, lean_data_dir: Path) -> None:
    folder = lean_data_dir / "option/usa/minute/goog"
    raw_q = raw_members(folder / "20151224_quote_american.zip")
    raw_t = raw_members(folder / "20151224_trade_american.zip")
    raw_oi = raw_members(folder / "20151224_openinterest_american.zip")
    c = goog_chain.contracts
    assert len(c) == len(raw_q) == 2192
    assert goog_chain.quotes is not None and goog_chain.trades is not None and goog_chain.open_interest is not None
    assert int(goog_chain.trades.has_rows.sum()) == len(raw_t) == 241
    assert int(goog_chain.open_interest.has_rows.sum()) == len(raw_oi) == 2058
    assert len(goog_chain.quotes) == sum(len(r) for r in raw_q.values())
    assert goog_chain.multiplier == 100.0
    assert np.all(np.diff(c.expiry.astype(np.int64)) >= 0)
    dense = chain_dense(goog_chain, MinuteGrid.between(9 * HOUR + 30 * 60_000, 13 * HOUR))
    assert dense.bid.shape == (2192, 210)
    rng = random.Random(7)
    for name in rng.sample(sorted(raw_t), 15):
        m = re.search(r"_(call|put)_(\d+)_(\d{8})\.csv$", name)
        assert m is not None
        i = c.find(parse_ymd(m[3]), int(m[2]) / 10000, m[1] == "call")
        assert i is not None
        q_rows = raw_q[name.replace("_trade_", "_quote_")]
        t_rows = raw_t[name]
        quotes = goog_chain.quotes.for_contract(i)
        np.testing.assert_array_equal(quotes.times, [int(r[0]) for r in q_rows])
        np.testing.assert_array_equal(quotes.ask_size, [int(r[10]) for r in q_rows])
        trades = goog_chain.trades.for_contract(i)
        np.testing.assert_array_equal(trades.close, [int(r[4]) / 10000 for r in t_rows])
        np.testing.assert_array_equal(trades.volume, [int(r[5]) for r in t_rows])
        for hh, mm in ((9, 45), (11, 0), (12, 59)):
            start = (hh * 60 + mm) * 60_000
            slot = dense.grid.slot_of_end(start + 60_000)
            assert np.array_equal(dense.bid[i, slot], raw_asof(q_rows, start, 4) / 10000, equal_nan=True)
            assert np.array_equal(dense.ask[i, slot], raw_asof(q_rows, start, 9) / 10000, equal_nan=True)
            assert np.array_equal(dense.last[i, slot], raw_asof(t_rows, start, 4) / 10000, equal_nan=True)
            vol = sum(int(r[5]) for r in t_rows if int(r[0]) == start)
            assert dense.volume[i, slot] == vol
        oi_rows = raw_oi.get(name.replace("_trade_", "_openinterest_"), [])
        assert np.array_equal(dense.open_interest[i, 0], raw_asof(oi_rows, 9 * HOUR + 30 * 60_000, 1), equal_nan=True)


def test_goog_equity_minute(reader: LeanDataReader, lean_data_dir: Path) -> None:
    (trade_rows,) = raw_members(lean_data_dir / "equity/usa/minute/goog/20151224_trade.zip").values()
    (quote_rows,) = raw_members(lean_data_dir / "equity/usa/minute/goog/20151224_quote.zip").values()
    day = reader.minute(SecurityType.EQUITY, "goog", GOOG_DAY)
    assert day.trades is not None and day.quotes is not None
    assert day.trades.close[0] == int(trade_rows[0][4]) / 10000 == 750.3
    assert day.quotes.times[0] == int(quote_rows[0][0]) == 4 * HOUR  # pre-market quote kept in the raw arrays
    dense = day.dense(reader.session_grid(SecurityType.EQUITY, "goog", GOOG_DAY))
    assert dense.grid.n == 210  # 2015-12-24 closes at 13:00
    start = 9 * HOUR + 30 * 60_000
    assert dense.ask[0, 0] == raw_asof([r for r in quote_rows if int(r[0]) >= start], start, 9) / 10000


def test_universes(reader: LeanDataReader, lean_data_dir: Path, goog_chain: OptionChainDay) -> None:
    path = lean_data_dir / "option/usa/universes/goog/20151224.csv"
    lines = path.read_text().splitlines()
    u = reader.universe(SecurityType.OPTION, "goog", GOOG_DAY)
    assert u is not None and len(u) == len(lines) - 2
    under = lines[1].split(",")
    assert under[:3] == ["", "", ""]
    expect = (float(under[3]), float(under[6]), float(under[7]))
    assert (u.underlying.open, u.underlying.close, u.underlying.volume) == expect
    first = lines[2].split(",")
    assert u.expiry[0] == np.datetime64(parse_ymd(first[0]))
    assert (u.strike[0], bool(u.is_call[0])) == (float(first[1]), first[2] == "C")
    assert u.implied_volatility[0] == float(first[9]) and np.isnan(u.open_interest[0]) == (first[8] == "")
    # LEAN lists the chain of 2015-12-24 from the previous day's file; it matches the minute zips exactly
    listed = reader.chain_universe(SecurityType.OPTION, "goog", GOOG_DAY)
    assert listed is not None and listed.day == dt.date(2015, 12, 23)
    c = goog_chain.contracts
    from_zip = set(zip(c.expiry.tolist(), c.strike.tolist(), c.is_call.tolist()))
    assert set(zip(listed.expiry.tolist(), listed.strike.tolist(), listed.is_call.tolist())) == from_zip
    spx = reader.universe(SecurityType.INDEX_OPTION, "spx", dt.date(2021, 1, 4))
    assert spx is not None and len(spx) == 6 and spx.underlying.close == 3700.65
    spxw = reader.universe(SecurityType.INDEX_OPTION, "spxw", dt.date(2020, 12, 31))
    assert spxw is not None and sorted(set(spxw.expiry.astype(str))) == ["2021-01-04", "2021-01-06", "2021-01-08"]


def test_es_futures_utc_day(reader: LeanDataReader, lean_data_dir: Path) -> None:
    day = dt.date(2013, 10, 7)
    raw_t = raw_members(lean_data_dir / "future/cme/minute/es/20131007_trade.zip")
    raw_q = raw_members(lean_data_dir / "future/cme/minute/es/20131007_quote.zip")
    chain = reader.future_chain("es", day)
    assert chain is not None and chain.multiplier == 50.0 and chain.trades is not None and chain.quotes is not None
    assert chain.contracts.contract_month.tolist() == [201312, 201403, 201406, 201409, 201412]
    i = chain.contracts.find(201312)
    assert i is not None
    rows = raw_t["20131007_es_minute_trade_201312.csv"]
    trades = chain.trades.for_contract(i)
    assert int(rows[0][0]) == 0 and trades.times[0] == -4 * HOUR  # 00:00 UTC = 20:00 EDT the day before
    assert trades.close[0] == float(rows[0][4]) == 1676.5  # futures prices are not scaled
    assert len(trades) == len(rows)
    q_rows = raw_q["20131007_es_minute_quote_201403.csv"]
    quotes = chain.quotes.for_contract(chain.contracts.find(201403) or 0)
    assert q_rows[1][1] == "" and np.isnan(quotes.bid_close[1]) and quotes.bid_size[1] == 0
    assert quotes.ask_close[1] == float(q_rows[1][9])
    dense = chain_dense(chain)  # 09:31 New York = the bar starting 13:30 UTC
    assert dense.last[i, 0] == raw_asof(rows, 13 * HOUR + 30 * 60_000, 4)


def test_spy_daily_previous_close(reader: LeanDataReader, lean_data_dir: Path) -> None:
    (rows,) = raw_members(lean_data_dir / "equity/usa/daily/spy.zip").values()
    prev = next(r for r in rows if r[0] == "20131009 00:00")
    bars = reader.daily(SecurityType.EQUITY, "spy")
    assert bars is not None and len(bars) == len(rows)
    assert bars.previous_close(dt.date(2013, 10, 10)) == int(prev[4]) / 10000 == 165.57
    spx = reader.daily(SecurityType.INDEX, "spx")
    assert spx is not None and spx.close.tolist() == [3700.65, 3795.54]


def test_missing_file_reported_once(lean_data_dir: Path) -> None:
    events: list[DataEvent] = []
    reader = LeanDataReader(lean_data_dir, on_event=events.append)
    for _ in range(2):  # 2015-12-23 has GOOG equity trades but no quotes
        day = reader.minute(SecurityType.EQUITY, "goog", dt.date(2015, 12, 23))
        assert day.trades is not None and day.quotes is None
    assert [e.path for e in reader.missing] == [lean_data_dir / "equity/usa/minute/goog/20151223_quote.zip"]
    assert len(events) == 1


def test_trading_days_from_files(reader: LeanDataReader) -> None:
    got = reader.available_dates(SecurityType.EQUITY, "spy", dt.date(2013, 10, 1), dt.date(2013, 10, 31))
    assert got == [dt.date(2013, 10, d) for d in (4, 7, 8, 9, 10, 11)]
    jan = (dt.date(2021, 1, 1), dt.date(2021, 1, 31))
    got = reader.available_dates(SecurityType.INDEX_OPTION, "spxw", *jan, tick="openinterest")
    assert got == [dt.date(2021, 1, 4)]  # found through the .zip.zip name


def test_every_sample_minute_file_parses(reader: LeanDataReader, lean_data_dir: Path) -> None:
    """Guards against formats we have not seen: each day zip in the sample must read cleanly."""
    span = (dt.date(1990, 1, 1), dt.date(2100, 1, 1))
    for sec, folder in (
        (SecurityType.EQUITY, "equity/usa/minute"),
        (SecurityType.INDEX, "index/usa/minute"),
        (SecurityType.OPTION, "option/usa/minute"),
        (SecurityType.INDEX_OPTION, "indexoption/usa/minute"),
        (SecurityType.FUTURE, "future/cme/minute"),
    ):
        for ticker_dir in sorted((lean_data_dir / folder).iterdir()):
            for day in reader.available_dates(sec, ticker_dir.name, *span):
                if sec in (SecurityType.EQUITY, SecurityType.INDEX):
                    reader.minute(sec, ticker_dir.name, day)
                elif sec is SecurityType.FUTURE:
                    assert reader.future_chain(ticker_dir.name, day) is not None
                elif not (sec is SecurityType.OPTION and ticker_dir.name == "goog" and day == GOOG_DAY):
                    assert reader.option_chain(ticker_dir.name, day, sec=sec) is not None
