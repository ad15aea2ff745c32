"""SPXW option chain of the built-in scenarios: listing, Black-Scholes quotes, trades, open interest.

Listing for trading day T (decided before the open from the previous close ``R``):

* expiries: SPXW Monday/Wednesday/Friday dailies up to 14 calendar days, then
  Wednesdays and Fridays up to 46 days (so every Section 9B target DTE 0, 10, 14, 17,
  28, 35, 45 has an expiry within 3 days inside the algorithm's 45-day filter, within 2 except
  45 DTE seen from a Friday);
* strikes: every 5 points within an inner band around R, every 50 points out to an outer band; the
  nearest expiry (0DTE/1DTE) gets the widest 5-point band (wide enough for the algorithm's +-40
  strikes and the 0DTE butterfly wings after a >1% move), later expiries a narrower one (ATM spreads)
  plus the 50-point wings. The number of contracts is what sizes the files (each contract is one zip
  member per tick type, ~220 bytes of zip headers alone), hence the tiers.

Quotes (model): mid = Black-Scholes (:func:`pricing.black_scholes.bs_price`, European, ``RATE``, no dividend,
t = minutes to 16:00 New York on expiry / 525600) on a skewed surface

    atm(T)   = ATM_TO_VIX x (VIX9D/100 for T <= 9 days, VIX/100 for T >= 30 days, linear between)
    z        = ln(K/F) / (atm sqrt(t))                      (standardised moneyness, F = S e^{rt})
    vol(K,T) = atm(T) x clip(1 + SKEW z + CURVATURE z^2, SMILE_FLOOR, SMILE_CAP)

(a skew of SKEW x atm per standard deviation, i.e. SKEW / sqrt(t) per unit ln(K/F)); bid/ask =
mid -/+ half a spread of max(0.05, 1.5% x mid), widened outward to the tick (0.05
below $3, 0.10 from $3, as SPX), bid floored at 0. Quote bars are written every minute for the
nearest expiry near the money and every 5 or 15 minutes elsewhere, plus every minute with a trade;
a flat bar repeating the last written quote is dropped (LEAN fills forward) except at the 15-minute
marks. Cadences are aligned, so at every 15-minute mark (09:30, 09:45, ...) every contract has a real,
current quote bar; between
marks a slower contract's forward-filled quote lags the index by up to 14 minutes (the price of
keeping a scenario to a few MB). Trades: Poisson count per contract-minute with an intensity
falling with |z| and DTE, puts scaled by the day's put/call factor; trade prices lie on the tick
grid inside that minute's bid/ask. Open interest: one 06:30 snapshot per contract.

The numbers above are the four SPX scenarios' :data:`SPXW` :class:`ChainSpec`; the first-run scenario
lists fewer contracts, quotes its nearest expiry every minute, and gives each quote bar the range the
index moved through in that minute (see :mod:`replay.scenarios.catalogue`).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from replay.scenarios.model import (
    MINUTES_PER_YEAR,
    POINTS,
    RATE,
    SESSION_MINUTES,
    STREAM_OI,
    STREAM_SIZES,
    STREAM_TRADES,
    SessionPath,
    is_session,
    rng_for,
)
from pricing.black_scholes import bs_greeks, bs_price

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Values = FloatArray | float

WING_DTE = 17  # expiries up to this many days get the wider strike core and the middle trade rate

ATM_TO_VIX = 0.92  # ATM implied vol / VIX (VIX is a variance-swap level, above ATM vol under skew)
SKEW = -0.10
CURVATURE = 0.012
SMILE_FLOOR, SMILE_CAP = 0.6, 2.5
PRICE_SCALE = 10_000  # option prices are written x10000 (deci-cents)

CADENCE_NEAR, CADENCE_MID, CADENCE_FAR = 1, 5, 15  # minutes between quote bars
MID_QUOTE_BAND = 0.0075

TRADE_RATE_NEAR, TRADE_RATE_MID, TRADE_RATE_FAR = 0.30, 0.004, 0.0015  # trades per minute at the money
TRADE_WIDTH = 1.0  # intensity ~ exp(-z^2 / (2 TRADE_WIDTH^2))
OI_BASE = 8_000
OI_TIME_MS = 23_400_000  # 06:30 New York, as in LEAN's SPXW open-interest files


@dataclass(frozen=True)
class ChainSpec:
    """What differs between the SPXW chains the scenarios write: the listing (expiry calendar, strike
    grid), the price tick and spread, the quote cadence, and whether quote bars carry the minute's range
    (``quote_ranges``: each bar's high and low priced at the index's high and low of that minute, as a
    real quote bar moves with its underlying inside the minute; without it a bar's high and low are its
    open and close). The defaults (:data:`SPXW`) are the four SPX scenarios' chain."""

    daily_window_days: int = 14  # Monday/Wednesday/Friday expiries up to this many days
    far_weekdays: tuple[int, ...] = (2, 4)  # then these weekdays up to max_expiry_days
    far_monthly_only: bool = False  # ... and of those only the month's third Friday (the monthly expiry)
    max_expiry_days: int = 46
    # nearest expiry: strike_step strikes within +- this (SPXW: 250 points, +-40 strikes and a gap) ...
    near_min_half_width: float = 250.0
    near_daily_sds: float = 4.0  # ... or +- this many expected daily moves (VIX / 100 / sqrt(252) x price)
    core_band: float = 0.015  # other expiries up to WING_DTE: strike_step strikes within +- this
    far_core_band: float = 0.005  # later expiries
    wing_band: float = 0.05  # wing_step strikes out to +- this
    wing_dte: int = WING_DTE
    strike_step: float = 5.0
    wing_step: float = 50.0
    min_spread: float = 0.05
    spread_fraction: float = 0.015
    tick: float = 0.10  # price tick from tick_from
    cheap_tick: float = 0.05  # below tick_from
    tick_from: float = 3.0
    near_quote_band: float = 0.01  # nearest expiry quoted every minute within +- this of the index
    drop_flat_bars: bool = True  # drop a scheduled bar that repeats the last one (LEAN fills forward)
    quote_ranges: bool = False

    def ticks(self, price: FloatArray) -> Int64Array:
        """The tick of each price, x10000."""
        return np.where(price < self.tick_from, round(self.cheap_tick * PRICE_SCALE),
                        round(self.tick * PRICE_SCALE)).astype(np.int64)


