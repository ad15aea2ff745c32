"""``python -m replay`` as a user meets it: parameters read the LEAN way, and every bad input one clear
line with a non-zero exit (2: usage, 1: data or algorithm), never a traceback, never a silent success."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from replay.__main__ import main
from replay.scenarios import write_scenario

ROOT = Path(__file__).resolve().parents[1]
MONDAY = ["--parameter", "start-date", "2021-08-09", "--parameter", "end-date", "2021-08-09",
          "--parameter", "friday-breadth-proxy", "none"]
ALGORITHM = '''from AlgorithmImports import *


class ParameterEcho(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2021, 8, 9)
        self.set_end_date(2021, 8, 9)
        self.alpha = self.get_parameter("alpha")
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol

    def on_data(self, data):
        if self.alpha == "boom":
            raise ZeroDivisionError("boom in on_data")
        self.log(f"alpha={self.alpha}")
        self.quit()
'''


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("quiet-week")
    write_scenario("quiet-week", folder)
    return folder


def _copy(week: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(week, data)
    return data


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        status = main(["--quiet", *argv])
    except SystemExit as done:  # argparse's own refusals
        status = int(done.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("python -m replay: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _algorithm(folder: Path, config: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "echo.py").write_text(ALGORITHM)
    if config is not None:
        (folder / "config.json").write_text(config)
    return folder / "echo.py"


# --- usage errors: exit 2 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["--start", "2021-08-13", "--end", "2021-08-09"], "--end 2021-08-09 is before --start 2021-08-13"),
    (["--parameter", "start-date", "2021-08-13", "--parameter", "end-date", "2021-08-09"],
     "start-date 2021-08-13 is after end-date 2021-08-09"),
    (["--start", "2021-13-01"], "'2021-13-01' is not a date (YYYY-MM-DD)"),
    (["--scenario", "nope"], "invalid choice: 'nope'"),
    (["--parameter", "cash", "abc"], "cash='abc': expected a number (e.g. 0.5)"),
    (["--parameter", "cahs", "5"], "unknown parameter 'cahs' (--parameter): did you mean 'cash'?"),
    (["--parameter", "cash", " "], "--parameter cash: empty value"),
    (["--data", "/no/such/folder"], "--data /no/such/folder: no such folder"),
    (["--algorithm", "/no/such/algo.py"], "--algorithm /no/such/algo.py: no such file"),
    (["--start", "2021-02-26"], "scenario first-run has data for 2021-03-01..2021-03-05 only; "
                                "2021-02-26..2021-03-05 is outside it"),
    (["--parameter", "end-date", "2021-03-09"], "scenario first-run has data for 2021-03-01..2021-03-05 only"),
])
def test_usage_errors_are_one_line_and_exit_2(capsys, tmp_path, argv, expected):
    status, out, err = _run(capsys, *argv, "--out", str(tmp_path / "out"))
    assert status == 2 and expected in _one_line(err) and not out


@pytest.mark.parametrize("source, expected", [
    ("def f(:\n", "does not compile: invalid syntax (line 1)"),
    ("x = 1\n", "must define exactly one QCAlgorithm subclass, found 0"),
])
def test_a_file_that_is_no_algorithm_is_a_usage_error_naming_it(capsys, tmp_path, week, source, expected):
    algorithm = tmp_path / "project" / "algo.py"
    algorithm.parent.mkdir()
    algorithm.write_text(source)
    status, out, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert status == 2 and not out and str(algorithm) in line and expected in line


def test_a_start_date_parameter_is_the_scenario_window_as_start_is(capsys, tmp_path):
    """``--parameter start-date`` means what ``--start`` means: the replay runs from that day, not
    the scenario's first (the algorithm and the runner agree on the window)."""
    status, out, _err = _run(capsys, "--quiet", "--parameter", "start-date", "2021-03-05", "--out", str(tmp_path))
    assert status == 0 and "Days Run: 1 (2021-03-05)" in out


def test_a_secret_parameter_is_refused_without_its_value(capsys, tmp_path):
    url = "http://example.com/hook?token=hunter2"
    status, _out, err = _run(capsys, "--parameter", "manual-alert-webhook-url", url, "--out", str(tmp_path))
    assert status == 2 and "manual-alert-webhook-url=<secret, not shown>" in _one_line(err)
    assert "hunter2" not in err and "example.com" not in err


