"""The checks around one CLI replay: where its results go, whether its data gave a run, and how a
failure is told in one line.

Why here and not in the engine: the engine reproduces LEAN, which runs a backtest over whatever data
it finds. A person at a terminal needs more: the output folder proven writable before minutes of work,
a run that received no data called a failure (LEAN would print an empty, normal-looking result), and an
unexpected error reduced to what and where, not a traceback.
"""
from __future__ import annotations

import argparse
import traceback
from datetime import date
from pathlib import Path

from replay.engine.lean_types import NotImplementedInDouble
from replay.engine.runner import ReplayRun
from replay.errors import DataError, UsageError

OUTPUT_ROOT = Path("replay-out")


def output_name(scenario: str | None, data: Path | None, algorithm: Path, project_main: bool) -> str:
    """``replay-out/<name>``: the scenario, else the data folder (and the algorithm when it is not main.py)."""
    base = scenario if scenario is not None else (data.resolve().name if data is not None else "replay")
    return base if project_main else f"{base}-{algorithm.stem}"


def prepare_out(out: Path) -> None:
    """Create ``out`` and prove a file can be written there, before the run."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    probe = out / ".replay-write-check"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc}); give another --out") from None


def check_data(run: ReplayRun, data: Path) -> None:
    """A run the data gave nothing to is a failure, not a normal-looking summary."""
    if run.data_failure is not None:
        raise run.data_failure
    algorithm = run.algorithm
    window = f"{algorithm.start_date}..{algorithm.end_date}"
    missing = list(dict.fromkeys(e.path for e in run.data_events if e.kind == "missing"))
    missing.sort(key=lambda path: "minute" not in path.parts)  # a market data file says most
    example = f"; e.g. {_relative(missing[0], data)} is missing ({len(missing)} files missing)" if missing else ""
    if run.slices == 0 and not run.days_run:
        raise DataError(f"no trading session in {window} (weekend or holiday): no data to run")
    if run.slices == 0:
        raise DataError(f"no data in {data} for {window}{example}")
    if run.days_run and len(run.days_without_underlying) == len(run.days_run):
        days = ", ".join(d.isoformat() for d in run.days_run)
        raise DataError(f"no data for the options' underlying in {data} on any day run ({days}){example}")


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def describe_failure(exc: BaseException, algorithm: Path) -> str:
    """One line: what was raised, and where (the innermost frame in the algorithm's project if any)."""
    frames = traceback.extract_tb(exc.__traceback__)
    project = algorithm.resolve().parent
    own = [f for f in frames if Path(f.filename).resolve().is_relative_to(project)]
    where = (own or frames)[-1] if frames else None
    place = f" ({_relative(Path(where.filename).resolve(), project)} line {where.lineno}, in {where.name})" if where else ""
    if isinstance(exc, NotImplementedInDouble):
        return f"the replay does not model what the algorithm asked for (LEAN does): {exc}{place}"
    return f"the algorithm failed: {type(exc).__name__}: {exc}{place}"


def parse_day(text: str) -> date:
    """``--start``/``--end``: an ISO date, with a message that says so."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