SPXW = ChainSpec()


@dataclass(frozen=True)
class Listing:
    """Contracts listed on one trading day, ordered (expiry, calls first, strike) like the reader."""

    day: dt.date
    reference: float  # previous SPX close the listing was built around
    vix: float  # previous VIX and VIX9D closes (the surface known before the open)
    vix9d: float
    expiry: list[dt.date]
    strike: FloatArray
    is_call: BoolArray

    def __len__(self) -> int:
        return int(self.strike.shape[0])

    @property
    def dte(self) -> Int64Array:
        return np.array([(e - self.day).days for e in self.expiry], dtype=np.int64)


def listed_expiries(day: dt.date, spec: ChainSpec = SPXW) -> list[dt.date]:
    """Expiries tradable on ``day``: Mon/Wed/Fri dailies, then the spec's weekdays (SPXW: Wed/Fri; or
    only the monthly third Fridays); an expiry falling on a holiday moves to the session before it (as
    Cboe does, e.g. Good Friday -> Thursday)."""
    out: list[dt.date] = []
    for offset in range(spec.max_expiry_days + 1):
        expiry = day + dt.timedelta(days=offset)
        daily = offset <= spec.daily_window_days
        if expiry.weekday() not in ((0, 2, 4) if daily else spec.far_weekdays):
            continue
        if not daily and spec.far_monthly_only and not 15 <= expiry.day <= 21:
            continue
        while not is_session(expiry):
            expiry -= dt.timedelta(days=1)
        if expiry >= day and expiry not in out:
            out.append(expiry)
    return out


