"""LEAN's own option algorithms through ``python -m replay --algorithm``: the statistics LEAN's regression
suite expects from each (``../shared/lean-regression/expected.json``, from the C# twins' ExpectedStatistics).

Total Orders must match exactly, Total Fees within $0.01, End Equity within $1.00 (the issue's tolerance);
Start Equity and LEAN's Net Profit string must match too. The algorithms and data stay outside the
repository; the test skips when they are absent.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT.parent / "shared" / "lean-regression" / "expected.json"
NAMES = ([a["name"] for a in json.loads(EXPECTED.read_text())["algorithms"]] if EXPECTED.is_file()
         else ["BasicTemplateOptionsAlgorithm"])


def _expected(folder: Path, name: str) -> dict:
    spec = next(a for a in json.loads((folder / "expected.json").read_text())["algorithms"] if a["name"] == name)
    return spec


@pytest.mark.lean_data
@pytest.mark.parametrize("name", NAMES)
def test_lean_algorithm_matches_leans_expected_statistics(name, lean_regression_dir, lean_data_dir, tmp_path):
    spec = _expected(lean_regression_dir, name)
    done = subprocess.run(
        [sys.executable, "-m", "replay", "--algorithm", str(lean_regression_dir / spec["file"]),
         "--data", str(lean_data_dir), "--out", str(tmp_path), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    stats = json.loads((tmp_path / "statistics.json").read_text())
    expected = spec["expected"]
    assert stats["Days Run"][0] >= spec["start"] and stats["Days Run"][-1] <= spec["end"]
    assert int(stats["Total Orders"]) == expected["Total Orders"]
    assert float(stats["Total Fees"].lstrip("$")) == pytest.approx(expected["Total Fees"], abs=0.01)
    assert float(stats["End Equity"]) == pytest.approx(expected["End Equity"], abs=1.0)
    assert float(stats["Start Equity"]) == expected["Start Equity"]
    assert stats["Net Profit"] == expected["Net Profit"]
    log = (tmp_path / "log.txt").read_text()
    assert "ERROR" not in log, [line for line in log.splitlines() if line.startswith("ERROR")][:5]


def test_an_unknown_algorithm_file_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "replay", "--algorithm", str(tmp_path / "nope.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--algorithm" in done.stderr and "nope.py" in done.stderr


def test_an_algorithm_without_dates_needs_start_and_end(tmp_path):
    algorithm = tmp_path / "nodates.py"
    algorithm.write_text("from AlgorithmImports import *\n\n\nclass NoDates(QCAlgorithm):\n"
                         "    def initialize(self):\n        self.set_cash(1000)\n")
    done = subprocess.run([sys.executable, "-m", "replay", "--algorithm", str(algorithm), "--data", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "sets no start or end date" in done.stderr
