"""``python -m replay``: run main.py over LEAN-format data (or a built-in scenario) without Docker."""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

from replay.engine.results import statistics, summary_text, write_outputs
from replay.engine.runner import ReplayConfig, run_replay


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m replay", description=__doc__)
    parser.add_argument("--data", type=Path, help="LEAN data folder (a workspace's data/); default: a scenario")
    parser.add_argument("--scenario", default="quiet-week", help="built-in scenario when --data is not given")
    parser.add_argument("--start", type=date.fromisoformat, help="first day (sets the start-date parameter)")
    parser.add_argument("--end", type=date.fromisoformat, help="last day (sets the end-date parameter)")
    parser.add_argument("--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="LEAN parameter, as lean backtest --parameter (repeatable)")
    parser.add_argument("--out", type=Path, help="folder for statistics.json, orders.csv, log.txt, chart.png")
    parser.add_argument("--fee-per-contract", type=float, default=1.0, help="fee per option/future contract ($)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        config = ReplayConfig(data, parameters, args.out, args.fee_per_contract,
                              None if args.quiet else sys.stderr)
        run = run_replay(config)
        stats = statistics(run)
        print(summary_text(stats))
        if args.out is not None:
            for path in write_outputs(run, stats, args.out):
                print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
