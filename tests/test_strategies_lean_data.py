"""Real chains: the analysers on LEAN's sample data (SPXW 2021-01-08, GOOG 2015-12-24), read in place.

The chain at a minute is what a LEAN algorithm would see at that bar's emission time: the latest
quote bar per side at or before it (replay.data.dense semantics), open interest from that day's file
(SPXW 2021-01-08 has none: NaN), quote age = minutes since the contract's last quote bar.

The sample has no VIX, so each test states the VIX it feeds (a stimulus, like any synthetic input);
SPX has no index bars on 2021-01-08, so the SPX price is implied from the 0DTE 3800 call/put mids by
put-call parity (S = K + C - P; discounting over the hours left is below a cent). GOOG's price and
open come from its own minute trades; rate from LEAN's interest-rate file, GOOG dividend yield 0.

"By hand" below means: open the option zip, read the contract's CSV member, take the last row at or
before the minute with a bid (ask) close, divide by 10,000, and add up buy-at-ask / sell-at-bid.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.market import ChainColumns, ContractSpec, MarketSnapshot, SeriesTracker
from core.settings import Section9BSettings, load_settings
from replay.data import LeanDataReader, MinuteGrid, SecurityType, dense_chain, dense_security
from replay.data.timestamps import hhmm_ms
from replay.engine.rates import RateCurve
from pricing.chain import PricingInputs
from strategies.section9b import Section9BStrategies
from strategies.verdict import StrategyAnalysis

pytestmark = pytest.mark.lean_data

DEFAULTS = load_settings(lambda name: None).section9b
NoOpenInterestRule = dataclasses.make_dataclass(
    "NoOpenInterestRule", [("min_open_interest", float, 0.0)], bases=(Section9BSettings,), frozen=True)


def chain_at(reader: LeanDataReader, ticker: str, day: date, sec: SecurityType, when: time, underlying: str,
             settles_at_open: bool = False) -> ChainColumns:
    """The chain as of the bar emitted at ``when`` (New York)."""
    chain = reader.option_chain(ticker, day, sec)
    if chain is None:
        pytest.skip(f"no {ticker} option data for {day}")
    grid = MinuteGrid.regular()
    dense = dense_chain(len(chain.contracts), grid, chain.quotes, chain.trades, chain.open_interest)
    slot = grid.slot_of_end(hhmm_ms(when.hour, when.minute))
    seen = np.where(dense.quote_fresh[:, : slot + 1], np.arange(slot + 1), -1).max(axis=1)
    age = np.where(seen >= 0, slot - seen, np.nan).astype(np.float64)
    k = chain.contracts
    contracts = [ContractSpec(underlying, ticker.upper(), k.expiry[i].astype(date), float(k.strike[i]),
                              bool(k.is_call[i]), chain.multiplier, settles_at_open) for i in range(len(k))]
    rows = [(dense.bid[i, slot], dense.ask[i, slot], dense.last[i, slot], float(dense.volume[i, slot]),
             dense.open_interest[i, slot], np.nan, age[i]) for i in range(len(k))]
    return ChainColumns.from_rows(contracts, rows)


def snapshot(chain: ChainColumns, now: datetime, spot: float, day_open: float, vix: float | None,
             portfolio: float = 1e6) -> MarketSnapshot:
    tracker = SeriesTracker("underlying", timedelta(minutes=5))
    tracker.record(now.replace(hour=9, minute=31), spot, open_price=day_open)
    tracker.record(now, spot)
    vix_tracker = SeriesTracker("VIX", timedelta(minutes=5))
    if vix is not None:
        vix_tracker.record(now, vix)
    empty = SeriesTracker("X", timedelta(minutes=5)).state(now)
    return MarketSnapshot(now, tracker.state(now), vix_tracker.state(now), empty, empty, chain, (), portfolio)


def by_hand(lean_data_dir: Path, folder: str, contract: ContractSpec, day: date, style: str, when: time
            ) -> tuple[float, float]:
    """(bid, ask) of one contract at the bar emitted at ``when``, straight from the quote zip."""
    path = lean_data_dir / folder / f"{day:%Y%m%d}_quote_{style}.zip"
    right = "call" if contract.is_call else "put"
    member = (f"{day:%Y%m%d}_{contract.root.lower()}_minute_quote_{style}_{right}_"
              f"{round(contract.strike * 10000)}_{contract.expiry:%Y%m%d}.csv")
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.reader(io.StringIO(archive.read(member).decode())))
    start = hhmm_ms(when.hour, when.minute) - 60_000  # the bar emitted at `when` starts a minute earlier
    bid = [float(r[4]) for r in rows if int(r[0]) <= start and r[4]][-1] / 10_000
    ask = [float(r[9]) for r in rows if int(r[0]) <= start and r[9]][-1] / 10_000
    return bid, ask


def natural_by_hand(lean_data_dir: Path, folder: str, verdict: StrategyAnalysis, day: date, style: str,
                    when: time) -> float:
    assert verdict.structure is not None
    total = 0.0
    for leg in verdict.structure.legs:
        bid, ask = by_hand(lean_data_dir, folder, leg.contract, day, style, when)
        assert (leg.bid, leg.ask) == (pytest.approx(bid, abs=1e-9), pytest.approx(ask, abs=1e-9))
        total += leg.quantity * (ask if leg.quantity > 0 else bid)
    return total


def listed(chain: ChainColumns, verdict: StrategyAnalysis) -> bool:
    assert verdict.structure is not None
    return all(leg.contract in chain.contracts for leg in verdict.structure.legs)


# --- SPXW 2021-01-08 (Friday): four expiries, strikes 3700 and 3800 only --------------------------

SPXW_DAY, SPXW_AT = date(2021, 1, 8), time(10, 40)


@pytest.fixture(scope="module")
def spxw(lean_data_dir: Path) -> tuple[ChainColumns, float]:
    chain = chain_at(LeanDataReader(lean_data_dir), "spxw", SPXW_DAY, SecurityType.INDEX_OPTION, SPXW_AT, "SPX")
    mid = (chain.bid + chain.ask) / 2
    call = (chain.strike == 3800) & chain.is_call & (chain.expiry == np.datetime64(SPXW_DAY))
    put = (chain.strike == 3800) & ~chain.is_call & (chain.expiry == np.datetime64(SPXW_DAY))
    return chain, float(3800 + mid[call][0] - mid[put][0])


def spxw_market(lean_data_dir: Path, spot: float) -> PricingInputs:
    curve = RateCurve.load(lean_data_dir)
    assert curve is not None
    return PricingInputs(datetime.combine(SPXW_DAY, SPXW_AT), spot, curve.at(SPXW_DAY), 0.0, american=False)


def test_spxw_implied_spot_and_no_open_interest(spxw):
    chain, spot = spxw
    assert 3800 < spot < 3820 and len(chain) == 16
    assert np.isnan(chain.open_interest).all()  # no OI file that day: the default OI rule refuses every leg


def test_spxw_only_two_strikes_refuses_with_reasons(spxw, lean_data_dir):
    chain, spot = spxw
    snap = snapshot(chain, datetime.combine(SPXW_DAY, SPXW_AT), spot, spot / 1.012, vix=24.0)
    market = spxw_market(lean_data_dir, spot)
    verdicts, opportunities = Section9BStrategies(DEFAULTS).analyze_all_section9b(snap, market)
    reasons = {v.strategy: v.reason for v in verdicts}
    assert opportunities == []
    assert reasons["Enhanced Butterfly"] == (
        "At-the-money leg not tradeable: SPXW 2021-01-08 3800P: open interest unknown below 10")
    lenient = Section9BStrategies(NoOpenInterestRule())
    reasons = {v.strategy: v.reason for v in lenient.analyze_all_section9b(snap, market)[0]}
    assert reasons["Enhanced Butterfly"] == "No symmetric listed wings around 3800 on 2021-01-08"
    assert reasons["Ratio Spread"].startswith("No suitable expiration: nearest expiry to 28 DTE is 2021-01-15")
    assert reasons["Batman Spread"].startswith("No liquid 2021-01-15 put listed below 3700")


def test_spxw_ratio_on_listed_strikes_priced_by_hand(spxw, lean_data_dir):
    """With the ratio's DTE target at the listed 7 days: long the 3800 put, short two 3700 puts (the
    scaled 10-point width, 84.6 points, snaps to the listed 3700)."""
    chain, spot = spxw
    settings = NoOpenInterestRule(ratio_dte=7)
    snap = snapshot(chain, datetime.combine(SPXW_DAY, SPXW_AT), spot, spot / 1.012, vix=24.0, portfolio=1e8)
    verdict = Section9BStrategies(settings).analyze_ratio_spreads(snap, spxw_market(lean_data_dir, spot))
    assert verdict.structure is not None and listed(chain, verdict)
    assert [(leg.contract.expiry, leg.contract.strike, leg.contract.is_call, leg.quantity)
            for leg in verdict.structure.legs] == [(date(2021, 1, 15), 3800.0, False, 1),
                                                   (date(2021, 1, 15), 3700.0, False, -2)]
    natural = natural_by_hand(lean_data_dir, "indexoption/usa/minute/spxw", verdict, SPXW_DAY, "european", SPXW_AT)
    assert verdict.prices is not None and verdict.prices.natural == pytest.approx(natural, abs=1e-9)
    print(f"SPXW ratio: {verdict.structure.describe()}, natural {natural:+.2f}, {verdict.prices.describe()}, "
          f"{verdict.reason}")


# --- GOOG 2015-12-24 (Thursday, half day): the full American chain, 2,192 contracts ----------------

GOOG_DAY, GOOG_AT = date(2015, 12, 24), time(11, 0)
GOOG_FOLDER = "option/usa/minute/goog"
Lenient = dataclasses.make_dataclass(
    "Lenient", [("min_open_interest", float, 0.0), ("max_spread_pct", float, 60.0)], bases=(Section9BSettings,),
    frozen=True)


@pytest.fixture(scope="module")
def goog(lean_data_dir: Path) -> tuple[ChainColumns, float, float, PricingInputs]:
    reader = LeanDataReader(lean_data_dir)
    chain = chain_at(reader, "goog", GOOG_DAY, SecurityType.OPTION, GOOG_AT, "GOOG")
    day = reader.minute(SecurityType.EQUITY, "goog", GOOG_DAY)
    assert day.trades is not None
    grid = MinuteGrid.regular()
    spot = float(dense_security(grid, day.quotes, day.trades).last[0, grid.slot_of_end(hhmm_ms(11, 0))])
    day_open = float(day.trades.open[np.flatnonzero(day.trades.times >= hhmm_ms(9, 30))[0]])
    curve = RateCurve.load(lean_data_dir)
    assert curve is not None
    market = PricingInputs(datetime.combine(GOOG_DAY, GOOG_AT), spot, curve.at(GOOG_DAY), 0.0, american=True)
    return chain, spot, day_open, market


def goog_verdicts(goog, settings: Section9BSettings, vix: float = 24.0) -> dict[str, StrategyAnalysis]:
    chain, spot, day_open, market = goog
    snap = snapshot(chain, datetime.combine(GOOG_DAY, GOOG_AT), spot, day_open, vix=vix, portfolio=1e7)
    return {v.strategy: v for v in Section9BStrategies(settings).analyze_all_section9b(snap, market)[0]}


def test_goog_default_rules(goog, lean_data_dir):
    chain, spot, day_open, _ = goog
    assert len(chain) == 2192 and (spot, day_open) == (749.23, 749.55)
    verdicts = goog_verdicts(goog, DEFAULTS)
    assert verdicts["Enhanced Butterfly"].reason == "Butterfly only on Friday"
    assert verdicts["Batman Spread"].reason == "Batman spreads on Fridays only"
    assert verdicts["Ratio Spread"].reason == (
        "At-the-money leg not tradeable: GOOG 2016-01-22 750P: open interest 6 below 10")
    assert verdicts["Diagonal Spread"].reason == "IV term structure unavailable: no liquid quotes for 2016-02-05"
    bwb = verdicts["Broken Wing Butterfly"]  # put side broken: GOOG trades below its open
    assert bwb.structure is not None and listed(chain, bwb)
    assert [(leg.contract.strike, leg.quantity) for leg in bwb.structure.legs] == [(735.0, 1), (750.0, -2), (760.0, 1)]
    natural = natural_by_hand(lean_data_dir, GOOG_FOLDER, bwb, GOOG_DAY, "american", GOOG_AT)
    assert bwb.prices is not None and bwb.prices.natural == pytest.approx(natural, abs=1e-9)
    assert bwb.reason.startswith("Insufficient credit")


def test_goog_lenient_rules_price_by_hand(goog, lean_data_dir):
    chain = goog[0]
    verdicts = goog_verdicts(goog, Lenient())
    assert verdicts["Diagonal Spread"].reason.startswith("No IV backwardation: front 17.")  # earnings in February
    for name in ("Ratio Spread", "Broken Wing Butterfly", "Broken Wing Condor"):
        verdict = verdicts[name]
        assert verdict.structure is not None and listed(chain, verdict)
        natural = natural_by_hand(lean_data_dir, GOOG_FOLDER, verdict, GOOG_DAY, "american", GOOG_AT)
        assert verdict.prices is not None and verdict.prices.natural == pytest.approx(natural, abs=1e-9)
        assert verdict.prices.far <= verdict.prices.limit <= verdict.prices.natural
        print(f"GOOG {verdict.structure.describe()}: natural {natural:+.2f}, {verdict.prices.describe()}; "
              f"{verdict.reason}")
    ratio = verdicts["Ratio Spread"]
    assert ratio.can_trade and ratio.intent is not None
    assert [(leg.contract.strike, leg.quantity) for leg in ratio.structure.legs] == [(750.0, 1), (732.5, -2)]
    assert ratio.intent.max_loss == pytest.approx((2 * 732.5 - 750 + ratio.intent.limit_price) * 100)


def test_goog_0dte_short_butterfly_from_the_builder(goog, lean_data_dir):
    """Thursday, so the analyser's Friday gate refuses; its builder on the 0DTE expiry: put body 750
    (nearest listed to 749.23), wing 10 (the spec's 9.18 at VIX 24, snapped to listed symmetric wings)."""
    from strategies.analysers.butterflies import BUTTERFLY_NAME, build_butterfly, wing_width
    from strategies.analysers.common import Context, same_expiry_setup
    from strategies.params import AnalyserParams

    chain, spot, day_open, market = goog
    snap = snapshot(chain, datetime.combine(GOOG_DAY, GOOG_AT), spot, day_open, vix=24.0)
    ctx = Context.build(snap, AnalyserParams.from_settings(Lenient()), market)
    target = wing_width(spot, 24.0, DEFAULTS.butterfly_wing_base_pct, DEFAULTS.butterfly_wing_vix_reference)
    structure, why = build_butterfly(ctx, GOOG_DAY, False, target)
    assert structure is not None, why
    setup = same_expiry_setup(ctx, BUTTERFLY_NAME, structure, ())
    verdict = StrategyAnalysis("fly", False, 0.0, "", structure, setup.prices, setup.risk)
    assert listed(chain, verdict)
    assert [(leg.contract.strike, leg.quantity) for leg in structure.legs] == [(740.0, -1), (750.0, 2), (760.0, -1)]
    natural = natural_by_hand(lean_data_dir, GOOG_FOLDER, verdict, GOOG_DAY, "american", GOOG_AT)
    assert setup.prices.natural == pytest.approx(natural, abs=1e-9)
    assert setup.risk.max_profit == pytest.approx(-setup.prices.limit)
    assert setup.risk.max_loss == pytest.approx(10 + setup.prices.limit)
    print(f"GOOG 0DTE {structure.describe()}: natural {natural:+.2f}, {setup.prices.describe()}")
    _, why = build_butterfly(Context.build(snap, AnalyserParams.from_settings(DEFAULTS), market), GOOG_DAY, False, target)
    assert why == "At-the-money leg not tradeable: GOOG 2015-12-24 750P: spread 0.55 wider than 25% of mid 1.62"
