"""Replay speed: main.py over GOOG 2015-12-24 (2,192 option contracts, full minute quotes).

Prints wall time, slices/s and contract-quotes/s, and the ratio to the issue's reference budget of
10 s for that day on one core. Run: ``python -m benchmarks.replay_bench [--data DIR] [--repeat N]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from replay.engine.runner import ReplayConfig, run_replay

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 10.0
GOOG = {"underlying": "GOOG", "underlying-type": "equity", "option-ticker": "GOOG",
        "start-date": "2015-12-24", "end-date": "2015-12-24"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "lean-data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not (args.data / "option" / "usa" / "minute" / "goog").is_dir():
        print(f"GOOG sample data not found under {args.data}: give --data PATH (a LEAN data folder with GOOG 2015-12-24)")
        return 1
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        run = run_replay(ReplayConfig(args.data, dict(GOOG)))
        best = min(best, time.perf_counter() - started)
    print(f"GOOG 2015-12-24 replay: best of {args.repeat}: {best:.2f} s "
          f"({best / BUDGET_SECONDS:.2f} of the {BUDGET_SECONDS:.0f} s budget)")
    print(f"  slices: {run.slices} ({run.slices / best:,.0f}/s)")
    print(f"  contract quotes delivered to on_data: {run.contract_quotes:,} ({run.contract_quotes / best:,.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