def test_an_unwritable_out_is_refused_before_the_run(capsys, tmp_path):
    """The output folder is checked first: with data that would fail the run, the usage error wins."""
    (tmp_path / "file").write_text("")
    status, _out, err = _run(capsys, "--data", str(tmp_path), "--out", str(tmp_path / "file"))
    assert status == 2 and "--out" in _one_line(err) and "is a file, not a folder" in err
    status, _out, err = _run(capsys, "--data", str(tmp_path), "--out", str(tmp_path / "file" / "below"))
    assert status == 2 and "cannot write there" in _one_line(err)


def test_help_lists_every_scenario_and_the_defaults(capsys):
    from replay.scenarios import DEFAULT_SCENARIO, SCENARIOS

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    text = capsys.readouterr().out
    flat = " ".join(text.split())  # argparse wraps the option help
    assert done.value.code == 0
    for name, scenario in SCENARIOS.items():
        assert f"\n  {name}  " in text and scenario.description in flat
    assert f"(default: {DEFAULT_SCENARIO}" in flat and "(default: replay-out/<scenario" in flat
    assert "(default: the project's main.py)" in flat


# --- config.json, the LEAN way ------------------------------------------------------------------------------

def test_config_json_parameters_apply_and_parameter_overrides_them(capsys, tmp_path, week):
    algorithm = _algorithm(tmp_path / "project", json.dumps({"parameters": {"alpha": "from-config"}}))
    out = tmp_path / "out"
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(out))
    assert status == 0, err
    assert "alpha=from-config" in (out / "log.txt").read_text()
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(out),
                           "--parameter", "alpha", "from-cli")
    assert status == 0, err
    assert "alpha=from-cli" in (out / "log.txt").read_text()


@pytest.mark.parametrize("config, expected", [
    ('{"parameters": {"alpha": "1",}}',
     ("config.json: invalid JSON: Expecting property name enclosed in double quotes at line 1 column 30")),
    ('{"parameters": {"alpha": 1}}', "config.json: parameter 'alpha' must be a string"),
    ('{"parameters": {"alpah": "1"}}', "unknown parameter 'alpah'"),
    ('{"parameters": {"alpha": "nan", "alpha": "1"}}', "config.json: 'alpha' appears twice"),
    (None, "config.json: cannot be read"),  # a folder where the file should be
])
def test_a_bad_config_json_is_named_in_one_line(capsys, tmp_path, week, config, expected):
    algorithm = _algorithm(tmp_path / "project", config)
    if config is None:
        (tmp_path / "project" / "config.json").mkdir()
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert status == 2 and expected in line and str(tmp_path / "project" / "config.json") in line


def test_an_unknown_name_for_another_algorithm_lists_what_it_reads(capsys, tmp_path, week):
    algorithm = _algorithm(tmp_path / "project")
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"),
                           "--parameter", "beta", "1")
    assert status == 2 and "unknown parameter 'beta' (--parameter): echo.py reads alpha" in _one_line(err)


def test_an_algorithm_error_is_one_line_naming_its_file_and_line(capsys, tmp_path, week):
    algorithm = _algorithm(tmp_path / "project")
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"),
                           "--parameter", "alpha", "boom")
    line = _one_line(err)
    assert status == 1 and "ZeroDivisionError: boom in on_data" in line and "(echo.py line 13, in on_data)" in line


# --- data errors: exit 1 -------------------------------------------------------------------------------------

def _rewrite_member_line(path: Path, number: int, text: str) -> str:
    with zipfile.ZipFile(path) as archive:
        name = archive.namelist()[0]
        lines = archive.read(name).decode().splitlines()
    lines[number - 1] = text
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, "\n".join(lines) + "\n")
    return name


def test_a_corrupt_data_file_names_file_member_and_line(capsys, tmp_path, week):
    data = _copy(week, tmp_path)
    zipped = data / "index" / "usa" / "minute" / "spx" / "20210809_trade.zip"
    member = _rewrite_member_line(zipped, 6, "abc,1,2")
    status, _o, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "o"), *MONDAY)
    assert status == 1 and f"{zipped} [{member}] line 6: expected 6 fields, found 3" in _one_line(err)
    zipped.write_bytes(b"not a zip")
    status, _o, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "o"), *MONDAY)
    assert status == 1 and f"{zipped}: unreadable zip" in _one_line(err)


