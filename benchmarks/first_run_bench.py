"""First-run speed: ``python -m replay`` with no arguments, the way a new user meets it (a fresh Python,
the scenario written, the week replayed, the five result files written), against the issue's budget of
10 s on one core.

Prints the best wall time of ``--repeat`` runs and its ratio to the budget. Run on one core with
``taskset -c 0 python -m benchmarks.first_run_bench`` (the budget is for one core; the replay itself
uses one thread, but numpy's libraries may start more).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    best = float("inf")
    with tempfile.TemporaryDirectory() as cwd:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "replay", "--quiet"], cwd=cwd, env=env,
                                  capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            best = min(best, elapsed)
    print(f"python -m replay (first-run week): best of {args.repeat}: {best:.2f} s "
          f"({best / BUDGET_SECONDS:.2f} of the {BUDGET_SECONDS:.0f} s budget)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