def _grid(center: float, half_width: float, step: float) -> FloatArray:
    lo = math.ceil((center - half_width) / step) * step
    hi = math.floor((center + half_width) / step) * step
    return np.arange(lo, hi + step / 2, step)


def expiry_strikes(reference: float, vix: float, rank: int, dte: int, spec: ChainSpec = SPXW) -> FloatArray:
    """Strikes of one expiry: a core of ``strike_step`` strikes around ``reference`` (SPXW: 5 points)
    plus ``wing_step`` wings (SPXW: 50 points)."""
    if rank == 0:
        daily_sd = vix / 100.0 / math.sqrt(252.0) * reference
        return _grid(reference, max(spec.near_min_half_width, spec.near_daily_sds * daily_sd), spec.strike_step)
    core_band = spec.core_band if dte <= spec.wing_dte else spec.far_core_band
    core = _grid(reference, core_band * reference, spec.strike_step)
    wings = _grid(reference, spec.wing_band * reference, spec.wing_step)
    return np.union1d(core, wings)


def build_listing(day: dt.date, reference: float, vix: float, vix9d: float,
                  already_listed: dict[dt.date, FloatArray] | None = None, spec: ChainSpec = SPXW) -> Listing:
    """Contracts listed on ``day`` from the previous closes of SPX (``reference``), VIX and VIX9D.

    A strike once listed stays listed until its expiry, as on the exchange: ``already_listed`` holds
    each live expiry's strikes from earlier days and is updated in place."""
    carried = already_listed if already_listed is not None else {}
    expiries: list[dt.date] = []
    strikes, calls = [], []
    for rank, expiry in enumerate(listed_expiries(day, spec)):
        k = np.union1d(expiry_strikes(reference, vix, rank, (expiry - day).days, spec),
                       carried.get(expiry, np.empty(0)))
        carried[expiry] = k
        for is_call in (True, False):
            expiries += [expiry] * k.shape[0]
            strikes.append(k)
            calls.append(np.full(k.shape[0], is_call))
    return Listing(day, reference, vix, vix9d, expiries, np.concatenate(strikes), np.concatenate(calls))


def quote_minutes(listing: Listing, spot: FloatArray, spec: ChainSpec = SPXW) -> BoolArray:
    """(contracts, 390) minutes with a scheduled quote bar: every minute for the nearest expiry
    within ``spec.near_quote_band`` of the *current* index level (where 0DTE trades happen), every
    CADENCE_MID minutes for the rest of it and for expiries up to WING_DTE within MID_QUOTE_BAND,
    every CADENCE_FAR minutes otherwise. Cadences divide each other, so at every CADENCE_FAR
    minute all contracts are fresh together."""
    dte = listing.dte
    first = (dte == dte.min())[:, None]
    distance = np.abs(listing.strike[:, None] / spot[None, :SESSION_MINUTES] - 1.0)
    cadence = np.where(first & (distance <= spec.near_quote_band), CADENCE_NEAR,
                       np.where(first | ((dte <= WING_DTE)[:, None] & (distance <= MID_QUOTE_BAND)),
                                CADENCE_MID, CADENCE_FAR))
    return np.asarray(np.arange(SESSION_MINUTES)[None, :] % cadence == 0, dtype=np.bool_)


# --- surface and quotes ----------------------------------------------------------------------------


def years_to_expiry(day: dt.date, expiry: list[dt.date] | dt.date, point: Int64Array | int) -> FloatArray:
    """Years from point ``k`` (09:30 + k min) on ``day`` to 16:00 New York on ``expiry`` (calendar)."""
    days = np.array([(e - day).days for e in expiry] if isinstance(expiry, list) else (expiry - day).days)
    return (days * 1440.0 + (SESSION_MINUTES - np.asarray(point))) / MINUTES_PER_YEAR


