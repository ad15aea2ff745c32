"""What a replay leaves for a trader to read: the summary, ``statistics.json``, ``orders.csv``,
``trades.csv``, ``log.txt`` and ``chart.png`` (modules: :mod:`.trades`, :mod:`.logfile`, :mod:`.chart`,
:mod:`.timeline`). LEAN's statistics themselves are computed by :mod:`replay.engine.results`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from replay.engine.results import summary_text
from replay.engine.runner import ReplayRun
from replay.outputs.chart import draw_chart
from replay.outputs.logfile import log_text
from replay.outputs.trades import TradeRow, by_strategy, trade_rows, write_trades


def run_trades(run: ReplayRun) -> list[TradeRow]:
    return trade_rows(run.algorithm, run.broker.fills)


def summary(stats: dict[str, Any], trades: list[TradeRow]) -> str:
    """LEAN's figures and the project's, then one line per strategy."""
    lines = [summary_text(stats)]
    if stats["Missing Files"]:
        lines[0] = lines[0].replace(f"  Missing Files: {stats['Missing Files']}",
                                    f"  Missing Files: {stats['Missing Files']} (listed at the top of log.txt)")
    lines.append(f"  Trades: {len(trades)}" + ("" if trades else " (none entered)"))
    lines += [f"    {line}" for line in by_strategy(trades)]
    return "\n".join(lines)


def write_outputs(run: ReplayRun, stats: dict[str, Any], out: Path, title: str = "", trades: list[TradeRow] | None = None
                  ) -> list[Path]:
    """statistics.json, orders.csv, trades.csv, log.txt and chart.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    trades = run_trades(run) if trades is None else trades
    written = [out / "statistics.json", out / "orders.csv"]
    written[0].write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    with written[1].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "order_id", "group", "kind", "symbol", "quantity", "price", "fee", "tag"])
        for f in run.broker.fills:
            writer.writerow([f.time.isoformat(), f.order_id, f.group, f.kind, f.symbol, f.quantity,
                             f"{f.price:.4f}", f"{f.fee:.2f}", f.tag])
    written.append(write_trades(trades, out / "trades.csv"))
    log = out / "log.txt"
    log.write_text(log_text(run.algorithm.log_entries, run.data_events))
    written.append(log)
    algorithm = run.algorithm
    dates = f"{algorithm.start_date}..{algorithm.end_date}"
    chart = draw_chart(run, trades, f"{title or 'replay'}: {dates}", out / "chart.png")
    if chart is not None:
        written.append(chart)
    return written
