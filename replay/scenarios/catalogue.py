"""Built-in market scenarios written in LEAN's on-disk format, for the offline replay and for tests.

Each scenario is a real calendar week (Monday..Friday, no holiday) of SPX, VIX, VIX9D, SPY, SPXW
options and E-mini futures, produced by a stated model from a fixed seed (never from hand-typed
tables), so ``write_scenario(name, folder)`` gives byte-identical files every time:

================  ==========  ========================================================================
name              week of     what it exercises
================  ==========  ========================================================================
``first-run``     2021-03-01  the default run: four calm days, then a Friday that gaps down on heavy
                              volume and sells off 2% (Progressive Friday, the 0DTE iron condor and
                              its stop, the Section 9B butterfly and its target, the Greeks limits
                              halting new risk, a refused entry as a suggestion); a smaller, faster
                              chain (:data:`FIRST_RUN_CHAIN`) and an account (:data:`FIRST_RUN_ACCOUNT`)
``quiet-week``    2021-08-09  calm market: VIX 14-16 in contango (VIX9D/VIX ~0.87), daily moves < 1%
``friday-move``   2021-05-10  Friday falls >1% from its open by 10:30, ends -1.5% (Section 9B 0DTE fly;
                              at the default delta limit a midweek BWB puts the desk in REDUCE_ONLY first)
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
from replay.scenarios.chain import SPXW, ChainDay, ChainSpec
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
MINUTE_HISTORY_SESSIONS = 20  # sessions in the opening-volume baseline (friday-volume-sessions)
# SPX minute files before the week: main.py's history request for that baseline spans
# sessions * 7 // 5 + 7 calendar days (35), up to 25 sessions; all of them are written, so a run
# reports no missing file that the scenario simply did not generate
MINUTE_HISTORY_FILES = 25


@dataclass(frozen=True)
class Scenario:
    """A named run of consecutive sessions ending on a Friday (the four SPX scenarios: Monday to
    Friday): its seed, starting level, what each session should look like and the option chain."""

    name: str
    description: str
    first_day: dt.date
    seed: int
    start_level: float  # SPX close before the history window
    history: DayPlan  # plan of every history session
    week: tuple[DayPlan, ...]  # one plan per session from first_day
    chain: ChainSpec = SPXW  # the SPXW listing, ticks and quote bars
    settings: tuple[tuple[str, str], ...] = ()  # LEAN parameters of the account the scenario runs

    @property
    def days(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range(len(self.week))]

    def parameters(self) -> dict[str, str]:
        """The LEAN parameters (core.settings names) the written data decides (the days and the
        instruments; the scenarios model no sector ETFs, so breadth reads unavailable) and the
        scenario's account ``settings``."""
        return {
            "start-date": self.days[0].isoformat(), "end-date": self.days[-1].isoformat(), "underlying": "SPX",
            "underlying-type": "index", "option-ticker": "SPXW", "futures-enabled": "true",
            "friday-breadth-proxy": "none", **dict(self.settings),
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


# The first run's chain: fewer listed contracts (dailies for a week, then the monthly expiries, which
# still meet every Section 9B target expiry; a narrower 5-point core) so it runs in seconds; the
# nearest expiry quoted every minute out to 5%, flat bars kept (a 0DTE wing's quote is live in a real
# market, and an exit waits for a fresh one); quote bars that span each minute's range, so LEAN's
# combo-limit rule (fill only when the legs' bars trade through the limit) can fill a mid-priced order.
FIRST_RUN_CHAIN = ChainSpec(daily_window_days=7, far_weekdays=(4,), far_monthly_only=True,
                            near_min_half_width=120.0, near_daily_sds=3.5, core_band=0.01, far_core_band=0.005,
                            wing_band=0.04, near_quote_band=0.05, drop_flat_bars=False, quote_ranges=True)
# The spec's delta limits (100) count deltas of the product it was written for (SPY): for an SPX book
# the same 100 deltas are 1,000 SPY shares, the unit of book delta (see "One unit of book risk").
FIRST_RUN_ACCOUNT = (("cash", "60000"), ("greeks-delta-limit", "1000"), ("manual-portfolio-delta-limit", "1000"))


def _week(*plans: DayPlan) -> tuple[DayPlan, DayPlan, DayPlan, DayPlan, DayPlan]:
    assert len(plans) == 5
    return plans[0], plans[1], plans[2], plans[3], plans[4]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "first-run", "calm Monday-Thursday, a Friday sell-off: every capability acts ($60k SPX account)",
            dt.date(2021, 3, 1), 1505, 3900.0, DayPlan(vix_mean=15.5, term_ratio=0.90),
            (DayPlan(14.5, 0.90, realised_scale=0.7), DayPlan(14.0, 0.90, realised_scale=0.7),
             DayPlan(14.5, 0.91), DayPlan(15.0, 0.93, waypoints=((390, -0.5),)),
             DayPlan(17.0, 1.08, gap_pct=-0.4, opening_volume_mult=2.1, put_call=1.6, chain_activity=1.3,
                     waypoints=((60, -0.35), (80, -1.1), (180, -2.0), (300, -1.7), (390, -1.8)))),
            FIRST_RUN_CHAIN, FIRST_RUN_ACCOUNT),
        Scenario(
            "quiet-week", "calm week: VIX ~15 in contango (VIX9D/VIX < 0.95), small daily moves",
            dt.date(2021, 8, 9), 1101, 4400.0, DayPlan(vix_mean=16.0, term_ratio=0.88),
            _week(*[DayPlan(vix_mean=15.0, term_ratio=0.87, realised_scale=0.7)] * 5)),
        Scenario(
            "friday-move", "Friday falls >1% from its open by 10:30 and stays down: the 0DTE fly's setup (at the "
            "default delta limit a midweek BWB halts new entries first; the fly is a suggestion)",
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


DEFAULT_SCENARIO = "first-run"  # what ``python -m replay`` runs without arguments


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
    if not all(is_session(d) for d in week) or week[-1].weekday() != 4:
        raise ValueError(f"{name}: {week[0]}..{week[-1]} must be consecutive sessions ending on a Friday")
    history = sessions_before(sc.first_day, HISTORY_SESSIONS)
    sessions = simulate_sessions(sc.seed, history + week, [sc.history] * len(history) + list(sc.week),
                                 sc.start_level)
    sink = sw.Sink(Path(folder))
    spx = sw.index_days(sc.seed, sessions, "spot")
    vix = sw.index_days(sc.seed, sessions, "vix")
    vix9d = sw.index_days(sc.seed, sessions, "vix9d")
    sw.write_index(sink, "spx", spx, len(week) + MINUTE_HISTORY_FILES, sw.CHICAGO_SHIFT_MS)
    sw.write_index(sink, "vix", vix, len(week) + 1, sw.CHICAGO_SHIFT_MS)
    sw.write_index(sink, "vix9d", vix9d, len(week) + 1, 0)  # New York time, see the market-hours entry
    sw.write_equity(sink, sc.seed, "spy", spx, len(week))
    chains = sw.write_options(sink, sc.seed, sessions, spx, len(week), sc.chain)
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

