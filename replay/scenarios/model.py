"""The market model behind the built-in scenarios: SPX, VIX, VIX9D and E-mini paths at minute steps.

Model (all parameters are module constants or per-day :class:`DayPlan` fields):

* Session grid: 391 points per regular session, point ``k`` = 09:30 + k minutes New York; minute bar
  ``k`` (k = 0..389) opens at point k and closes at point k+1.
* SPX: geometric Brownian motion in log space with daily volatility
  ``REALISED_TO_IMPLIED * vix_mean / 100 / sqrt(252)`` spread over the session by a U-shaped intraday
  profile (:data:`VOL_PROFILE`), zero drift. Overlays per day: an opening gap (log return from the
  previous close; drawn from N(0, ``OVERNIGHT_VOL_SHARE`` x daily vol) unless the plan fixes it) and
  *waypoints* (minute point, % move from the open) through which the path is pinned as a Brownian
  bridge (GBM conditioned on those values; after the last waypoint it runs free).
* VIX: ``VIX = vix_mean * exp(X)`` where X is a mean-reverting (Ornstein-Uhlenbeck) log deviation
  that reacts to realised SPX returns: ``dX = -VIX_KAPPA X dt + VIX_BETA dlnS + VIX_VOL dW`` (dt in
  sessions; overnight X decays by ``exp(-VIX_KAPPA_OVERNIGHT)`` and takes the gap through the same
  beta). ``vix_mean`` steps per day, which is how the spike scenario ramps.
* VIX9D: ``VIX * term_ratio * exp(TERM_GAMMA X + Y)`` with Y a small OU noise: short-dated vol reacts
  more than 30-day vol to shocks, and the plan's ``term_ratio`` sets contango (<1) or backwardation.
* Index "volume": a U-shaped minute profile (:func:`volume_profile`) x a per-day lognormal level x
  per-minute lognormal noise, times ``opening_volume_mult`` in the first ``OPENING_MINUTES`` bars.
* E-mini (ES): SPX x exp(RATE x years to the contract's expiry) during the session; from each close
  to the next open a Brownian bridge (overnight volatility ``ES_OVERNIGHT_VOL_SHARE`` of the day's)
  ending exactly at the next open's fair value, so the pre-market move equals the SPX gap. Trading
  hours 18:00-17:00 New York with the daily 17:00-18:00 halt and the weekend break. Prices on the
  0.25 tick; the second quarterly contract trades thinly at the same carry.

Randomness: one numpy ``Generator`` per (scenario seed, component, day), so a day's path does not
change when another component's draws change. Units: prices in index points, times in ms since
midnight New York unless stated, vols as decimals.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from replay.data.timestamps import MS_PER_MINUTE, UTC, hhmm_ms, to_new_york_ms

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

RATE = 0.0025  # risk-free rate, continuous; LEAN's US primary credit rate from 2020-03-16 (0.25%)
SESSION_MINUTES = 390
POINTS = SESSION_MINUTES + 1
OPEN_MS = hhmm_ms(9, 30)
TRADING_DAYS_PER_YEAR = 252.0
MINUTES_PER_YEAR = 525_600.0

REALISED_TO_IMPLIED = 0.8  # realised SPX vol as a fraction of the VIX level (variance risk premium)
OVERNIGHT_VOL_SHARE = 0.35  # sd of an unplanned opening gap, in units of the day's vol
VIX_BETA = -5.0  # d ln VIX per unit d ln SPX
VIX_KAPPA = 1.0  # mean reversion of ln VIX per session (half-life ~0.7 session)
VIX_KAPPA_OVERNIGHT = 0.5
VIX_VOL = 0.06  # sd of the idiosyncratic ln VIX noise per session
TERM_GAMMA = 0.25  # extra ln(VIX9D/VIX) per unit of X
TERM_NOISE = 0.01  # sd of the ln(VIX9D/VIX) noise
OPENING_MINUTES = 30
INDEX_BASE_VOLUME = 2_000.0  # mean minute "volume" of the SPX index file at midday
INDEX_DAY_VOLUME_SD = 0.08  # lognormal sd of a session's volume level
INDEX_MINUTE_VOLUME_SD = 0.25

ES_TICK = 0.25
ES_OVERNIGHT_VOL_SHARE = 0.4
ES_RTH_VOLUME = 1_500.0
ES_OVERNIGHT_VOLUME = 120.0
ES_BACK_SHARE = 0.03  # back-month volume as a fraction of the front's

# Streams of the per-(seed, component, day) generators.
STREAM_SPOT, STREAM_VIX, STREAM_VOLUME, STREAM_ES, STREAM_BARS = 1, 2, 3, 4, 5
STREAM_TRADES, STREAM_OI, STREAM_SIZES = 7, 8, 9

# NYSE full-day holidays 2020-2021 (the scenario weeks and their history windows lie in these years).
HOLIDAYS = frozenset(dt.date.fromisoformat(d) for d in (
    "2020-01-01", "2020-01-20", "2020-02-17", "2020-04-10", "2020-05-25", "2020-07-03", "2020-09-07",
    "2020-11-26", "2020-12-25", "2021-01-01", "2021-01-18", "2021-02-15", "2021-04-02", "2021-05-31",
    "2021-07-05", "2021-09-06", "2021-11-25", "2021-12-24",
))


def rng_for(seed: int, stream: int, day: dt.date) -> np.random.Generator:
    """Independent deterministic generator per (scenario seed, component, day)."""
    return np.random.default_rng([seed, stream, day.toordinal()])


def is_session(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def sessions_before(day: dt.date, n: int) -> list[dt.date]:
    """The ``n`` trading sessions before ``day``, oldest first."""
    out: list[dt.date] = []
    probe = day
    while len(out) < n:
        probe -= dt.timedelta(days=1)
        if is_session(probe):
            out.append(probe)
    return out[::-1]


def next_session(day: dt.date) -> dt.date:
    probe = day + dt.timedelta(days=1)
    while not is_session(probe):
        probe += dt.timedelta(days=1)
    return probe


@dataclass(frozen=True)
class DayPlan:
    """What one session should look like; unset overlays leave the plain model."""

    vix_mean: float  # level VIX reverts to this day (index points)
    term_ratio: float = 0.9  # VIX9D/VIX before the shock term
    gap_pct: float | None = None  # fixed opening gap vs previous close, percent; None = random
    waypoints: tuple[tuple[int, float], ...] = ()  # (point 1..390, % move from the open)
    opening_volume_mult: float = 1.0  # multiplier of the first OPENING_MINUTES bars' volume
    put_call: float = 0.95  # option put/call trade intensity ratio
    chain_activity: float = 1.0  # option trade intensity multiplier
    realised_scale: float = 1.0  # realised SPX vol relative to the model's REALISED_TO_IMPLIED x VIX


@dataclass
class SessionPath:
    """One simulated session on the 391-point grid (unrounded model values)."""

    day: dt.date
    plan: DayPlan
    prev_close: float
    spot: FloatArray  # (391,)
    vix: FloatArray
    vix9d: FloatArray
    log_increments: FloatArray  # (390,) SPX log returns per minute
    daily_vol: float  # SPX daily vol used for the path
    volume: Int64Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (390,)


# --- SPX --------------------------------------------------------------------------------------------


def _profile(n: int, first: float, first_decay: float, last: float, last_decay: float) -> FloatArray:
    k = np.arange(n, dtype=np.float64)
    return 1.0 + first * np.exp(-k / first_decay) + last * np.exp(-(n - 1 - k) / last_decay)


VOL_PROFILE = _profile(SESSION_MINUTES, 0.8, 30.0, 0.4, 30.0)
VOL_PROFILE /= math.sqrt(float(np.mean(VOL_PROFILE**2)))  # keeps the day's variance


def volume_profile() -> FloatArray:
    """U-shaped minute volume profile, 1 at midday: busy open, busier close auction run-up."""
    return _profile(SESSION_MINUTES, 2.0, 20.0, 1.0, 15.0)


def bridge(path: FloatArray, waypoints: Sequence[tuple[int, float]]) -> FloatArray:
    """Pin a log path (``path[0] == 0``) to ``waypoints`` (point, log value) by linear corrections.

    Adding a piecewise-linear correction to a Brownian path is exactly how a Brownian bridge is
    built, so the result is the GBM conditioned on passing through the waypoints; after the last
    waypoint the correction stays constant (free path).
    """
    pins = sorted([(0, 0.0), *waypoints])
    idx = np.array([p for p, _ in pins], dtype=np.int64)
    corr = np.array([v for _, v in pins]) - path[idx]
    k = np.arange(path.shape[0], dtype=np.float64)
    return path + np.interp(k, idx.astype(np.float64), corr)


def simulate_spot(seed: int, day: dt.date, plan: DayPlan, prev_close: float) -> tuple[FloatArray, FloatArray, float]:
    """(391 spot points, 390 log increments, daily vol) of one session."""
    rng = rng_for(seed, STREAM_SPOT, day)
    daily_vol = plan.realised_scale * REALISED_TO_IMPLIED * plan.vix_mean / 100.0 / math.sqrt(TRADING_DAYS_PER_YEAR)
    gap = rng.normal(0.0, OVERNIGHT_VOL_SHARE * daily_vol)
    if plan.gap_pct is not None:
        gap = math.log1p(plan.gap_pct / 100.0)
    sigma = daily_vol / math.sqrt(SESSION_MINUTES) * VOL_PROFILE
    steps = sigma * rng.standard_normal(SESSION_MINUTES) - 0.5 * sigma**2
    path = np.concatenate(([0.0], np.cumsum(steps)))
    path = bridge(path, [(p, math.log1p(pct / 100.0)) for p, pct in plan.waypoints])
    spot = prev_close * math.exp(gap) * np.exp(path)
    return spot, np.diff(path), daily_vol


def simulate_volume(seed: int, day: dt.date, plan: DayPlan) -> Int64Array:
    """Minute 'volume' of the SPX index file (synthetic; LEAN index files carry a volume column)."""
    rng = rng_for(seed, STREAM_VOLUME, day)
    level = math.exp(rng.normal(0.0, INDEX_DAY_VOLUME_SD))
    noise = np.exp(rng.normal(0.0, INDEX_MINUTE_VOLUME_SD, SESSION_MINUTES))
    volume = INDEX_BASE_VOLUME * volume_profile() * level * noise
    volume[:OPENING_MINUTES] *= plan.opening_volume_mult
    return np.rint(volume).astype(np.int64)


# --- VIX, VIX9D --------------------------------------------------------------------------------------


def simulate_vix(seed: int, day: dt.date, plan: DayPlan, x0: float, gap_log: float,
                 increments: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """(VIX points, VIX9D points, X at the close) for one session, X carried from the previous one."""
    rng = rng_for(seed, STREAM_VIX, day)
    dt_min = 1.0 / SESSION_MINUTES
    x = np.empty(POINTS)
    x[0] = x0 * math.exp(-VIX_KAPPA_OVERNIGHT) + VIX_BETA * gap_log + rng.normal(0.0, VIX_VOL * 0.5)
    shocks = VIX_VOL * math.sqrt(dt_min) * rng.standard_normal(SESSION_MINUTES)
    for k in range(SESSION_MINUTES):
        x[k + 1] = x[k] * (1.0 - VIX_KAPPA * dt_min) + VIX_BETA * increments[k] + shocks[k]
    y = np.empty(POINTS)
    y[0] = rng.normal(0.0, TERM_NOISE)
    y_shocks = TERM_NOISE * math.sqrt(2.0 * 4.0 * dt_min) * rng.standard_normal(SESSION_MINUTES)
    for k in range(SESSION_MINUTES):
        y[k + 1] = y[k] * (1.0 - 4.0 * dt_min) + y_shocks[k]  # OU with kappa 4/session, sd ~TERM_NOISE
    vix = plan.vix_mean * np.exp(x)
    vix9d = vix * plan.term_ratio * np.exp(TERM_GAMMA * x + y)
    return vix, vix9d, float(x[-1])


def simulate_sessions(seed: int, days: Sequence[dt.date], plans: Sequence[DayPlan], first_prev_close: float
                      ) -> list[SessionPath]:
    """Chain the sessions: each opens from the previous close; VIX's X carries across days."""
    out: list[SessionPath] = []
    prev_close, x = first_prev_close, 0.0
    for day, plan in zip(days, plans):
        spot, inc, daily_vol = simulate_spot(seed, day, plan, prev_close)
        gap_log = math.log(spot[0] / prev_close)
        vix, vix9d, x = simulate_vix(seed, day, plan, x, gap_log, inc)
        path = SessionPath(day, plan, prev_close, spot, vix, vix9d, inc, daily_vol,
                           simulate_volume(seed, day, plan))
        out.append(path)
        prev_close = float(round(spot[-1], 2))
    return out


