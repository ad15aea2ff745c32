"""Writers of the scenario files: index, ETF, option chain, E-mini and reference files.

Each writer takes the simulated sessions (:mod:`replay.scenarios.model`, :mod:`replay.scenarios.chain`)
and lays them out as LEAN does (:mod:`replay.scenarios.files`); a :class:`Sink` counts files and bytes.
Times: SPX and VIX files in America/Chicago (LEAN's data time zone for them), VIX9D, SPY and SPXW in
New York, ES on UTC days. Prices: index and futures unscaled, equity and options x10000.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replay.data.timestamps import MS_PER_MINUTE
from replay.scenarios import files as sf
from replay.scenarios.chain import (OI_TIME_MS, SPXW, ChainDay, ChainSpec, build_listing, simulate_chain_day,
                                    universe_text)
from replay.scenarios.model import (
    HOLIDAYS,
    ES_BACK_SHARE,
    ES_TICK,
    OPEN_MS,
    RATE,
    STREAM_ES,
    EsSeries,
    FloatArray,
    Int64Array,
    SessionPath,
    es_contracts,
    es_volume,
    index_bars,
    rng_for,
    to_tick,
)

ETF_RATIO = 0.0997  # SPY / SPX (SPY closed at 394.73 when SPX closed at 3958.55, 2021-03-30)
ETF_VOLUME_PER_INDEX_VOLUME = 60.0  # SPY minute shares per unit of the synthetic SPX volume
STREAM_ETF = 21
CHICAGO_SHIFT_MS = 3_600_000  # Chicago wall clock is New York minus one hour all year
OPTION_TICKER = "spxw"
ES_OI_MS = 21_960_000  # 06:06 UTC, as LEAN's ES open-interest files


class Sink:
    """Counts what was written (files, bytes)."""

    def __init__(self, root: Path) -> None:
        self.root, self.files, self.bytes = root, 0, 0

    def zip(self, path: Path, members: list[tuple[str, str]]) -> None:
        self.bytes += sf.write_zip(path, members)
        self.files += 1

    def text(self, path: Path, text: str) -> None:
        self.bytes += sf.write_text(path, text)
        self.files += 1


@dataclass(frozen=True)
class IndexDay:
    """One session of one index exactly as written (the facts are measured on these values)."""

    day: dt.date
    bars: FloatArray  # (390, 4) OHLC rounded to 0.01, bars 09:30..15:59 New York
    volume: Int64Array  # (390,) zero for VIX and VIX9D

    @property
    def ohlc(self) -> FloatArray:
        """The session's daily bar (open, high, low, close)."""
        return np.array([self.bars[0, 0], self.bars[:, 1].max(), self.bars[:, 2].min(), self.bars[-1, 3]])


def index_days(seed: int, sessions: list[SessionPath], series: str) -> list[IndexDay]:
    """Rounded minute bars of ``spot`` (SPX), ``vix`` or ``vix9d`` for every session."""
    zero = np.zeros(390, dtype=np.int64)
    return [IndexDay(s.day, index_bars(seed, s, series), s.volume if series == "spot" else zero) for s in sessions]


def write_index(sink: Sink, ticker: str, days: list[IndexDay], minute_days: int, shift_ms: int) -> None:
    """Minute trade zips for the last ``minute_days`` sessions and the daily zip for all of them."""
    times = OPEN_MS - shift_ms + MS_PER_MINUTE * np.arange(390, dtype=np.int64)
    for d in days[-minute_days:]:
        sink.zip(*sf.single_minute_zip(sink.root, "index", ticker, d.day, "trade",
                                       sf.mixed_rows(times, d.bars, d.volume[:, None])))
    ohlc = np.array([d.ohlc for d in days])
    volume = np.array([int(d.volume.sum()) for d in days], dtype=np.int64)
    path, member = sf.daily_zip(sink.root, "index", "usa", ticker)
    sink.zip(path, [(member, sf.daily_rows([d.day for d in days], ohlc, volume))])


