"""LEAN's data rules in the replay: map files (``MapFileResolver``), factor files (price scaling, dividends),
market hours of options, option-universe filters (``OptionFilterUniverse``)."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from replay.data.errors import LeanDataError
from replay.data.factor_files import dividend_after, factor_rows, price_scale, split_after
from replay.data.map_files import delisting_date, mapped_ticker, resolve_permtick
from replay.engine.exchange import hours_for
from replay.engine.lean_types import OptionRight, SecurityType
from replay.engine.market_data import TradeBar
from replay.engine.symbols import Symbol, option_symbol
from replay.engine.universe import OptionFilterUniverse, OptionUniverseRow, apply_filter

REPO = Path(__file__).resolve().parents[1]


# --- map files --------------------------------------------------------------------------------------------

def write_map_files(root: Path, files: dict[str, str]) -> Path:
    folder = root / "equity" / "usa" / "map_files"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def test_a_ticker_resolves_to_the_map_file_it_trades_under_and_follows_its_renames(tmp_path):
    root = write_map_files(tmp_path, {
        "newco": "20100104,oldco,Q\n20150601,oldco,Q\n20501231,newco,Q\n",
        "oldco": "20160104,oldco,N\n20501231,oldco,N\n",  # another company took the old ticker later
    })
    assert resolve_permtick(root, "NEWCO", on=date(2020, 1, 2)) == "newco"
    assert mapped_ticker(root, "NEWCO", date(2015, 6, 1)) == "oldco"
    assert mapped_ticker(root, "NEWCO", date(2015, 6, 2)) == "newco"
    assert resolve_permtick(root, "OLDCO", on=date(2012, 1, 3)) == "newco"  # oldco was newco's ticker then
    assert resolve_permtick(root, "OLDCO", on=date(2020, 1, 2)) == "oldco"
    assert resolve_permtick(root, "NONE") is None
    assert mapped_ticker(root, "NONE", date(2020, 1, 2)) == "none"


def test_the_sample_data_map_files_as_lean_reads_them(lean_data_dir):
    assert resolve_permtick(lean_data_dir, "FOXA") == "tfcfa"
    assert mapped_ticker(lean_data_dir, "FOXA", date(2013, 6, 28)) == "nwsa"
    assert mapped_ticker(lean_data_dir, "FOXA", date(2013, 7, 1)) == "foxa"
    assert mapped_ticker(lean_data_dir, "GOOG", date(2014, 3, 28)) == "goocv"
    assert mapped_ticker(lean_data_dir, "GOOG", date(2015, 12, 24)) == "goog"
    assert delisting_date(lean_data_dir, "TWX") == date(2018, 6, 15)
    assert delisting_date(lean_data_dir, "GOOG") is None


def test_a_bad_auxiliary_row_stops_the_run_naming_file_and_line(tmp_path):
    root = write_map_files(tmp_path, {"bad": "20100104,bad,Q\n2010-01-05,bad,Q\n"})
    with pytest.raises(LeanDataError, match="bad.csv.*line 2|line 2.*bad.csv"):
        mapped_ticker(root, "BAD", date(2010, 1, 4))
    folder = tmp_path / "equity" / "usa" / "factor_files"
    folder.mkdir(parents=True)
    (folder / "bad.csv").write_text("20100104,0.9,1,10\n20501231,one,1,0\n", encoding="utf-8")
    with pytest.raises(LeanDataError, match="line 2"):
        factor_rows(tmp_path, "bad")


# --- factor files -----------------------------------------------------------------------------------------

def test_factor_rows_give_price_scales_dividends_and_splits(tmp_path):
    folder = tmp_path / "equity" / "usa" / "factor_files"
    folder.mkdir(parents=True)
    (folder / "abc.csv").write_text("20200101,0.9,0.5,1\n20200310,0.9,0.5,40\n20200612,0.95,0.5,50\n"
                                    "20200901,0.95,1,60\n20501231,1,1,0\n", encoding="utf-8")
    rows = factor_rows(tmp_path, "abc")
    assert price_scale(rows, date(2020, 3, 10)) == pytest.approx(0.45)  # the row dated on or after the day
    assert price_scale(rows, date(2020, 3, 11)) == pytest.approx(0.475)
    assert price_scale(rows, date(2020, 3, 11), split_only=True) == 0.5
    assert price_scale(rows, date(2030, 1, 2)) == 1.0
    assert dividend_after(rows, date(2020, 3, 10)) == (round(40 - 40 * 0.9 / 0.95, 2), 40.0)
    assert dividend_after(rows, date(2020, 9, 1)) == (round(60 - 60 * 0.95, 2), 60.0)
    assert dividend_after(rows, date(2020, 6, 12)) is None  # same price factor next
    assert dividend_after(rows, date(2020, 3, 11)) is None  # not a row date
    assert split_after(rows, date(2020, 9, 1)) is None
    assert split_after(rows, date(2020, 6, 12)) == 0.5
    assert factor_rows(tmp_path, "none") == ()


RENAME_ALGORITHM = '''
from AlgorithmImports import *


class RenamedEquity(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 6, 27)
        self.set_end_date(2013, 7, 2)
        self.stock = self.add_equity("FOXA")
        if self.get_parameter("mode") == "raw":
            self.stock.set_data_normalization_mode(DataNormalizationMode.RAW)
        self.first = {}
        self.events = []

    def on_data(self, data):
        for event in data.symbol_changed_events.values():
            self.events.append(f"rename {self.time:%m-%d %H:%M} {event.old_symbol}->{event.new_symbol}")
        for dividend in data.dividends.values():
            self.events.append(f"dividend {self.time:%m-%d} {dividend.distribution} cash {self.portfolio.cash:.2f}")
        if self.stock.symbol in data.bars:
            self.first.setdefault(self.time.date(), data.bars[self.stock.symbol].close)
        if not self.portfolio.invested and self.time.hour == 10:
            self.market_order(self.stock.symbol, 100)

    def on_end_of_algorithm(self):
        for line in self.events:
            self.log("EVENT " + line)
        for day, close in sorted(self.first.items()):
            self.log(f"FIRST {day} {close:.4f}")
'''


def run_rename(lean_data_dir: Path, tmp_path: Path, mode: str) -> list[str]:
    algorithm = tmp_path / "renamed.py"
    algorithm.write_text(RENAME_ALGORITHM, encoding="utf-8")
    out = tmp_path / mode
    done = subprocess.run([sys.executable, "-m", "replay", "--algorithm", str(algorithm), "--data",
                           str(lean_data_dir), "--out", str(out), "--quiet", "--parameter", "mode", mode],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # LEAN's log time stamp
    return [stamp.sub("", x) for x in (out / "log.txt").read_text(encoding="utf-8").splitlines()
            if "EVENT" in x or "FIRST" in x]


def test_a_raw_equity_is_read_from_its_old_ticker_renamed_on_a_trading_day_and_paid_its_dividend(lean_data_dir,
                                                                                                tmp_path):
    lines = run_rename(lean_data_dir, tmp_path, "raw")
    assert "EVENT rename 07-01 00:00 NWSA->FOXA" in lines
    # 100 shares bought at 32.55 (+$1 fee), then tfcfa.csv's 2013-06-28 row pays 32.6 x (1 - 0.8349969 / 0.9458269)
    assert "EVENT dividend 07-01 3.82 cash 97126.00" in lines
    assert "FIRST 2013-06-27 32.4200" in lines  # nwsa's file, raw prices
    assert "FIRST 2013-07-01 29.1200" in lines


def test_an_adjusted_equity_has_its_prices_scaled_and_no_dividend_cash(lean_data_dir, tmp_path):
    lines = run_rename(lean_data_dir, tmp_path, "adjusted")
    assert f"FIRST 2013-06-27 {32.42 * 0.8349969:.4f}" in lines
    assert f"FIRST 2013-07-01 {29.12 * 0.9458269:.4f}" in lines
    dividend = next(x for x in lines if "dividend" in x)
    assert dividend.endswith(f"cash {100_000 - 100 * round(32.55 * 0.8349969, 4) - 1:.2f}")


# --- market hours -------------------------------------------------------------------------------------------

def test_an_equity_option_takes_its_underlyings_early_close_and_holidays(lean_data_dir):
    hours = hours_for(lean_data_dir, SecurityType.OPTION, "GOOG")
    assert hours.session(date(2015, 12, 24)) == (datetime(2015, 12, 24, 9, 30), datetime(2015, 12, 24, 13, 0))
    assert hours.session(date(2015, 12, 25)) is None
    assert hours.get_next_trading_day(date(2015, 12, 24)) == datetime(2015, 12, 28)
    index = hours_for(lean_data_dir, SecurityType.INDEX_OPTION, "SPXW")
    assert index.session(date(2021, 1, 4)) == (datetime(2021, 1, 4, 9, 30), datetime(2021, 1, 4, 16, 15))
    assert index.session(date(2021, 1, 1)) is None


# --- option universe filters ---------------------------------------------------------------------------------

SPX = Symbol.create("SPX", SecurityType.INDEX)
GOOG = Symbol.create("GOOG", SecurityType.EQUITY)


def universe(symbols: list[Symbol], price: float, when: datetime = datetime(2021, 1, 4)) -> OptionFilterUniverse:
    def next_weekday(day: date) -> date:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    rows = [OptionUniverseRow(s, {}, None) for s in symbols]
    underlying = TradeBar(symbols[0].underlying, datetime.combine(when.date(), time()), price, price, price, price)
    return OptionFilterUniverse(rows, underlying, when, next_weekday)


def calls(strikes: list[float], expiry: date = date(2021, 1, 15), root: str = "SPXW") -> list[Symbol]:
    return [option_symbol(root, SPX, expiry, k, OptionRight.CALL) for k in strikes]


@pytest.mark.parametrize("price, expected", [
    (3748.54, [3745.0, 3750.0]),          # between strikes: one below, the one above
    (3750.0, [3745.0, 3750.0, 3755.0]),   # on a strike: one either side
    (3800.0, []),                         # above every strike
])
def test_strikes_around_the_underlying_price_as_lean_counts_them(price, expected):
    chosen = universe(calls([3740.0, 3745.0, 3750.0, 3755.0, 3760.0]), price).strikes(-1, 1)
    assert sorted(s.strike for s in chosen.all_symbols) == expected


def test_expiration_counts_from_the_next_trading_day_of_a_weekend_selection():
    expiries = [date(2021, 1, 11), date(2021, 1, 15), date(2021, 1, 22)]
    symbols = [calls([3750.0], e)[0] for e in expiries]
    chosen = universe(symbols, 3750.0, when=datetime(2021, 1, 9)).expiration(2, 8)  # Saturday -> Monday 11th
    assert [s.expiry for s in chosen.all_symbols] == [date(2021, 1, 15)]


def test_standards_weeklys_and_the_type_filter_applied_last():
    spxw = calls([3750.0], date(2021, 1, 15)) + calls([3750.0], date(2021, 1, 22))  # third Friday, a weekly
    assert [s.expiry for s in apply_filter(lambda u: u.standards_only(), universe(spxw, 3750.0))] == [date(2021, 1, 15)]
    assert [s.expiry for s in apply_filter(lambda u: u.strikes(-5, 5).weeklys_only(), universe(spxw, 3750.0))] == [
        date(2021, 1, 22)]
    spx = calls([3750.0], date(2021, 1, 22), root="SPX")  # SPX roots are standard whatever the date
    assert len(apply_filter(lambda u: u.standards_only(), universe(spx, 3750.0))) == 1
    goog = [option_symbol("GOOG", GOOG, d, 750.0, OptionRight.PUT, SecurityType.OPTION)
            for d in (date(2016, 1, 15), date(2016, 1, 8), date(2016, 1, 16))]
    standard = apply_filter(lambda u: u.standards_only(), universe(goog, 750.0, datetime(2015, 12, 24)))
    assert sorted(s.expiry for s in standard) == [date(2016, 1, 15), date(2016, 1, 16)]  # Saturday-dated monthly


def test_no_filter_means_leans_default_one_strike_either_side_within_35_days():
    symbols = calls([3740.0, 3745.0, 3750.0, 3755.0, 3760.0]) + calls([3750.0], date(2021, 3, 19))
    chosen = apply_filter(None, universe(symbols, 3750.0))
    assert sorted((s.expiry, s.strike) for s in chosen) == [(date(2021, 1, 15), k) for k in (3745.0, 3750.0, 3755.0)]