def atm_vol(t: Values, vix: Values, vix9d: Values) -> FloatArray:
    """ATM vol: VIX9D up to 9 days, VIX from 30 days, linear in days between (t in years)."""
    weight = np.clip((np.asarray(t) * 365.0 - 9.0) / 21.0, 0.0, 1.0)
    return np.asarray(ATM_TO_VIX * ((1.0 - weight) * vix9d + weight * vix) / 100.0, dtype=np.float64)


def surface_vol(spot: Values, strike: Values, t: Values, vix: Values, vix9d: Values) -> FloatArray:
    """Implied vol of the scenario surface (see module docstring); t in years."""
    atm = atm_vol(t, vix, vix9d)
    forward = spot * np.exp(RATE * t)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(strike / forward) / (atm * np.sqrt(np.maximum(t, 1e-12)))
    smile = np.clip(1.0 + SKEW * z + CURVATURE * z * z, SMILE_FLOOR, SMILE_CAP)
    return np.asarray(atm * smile, dtype=np.float64)


def model_mid(spot: Values, strike: Values, t: Values, vix: Values, vix9d: Values, is_call: BoolArray
              ) -> FloatArray:
    """Black-Scholes mid on the scenario surface (t < 0 treated as expired: intrinsic)."""
    vol = surface_vol(spot, strike, t, vix, vix9d)
    return np.asarray(bs_price(spot, strike, np.maximum(t, 0.0), RATE, 0.0, vol, is_call), dtype=np.float64)


def quote_from_mid(mid: FloatArray, spec: ChainSpec = SPXW) -> tuple[Int64Array, Int64Array]:
    """(bid, ask) in deci-cents: mid -/+ half spread, widened outward to the tick (SPXW: 0.05 below $3,
    else 0.10), bid >= 0."""
    spread = np.maximum(spec.min_spread, spec.spread_fraction * mid)
    tick = spec.ticks(mid)
    bid = np.floor((mid - spread / 2) * PRICE_SCALE / tick + 1e-9) * tick
    ask = np.ceil((mid + spread / 2) * PRICE_SCALE / tick - 1e-9) * tick
    return np.maximum(bid, 0).astype(np.int64), ask.astype(np.int64)


def standard_moneyness(listing: Listing, spot: Values) -> FloatArray:
    """z = ln(K/F) / (atm sqrt(t)) of each contract at the open for index level(s) ``spot`` (shape
    (contracts,) or (contracts, minutes)), with the listing's (previous close) ATM vols."""
    t = years_to_expiry(listing.day, listing.expiry, 0)
    atm = atm_vol(t, listing.vix, listing.vix9d)
    if np.ndim(spot) == 2:
        t, atm = t[:, None], atm[:, None]
    strike = listing.strike[:, None] if np.ndim(spot) == 2 else listing.strike
    return np.asarray(np.log(strike / (spot * np.exp(RATE * t))) / (atm * np.sqrt(t)), dtype=np.float64)


# --- one day's minute data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainDay:
    """Rows per contract for the three LEAN tick types (int64, prices x10000, ms New York)."""

    listing: Listing
    quote_rows: list[Int64Array]  # per contract (n, 11)
    trade_rows: list[Int64Array]  # per contract (n, 6), possibly empty
    open_interest: Int64Array  # per contract
    call_volume: int
    put_volume: int


def trade_intensity(listing: Listing, z: FloatArray, put_call: float, activity: float) -> FloatArray:
    """Expected trades per minute of each contract (``z`` per contract, or per contract and minute)."""
    dte = listing.dte
    base = np.where(dte == dte.min(), TRADE_RATE_NEAR, np.where(dte <= WING_DTE, TRADE_RATE_MID, TRADE_RATE_FAR))
    side = np.where(listing.is_call, 1.0, put_call) * base * activity
    if z.ndim == 2:
        side = side[:, None]
    return np.asarray(side * np.exp(-0.5 * (z / TRADE_WIDTH) ** 2), dtype=np.float64)


