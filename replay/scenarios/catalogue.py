"""Built-in market scenarios written in LEAN's on-disk format, for the offline replay and for tests.

Each scenario is one real calendar week (Monday..Friday, no holiday) of SPX, VIX, VIX9D, SPY, SPXW
options and E-mini futures, produced by a stated model from a fixed seed (never from hand-typed
tables), so ``write_scenario(name, folder)`` gives byte-identical files every time:

================  ==========  ========================================================================
name              week of     what it exercises
================  ==========  ========================================================================
``quiet-week``    2021-08-09  calm market: VIX 14-16 in contango (VIX9D/VIX ~0.87), daily moves < 1%
``friday-move``   2021-05-10  Friday falls >1% from its open by 10:30, ends -1.5% (Section 9B 0DTE fly)
``vix-spike``     2021-02-22  four-day sell-off of ~10%, VIX above 50 Thursday/Friday (manual mode)
``gap-friday``    2021-06-21  Friday gaps -0.45% (pre-market E-mini too) on 2.2x opening volume,
                              VIX9D/VIX ~1.09, put/call ~1.7 (Progressive Friday territory)
================  ==========  ========================================================================

Model (parameters: the constants of :mod:`replay.scenarios.model` and :mod:`replay.scenarios.chain`
plus each scenario's :class:`~replay.scenarios.model.DayPlan` values below): SPX is GBM at minute steps
(realised vol 0.8 x VIX, U-shaped intraday) with per-day overlays (opening gap vs the previous close,
Brownian-bridge waypoints for planned moves, opening-volume multiplier); VIX is ``vix_mean x exp(X)``
with X a mean-reverting log deviation driven by SPX returns (beta -5); VIX9D = VIX x a term ratio;
SPXW quotes are Black-Scholes mids (rate 0.25%, no dividend, t to 16:00 expiry / 525600) on a skewed
surface built from VIX9D/VIX, with a tick-rounded bid/ask; trades Poisson, puts scaled by the day's
put/call factor; ES is SPX plus carry in the session and a Brownian bridge overnight.

Files (a LEAN data root; see :mod:`replay.scenarios.write` for time zones and scales):

* ``index/usa/minute/spx`` for the week and the 20 sessions before it (opening-volume baseline),
  ``index/usa/minute/{vix,vix9d}`` for the week and the session before, ``index/usa/daily/{spx,vix,
  vix9d}.zip`` and ``equity/usa/daily/spy.zip`` with the 25 sessions before the week (previous
  closes for ``history``); ``equity/usa/minute/spy`` (the algorithm's beta reference) for the week.
* ``indexoption/usa/minute/spxw/<day>_{quote,trade,openinterest}_european.zip`` for the week and
  ``indexoption/usa/universes/spxw/<day>.csv`` dated the session before each day (LEAN's chain
  provider reads the previous day's universe).
* ``future/cme/minute/es/<utc day>_{trade,quote,openinterest}.zip`` from the session before the week
  to Friday 17:00 New York (every overnight session; members named by contract month).
* Reference files where the reader's defaults would misread the data: a one-entry
  ``market-hours/market-hours-database.json`` (``Index-usa-VIX9D``: LEAN keeps VIX9D minute data in
  New York time, unlike SPX and VIX), ``symbol-properties/symbol-properties-database.csv`` (ES x50,
  SPXW x100) and ``alternative/interest-rate/usa/interest-rate.csv`` (the rate the quotes were
  priced at, so the replay's implied vols recover the model surface).

:class:`ScenarioInfo` carries the LEAN parameters a run should use and :class:`ScenarioFacts`, the
scenario's defining numbers measured from the written (rounded) values.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from replay.data.timestamps import MS_PER_MINUTE
from replay.scenarios import write as sw
from replay.scenarios.chain import ChainDay
from replay.scenarios.model import (
    OPEN_MS,
    OPENING_MINUTES,
    DayPlan,
    es_series,
    is_session,
    ny_to_utc_minutes,
    sessions_before,
    simulate_sessions,
)

HISTORY_SESSIONS = 25  # daily bars before the week (previous closes for LEAN history requests)
MINUTE_HISTORY_SESSIONS = 20  # SPX minute files before the week (opening-volume baseline)


@dataclass(frozen=True)
class Scenario:
    """A named week: its seed, starting level and what each session should look like."""

    name: str
    description: str
    monday: dt.date
    seed: int
    start_level: float  # SPX close before the history window
    history: DayPlan  # plan of every history session
    week: tuple[DayPlan, DayPlan, DayPlan, DayPlan, DayPlan]

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(5)]

    def parameters(self) -> dict[str, str]:
        """The LEAN parameters the written data decides (core.settings names): the week and the
        instruments; the scenarios model no sector ETFs, so breadth reads unavailable."""
        return {
            "start-date": self.days[0].isoformat(), "end-date": self.days[-1].isoformat(), "underlying": "SPX",
            "underlying-type": "index", "option-ticker": "SPXW", "futures-enabled": "true",
            "friday-breadth-proxy": "none",
        }


@dataclass(frozen=True)
class ScenarioFacts:
    """Measured from the written (rounded) values; percentages are percent (0.5 = 0.5%)."""

    friday: dt.date
    friday_open: float
    friday_close: float
    friday_move_pct: float  # Friday close vs Friday open
    friday_max_move_pct: float  # largest |minute close / open - 1|
    friday_move_at_1035_pct: float  # bar closing 10:35 (Section 9B butterfly entry) vs open
    gap_pct: float  # Friday open vs Thursday daily close
    opening_volume_ratio: float  # Friday first 30 bars' volume / mean of the 20 sessions before
    put_call_ratio: float  # Friday put / call option trade volume, whole chain
    vix_max: float  # highest VIX minute high in the week
    vix_min: float
    friday_vix9d_vix_min: float  # min / max of VIX9D close / VIX close per Friday minute
    friday_vix9d_vix_max: float
    week_vix9d_vix_max: float
    premarket_move_pct: float  # ES front 09:30 vs previous 16:00, Friday
    max_abs_daily_move_pct: float  # largest |close/previous close - 1| in the week


@dataclass(frozen=True)
class ScenarioInfo:
    """What :func:`write_scenario` wrote and how to run it."""

    name: str
    description: str
    start: dt.date
    end: dt.date
    parameters: dict[str, str]  # LEAN parameters the run should use (core.settings names)
    facts: ScenarioFacts
    folder: Path  # the LEAN data root written
    files: int
    bytes: int
    trading_days: tuple[dt.date, ...] = field(default_factory=tuple)  # Monday..Friday


def _week(*plans: DayPlan) -> tuple[DayPlan, DayPlan, DayPlan, DayPlan, DayPlan]:
    assert len(plans) == 5
    return plans[0], plans[1], plans[2], plans[3], plans[4]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "quiet-week", "calm week: VIX ~15 in contango (VIX9D/VIX < 0.95), small daily moves",
            dt.date(2021, 8, 9), 1101, 4400.0, DayPlan(vix_mean=16.0, term_ratio=0.88),
            _week(*[DayPlan(vix_mean=15.0, term_ratio=0.87, realised_scale=0.7)] * 5)),
        Scenario(
            "friday-move", "Friday falls >1% from its open by 10:30 and stays down (0DTE butterfly)",
            dt.date(2021, 5, 10), 1202, 4150.0, DayPlan(vix_mean=18.0, term_ratio=0.92),
            _week(DayPlan(18.0, 0.92), DayPlan(18.5, 0.92), DayPlan(18.5, 0.93), DayPlan(18.0, 0.92),
                  DayPlan(19.0, 0.95, waypoints=((60, -1.2), (150, -1.6), (390, -1.5)),
                          chain_activity=1.3))),
        Scenario(
            "vix-spike", "four-day sell-off of ~10% with VIX above 50 (manual mode), rebound Friday",
            dt.date(2021, 2, 22), 1303, 3900.0, DayPlan(vix_mean=21.0, term_ratio=0.95),
            _week(DayPlan(26.0, 1.00, waypoints=((390, -1.8),), put_call=1.3),
                  DayPlan(32.0, 1.05, waypoints=((390, -2.5),), put_call=1.4),
                  DayPlan(40.0, 1.10, waypoints=((390, -3.0),), put_call=1.5),
                  DayPlan(47.0, 1.15, waypoints=((200, -4.5), (390, -3.5)), put_call=1.6, chain_activity=1.5),
                  DayPlan(48.0, 1.10, gap_pct=-1.2, waypoints=((120, 1.0), (390, 2.0)), chain_activity=1.5))),
        Scenario(
            "gap-friday", "Friday gaps -0.45% on 2.2x opening volume, VIX9D/VIX ~1.1, put/call ~1.7",
            dt.date(2021, 6, 21), 1404, 4200.0, DayPlan(vix_mean=17.0, term_ratio=0.92),
            _week(DayPlan(16.5, 0.93), DayPlan(16.5, 0.93), DayPlan(16.0, 0.92), DayPlan(16.5, 0.94),
                  DayPlan(19.5, 1.10, gap_pct=-0.45, opening_volume_mult=2.2, put_call=1.7,
                          chain_activity=1.3))),
    )
}


DEFAULT_SCENARIO = "quiet-week"  # what ``python -m replay`` runs without arguments


def scenario_names() -> list[str]:
    """Names accepted by :func:`write_scenario` (and ``python -m replay --scenario``)."""
    return list(SCENARIOS)


def write_scenario(name: str, folder: Path) -> ScenarioInfo:
    """Write scenario ``name`` under ``folder`` (a LEAN data root) and describe it.

    Raises KeyError for an unknown name. Existing files of the same names are overwritten.
    """
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    sc = SCENARIOS[name]
    week = sc.days
    if not all(is_session(d) for d in week):
        raise ValueError(f"{name}: week {week[0]} contains a holiday")
    history = sessions_before(sc.monday, HISTORY_SESSIONS)
    sessions = simulate_sessions(sc.seed, history + week, [sc.history] * len(history) + list(sc.week),
                                 sc.start_level)
    sink = sw.Sink(Path(folder))
    spx = sw.index_days(sc.seed, sessions, "spot")
    vix = sw.index_days(sc.seed, sessions, "vix")
    vix9d = sw.index_days(sc.seed, sessions, "vix9d")
    sw.write_index(sink, "spx", spx, len(week) + MINUTE_HISTORY_SESSIONS, sw.CHICAGO_SHIFT_MS)
    sw.write_index(sink, "vix", vix, len(week) + 1, sw.CHICAGO_SHIFT_MS)
    sw.write_index(sink, "vix9d", vix9d, len(week) + 1, 0)  # New York time, see the market-hours entry
    sw.write_equity(sink, sc.seed, "spy", spx, len(week))
    chains = sw.write_options(sink, sc.seed, sessions, spx, len(week))
    es_sessions = sessions[-len(week) - 1:]
    es = sw.es_bars(sc.seed, es_series(sc.seed, es_sessions), es_sessions[0].day)
    sw.write_es(sink, sc.seed, es, es_sessions[0].day)
    sw.write_reference(sink)
    facts = _facts(spx, vix, vix9d, chains[-1], es, len(week))
    return ScenarioInfo(sc.name, sc.description, week[0], week[-1], sc.parameters(), facts, Path(folder),
                        sink.files, sink.bytes, tuple(week))


# --- facts -------------------------------------------------------------------------------------------------


def _facts(spx: list[sw.IndexDay], vix: list[sw.IndexDay], vix9d: list[sw.IndexDay], friday_chain: ChainDay,
           es: sw.EsBars, week: int) -> ScenarioFacts:
    fri, thu = spx[-1], spx[-2]
    open_ = float(fri.bars[0, 0])
    moves = fri.bars[:, 3] / open_ - 1.0
    baseline = np.mean([d.volume[:OPENING_MINUTES].sum() for d in spx[-MINUTE_HISTORY_SESSIONS - 1:-1]])
    term_fri = vix9d[-1].bars[:, 3] / vix[-1].bars[:, 3]
    term_week = np.concatenate([b.bars[:, 3] / a.bars[:, 3] for a, b in zip(vix[-week:], vix9d[-week:])])
    closes = np.array([d.bars[-1, 3] for d in spx[-week - 1:]])
    return ScenarioFacts(
        friday=fri.day,
        friday_open=open_,
        friday_close=float(fri.bars[-1, 3]),
        friday_move_pct=100.0 * float(moves[-1]),
        friday_max_move_pct=100.0 * float(np.abs(moves).max()),
        friday_move_at_1035_pct=100.0 * float(moves[64]),
        gap_pct=100.0 * (open_ / float(thu.bars[-1, 3]) - 1.0),
        opening_volume_ratio=float(fri.volume[:OPENING_MINUTES].sum() / baseline),
        put_call_ratio=friday_chain.put_volume / max(friday_chain.call_volume, 1),
        vix_max=float(max(d.bars[:, 1].max() for d in vix[-week:])),
        vix_min=float(min(d.bars[:, 2].min() for d in vix[-week:])),
        friday_vix9d_vix_min=float(term_fri.min()),
        friday_vix9d_vix_max=float(term_fri.max()),
        week_vix9d_vix_max=float(term_week.max()),
        premarket_move_pct=_premarket_move(es, fri.day, thu.day),
        max_abs_daily_move_pct=100.0 * float(np.abs(np.diff(closes) / closes[:-1]).max()),
    )


def _premarket_move(es: sw.EsBars, day: dt.date, prev: dt.date) -> float:
    """ES front close of the bar ending 09:30 on ``day`` vs the bar ending 16:00 on ``prev``, percent."""
    at_open = ny_to_utc_minutes(day, np.array([OPEN_MS - MS_PER_MINUTE], dtype=np.int64))[0]
    at_close = ny_to_utc_minutes(prev, np.array([16 * 3_600_000 - MS_PER_MINUTE], dtype=np.int64))[0]
    i = int(np.searchsorted(es.minutes, at_open))
    j = int(np.searchsorted(es.minutes, at_close))
    return 100.0 * (float(es.trade[i, 3]) / float(es.trade[j, 3]) - 1.0)


__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "Scenario", "ScenarioFacts", "ScenarioInfo", "scenario_names", "write_scenario"]

