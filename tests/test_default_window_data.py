"""The default backtest window's data, as every LEAN workspace ships it: what exists and what is missing.

The README and the algorithm's day reports promise that SPXW quotes exist for every day of
2021-01-04..08 while SPX minute bars exist only on the 4th and VIX/VIX9D not at all; this checks
those facts against the sample data itself, so the promise fails loudly if the data changes.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from core.settings import load_settings

pytestmark = pytest.mark.lean_data


def _window() -> list[date]:
    universe = load_settings(lambda name: None).universe
    days = (universe.end_date - universe.start_date).days + 1
    return [universe.start_date + timedelta(days=i) for i in range(days)]


def test_default_window_is_a_week_ending_on_friday():
    window = _window()
    assert window[0].weekday() == 0 and window[-1].weekday() == 4 and len(window) == 5


def test_spxw_quotes_exist_every_day(lean_data_dir: Path):
    folder = lean_data_dir / "indexoption" / "usa" / "minute" / "spxw"
    missing = [d for d in _window() if not (folder / f"{d:%Y%m%d}_quote_european.zip").is_file()]
    assert missing == []


def test_spx_minute_bars_only_on_the_first_day(lean_data_dir: Path):
    folder = lean_data_dir / "index" / "usa" / "minute" / "spx"
    present = [d for d in _window() if (folder / f"{d:%Y%m%d}_trade.zip").is_file()]
    assert present == [date(2021, 1, 4)]


def test_no_vix_data_in_the_sample(lean_data_dir: Path):
    for ticker in ("vix", "vix9d"):
        assert not (lean_data_dir / "index" / "usa" / "minute" / ticker).exists()
        assert not (lean_data_dir / "index" / "usa" / "daily" / f"{ticker}.zip").exists()