def open_interest(seed: int, listing: Listing) -> Int64Array:
    """The 06:30 snapshot: concentrated near the previous close, puts heavier, nearest expiry largest."""
    rng = rng_for(seed, STREAM_OI, listing.day)
    z = standard_moneyness(listing, listing.reference)
    dte = listing.dte
    scale = np.where(dte == dte.min(), 1.0, 0.6)
    oi = OI_BASE * scale * np.exp(-0.5 * (z / 1.5) ** 2) * np.where(listing.is_call, 1.0, 1.3)
    return np.rint(oi + rng.integers(0, 40, len(listing))).astype(np.int64)


def _price_points(listing: Listing, path: SessionPath, spot: FloatArray, need: BoolArray) -> FloatArray:
    """Model mids at the needed (contract, point) cells with the underlying at ``spot`` (per point);
    NaN elsewhere."""
    ci, pi = np.nonzero(need)
    mids = np.full(need.shape, np.nan)
    expiry_days = np.array([(e - listing.day).days for e in listing.expiry], dtype=np.float64)
    t = (expiry_days[ci] * 1440.0 + (SESSION_MINUTES - pi)) / MINUTES_PER_YEAR
    mids[ci, pi] = model_mid(spot[pi], listing.strike[ci], t, path.vix[pi], path.vix9d[pi], listing.is_call[ci])
    return mids


def _trade_prices(rng: np.random.Generator, bid: Int64Array, ask: Int64Array, spec: ChainSpec = SPXW
                  ) -> Int64Array:
    """A price on the tick grid within [bid, ask], at least one tick (no trades at zero)."""
    tick = spec.ticks(ask / PRICE_SCALE)
    steps = (ask - bid) // tick
    pick = np.floor(rng.random(bid.shape[0]) * (steps + 1)).astype(np.int64)
    return np.maximum(bid + pick * tick, np.minimum(round(spec.cheap_tick * PRICE_SCALE), ask))


def simulate_chain_day(seed: int, listing: Listing, path: SessionPath, spec: ChainSpec = SPXW,
                       extremes: tuple[FloatArray, FloatArray] | None = None) -> ChainDay:
    """Quote, trade and open-interest rows of every listed contract for the session ``path``.

    Trades follow the money: the intensity of minute k uses the underlying at the start of bar k. With
    ``spec.quote_ranges`` each quote bar spans the mids at the index's ``extremes`` (its per-minute high
    and low as written) as well as at its open and close.
    """
    n = len(listing)
    spot = path.spot
    z = standard_moneyness(listing, spot[None, :SESSION_MINUTES])
    rng_trades = rng_for(seed, STREAM_TRADES, listing.day)
    counts = rng_trades.poisson(trade_intensity(listing, z, path.plan.put_call, path.plan.chain_activity))
    bars = quote_minutes(listing, spot, spec) | (counts > 0)
    need = np.zeros((n, POINTS), dtype=np.bool_)
    need[:, :-1] |= bars
    need[:, 1:] |= bars
    mids = _price_points(listing, path, spot, need)
    bid, ask = quote_from_mid(np.nan_to_num(mids), spec)
    ranges = _quote_ranges(listing, path, spec, bars, mids, extremes) if spec.quote_ranges else None
    quote_rows = _quote_rows(seed, listing, bid, ask, bars, ranges, spec.drop_flat_bars)
    trade_rows, call_volume, put_volume = _trade_rows(rng_trades, listing, bid, ask, counts, spec)
    return ChainDay(listing, quote_rows, trade_rows, open_interest(seed, listing), call_volume, put_volume)