def write_equity(sink: Sink, seed: int, ticker: str, spx: list[IndexDay], minute_days: int) -> None:
    """An S&P 500 ETF tracking SPX x ETF_RATIO: minute trade/quote zips for the last ``minute_days``
    sessions (regular session, New York time, x10000) and the daily zip for all sessions.

    Why: the algorithm subscribes the beta-reference equity (``greeks-beta-reference``, SPY) to
    express beta-weighted delta, so a scenario without it would report missing files.
    """
    times = OPEN_MS + MS_PER_MINUTE * np.arange(390, dtype=np.int64)
    for d in spx[-minute_days:]:
        cents = np.rint(d.bars * ETF_RATIO * 100.0).astype(np.int64)  # o, h, l, c in cents
        rng = rng_for(seed, STREAM_ETF, d.day)
        volume = np.rint(d.volume * ETF_VOLUME_PER_INDEX_VOLUME).astype(np.int64)
        bid_o, bid_c = (cents[:, j] - (rng.random(390) < 0.5) for j in (0, 3))  # trade at the bid or ask
        bid = np.column_stack([bid_o, np.maximum(bid_o, bid_c), np.minimum(bid_o, bid_c), bid_c])
        sizes = 100 * rng.integers(1, 50, (390, 2))
        trade = np.column_stack([times, 100 * cents, volume])
        quote = np.column_stack([times, 100 * bid, sizes[:, 0], 100 * (bid + 1), sizes[:, 1]])
        for tick, block in (("trade", trade), ("quote", quote)):
            sink.zip(*sf.single_minute_zip(sink.root, "equity", ticker, d.day, tick, sf.int_rows(block)))
    scaled = np.rint(np.array([d.ohlc for d in spx]) * ETF_RATIO * 100.0).astype(np.int64) * 100
    volume = [int(round(d.volume.sum() * ETF_VOLUME_PER_INDEX_VOLUME)) for d in spx]
    text = "".join(f"{d.day:%Y%m%d} 00:00,{o},{h},{lo},{c},{v}\n"
                   for d, (o, h, lo, c), v in zip(spx, scaled.tolist(), volume))
    path, member = sf.daily_zip(sink.root, "equity", "usa", ticker)
    sink.zip(path, [(member, text)])


def write_options(sink: Sink, seed: int, sessions: list[SessionPath], spx: list[IndexDay], week: int,
                  spec: ChainSpec = SPXW) -> list[ChainDay]:
    """Chain minute zips for the last ``week`` sessions and the universe file dated the day before each
    (``spx``: the index sessions as written; their minute highs and lows bound ranged quote bars)."""
    chains = []
    listed: dict[dt.date, FloatArray] = {}
    for i in range(len(sessions) - week, len(sessions)):
        path, prev = sessions[i], sessions[i - 1]
        ohlc = spx[i - 1].ohlc
        listing = build_listing(path.day, float(ohlc[3]), float(prev.vix[-1]), float(prev.vix9d[-1]), listed, spec)
        extremes = (spx[i].bars[:, 1], spx[i].bars[:, 2])
        chain = simulate_chain_day(seed, listing, path, spec, extremes)
        chains.append(chain)
        write_chain(sink, chain)
        text = universe_text(listing, prev, ohlc, int(spx[i - 1].volume.sum()), chain.open_interest)
        sink.text(sf.universe_csv(sink.root, OPTION_TICKER, prev.day), text)
    return chains


