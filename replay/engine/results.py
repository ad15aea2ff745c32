"""Replay results the way LEAN reports a backtest: statistics, orders, log and a chart.

Statistics are deterministic: computed only from the run (no wall clock), keys sorted, floats
rounded, so the same inputs give byte-identical ``statistics.json``.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from replay.engine.runner import ReplayRun

HALT_MARKS = ("[CRITICAL] MANUAL MODE ACTIVATED", "[CRITICAL] REDUCE-ONLY MODE ACTIVATED")


def _round(value: float, digits: int = 2) -> float:
    return float(round(value, digits)) + 0.0  # + 0.0 turns -0.0 into 0.0


def max_drawdown_pct(equity: list[float]) -> float:
    """Largest peak-to-trough fall of the equity curve, in percent of the peak."""
    peak, worst = float("-inf"), 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak)
    return worst * 100.0


def statistics(run: ReplayRun) -> dict[str, Any]:
    algorithm = run.algorithm
    curve = [p.equity for p in run.equity]
    start = float(algorithm.cash)
    end = curve[-1] if curve else start
    groups = {t.group for t in algorithm.orders}
    filled = {f.group for f in run.broker.fills if f.group}
    missing = sorted({str(e.path) for e in run.data_events if e.kind == "missing"})
    return {
        "Start Equity": _round(start),
        "End Equity": _round(end),
        "Net Profit": _round(end - start),
        "Total Fees": _round(run.broker.fees_paid),
        "Total Orders": len(groups),
        "Filled Orders": len(filled),
        "Invalid Orders": len(run.broker.invalid),
        "Fills": len(run.broker.fills),
        "Max Drawdown %": _round(max_drawdown_pct(curve), 4),
        "Manual Mode Activations": sum(line.startswith(HALT_MARKS) for line in algorithm.logs),
        "Days Run": [d.isoformat() for d in run.days_run],
        "Days Without Underlying Data": [d.isoformat() for d in run.days_without_underlying],
        "Market Closed Days": [d.isoformat() for d in run.closed_days],
        "Slices": run.slices,
        "Contract Quotes Delivered": run.contract_quotes,
        "Missing Files": len(missing),
        "Unsettled Expiries": run.unsettled,
        "Runtime Statistics": dict(sorted(algorithm.runtime_statistics.items())),
    }


def summary_text(stats: dict[str, Any]) -> str:
    lines = ["Replay summary"]
    for key in ("Start Equity", "End Equity", "Net Profit", "Total Fees", "Total Orders", "Filled Orders",
                "Invalid Orders", "Max Drawdown %", "Manual Mode Activations", "Slices",
                "Contract Quotes Delivered", "Missing Files"):
        lines.append(f"  {key}: {stats[key]}")
    lines.append(f"  Days Run: {len(stats['Days Run'])} ({', '.join(stats['Days Run'])})")
    if stats["Days Without Underlying Data"]:
        lines.append(f"  Days Without Underlying Data: {', '.join(stats['Days Without Underlying Data'])}")
    for key, value in stats["Runtime Statistics"].items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)


def write_outputs(run: ReplayRun, stats: dict[str, Any], out: Path) -> list[Path]:
    """statistics.json, orders.csv, log.txt and chart.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "statistics.json", out / "orders.csv", out / "log.txt"]
    written[0].write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    with written[1].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "order_id", "group", "kind", "symbol", "quantity", "price", "fee", "tag"])
        for f in run.broker.fills:
            writer.writerow([f.time.isoformat(), f.order_id, f.group, f.kind, f.symbol, f.quantity,
                             f"{f.price:.4f}", f"{f.fee:.2f}", f.tag])
    events = [f"[DATA] {e.kind}: {e.path} ({e.detail})" for e in run.data_events]
    algorithm = run.algorithm
    written[2].write_text("\n".join(events + algorithm.logs + [f"ERROR {e}" for e in algorithm.errors]) + "\n")
    chart = _chart(run, out / "chart.png")
    if chart is not None:
        written.append(chart)
    return written


def _chart(run: ReplayRun, path: Path) -> Path | None:
    """Equity, and portfolio delta/theta as the algorithm plotted them, over time."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=False)
    top.plot([p.time for p in run.equity], [p.equity for p in run.equity], color="tab:blue")
    top.set_title("Equity ($)")
    plotted = False
    for series in ("Delta (shares)", "Theta ($/day)"):
        values = [v for c, s, v in run.algorithm.plots if c == "Portfolio Greeks" and s == series]
        if values:
            bottom.plot(range(len(values)), values, label=series)
            plotted = True
    bottom.set_title("Portfolio Greeks (samples)" if plotted else "Portfolio Greeks (no positions held)")
    if plotted:
        bottom.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)
    return path
