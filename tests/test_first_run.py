"""``python -m replay`` with no arguments: the built-in first-run week in which every capability acts
through the real code paths (nothing scripted: the scenario is a market, main.py trades it), written to
replay-out/first-run/ and nothing left in the temp directory."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from replay.scenarios import DEFAULT_SCENARIO, SCENARIOS
from strategies.analysers.butterflies import BUTTERFLY_NAME

ROOT = Path(__file__).resolve().parents[1]
STAMP = "%Y-%m-%d %H:%M:%S"


class FirstRun:
    def __init__(self, done: subprocess.CompletedProcess[str], out: Path, temp: Path) -> None:
        self.done, self.out, self.temp = done, out, temp
        self.log = (out / "log.txt").read_text()
        self.trades = list(csv.DictReader((out / "trades.csv").open()))
        self.stats = json.loads((out / "statistics.json").read_text())

    def first(self, text: str) -> datetime:
        """The time stamp of the first log message containing ``text`` (a message may span lines)."""
        stamp = None
        for line in self.log.splitlines():
            try:
                stamp = datetime.strptime(line[:19], STAMP)
            except ValueError:
                pass  # a continuation line of a multi-line message
            if text in line and stamp is not None:
                return stamp
        raise AssertionError(f"{text!r} not in the log")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    cwd, temp = tmp_path_factory.mktemp("cwd"), tmp_path_factory.mktemp("tmp")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    done = subprocess.run([sys.executable, "-m", "replay", "--quiet"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return FirstRun(done, cwd / "replay-out" / DEFAULT_SCENARIO, temp)


def test_the_default_run_is_the_first_run_week_and_says_where_its_results_are(first_run):
    assert DEFAULT_SCENARIO == "first-run"
    scenario = SCENARIOS["first-run"]
    assert [d.weekday() for d in scenario.days] == [0, 1, 2, 3, 4]  # a whole week, Monday to Friday
    assert f"scenario first-run: {scenario.description}" in first_run.done.stderr
    assert ("Results in replay-out/first-run/: statistics.json, orders.csv, trades.csv, log.txt, chart.png"
            in first_run.done.stdout)
    for name in ("statistics.json", "orders.csv", "trades.csv", "log.txt", "chart.png"):
        assert (first_run.out / name).is_file(), name
    assert first_run.stats["Missing Files"] == 0 and len(first_run.stats["Days Run"]) == 5
    assert not list(first_run.temp.iterdir())  # the scenario's data folder is gone, no object store left


def test_a_section_9b_trade_is_entered_and_exited_by_its_rules(first_run):
    fly = [t for t in first_run.trades if t["strategy"] == BUTTERFLY_NAME]
    assert len(fly) == 1 and fly[0]["exit_time"] and fly[0]["pnl"]
    assert fly[0]["exit_reason"].startswith(("profit target", "stop", "0DTE time exit"))
    assert "[Section 9B] Best opportunity: Enhanced Butterfly (Score: " in first_run.log


def test_the_friday_0dte_trade_is_entered_on_the_progressive_reading(first_run):
    zero_dte = [t for t in first_run.trades if t["strategy"].startswith("0DTE")]
    assert len(zero_dte) == 1 and zero_dte[0]["exit_time"]
    assert datetime.strptime(zero_dte[0]["entry_time"], STAMP).date() == SCENARIOS["first-run"].days[-1]
    assert "progressive Friday" in first_run.log.split("[0DTE] 0DTE")[1].splitlines()[0]


def test_the_progressive_friday_reading_shows_its_signals_and_recommendation(first_run):
    block = first_run.log.split("PROGRESSIVE FRIDAY DETECTED!")[1].split("[Progressive Friday] recorded")[0]
    for line in ("Signals measured: 5/6 (unavailable: breadth)", "- Gap: ", "- Volume: ", "- VIX Structure: ",
                 "- P/C Ratio: ", "- Momentum: ", "RECOMMENDATION: Enhanced 0DTE opportunity",
                 "- Increase position size by 50%", "- Tighten stop loss to 1.5x credit",
                 "- Target 80% of credit received"):
        assert line in block, line


def test_greeks_alert_then_reduce_only_with_suggestions_and_how_to_resume(first_run):
    """The order a trader sees: both entries, then the Greeks limits halt new risk (REDUCE_ONLY); the
    exits still go out, a new entry becomes a suggestion, and the alert says how a human resumes."""
    alert = first_run.first("GREEKS RISK ALERT")
    halted = first_run.first("[CRITICAL] REDUCE-ONLY MODE ACTIVATED: Multiple Greeks limits exceeded")
    assert alert <= halted
    assert 'To resume send {"command": "resume", "token": "' in first_run.log
    assert first_run.first("MANUAL TRADE SUGGESTION") > halted
    assert "[HEDGE SUGGESTION] Delta Hedge" in first_run.log
    entries = [datetime.strptime(t["entry_time"], STAMP) for t in first_run.trades]
    exits = [datetime.strptime(t["exit_time"], STAMP) for t in first_run.trades]
    assert max(entries) <= halted < max(exits)  # an exit after the halt: reduce-only lets it out
    runtime = first_run.stats["Runtime Statistics"]
    assert runtime["Automation State"] == "REDUCE_ONLY" and runtime["Trade Suggestions"] == "1"
    assert first_run.stats["Manual Mode Activations"] == 1


def test_the_summary_lists_each_strategys_result(first_run):
    out = first_run.done.stdout
    assert "  Trades: 2" in out
    assert "    Enhanced Butterfly: 1 closed (" in out and "    0DTE Iron Condor: 1 closed (" in out