def write_chain(sink: Sink, chain: ChainDay) -> None:
    """The day's three SPXW zips, one member per contract (traded contracts only in the trade zip)."""
    listing, day = chain.listing, chain.listing.day

    def name(tick: str, i: int) -> str:
        return sf.option_member(OPTION_TICKER, day, tick, bool(listing.is_call[i]), float(listing.strike[i]),
                                listing.expiry[i])

    n = len(listing)
    quotes = [(name("quote", i), sf.int_rows(chain.quote_rows[i])) for i in range(n)]
    trades = [(name("trade", i), sf.int_rows(chain.trade_rows[i])) for i in range(n) if len(chain.trade_rows[i])]
    oi = [(name("openinterest", i), f"{OI_TIME_MS},{int(chain.open_interest[i])}\n") for i in range(n)]
    sink.zip(sf.option_zip(sink.root, OPTION_TICKER, day, "quote"), quotes)
    sink.zip(sf.option_zip(sink.root, OPTION_TICKER, day, "trade"), trades)
    sink.zip(sf.option_zip(sink.root, OPTION_TICKER, day, "openinterest"), oi)


@dataclass(frozen=True)
class EsBars:
    """ES minute trade bars as written: front and second quarterly contract on the 0.25 tick."""

    minutes: Int64Array  # bar start, absolute UTC minutes since 1970
    trade: FloatArray  # (n, 4) front OHLC
    volume: Int64Array
    back_trade: FloatArray  # (n, 4) second contract OHLC (front x carry between the expiries)
    back_volume: Int64Array  # mostly 0: the second contract trades thinly


def es_bars(seed: int, es: EsSeries, first_day: dt.date) -> EsBars:
    """Tick-rounded bars of the modelled ES path; contracts as listed on ``first_day``."""
    rng = rng_for(seed, STREAM_ES * 10, first_day)
    hi = np.maximum(es.open, es.close) * np.exp(np.abs(rng.normal(0.0, 1.5e-4, es.open.shape[0])))
    lo = np.minimum(es.open, es.close) * np.exp(-np.abs(rng.normal(0.0, 1.5e-4, es.open.shape[0])))
    front = np.column_stack([to_tick(x, ES_TICK) for x in (es.open, hi, lo, es.close)])
    volume = es_volume(rng, es.rth)
    (_, front_expiry), (_, back_expiry) = es_contracts(first_day)
    ratio = math.exp(RATE * (back_expiry - front_expiry).days / 365.0)
    back = np.column_stack([to_tick(x * ratio, ES_TICK) for x in (es.open, hi, lo, es.close)])
    back_volume = rng.poisson(ES_BACK_SHARE * volume)
    return EsBars(es.minutes, front, volume, back, back_volume)


def _quote_block(rng: np.random.Generator, ohlc: FloatArray) -> FloatArray:
    """ES quote bars: bid on the tick at or below the price, ask one tick above; sizes 10-300."""
    n = ohlc.shape[0]
    bid_o, bid_c = ohlc[:, 0] - ES_TICK * (rng.random(n) < 0.5), ohlc[:, 3] - ES_TICK * (rng.random(n) < 0.5)
    bid_h, bid_l = np.maximum(bid_o, bid_c), np.minimum(bid_o, bid_c)
    sizes = rng.integers(10, 300, (n, 2)).astype(np.float64)
    return np.column_stack([bid_o, bid_h, bid_l, bid_c, sizes[:, 0],
                            bid_o + ES_TICK, bid_h + ES_TICK, bid_l + ES_TICK, bid_c + ES_TICK, sizes[:, 1]])