# --- minute bars from points ---------------------------------------------------------------------------


def bars_from_points(points: FloatArray, rng: np.random.Generator, excursion: FloatArray | float,
                     decimals: int = 2) -> FloatArray:
    """(n, 4) OHLC minute bars from n+1 points: open/close are the points, high/low add a small
    half-normal excursion (``excursion`` is a log sd per bar); rounded to ``decimals``."""
    o, c = points[:-1], points[1:]
    n = o.shape[0]
    up = np.abs(rng.standard_normal(n)) * excursion
    down = np.abs(rng.standard_normal(n)) * excursion
    h = np.maximum(o, c) * np.exp(up)
    lo = np.minimum(o, c) * np.exp(-down)
    return np.round(np.column_stack([o, h, lo, c]), decimals)


def index_bars(seed: int, path: SessionPath, series: str) -> FloatArray:
    """Rounded OHLC bars of ``spot``/``vix``/``vix9d`` for one session."""
    points = {"spot": path.spot, "vix": path.vix, "vix9d": path.vix9d}[series]
    rng = rng_for(seed, STREAM_BARS * 10 + {"spot": 0, "vix": 1, "vix9d": 2}[series], path.day)
    sd = path.daily_vol / math.sqrt(SESSION_MINUTES) * 0.3
    if series != "spot":
        sd *= 3.0
    return bars_from_points(points, rng, sd)


