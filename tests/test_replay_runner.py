"""The offline replay on LEAN's real sample data: runs to completion, pinned statistics, outputs.

Pinned statistics work like LEAN's regression definitions: a change fails the test until the pins in
``tests/regression/`` are updated on purpose with ``UPDATE_REPLAY_PINS=1 python -m pytest tests/test_replay_runner.py``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from replay.engine import double as ld
from replay.engine.results import max_drawdown_pct, statistics
from replay.outputs import write_outputs
from replay.engine.runner import ReplayConfig, run_replay
from replay.engine.services import DateRules, ObjectStore, ScheduleManager, TimeRules

ROOT = Path(__file__).resolve().parents[1]
PINS = Path(__file__).parent / "regression"
GOOG = {"underlying": "GOOG", "underlying-type": "equity", "option-ticker": "GOOG",
        "start-date": "2015-12-24", "end-date": "2015-12-24"}


def _check_pinned(name: str, stats: dict) -> None:
    path = PINS / f"{name}.json"
    text = json.dumps(stats, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_REPLAY_PINS") == "1":
        path.write_text(text)
    assert path.is_file(), f"no pinned statistics at {path}: run with UPDATE_REPLAY_PINS=1"
    assert json.loads(path.read_text()) == stats


@pytest.mark.lean_data
def test_default_spxw_week_runs_and_matches_pins(lean_data_dir, tmp_path):
    run = run_replay(ReplayConfig(lean_data_dir, {}, tmp_path))
    stats = statistics(run)
    assert stats["Days Run"] == ["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08"]
    assert stats["Days Without Underlying Data"] == ["2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08"]
    assert stats["Contract Quotes Delivered"] > 0
    assert not run.algorithm.errors
    _check_pinned("spxw_2021-01-04_08", stats)
    logs = run.algorithm.logs
    assert any(line.startswith("[DATA] 2021-01-05: no data for SPX, VIX, VIX9D, ES, SPY, XLB,") for line in logs)


@pytest.mark.lean_data
def test_goog_day_runs_and_matches_pins(lean_data_dir, tmp_path):
    run = run_replay(ReplayConfig(lean_data_dir, GOOG, tmp_path))
    stats = statistics(run)
    assert stats["Days Run"] == ["2015-12-24"] and stats["Slices"] == 210  # early close at 13:00
    assert not run.algorithm.errors
    _check_pinned("goog_2015-12-24", stats)


@pytest.mark.lean_data
def test_same_inputs_give_byte_identical_statistics(lean_data_dir, tmp_path):
    texts = []
    for attempt in ("a", "b"):
        run = run_replay(ReplayConfig(lean_data_dir, GOOG, tmp_path / attempt))
        write_outputs(run, statistics(run), tmp_path / attempt)
        texts.append((tmp_path / attempt / "statistics.json").read_bytes())
    assert texts[0] == texts[1]


@pytest.mark.lean_data
def test_cli_writes_results(lean_data_dir, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "replay", "--data", str(lean_data_dir), "--out", str(out),
         *sum((["--parameter", k, v] for k, v in GOOG.items()), [])],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Replay summary" in done.stdout and "Days Run: 1 (2015-12-24)" in done.stdout
    assert "1/1 2015-12-24" in done.stderr  # the progress bar
    for name in ("statistics.json", "orders.csv", "log.txt", "chart.png"):
        assert (out / name).is_file(), name
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "WebSocket streaming disabled in backtest mode" in (out / "log.txt").read_text()


def test_bad_parameter_fails_the_run_with_its_name(tmp_path):
    from core.params import SettingsError

    with pytest.raises(SettingsError, match="greeks-delta-limit"):
        run_replay(ReplayConfig(tmp_path, {"greeks-delta-limit": "abc"}))


def test_missing_data_folder_runs_with_every_day_reported(tmp_path):
    run = run_replay(ReplayConfig(tmp_path, {"start-date": "2021-01-04", "end-date": "2021-01-05"}))
    stats = statistics(run)
    assert stats["Days Without Underlying Data"] == ["2021-01-04", "2021-01-05"]
    assert stats["Missing Files"] > 0 and stats["Contract Quotes Delivered"] == 0


def test_max_drawdown():
    assert max_drawdown_pct([100, 120, 90, 130, 117]) == pytest.approx(25.0)
    assert max_drawdown_pct([]) == 0.0


def test_object_store_round_trip_and_persistence(tmp_path):
    store = ObjectStore(tmp_path)
    assert not store.contains_key("manual/state")
    store.save("manual/state", '{"state": "MANUAL"}')
    assert ObjectStore(tmp_path).read("manual/state") == '{"state": "MANUAL"}'  # survives a restart
    assert store.delete("manual/state") and not store.contains_key("manual/state")
    with pytest.raises(KeyError):
        store.read("manual/state")


def test_object_store_without_a_folder_keeps_values_in_memory():
    """The double's default store (a run without an output folder) writes nothing to disk: no
    lean-double-store-* folder is left in the temp directory."""
    from replay.engine.algorithm import QCAlgorithm

    store = QCAlgorithm().object_store
    store.save("k", "caf\u00e9")
    assert store.folder is None and store.contains_key("k") and store.read("k") == "caf\u00e9"
    assert store.delete("k") and not store.contains_key("k") and not store.delete("k")
    with pytest.raises(KeyError):
        store.read("k")


def test_scheduled_events_fire_once_in_their_minute():
    schedule, dates, times = ScheduleManager(), DateRules(), TimeRules()
    fired: list[str] = []
    schedule.on(dates.every_day(), times.at(10, 30), lambda: fired.append("at"))
    schedule.on(dates.every(ld.DayOfWeek.FRIDAY), times.after_market_open(None, 30),
                lambda: fired.append("friday-open+30"))
    schedule.on(dates.every_day(), times.before_market_close(None, 5), lambda: fired.append("close-5"))
    minute = datetime(2021, 1, 8, 9, 30)
    while minute < datetime(2021, 1, 8, 16, 0):
        nxt = minute + timedelta(minutes=1)
        for _moment, event in schedule.due(minute, nxt):
            event.callback()
        minute = nxt
    assert fired == ["friday-open+30", "at", "close-5"]
    thursday = schedule.due(datetime(2021, 1, 7, 9, 30), datetime(2021, 1, 7, 16, 0))
    assert [e.callback for _t, e in thursday] == [schedule.events[0].callback, schedule.events[2].callback]


def test_events_between_time_steps_fire_at_the_next_step_in_time_order():
    """LEAN's ScanPastEvents: a midnight event and a 09:00 event on a day whose first step is 09:31."""
    schedule, dates, times = ScheduleManager(), DateRules(), TimeRules()
    schedule.on(dates.every_day(), times.at(9, 0), lambda: None)
    schedule.on(dates.every_day(), times.midnight, lambda: None)
    due = schedule.due(datetime(2021, 1, 7, 16, 0), datetime(2021, 1, 8, 9, 31))
    assert [t for t, _e in due] == [datetime(2021, 1, 8, 0, 0), datetime(2021, 1, 8, 9, 0)]
