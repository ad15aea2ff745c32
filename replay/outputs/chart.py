"""``chart.png``: what a trader looks at first, on one page, every panel on the same trading-time axis.

Panels, top to bottom: the benchmark (the market the algorithm traded); equity with every holding at
its quote mid (:mod:`replay.engine.marks`: a mark that does not jump by the bid/ask spread when a trade
prints) and each trade's entry and exit by strategy; the drawdown from the running peak; the portfolio
Greeks the algorithm plotted, share units and dollars apart (main.py's dollar gamma is left out: it is gamma
again, a thousand times larger than theta and vega on a shared axis). Red lines mark where automation was halted
(manual or reduce-only mode). The title names the data and the dates. The x axis is
:class:`~replay.outputs.timeline.TradingTime` (sessions end to end, days labelled).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from replay.outputs.timeline import TradingTime
from replay.outputs.trades import TradeRow

HALT_MARKS = ("[CRITICAL] MANUAL MODE ACTIVATED", "[CRITICAL] REDUCE-ONLY MODE ACTIVATED")
PLOT_GAP_MINUTES = 60.0  # plotted samples further apart than this are not joined by a line


def _series(algorithm: Any, axis: TradingTime) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """Plotted values by panel ("shares" or "dollars" for Greeks, else the chart's name) and series."""
    panels: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for (chart, series, value), when in zip(algorithm.plots, algorithm.plot_times):
        if chart == "Portfolio Greeks" and series.startswith("Dollar gamma"):
            continue  # gamma again, in dollars and a thousand times larger: it would flatten theta and vega
        panel = chart if chart != "Portfolio Greeks" else ("shares" if "shares" in series else "dollars")
        xs, ys = panels.setdefault(panel, {}).setdefault(series, ([], []))
        x = axis.x(when)
        if xs and x - xs[-1] > PLOT_GAP_MINUTES:
            xs.append(float("nan"))
            ys.append(float("nan"))
        xs.append(x)
        ys.append(value)
    return panels


def _halts(algorithm: Any) -> list[datetime]:
    return [when for when, text in algorithm.log_entries if when is not None and text.startswith(HALT_MARKS)]


def _equity_at(times: list[float], values: list[float], x: float) -> float:
    import bisect

    i = min(max(bisect.bisect_right(times, x) - 1, 0), len(values) - 1)
    return values[i]


def draw_chart(run: Any, trades: Sequence[TradeRow], title: str, path: Path) -> Path | None:
    """Write the chart; None when matplotlib is not installed (the other files are still written)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    points = run.equity
    axis = TradingTime(p.time for p in points)
    xs = [axis.x(p.time) for p in points]
    marked = [p.marked if p.marked is not None else p.equity for p in points]
    panels = _series(run.algorithm, axis)
    greek_panels = [name for name in ("shares", "dollars") if name in panels] + sorted(
        name for name in panels if name not in ("shares", "dollars"))
    count = 3 + max(len(greek_panels), 1)
    fig, axes = plt.subplots(count, 1, figsize=(12, 2.3 * count + 0.8), sharex=True,
                             gridspec_kw={"height_ratios": [1.0, 1.6, 0.8] + [1.0] * (count - 3)})
    _benchmark(axes[0], run, xs)
    _equity(axes[1], xs, marked, trades, axis)
    _drawdown(axes[2], xs, marked)
    for ax, name in zip(axes[3:], greek_panels or [""]):
        _greeks(ax, name, panels.get(name, {}), run.algorithm)
    for when in _halts(run.algorithm):
        for ax in axes:
            ax.axvline(axis.x(when), color="tab:red", linewidth=1.2, alpha=0.7)
    axes[1].plot([], [], color="tab:red", linewidth=1.2, label="entries halted (REDUCE_ONLY or MANUAL)")
    axes[1].legend(loc="upper left", fontsize=7, ncol=3)
    _time_axis(axes, axis)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
    return path


def _benchmark(ax: Any, run: Any, xs: list[float]) -> None:
    values = [p.benchmark if p.benchmark is not None else float("nan") for p in run.equity]
    symbol = run.algorithm.benchmark
    ax.plot(xs, values, color="0.3", linewidth=0.9)
    ax.set_ylabel("price")
    ax.set_title(f"Benchmark {symbol.value if symbol is not None else '(none set)'}", fontsize=9, loc="left")


def _equity(ax: Any, xs: list[float], marked: list[float], trades: Sequence[TradeRow], axis: TradingTime) -> None:
    ax.plot(xs, marked, color="tab:blue", linewidth=1.0)
    ax.set_title("Equity ($), holdings at their quote mid; trades: ^ entry, v exit", fontsize=9, loc="left")
    ax.set_ylabel("$")
    colours = ["tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
    for i, strategy in enumerate(sorted({t.strategy for t in trades})):
        colour = colours[i % len(colours)]
        mine = [t for t in trades if t.strategy == strategy]
        entries = [axis.x(t.entry_time) for t in mine if t.entry_time is not None]
        exits = [axis.x(t.exit_time) for t in mine if t.exit_time is not None]
        ax.scatter(entries, [_equity_at(xs, marked, x) for x in entries], marker="^", s=60, color=colour,
                   edgecolors="black", linewidths=0.5, zorder=3, label=f"{strategy}")
        ax.scatter(exits, [_equity_at(xs, marked, x) for x in exits], marker="v", s=60, color=colour,
                   edgecolors="black", linewidths=0.5, zorder=3)


def _drawdown(ax: Any, xs: list[float], marked: list[float]) -> None:
    peak, drawdown = float("-inf"), []
    for value in marked:
        peak = max(peak, value)
        drawdown.append((value / peak - 1.0) * 100.0 if peak > 0 else 0.0)
    ax.fill_between(xs, drawdown, 0.0, color="tab:red", alpha=0.35, linewidth=0)
    ax.set_ylabel("%")
    worst = min(drawdown, default=0.0)
    ax.set_title(f"Drawdown from the running peak (worst {worst:.2f}%)", fontsize=9, loc="left")


def _greeks(ax: Any, name: str, series: dict[str, tuple[list[float], list[float]]], algorithm: Any) -> None:
    titles = {"shares": "Portfolio Greeks, share units (beta-weighted)", "dollars": "Portfolio Greeks, dollars"}
    if not series:
        ax.set_title("Portfolio Greeks: none plotted by the algorithm", fontsize=9, loc="left")
        return
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, marker=".", markersize=3, linewidth=0.9, label=label)
    ax.axhline(0.0, color="0.6", linewidth=0.6)
    ax.set_title(titles.get(name, name), fontsize=9, loc="left")
    ax.legend(loc="upper left", fontsize=7, ncol=3)


def _time_axis(axes: Any, axis: TradingTime) -> None:
    bottom = axes[-1]
    ticks = axis.day_ticks()
    bottom.set_xticks([x for x, _ in ticks], [label for _, label in ticks])
    hours = axis.hour_ticks()
    few_days = len(axis.days) <= 3
    bottom.set_xticks(hours, [f"{10 + i % 6}:00" for i in range(len(hours))] if few_days else [], minor=True)
    bottom.tick_params(axis="x", which="minor", labelsize=7)
    bottom.set_xlim(-5, axis.end + 5)
    bottom.set_xlabel("trading time, New York (sessions end to end; minor ticks every hour from 10:00)")
    for ax in axes:
        ax.grid(True, which="major", axis="x", color="0.5", linestyle="--", linewidth=0.7)
        ax.grid(True, which="minor", axis="x", color="0.9", linewidth=0.5)
        ax.grid(True, which="major", axis="y", color="0.92", linewidth=0.5)
