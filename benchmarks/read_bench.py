"""Time to load one full option-chain day: GOOG 2015-12-24 (equity + 2,192-contract chain).

Reference: the whole replay of that day must fit in 10 s on one core, so the data layer aims for
< 2 s. Prints the best and median of ``--repeat`` runs, split into raw reading (zip + parse, all of
equity trade/quote and option quote/trade/open interest) and building the dense contract x minute
arrays, with the ratio to the 2 s target.

    python -m benchmarks.read_bench [--data DIR] [--repeat N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

from replay.data import LeanDataReader, MinuteGrid, SecurityType, chain_dense

DAY = dt.date(2015, 12, 24)
TARGET_S = 2.0


def default_data_dir() -> Path:
    override = os.environ.get("LEAN_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "lean-data"


def load_once(root: Path) -> tuple[float, float, int, int]:
    """(read seconds, dense seconds, contracts, quote rows) for one cold load of the day."""
    t0 = time.perf_counter()
    reader = LeanDataReader(root)
    equity = reader.minute(SecurityType.EQUITY, "goog", DAY)
    chain = reader.option_chain("goog", DAY)
    t1 = time.perf_counter()
    if chain is None or chain.quotes is None or equity.trades is None:
        raise SystemExit(f"GOOG {DAY} data incomplete under {root}: {reader.missing}")
    grid = reader.session_grid(SecurityType.OPTION, "goog", DAY) or MinuteGrid.regular()
    equity.dense(grid)
    chain_dense(chain, grid)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(chain.contracts), len(chain.quotes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="LEAN data folder")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not (args.data / "option/usa/minute/goog").is_dir():
        print(f"no GOOG option data under {args.data}", file=sys.stderr)
        return 2
    runs = [load_once(args.data) for _ in range(args.repeat)]
    reads, denses = [r[0] for r in runs], [r[1] for r in runs]
    totals = [a + b for a, b in zip(reads, denses)]
    contracts, rows = runs[0][2], runs[0][3]
    best = min(totals)
    print(f"GOOG {DAY}: {contracts} contracts, {rows} contract-quote rows, {args.repeat} runs")
    print(f"read  (zip+parse): best {min(reads):.3f} s  median {statistics.median(reads):.3f} s")
    print(f"dense (as-of grid): best {min(denses):.3f} s  median {statistics.median(denses):.3f} s")
    print(f"total: best {best:.3f} s  median {statistics.median(totals):.3f} s", end="  ")
    print(f"-> {rows / best:,.0f} contract-quotes/s")
    print(f"ratio to {TARGET_S:.0f} s target: {best / TARGET_S:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
