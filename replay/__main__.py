"""``python -m replay``: run a LEAN Python algorithm (default: main.py) over LEAN-format data, or over a
built-in scenario, without Docker.

Fees, fills, expiry and margin follow the algorithm's brokerage model as in ``lean backtest``
(:mod:`replay.engine`); there is no fee override. ``--start``/``--end`` replace the algorithm's own
dates (and set the ``start-date``/``end-date`` parameters main.py reads); without them the dates the
algorithm sets in ``initialize`` apply."""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

from replay.data import LeanDataError
from replay.engine.results import statistics, summary_text, write_outputs
from replay.engine.runner import MAIN_PY, ReplayConfig, ReplayInputError, run_replay


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m replay", description=__doc__)
    parser.add_argument("--algorithm", type=Path, default=MAIN_PY,
                        help="LEAN Python algorithm file to run (default: the project's main.py)")
    parser.add_argument("--data", type=Path, help="LEAN data folder (a workspace's data/); default: a scenario")
    parser.add_argument("--scenario", default="quiet-week", help="built-in scenario when --data is not given")
    parser.add_argument("--start", type=date.fromisoformat,
                        help="first day (replaces the algorithm's start date; sets the start-date parameter)")
    parser.add_argument("--end", type=date.fromisoformat,
                        help="last day (replaces the algorithm's end date; sets the end-date parameter)")
    parser.add_argument("--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="LEAN parameter, as lean backtest --parameter (repeatable)")
    parser.add_argument("--out", type=Path, help="folder for statistics.json, orders.csv, log.txt, chart.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.algorithm.is_file():
        parser.error(f"--algorithm {args.algorithm}: no such file")
    if args.data is not None and not args.data.is_dir():
        parser.error(f"--data {args.data}: no such folder")
    parameters: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="replay-scenario-") as scratch:
        data = args.data
        if data is None:
            from replay.scenarios import write_scenario

            info = write_scenario(args.scenario, Path(scratch))
            data = Path(scratch)
            parameters.update(info.parameters)
            print(f"scenario {info.name}: {info.description}", file=sys.stderr)
        parameters.update({key: value for key, value in args.parameter})
        if args.start:
            parameters["start-date"] = args.start.isoformat()
        if args.end:
            parameters["end-date"] = args.end.isoformat()
        config = ReplayConfig(data, parameters, args.out, None if args.quiet else sys.stderr, args.algorithm.resolve(),
                              args.start, args.end)
        try:
            run = run_replay(config)
        except (LeanDataError, ReplayInputError) as exc:  # bad input: say what, without a traceback
            parser.exit(2, f"{parser.prog}: error: {exc}\n")
        stats = statistics(run)
        print(summary_text(stats))
        if args.out is not None:
            for path in write_outputs(run, stats, args.out):
                print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