def _quote_ranges(listing: Listing, path: SessionPath, spec: ChainSpec, bars: BoolArray, mids: FloatArray,
                  extremes: tuple[FloatArray, FloatArray] | None) -> tuple[Int64Array, Int64Array, Int64Array,
                                                                          Int64Array]:
    """(bid high, bid low, ask high, ask low) per contract and minute: the quote at the highest and the
    lowest mid the minute reaches (its open, its close, the underlying's high and low)."""
    if extremes is None:
        raise ValueError("quote_ranges needs the underlying's per-minute high and low")
    high_spot, low_spot = (np.concatenate([e, e[-1:]]) for e in extremes)  # point k+1 priced at bar k's extreme
    at_bar_end = np.zeros_like(bars, shape=(bars.shape[0], POINTS))
    at_bar_end[:, 1:] = bars
    at_high = _price_points(listing, path, high_spot[np.r_[0, :SESSION_MINUTES]], at_bar_end)[:, 1:]
    at_low = _price_points(listing, path, low_spot[np.r_[0, :SESSION_MINUTES]], at_bar_end)[:, 1:]
    stacked = np.stack([mids[:, :-1], mids[:, 1:], at_high, at_low])
    with np.errstate(invalid="ignore"):
        top, bottom = np.nan_to_num(np.fmax.reduce(stacked, axis=0)), np.nan_to_num(np.fmin.reduce(stacked, axis=0))
    bid_high, ask_high = quote_from_mid(top, spec)
    bid_low, ask_low = quote_from_mid(bottom, spec)
    return bid_high, bid_low, ask_high, ask_low


def _unchanged(bo: Int64Array, bc: Int64Array, ao: Int64Array, ac: Int64Array) -> BoolArray:
    """Candidate bars that repeat the last *written* bar's close and do not move within the minute.

    If bar m is flat and opens at candidate m-1's close, then by induction the last written bar closed
    at that same quote, so dropping m loses nothing once LEAN fills forward. The first bar is kept.
    """
    flat = (bo == bc) & (ao == ac)
    repeats = np.zeros_like(flat)
    repeats[1:] = (bo[1:] == bc[:-1]) & (ao[1:] == ac[:-1])
    return np.asarray(flat & repeats, dtype=np.bool_)


def _quote_rows(seed: int, listing: Listing, bid: Int64Array, ask: Int64Array, bars: BoolArray,
                ranges: tuple[Int64Array, Int64Array, Int64Array, Int64Array] | None = None,
                drop_flat: bool = True) -> list[Int64Array]:
    """Quote bar rows per contract at its candidate minutes, redundant flat bars dropped (``drop_flat``)
    except at the 15-minute marks: real option data shows quote activity on even the farthest listed
    contract every few minutes (LEAN's SPXW sample: gaps of at most about 10 minutes), so a quote is never
    hours old. With ``ranges`` (bid high, bid low, ask high, ask low per minute) a bar's high and low reach
    them."""
    rng = rng_for(seed, STREAM_SIZES, listing.day)
    n = len(listing)
    bid_size = rng.integers(5, 80, n)
    ask_size = rng.integers(5, 80, n)
    out = []
    for i in range(n):
        k = np.flatnonzero(bars[i])
        bo, bc, ao, ac = bid[i, k], bid[i, k + 1], ask[i, k], ask[i, k + 1]
        bh, bl, ah, al = np.maximum(bo, bc), np.minimum(bo, bc), np.maximum(ao, ac), np.minimum(ao, ac)
        if ranges is not None:
            bh, bl = np.maximum(bh, ranges[0][i, k]), np.minimum(bl, ranges[1][i, k])
            ah, al = np.maximum(ah, ranges[2][i, k]), np.minimum(al, ranges[3][i, k])
        moved = ((bh > np.maximum(bo, bc)) | (bl < np.minimum(bo, bc))
                 | (ah > np.maximum(ao, ac)) | (al < np.minimum(ao, ac)))
        keep = ~_unchanged(bo, bc, ao, ac) | moved | (k % CADENCE_FAR == 0) | (not drop_flat)
        k, bo, bc, ao, ac, bh, bl, ah, al = (x[keep] for x in (k, bo, bc, ao, ac, bh, bl, ah, al))
        bs = np.where(bc > 0, bid_size[i] + (k % 7), 0)
        asz = ask_size[i] + (k % 5)
        ms = 34_200_000 + 60_000 * k
        out.append(np.column_stack([ms, bo, bh, bl, bc, bs, ao, ah, al, ac, asz]).astype(np.int64))
    return out