# --- E-mini S&P 500 -------------------------------------------------------------------------------------


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def es_contracts(day: dt.date) -> tuple[tuple[int, dt.date], tuple[int, dt.date]]:
    """(front, next) quarterly ES contracts ((YYYYMM, expiry)); the front rolls 8 days before expiry."""
    found: list[tuple[int, dt.date]] = []
    year, month = day.year, ((day.month - 1) // 3 + 1) * 3
    while len(found) < 2:
        expiry = third_friday(year, month)
        if expiry - dt.timedelta(days=8) > day or found:
            found.append((year * 100 + month, expiry))
        year, month = (year + 1, 3) if month == 12 else (year, month + 3)
    return found[0], found[1]


def ny_to_utc_minutes(day: dt.date, ny_ms: Int64Array) -> Int64Array:
    """Absolute UTC minutes since 1970 for ms-since-midnight New York on ``day``."""
    ny_at_utc_midnight = int(to_new_york_ms(day, np.array([0], dtype=np.int64), UTC)[0])  # e.g. -18000000
    utc_ms = ny_ms - ny_at_utc_midnight
    base = (day - dt.date(1970, 1, 1)).days * 1440
    return base + utc_ms // MS_PER_MINUTE


@dataclass(frozen=True)
class EsSeries:
    """ES front-contract fair value per traded minute: bar start (abs UTC minute) and OHLC points."""

    minutes: Int64Array  # bar start, absolute UTC minutes since 1970
    open: FloatArray
    close: FloatArray
    rth: npt.NDArray[np.bool_]  # bar inside the New York regular session


def _carry(day: dt.date, expiry: dt.date) -> float:
    return math.exp(RATE * max((expiry - day).days, 0) / 365.0)


def _overnight_minutes(day: dt.date, nxt: dt.date | None) -> Int64Array:
    """Bar starts (abs UTC minutes) after ``day``'s close: 16:00-17:00, then 18:00 (previous calendar
    day of ``nxt``) to 09:29 of ``nxt``; only the post-close hour when ``nxt`` is None."""
    post = ny_to_utc_minutes(day, np.arange(hhmm_ms(16), hhmm_ms(17), MS_PER_MINUTE, dtype=np.int64))
    if nxt is None:
        return post
    eve = nxt - dt.timedelta(days=1)
    night = ny_to_utc_minutes(eve, np.arange(hhmm_ms(18), hhmm_ms(24), MS_PER_MINUTE, dtype=np.int64))
    morning = ny_to_utc_minutes(nxt, np.arange(0, OPEN_MS, MS_PER_MINUTE, dtype=np.int64))
    return np.concatenate([post, night, morning])


def es_series(seed: int, sessions: Sequence[SessionPath]) -> EsSeries:
    """Front-contract ES from the first session's open to 17:00 after the last session's close."""
    minutes, opens, closes, rth = [], [], [], []
    for i, s in enumerate(sessions):
        front_expiry = es_contracts(s.day)[0][1]
        fair = s.spot * _carry(s.day, front_expiry)
        minutes.append(ny_to_utc_minutes(s.day, OPEN_MS + MS_PER_MINUTE * np.arange(SESSION_MINUTES, dtype=np.int64)))
        opens.append(fair[:-1])
        closes.append(fair[1:])
        rth.append(np.ones(SESSION_MINUTES, dtype=np.bool_))
        nxt = sessions[i + 1] if i + 1 < len(sessions) else None
        night = _overnight_minutes(s.day, nxt.day if nxt else None)
        rng = rng_for(seed, STREAM_ES, s.day)
        sigma = ES_OVERNIGHT_VOL_SHARE * s.daily_vol / math.sqrt(SESSION_MINUTES)
        walk = np.concatenate(([0.0], np.cumsum(sigma * rng.standard_normal(night.shape[0]))))
        if nxt is not None:
            target = math.log(nxt.spot[0] * _carry(nxt.day, es_contracts(nxt.day)[0][1]) / fair[-1])
            walk = bridge(walk, [(night.shape[0], target)])
        points = fair[-1] * np.exp(walk)
        minutes.append(night)
        opens.append(points[:-1])
        closes.append(points[1:])
        rth.append(np.zeros(night.shape[0], dtype=np.bool_))
    return EsSeries(np.concatenate(minutes), np.concatenate(opens), np.concatenate(closes), np.concatenate(rth))


def to_tick(price: FloatArray, tick: float) -> FloatArray:
    return np.round(price / tick) * tick


def es_volume(rng: np.random.Generator, rth: npt.NDArray[np.bool_]) -> Int64Array:
    """Front-contract minute volume: busy regular session, thin overnight."""
    level = np.where(rth, ES_RTH_VOLUME, ES_OVERNIGHT_VOLUME)
    return np.maximum(1, np.rint(level * np.exp(rng.normal(0.0, 0.4, rth.shape[0])))).astype(np.int64)