def test_a_broken_interest_rate_file_names_file_and_line(capsys, tmp_path, week):
    data = _copy(week, tmp_path)
    rates = data / "alternative" / "interest-rate" / "usa" / "interest-rate.csv"
    rates.write_text("DATE,PCREDIT8\n2020-03-16,0.25\n2020-04-01,abc\n")
    status, _o, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "o"), *MONDAY)
    assert status == 1 and f"{rates} line 3: expected DATE,RATE(%)" in _one_line(err)


def test_a_broken_market_hours_database_names_file_line_and_entry(capsys, tmp_path, week):
    data = _copy(week, tmp_path)
    database = data / "market-hours" / "market-hours-database.json"
    text = database.read_text()
    database.write_text(text.replace('"entries": {', '"entries": {,', 1))
    status, _o, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "o"), *MONDAY)
    assert status == 1 and f"{database} line 2: invalid JSON" in _one_line(err)
    entries = json.loads(text)
    del entries["entries"]["Index-usa-SPX"]["dataTimeZone"]
    database.write_text(json.dumps(entries))
    status, _o, err = _run(capsys, "--data", str(data), "--out", str(tmp_path / "o"), *MONDAY)
    assert status == 1 and f"{database} [Index-usa-SPX]: malformed entry: missing field 'dataTimeZone'" in _one_line(err)


def test_an_empty_data_folder_is_a_data_error_not_a_summary(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    status, out, err = _run(capsys, "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert status == 1 and not out
    assert f"no data in {tmp_path / 'empty'} for 2021-01-04..2021-01-08" in line
    assert "index/usa/minute/spx/20210104_trade.zip is missing" in line


def test_dates_past_the_data_are_a_data_error(capsys, tmp_path, week):
    status, out, err = _run(capsys, "--data", str(week), "--out", str(tmp_path / "o"), "--start", "2030-01-07",
                            "--end", "2030-01-08")
    assert status == 1 and not out and "no data in" in _one_line(err) and "2030-01-07..2030-01-08" in err
    status, _o, err = _run(capsys, "--data", str(week), "--out", str(tmp_path / "o"), "--start", "2030-01-05",
                           "--end", "2030-01-06")
    assert status == 1 and "no trading session in 2030-01-05..2030-01-06" in _one_line(err)


def test_the_cli_process_exits_non_zero_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "replay", "--parameter", "cahs", "1", "--out", str(tmp_path)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("python -m replay: error: unknown parameter 'cahs' (--parameter): "
                                   "did you mean 'cash'?")


def _project_main(tmp_path: Path, monkeypatch, **edits: str) -> Path:
    """A copy of the project (main.py beside an edited config.json) that the replay treats as main.py."""
    import replay.parameters

    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text((ROOT / "main.py").read_text())
    config = json.loads((ROOT / "config.json").read_text())
    config["parameters"].update(edits)
    (project / "config.json").write_text(json.dumps(config, indent=2))
    monkeypatch.setattr(replay.parameters, "PROJECT_MAIN", (project / "main.py").resolve())
    return project / "main.py"


SMALL_CHAIN = ["--parameter", "option-strikes-around-atm", "4", "--parameter", "option-max-expiry-days", "2"]


def test_main_py_runs_with_its_edited_config_json(capsys, tmp_path, monkeypatch, week):
    """An edited config.json is what the replay runs, as lean backtest would; --parameter wins over it."""
    algorithm = _project_main(tmp_path, monkeypatch, cash="25000")
    status, out, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"),
                            *MONDAY, *SMALL_CHAIN)
    assert status == 0, err
    assert "Start Equity: 25000" in out
    status, out, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"),
                            *MONDAY, *SMALL_CHAIN, "--parameter", "cash", "30000")
    assert status == 0 and "Start Equity: 30000" in out


def test_a_bad_value_in_main_pys_config_json_names_the_file(capsys, tmp_path, monkeypatch, week):
    algorithm = _project_main(tmp_path, monkeypatch, **{"greeks-delta-limit": "-5"})
    status, _o, err = _run(capsys, "--algorithm", str(algorithm), "--data", str(week), "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert status == 2 and f"{algorithm.parent / 'config.json'}: invalid LEAN parameters: greeks-delta-limit='-5'" in line