def write_es(sink: Sink, seed: int, bars: EsBars, first_day: dt.date) -> None:
    """UTC-day zips (trade, quote, open interest) with the front and second quarterly contracts.

    The contracts are those listed on ``first_day``: a scenario week must not span an ES roll.
    """
    last_day = dt.date(1970, 1, 1) + dt.timedelta(days=int(bars.minutes[-1] // 1440))
    if es_contracts(first_day) != es_contracts(last_day):
        raise ValueError(f"ES rolls between {first_day} and {last_day}")
    rng = rng_for(seed, STREAM_ES * 10 + 1, first_day)
    (front_month, _), (back_month, _) = es_contracts(first_day)
    utc_day = bars.minutes // 1440
    ms = (bars.minutes % 1440) * MS_PER_MINUTE
    quotes_front = _quote_block(rng, bars.trade)
    quotes_back = _quote_block(rng, bars.back_trade)
    for d in np.unique(utc_day):
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(d))
        rows = np.flatnonzero(utc_day == d)
        traded_back = rows[bars.back_volume[rows] > 0]
        trade = [
            (sf.future_member("es", day, "trade", front_month),
             sf.mixed_rows(ms[rows], bars.trade[rows], bars.volume[rows][:, None])),
            (sf.future_member("es", day, "trade", back_month),
             sf.mixed_rows(ms[traded_back], bars.back_trade[traded_back], bars.back_volume[traded_back][:, None])),
        ]
        quote = [(sf.future_member("es", day, "quote", m), _quote_rows_text(ms[rows], q[rows]))
                 for m, q in ((front_month, quotes_front), (back_month, quotes_back))]
        oi = [(sf.future_member("es", day, "openinterest", front_month), f"{ES_OI_MS},2450000\n"),
              (sf.future_member("es", day, "openinterest", back_month), f"{ES_OI_MS},180000\n")]
        sink.zip(sf.future_zip(sink.root, "es", day, "trade"), trade)
        sink.zip(sf.future_zip(sink.root, "es", day, "quote"), quote)
        sink.zip(sf.future_zip(sink.root, "es", day, "openinterest"), oi)


def _quote_rows_text(ms: Int64Array, q: FloatArray) -> str:
    """``ms,bid o,h,l,c,bid size,ask o,h,l,c,ask size`` rows with two-decimal prices."""
    prices = q[:, [0, 1, 2, 3, 5, 6, 7, 8]]
    line = "%d,%.2f,%.2f,%.2f,%.2f,%d,%.2f,%.2f,%.2f,%.2f,%d\n"
    cells: list[object] = []
    for t, p, s in zip(ms.tolist(), prices.tolist(), q[:, [4, 9]].astype(np.int64).tolist()):
        cells += [t, *p[:4], s[0], *p[4:], s[1]]
    return (line * ms.shape[0]) % tuple(cells)


def write_reference(sink: Sink) -> None:
    """The reference files whose absence would make the reader misread the data (module docstring)."""
    holidays = [f"{d.month}/{d.day}/{d.year}" for d in sorted(HOLIDAYS)]
    session = {d: [{"start": "08:30:00", "end": "15:00:00", "state": "market"}]
               for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    mhdb = {"entries": {
        "Index-usa-VIX9D": {"dataTimeZone": "America/New_York", "exchangeTimeZone": "America/Chicago", **session,
                            "saturday": [], "sunday": [], "holidays": holidays, "earlyCloses": {}, "lateOpens": {}},
        # SPX with the scenario's holidays, so history requests skip them as LEAN's calendar does
        "Index-usa-SPX": {"dataTimeZone": "America/Chicago", "exchangeTimeZone": "America/Chicago", **session,
                          "saturday": [], "sunday": [], "holidays": holidays, "earlyCloses": {}, "lateOpens": {}},
    }}
    mhdb_text = json.dumps(mhdb, indent=1, sort_keys=True) + "\n"
    sink.text(sink.root / "market-hours" / "market-hours-database.json", mhdb_text)
    sink.text(sink.root / "symbol-properties" / "symbol-properties-database.csv",
              "market,symbol,type,description,quote_currency,contract_multiplier,minimum_price_variation,"
              "lot_size,market_ticker,minimum_order_size,price_magnifier,strike_multiplier\n"
              "cme,ES,future,E-mini S&P 500 Futures,USD,50,0.25,1\n"
              "usa,SPXW,indexoption,S&P 500 Weekly Index Options,USD,100,0.05,1\n")
    sink.text(sink.root / "alternative" / "interest-rate" / "usa" / "interest-rate.csv",
              f"DATE,PCREDIT8\n2020-03-16,{RATE * 100:.2f}\n")