def _trade_rows(rng: np.random.Generator, listing: Listing, bid: Int64Array, ask: Int64Array,
                counts: Int64Array, spec: ChainSpec = SPXW) -> tuple[list[Int64Array], int, int]:
    ci, k = np.nonzero(counts)
    n_trades = counts[ci, k]
    volume = n_trades + rng.poisson(2.0 * n_trades)
    o = _trade_prices(rng, bid[ci, k], ask[ci, k], spec)
    c = _trade_prices(rng, bid[ci, k + 1], ask[ci, k + 1], spec)
    rows = np.column_stack([34_200_000 + 60_000 * k, o, np.maximum(o, c), np.minimum(o, c), c, volume])
    bounds = np.searchsorted(ci, np.arange(len(listing) + 1))
    per = [rows[bounds[i]:bounds[i + 1]].astype(np.int64) for i in range(len(listing))]
    calls = listing.is_call[ci]
    return per, int(volume[calls].sum()), int(volume[~calls].sum())


# --- universe file -------------------------------------------------------------------------------------


def universe_text(listing: Listing, day_path: SessionPath, ohlc: FloatArray, daily_volume: int,
                  oi: Int64Array) -> str:
    """Universe CSV dated ``day_path.day`` listing ``listing`` (tradable the next session).

    Contract columns are valued at that day's close (t to 16:00 on expiry): OHLC of the model mid at
    the day's open/high/low/close index levels, expected volume from the trade model, the open
    interest of the next morning's snapshot, and the surface IV with its Black-Scholes Greeks.
    """
    day = day_path.day
    t = years_to_expiry(day, listing.expiry, SESSION_MINUTES)
    vix, vix9d = float(day_path.vix[-1]), float(day_path.vix9d[-1])
    spots = ohlc[[0, 1, 2, 3]]
    mids = np.stack([model_mid(np.full(len(listing), s), listing.strike, t, vix, vix9d, listing.is_call)
                     for s in spots])
    close_spot = float(ohlc[3])
    vol = surface_vol(close_spot, listing.strike, t, vix, vix9d)
    greeks = bs_greeks(close_spot, listing.strike, t, RATE, 0.0, vol, listing.is_call)
    z = standard_moneyness(listing, listing.reference)
    plan = day_path.plan
    expected = trade_intensity(listing, z, plan.put_call, plan.chain_activity) * SESSION_MINUTES * 3.0
    volume = np.rint(expected).astype(np.int64)  # trades x mean size 3
    lines = ["#expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,delta,gamma,vega,"
             "theta,rho",
             f",,,{ohlc[0]:.2f},{ohlc[1]:.2f},{ohlc[2]:.2f},{ohlc[3]:.2f},{daily_volume},,,,,,,"]
    high, low = mids.max(axis=0), mids.min(axis=0)
    order = sorted(range(len(listing)), key=lambda i: (not listing.is_call[i], listing.expiry[i], listing.strike[i]))
    for i in order:
        lines.append(
            f"{listing.expiry[i]:%Y%m%d},{listing.strike[i]:g},{'C' if listing.is_call[i] else 'P'},"
            f"{mids[0, i]:.4f},{high[i]:.4f},{low[i]:.4f},{mids[3, i]:.4f},"
            f"{volume[i]},{oi[i]},{vol[i]:.7f},{greeks['delta'][i]:.7f},{greeks['gamma'][i]:.7f},"
            f"{greeks['vega'][i]:.7f},{greeks['theta'][i]:.7f},{greeks['rho'][i]:.7f}")
    return "\n".join(lines) + "\n"
