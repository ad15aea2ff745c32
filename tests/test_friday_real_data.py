"""Progressive Friday on LEAN's real sample data: SPY 2013-10-07..11 (Friday the 11th) with E-mini
futures. The gap, opening-volume ratio and pre-market momentum main.py measures are recomputed here
independently from the raw zip files (standard library only)."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from analysis.progressive_friday import gap_pct, opening_volume_ratio, premarket_move_pct
from replay.engine.runner import ReplayConfig, run_replay

pytestmark = pytest.mark.lean_data
SPY_WEEK = {"underlying": "SPY", "underlying-type": "equity", "option-ticker": "SPY",
            "start-date": "2013-10-07", "end-date": "2013-10-11"}
OPEN_MS = 9 * 3_600_000 + 30 * 60_000


def _rows(path: Path) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(path) as archive:
        return {name: list(csv.reader(io.TextIOWrapper(archive.open(name), "utf-8"))) for name in archive.namelist()}


def _spy_minute(root: Path, day: str) -> list[list[str]]:
    (rows,) = _rows(root / "equity/usa/minute/spy" / f"{day}_trade.zip").values()
    return rows


def _opening_volume(rows: list[list[str]]) -> float:
    return float(sum(int(r[5]) for r in rows if OPEN_MS <= int(r[0]) < OPEN_MS + 30 * 60_000))


def _es_front(root: Path, day: str) -> list[list[str]]:
    members = _rows(root / "future/cme/minute/es" / f"{day}_trade.zip")
    return max(members.values(), key=lambda rows: sum(int(r[5]) for r in rows))


@pytest.fixture(scope="module")
def friday(lean_data_dir):
    run = run_replay(ReplayConfig(lean_data_dir, SPY_WEEK))
    analysis = run.algorithm.desk.friday.reading
    assert analysis is not None and analysis.time.date().isoformat() == "2013-10-11"
    return {s.name: s for s in analysis.signals}


def test_gap_matches_the_raw_files(friday, lean_data_dir):
    (daily,) = _rows(lean_data_dir / "equity/usa/daily/spy.zip").values()
    previous_close = next(float(r[4]) for r in daily if r[0].startswith("20131010")) / 10_000
    first_open = next(float(r[1]) for r in _spy_minute(lean_data_dir, "20131011") if int(r[0]) == OPEN_MS) / 10_000
    expected = (first_open - previous_close) / previous_close * 100
    assert friday["gap"].reading.value == pytest.approx(expected, abs=1e-9)
    assert friday["gap"].points == 1  # -0.20%: a small gap


def test_opening_volume_ratio_matches_the_raw_files(friday, lean_data_dir):
    baseline = [_opening_volume(_spy_minute(lean_data_dir, d)) for d in
                ("20131004", "20131007", "20131008", "20131009", "20131010")]
    today = _opening_volume(_spy_minute(lean_data_dir, "20131011"))
    assert friday["volume"].reading.value == pytest.approx(today / (sum(baseline) / len(baseline)), rel=1e-12)


def test_premarket_momentum_matches_the_raw_files(friday, lean_data_dir):
    # ES files are UTC days; in October New York is UTC-4: 16:00 ET ends the bar starting 19:59 UTC,
    # the 09:30 ET open is the bar starting 13:30 UTC.
    close_1600 = next(float(r[4]) for r in _es_front(lean_data_dir, "20131010") if int(r[0]) == 71_940_000)
    open_0930 = next(float(r[1]) for r in _es_front(lean_data_dir, "20131011") if int(r[0]) == 48_600_000)
    expected = (open_0930 - close_1600) / close_1600 * 100
    assert friday["momentum"].reading.value == pytest.approx(expected, abs=1e-9)


def test_missing_series_are_unavailable_and_score_neutral(friday):
    assert not friday["vix_structure"].available and friday["vix_structure"].points == 0
    assert not friday["breadth"].available and friday["breadth"].points == 0
    assert not friday["pc_ratio"].available  # no SPY option data in 2013


def test_signal_functions_refuse_what_they_cannot_measure():
    from datetime import datetime, time

    from core.market import Reading

    assert not opening_volume_ratio(datetime(2013, 10, 11, 9, 59), time(10, 0), 1e6, [1e6] * 20, 20).available
    assert (opening_volume_ratio(datetime(2013, 10, 11, 10, 0), time(10, 0), 1e6, [1e6] * 4, 20).reason
            == "4 earlier sessions with opening volume (need 5)")
    assert gap_pct(Reading.missing("no close"), Reading(100.0)).reason == "no close"
    assert premarket_move_pct(Reading(101.0), Reading(100.0)).value == pytest.approx(1.0)
