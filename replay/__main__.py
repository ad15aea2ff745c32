"""python -m replay: run a LEAN Python algorithm (by default the project's main.py) offline, as
`lean backtest` would, over LEAN-format data or a built-in scenario, without Docker.

Fees, fills, expiry and margin follow the algorithm's brokerage model as in `lean backtest`
(replay.engine). Without arguments it runs the built-in first-run scenario and writes its results to
replay-out/<scenario>/."""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import NoReturn

from core.params import SettingsError
from replay.data import LeanDataError
from replay.errors import DataError, UsageError
from replay.parameters import is_project_main, resolve
from replay.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario, write_scenario
from replay.session import OUTPUT_ROOT, check_data, describe_failure, output_name, parse_day, prepare_out

PROG = "python -m replay"
MAIN_PY = Path(__file__).resolve().parents[1] / "main.py"


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (exit status 2), like every other refusal of the replay."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _epilog() -> str:
    width = max(len(name) for name in SCENARIOS)
    scenarios = [f"  {name:<{width}}  {s.description}{' (default)' if name == DEFAULT_SCENARIO else ''}"
                 for name, s in SCENARIOS.items()]
    return "\n".join([
        "built-in scenarios (--scenario NAME; generated into a temporary folder, removed after the run):",
        *scenarios, "",
        "parameters: LEAN's, read as lean backtest reads them: config.json next to the algorithm, then what a",
        "  scenario's data fixes (its dates and instruments), then each --parameter, then --start/--end.",
        "  Unknown names and bad values are refused before the run; README.md lists main.py's parameters.",
        "results: a summary on stdout; statistics.json, orders.csv, trades.csv, log.txt and chart.png in --out.",
        "exit status: 0 done; 1 the data or the algorithm failed; 2 a usage error (arguments, parameters,",
        "  config.json, --out).",
    ])


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__, epilog=_epilog(),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scenario", choices=list(SCENARIOS), metavar="NAME",
                        help=f"built-in scenario to run (default: {DEFAULT_SCENARIO}; listed below)")
    source.add_argument("--data", type=Path, metavar="DIR",
                        help="LEAN data folder instead of a scenario (a workspace's data/, ../shared/lean-data)")
    parser.add_argument("--algorithm", type=Path, default=MAIN_PY, metavar="FILE",
                        help="LEAN Python algorithm file (default: the project's main.py)")
    parser.add_argument("--start", type=parse_day, metavar="YYYY-MM-DD",
                        help="first day (default: the scenario's first day, else the algorithm's start date; "
                             "sets the start-date parameter)")
    parser.add_argument("--end", type=parse_day, metavar="YYYY-MM-DD",
                        help="last day (default: the scenario's last day, else the algorithm's end date; "
                             "sets the end-date parameter)")
    parser.add_argument("--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="LEAN parameter, as lean backtest --parameter (repeatable; overrides config.json)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"results folder (default: {OUTPUT_ROOT}/<scenario, or data folder name>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected error show Python's traceback (for a bug report) instead of one line")
    return parser


def _fail(status: int, message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _replay(args)
    except (UsageError, SettingsError) as exc:  # SettingsError: an algorithm refusing its parameters
        return _fail(2, str(exc))
    except (LeanDataError, DataError) as exc:
        return _fail(1, str(exc))
    except KeyboardInterrupt:
        return _fail(130, "interrupted")
    except Exception as exc:  # the algorithm's (or the replay's) bug: one line, not a traceback
        if args.traceback:
            raise
        return _fail(1, describe_failure(exc, args.algorithm))


def _replay(args: argparse.Namespace) -> int:
    from replay.engine.results import statistics
    from replay.engine.runner import ReplayConfig, run_replay
    from replay.outputs import run_trades, summary, write_outputs

    algorithm: Path = args.algorithm
    if not algorithm.is_file():
        raise UsageError(f"--algorithm {algorithm}: no such file")
    if args.data is not None and not args.data.is_dir():
        raise UsageError(f"--data {args.data}: no such folder")
    if args.start and args.end and args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")
    scenario = SCENARIOS[args.scenario or DEFAULT_SCENARIO] if args.data is None else None
    out: Path = args.out or OUTPUT_ROOT / output_name(scenario.name if scenario else None, args.data, algorithm,
                                                      is_project_main(algorithm))
    prepare_out(out)
    dates = {name: day.isoformat() for name, day in (("start-date", args.start), ("end-date", args.end)) if day}
    parameters = resolve(algorithm, scenario.parameters() if scenario else {}, args.parameter, dates)
    start, end = args.start, args.end
    if scenario is not None:
        start, end = _scenario_window(scenario, parameters)
        print(f"scenario {scenario.name}: {scenario.description}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="replay-scenario-") as scratch:
        data = args.data if scenario is None else Path(scratch)
        if scenario is not None:
            write_scenario(scenario.name, data)
        config = ReplayConfig(data, parameters, out, None if args.quiet else sys.stderr, algorithm.resolve(),
                              start, end)
        run = run_replay(config)
        check_data(run, data)
        stats, trades = statistics(run), run_trades(run)
        title = f"{algorithm.name} on scenario {scenario.name}" if scenario else f"{algorithm.name} on {args.data}"
        written = write_outputs(run, stats, out, title, trades)
    print(summary(stats, trades))
    print(f"Results in {out}/: {', '.join(path.name for path in written)}")
    return 0


def _scenario_window(scenario: Scenario, parameters: dict[str, str]) -> tuple[date, date]:
    """The days to replay: the resolved ``start-date``/``end-date`` (the scenario's own, a
    ``--parameter`` or ``--start``/``--end`` over them), which must lie within the days it generates."""
    first, last = scenario.days[0], scenario.days[-1]
    try:
        start, end = (date.fromisoformat(parameters[name]) if name in parameters else default
                      for name, default in (("start-date", first), ("end-date", last)))
    except ValueError as exc:
        raise UsageError(f"--parameter start-date/end-date: {exc}") from None
    if end < start:
        raise UsageError(f"end date {end} is before start date {start}")
    if start < first or end > last:
        raise UsageError(f"scenario {scenario.name} has data for {first}..{last} only; "
                         f"{start}..{end} is outside it (leave the dates out, or use --data)")
    return start, end


if __name__ == "__main__":
    raise SystemExit(main())
