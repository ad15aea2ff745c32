"""Replay results the way LEAN reports a backtest: its statistics (the files are :mod:`replay.outputs`).

``statistics.json`` holds LEAN's statistics under LEAN's names and string formats for the figures the
replay can compute as LEAN does (``Common/Statistics/StatisticsBuilder.cs``, ``PortfolioStatistics.cs``):
``Total Orders``, ``Start Equity``, ``End Equity``, ``Net Profit``, ``Total Fees``, ``Drawdown``,
``Compounding Annual Return``, ``Win Rate``, ``Loss Rate``, ``Average Win``, ``Average Loss``,
``Profit-Loss Ratio``, ``Expectancy``. As in LEAN the portfolio statistics (all but orders, equity and
fees) stay 0 unless the backtest has at least four daily performance samples (one per calendar day
plus the final one; LEAN drops the first two). The project's own figures sit alongside (numbers, not
strings). Statistics are deterministic: computed only from the run, keys sorted, floats rounded.
"""
from __future__ import annotations

from typing import Any

from replay.engine.runner import EquityPoint, ReplayRun

HALT_MARKS = ("[CRITICAL] MANUAL MODE ACTIVATED", "[CRITICAL] REDUCE-ONLY MODE ACTIVATED")
LEAN_KEYS = ("Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown", "Expectancy",
             "Start Equity", "End Equity", "Net Profit", "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Total Fees")


def _round(value: float, digits: int = 2) -> float:
    return float(round(value, digits)) + 0.0  # + 0.0 turns -0.0 into 0.0


def _number(value: float, digits: int) -> str:
    """A rounded decimal as .NET prints it: 0 plain, otherwise with the given decimals."""
    rounded = round(value, digits) + 0.0
    return "0" if rounded == 0 else f"{rounded:.{digits}f}"


def _money(value: float) -> str:
    """``Math.Round(x, 2)`` printed without trailing zeros (LEAN's equity figures: ``99718``, ``999657.4``)."""
    text = f"{round(value, 2) + 0.0:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def max_drawdown_pct(equity: list[float]) -> float:
    """Largest peak-to-trough fall of the equity curve, in percent of the peak."""
    peak, worst = float("-inf"), 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak)
    return worst * 100.0


def lean_drawdown(samples: list[EquityPoint]) -> float:
    """``Statistics.CalculateDrawdownMetrics``: the largest fall from a peak, as a fraction rounded to 3."""
    if len(samples) < 2:
        return 0.0
    peak, worst = samples[0].equity, 0.0
    for point in samples:
        if point.equity >= peak:
            peak = point.equity
        elif peak:
            worst = min(worst, point.equity / peak - 1)
    return round(abs(worst), 3)


def lean_statistics(run: ReplayRun) -> dict[str, str]:
    """LEAN's summary statistics of the run (see the module docstring)."""
    algorithm = run.algorithm
    start = float(algorithm.cash)
    end = run.samples[-1].equity if run.samples else start
    stats = {key: "0" for key in LEAN_KEYS}
    stats.update({"Total Orders": str(algorithm.transactions.orders_count), "Start Equity": _money(start),
                  "End Equity": _money(end), "Total Fees": f"${algorithm.transactions.fees_paid:.2f}",
                  "Net Profit": "0%", "Drawdown": "0%", "Compounding Annual Return": "0%", "Win Rate": "0%",
                  "Loss Rate": "0%", "Average Win": "0%", "Average Loss": "0%"})
    performance_points = run.daily_samples + 1  # daily samples and the final one
    if start == 0 or performance_points - 2 < 2:
        return stats
    records = algorithm.portfolio.transaction_records
    running, total_profit, total_loss, wins, losses = start, 0.0, 0.0, 0, 0
    for _when, profit, _win in sorted(records, key=lambda r: r[0]):
        if profit > 0:
            total_profit, wins = total_profit + profit / running, wins + 1
        else:
            total_loss, losses = total_loss + profit / running, losses + 1
        running += profit
    average_win = total_profit / wins if wins else 0.0
    average_loss = total_loss / losses if losses else 0.0
    ratio = average_win / abs(average_loss) if average_loss else 0.0
    wins, losses = sum(1 for r in records if r[2]), sum(1 for r in records if not r[2])
    trades = wins + losses
    win_rate = wins / trades if trades else 0.0
    loss_rate = losses / trades if trades else 0.0
    years = (run.samples[-1].time - run.samples[0].time).total_seconds() / 86_400 / 365
    car = (end / start) ** (1 / years) - 1 if years > 0 and end > 0 else 0.0
    stats.update({
        "Net Profit": f"{_number((end / start - 1) * 100, 3)}%",
        "Drawdown": f"{_number(lean_drawdown(run.samples) * 100, 3)}%",
        "Compounding Annual Return": f"{_number(car * 100, 3)}%",
        "Win Rate": f"{round(win_rate * 100)}%", "Loss Rate": f"{round(loss_rate * 100)}%",
        "Average Win": f"{_number(average_win * 100, 2)}%", "Average Loss": f"{_number(average_loss * 100, 2)}%",
        "Profit-Loss Ratio": _number(ratio, 2), "Expectancy": _number(win_rate * ratio - loss_rate, 3),
    })
    return stats


def statistics(run: ReplayRun) -> dict[str, Any]:
    algorithm = run.algorithm
    transactions = algorithm.transactions
    start = float(algorithm.cash)
    end = run.samples[-1].equity if run.samples else start
    filled = {(f.group or -f.order_id) for f in transactions.fills}
    missing = sorted({str(e.path) for e in run.data_events if e.kind == "missing"})
    own: dict[str, Any] = {
        "Net Profit ($)": _round(end - start),
        "Total Fees ($)": _round(transactions.fees_paid),
        "Filled Orders": len(filled),
        "Invalid Orders": transactions.invalid_orders,
        "Fills": len(transactions.fills),
        "Max Drawdown %": _round(max_drawdown_pct([p.equity for p in run.equity]), 4),
        "Manual Mode Activations": sum(line.startswith(HALT_MARKS) for line in algorithm.logs),
        "Days Run": [d.isoformat() for d in run.days_run],
        "Days Without Underlying Data": [d.isoformat() for d in run.days_without_underlying],
        "Market Closed Days": [d.isoformat() for d in run.closed_days],
        "Slices": run.slices,
        "Contract Quotes Delivered": run.contract_quotes,
        "Missing Files": len(missing),
        "Runtime Statistics": dict(sorted(algorithm.runtime_statistics.items())),
    }
    return {**lean_statistics(run), **own}


def summary_text(stats: dict[str, Any]) -> str:
    lines = ["Replay summary"]
    for key in ("Total Orders", "Start Equity", "End Equity", "Net Profit", "Total Fees", "Drawdown", "Win Rate",
                "Filled Orders", "Invalid Orders", "Manual Mode Activations", "Slices", "Contract Quotes Delivered",
                "Missing Files"):
        lines.append(f"  {key}: {stats[key]}")
    lines.append(f"  Days Run: {len(stats['Days Run'])} ({', '.join(stats['Days Run'])})")
    if stats["Days Without Underlying Data"]:
        lines.append(f"  Days Without Underlying Data: {', '.join(stats['Days Without Underlying Data'])}")
    for key, value in stats["Runtime Statistics"].items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)
