"""Built-in scenarios: written in LEAN format, read back through LeanDataReader, properties measured
from the files themselves (not from the generator's own bookkeeping)."""
from __future__ import annotations

import datetime as dt
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from core.settings import default_parameters, load_settings
from replay.data import DenseChain, LeanDataReader, MinuteGrid, OptionChainDay, SecurityType, chain_dense
from replay.scenarios import SCENARIOS, ScenarioInfo, scenario_names, write_scenario
from replay.scenarios.chain import model_mid
from replay.scenarios.model import RATE, is_session

NAMES = ["quiet-week", "friday-move", "vix-spike", "gap-friday"]
IDX, OPT = SecurityType.INDEX, SecurityType.INDEX_OPTION
GRID = MinuteGrid.regular()
SECTION_9B_TARGETS = (0, 10, 14, 17, 28, 35, 45)  # DTE: 0DTE fly, batman, diagonal front, BWB, ratio, backs


@dataclass
class Written:
    info: ScenarioInfo
    reader: LeanDataReader
    chains: dict[dt.date, OptionChainDay]
    dense: dict[dt.date, DenseChain]

    def index_close(self, ticker: str, day: dt.date) -> np.ndarray:
        bars = self.reader.minute(IDX, ticker, day).trades
        assert bars is not None
        return bars.close


@pytest.fixture(scope="module", params=NAMES)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Written:
    folder = tmp_path_factory.mktemp(request.param)
    info = write_scenario(request.param, folder)
    reader = LeanDataReader(folder)
    chains = {}
    for day in info.trading_days:
        chain = reader.option_chain("spxw", day, OPT)
        assert chain is not None
        chains[day] = chain
    return Written(info, reader, chains, {d: chain_dense(c) for d, c in chains.items()})


def by_name(written: Written, name: str) -> bool:
    return written.info.name == name


# --- API --------------------------------------------------------------------------------------------------


def test_names_and_unknown_name(tmp_path: Path) -> None:
    assert scenario_names() == ["first-run", *NAMES] == list(SCENARIOS)  # first-run: tests/test_first_run.py
    with pytest.raises(KeyError, match="unknown scenario"):
        write_scenario("no-such-week", tmp_path)


def test_info_week_and_parameters(written: Written) -> None:
    info = written.info
    assert info.start.weekday() == 0 and info.end == info.start + dt.timedelta(days=4)
    assert list(info.trading_days) == [info.start + dt.timedelta(days=i) for i in range(5)]
    assert all(is_session(d) for d in info.trading_days)
    assert set(info.parameters) <= set(default_parameters())  # core.settings names exactly
    merged = {**default_parameters(), **info.parameters}
    settings = load_settings(merged.get)
    assert (settings.universe.start_date, settings.universe.end_date) == (info.start, info.end)
    assert (settings.universe.underlying, settings.universe.option_ticker) == ("SPX", "SPXW")
    assert info.files > 50 and info.bytes < 12_000_000


# --- round trip through the reader --------------------------------------------------------------------------


def test_index_minute_and_daily_round_trip(written: Written) -> None:
    reader, info = written.reader, written.info
    for day in info.trading_days:
        for ticker in ("spx", "vix", "vix9d"):
            bars = reader.minute(IDX, ticker, day).trades
            assert bars is not None and len(bars) == 390
            assert bars.times[0] == GRID.start_ms and bars.times[-1] == GRID.end_ms - 60_000  # 09:30..15:59 NY
            assert np.all(bars.low <= np.minimum(bars.open, bars.close))
            assert np.all(bars.high >= np.maximum(bars.open, bars.close))
        assert reader.session_grid(IDX, "spx", day) == GRID
        assert reader.session_grid(IDX, "vix9d", day) == GRID  # the written market-hours entry
    daily = reader.daily(IDX, "spx")
    assert daily is not None and int((daily.dates < np.datetime64(info.start)).sum()) >= 25
    friday = info.end
    thursday_close = float(written.index_close("spx", friday - dt.timedelta(days=1))[-1])
    assert daily.previous_close(friday) == pytest.approx(thursday_close)
    history = [d.astype(dt.date) for d in daily.dates if d < np.datetime64(info.start)][-20:]
    assert all(reader.minute(IDX, "spx", d).trades is not None for d in history)  # opening-volume baseline
    for ticker in ("vix", "vix9d"):
        assert reader.daily(IDX, ticker) is not None
    spy = reader.minute(SecurityType.EQUITY, "spy", friday)  # the beta reference, x10000 prices
    assert spy.trades is not None and spy.quotes is not None and len(spy.trades) == 390
    np.testing.assert_allclose(spy.trades.close, written.index_close("spx", friday) * 0.0997, atol=0.006)
    assert np.all(spy.quotes.bid_close < spy.quotes.ask_close)
    assert reader.daily(SecurityType.EQUITY, "spy") is not None
    assert reader.missing == []


def test_option_chain_and_universe_round_trip(written: Written) -> None:
    reader = written.reader
    for day, chain in written.chains.items():
        c = chain.contracts
        assert c.style == "european" and chain.multiplier == 100.0 and c.underlying == "spx"
        assert chain.quotes is not None and bool(chain.quotes.has_rows.all())
        assert chain.open_interest is not None and bool(chain.open_interest.has_rows.all())
        assert chain.trades is not None and 0 < int(chain.trades.has_rows.sum()) < len(c)
        dense = written.dense[day]
        assert not np.isnan(dense.bid[:, 0]).any()  # every listed contract quoted from the first minute
        universe = reader.chain_universe(OPT, "spxw", day)
        assert universe is not None and universe.day < day
        listed = set(zip(c.expiry.tolist(), c.strike.tolist(), c.is_call.tolist()))
        assert set(zip(universe.expiry.tolist(), universe.strike.tolist(), universe.is_call.tolist())) == listed
        assert np.all(np.isfinite(universe.implied_volatility)) and np.all(universe.implied_volatility > 0)
        assert np.all(np.abs(universe.delta) <= 1.0)
        assert universe.underlying.close == pytest.approx(float(written.index_close("spx", universe.day)[-1]))
    assert reader.missing == []


def test_es_round_trip_covers_each_overnight(written: Written) -> None:
    reader, info = written.reader, written.info
    for day in info.trading_days:
        chain = reader.future_chain("es", day)
        assert chain is not None and chain.multiplier == 50.0 and chain.trades is not None
        volumes = [int(chain.trades.for_contract(i).volume.sum()) for i in range(len(chain.contracts))]
        front = chain.trades.for_contract(int(np.argmax(volumes)))
        overnight = (front.times >= -4 * 3_600_000) & (front.times < GRID.start_ms)  # 20:00 ET .. 09:30
        assert int(overnight.sum()) >= 13 * 60 - 5
        assert GRID.start_ms - 60_000 in front.times.tolist()  # the 09:29 bar: pre-market momentum
        session = (front.times >= GRID.start_ms) & (front.times < GRID.end_ms)
        spx = written.index_close("spx", day)
        assert int(session.sum()) == 390
        np.testing.assert_allclose(front.close[session], spx, rtol=2e-3)  # fair value + carry on the tick
        assert np.all(np.mod(front.close * 4, 1) == 0)  # 0.25 tick
    assert reader.missing == []


# --- the properties each scenario exists for, measured from the files -----------------------------------------


def friday_move(written: Written) -> tuple[float, float]:
    """(max |close/open - 1| %, move at the 10:35 bar close %) of the Friday, from the SPX file."""
    bars = written.reader.minute(IDX, "spx", written.info.end).trades
    assert bars is not None
    moves = 100.0 * (bars.close / bars.open[0] - 1.0)
    at_1035 = int(np.flatnonzero(bars.end_times == 10 * 3_600_000 + 35 * 60_000)[0])
    return float(np.abs(moves).max()), float(moves[at_1035])


def vix_max(written: Written) -> float:
    highs = [written.reader.minute(IDX, "vix", d).trades for d in written.info.trading_days]
    return max(float(b.high.max()) for b in highs if b is not None)


def term_ratio(written: Written, day: dt.date) -> np.ndarray:
    """VIX9D / VIX per minute, aligned on New York bar times (the two files use different zones)."""
    a, b = written.reader.minute(IDX, "vix", day).trades, written.reader.minute(IDX, "vix9d", day).trades
    assert a is not None and b is not None and np.array_equal(a.times, b.times)
    return b.close / a.close


def gap_pct(written: Written) -> float:
    daily = written.reader.daily(IDX, "spx")
    bars = written.reader.minute(IDX, "spx", written.info.end).trades
    assert daily is not None and bars is not None
    prev = daily.previous_close(written.info.end)
    assert prev is not None
    return 100.0 * (float(bars.open[0]) / prev - 1.0)


def opening_volume_ratio(written: Written) -> float:
    daily = written.reader.daily(IDX, "spx")
    assert daily is not None
    before = [d.astype(dt.date) for d in daily.dates if d < np.datetime64(written.info.end)][-20:]

    def opening(day: dt.date) -> int:
        bars = written.reader.minute(IDX, "spx", day).trades
        assert bars is not None
        return int(bars.volume[bars.times < GRID.start_ms + 30 * 60_000].sum())

    return opening(written.info.end) / float(np.mean([opening(d) for d in before]))


def put_call_ratio(written: Written, strikes_around: int | None = None) -> float:
    """Friday put/call trade volume: whole chain, or the algorithm's filter (+-N strikes, <= 45 DTE)."""
    chain = written.chains[written.info.end]
    c = chain.contracts
    volume = written.dense[written.info.end].volume.sum(axis=1)
    keep = np.ones(len(c), dtype=bool)
    if strikes_around is not None:
        strikes = np.unique(c.strike)
        atm = int(np.argmin(np.abs(strikes - written.index_close("spx", written.info.end)[0])))
        chosen = strikes[max(0, atm - strikes_around): atm + strikes_around + 1]
        keep = np.isin(c.strike, chosen) & ((c.expiry - np.datetime64(written.info.end)).astype(int) <= 45)
    return float(volume[keep & ~c.is_call].sum() / volume[keep & c.is_call].sum())


def test_friday_move(written: Written) -> None:
    max_move, at_1035 = friday_move(written)
    if by_name(written, "friday-move"):
        assert max_move > 1.0 and abs(at_1035) > 1.0  # Section 9B butterfly: >1% from the open by its entry
    elif by_name(written, "quiet-week"):
        assert max_move < 1.0
    assert written.info.facts.friday_max_move_pct == pytest.approx(max_move, abs=1e-9)
    assert written.info.facts.friday_move_at_1035_pct == pytest.approx(at_1035, abs=1e-9)


def test_vix_spike(written: Written) -> None:
    peak = vix_max(written)
    assert (peak > 50.0) == by_name(written, "vix-spike")  # manual-mode territory only there
    assert written.info.facts.vix_max == pytest.approx(peak)


def test_gap_friday_signals(written: Written) -> None:
    gap, ratio = gap_pct(written), opening_volume_ratio(written)
    term = term_ratio(written, written.info.end)
    pc, pc_filtered = put_call_ratio(written), put_call_ratio(written, 40)
    facts = written.info.facts
    assert facts.gap_pct == pytest.approx(gap) and facts.opening_volume_ratio == pytest.approx(ratio)
    assert facts.put_call_ratio == pytest.approx(pc) and facts.friday_vix9d_vix_min == pytest.approx(term.min())
    progressive = 0.3 <= abs(gap) <= 0.8 and ratio > 1.5 and term.min() > 1.05 and pc > 1.2
    assert progressive == by_name(written, "gap-friday")
    if by_name(written, "gap-friday"):
        assert pc_filtered > 1.2 and 0.2 <= abs(facts.premarket_move_pct) <= 0.5
    else:
        assert ratio < 1.5


def test_quiet_week_contango(written: Written) -> None:
    worst = max(float(term_ratio(written, d).max()) for d in written.info.trading_days)
    assert (worst < 0.95) == by_name(written, "quiet-week")
    assert written.info.facts.week_vix9d_vix_max == pytest.approx(worst)


# --- quote sanity and the stated model ------------------------------------------------------------------------


def raw_quote_rows(written: Written, day: dt.date) -> np.ndarray:
    path = written.info.folder / "indexoption/usa/minute/spxw" / f"{day:%Y%m%d}_quote_european.zip"
    with zipfile.ZipFile(path) as archive:
        text = b"".join(archive.read(n) for n in archive.namelist())
    return np.array([line.split(b",") for line in text.splitlines()], dtype=np.int64)


def test_quotes_never_crossed_and_on_the_tick(written: Written) -> None:
    rows = raw_quote_rows(written, written.info.end)
    bid, ask = rows[:, 1:5], rows[:, 6:10]
    assert np.all(bid >= 0) and np.all(ask > 0)
    assert np.all(bid[:, 3] < ask[:, 3]) and np.all(bid[:, 0] < ask[:, 0])  # open and close sides
    assert np.all(bid[:, 1] >= bid[:, 2]) and np.all(ask[:, 1] >= ask[:, 2])
    assert np.all(rows[:, 1:5] % 500 == 0) and np.all(rows[:, 6:10] % 500 == 0)  # 0.05 grid (x10000)
    assert np.all((rows[:, 5] == 0) == (bid[:, 3] == 0))  # no size on a zero bid


def test_trades_inside_the_quote(written: Written) -> None:
    dense = written.dense[written.info.end]
    traded = dense.volume > 0
    assert traded.any()
    assert np.all(dense.bid[traded] <= dense.last[traded]) and np.all(dense.last[traded] <= dense.ask[traded])


def years_left(day: dt.date, expiry: np.ndarray, slot: int) -> np.ndarray:
    """Years from the close of bar ``slot`` (09:31 + slot) to 16:00 on expiry."""
    days = (expiry - np.datetime64(day)).astype(np.int64)
    return (days * 1440.0 + (390 - (slot + 1))) / 525_600.0


def test_put_call_parity_of_mids_within_the_spread(written: Written) -> None:
    day = written.info.end
    chain, dense = written.chains[day], written.dense[day]
    c = chain.contracts
    spot = written.index_close("spx", day)
    checked = 0
    calls = {(e, k): i for i, (e, k, call) in enumerate(zip(c.expiry, c.strike, c.is_call)) if call}
    pairs = [(calls[(e, k)], i) for i, (e, k, call) in enumerate(zip(c.expiry, c.strike, c.is_call)) if not call]
    ci, pi = np.array(pairs).T
    # Slots on the 15-minute grid: every contract's (possibly forward-filled) quote is current there.
    for slot in (0, 60, 195, 375):  # bars 09:30, 10:30, 12:45, 15:45
        t = years_left(day, c.expiry[ci], slot)
        parity = spot[slot] - c.strike[ci] * np.exp(-RATE * t)
        gap = np.abs(dense.mid[ci, slot] - dense.mid[pi, slot] - parity)
        tolerance = (dense.ask[ci, slot] - dense.bid[ci, slot] + dense.ask[pi, slot] - dense.bid[pi, slot]) / 2
        assert np.all(gap <= tolerance + 0.01)
        checked += len(pairs)
    assert checked > 400


def test_quotes_bracket_the_stated_model(written: Written) -> None:
    """bid <= Black-Scholes mid on the documented surface (from the files' own SPX/VIX/VIX9D) <= ask."""
    day = written.info.trading_days[2]
    chain, dense = written.chains[day], written.dense[day]
    c = chain.contracts
    slot = 105  # bar 11:15: on the 15-minute grid every contract's quote is current (fresh or filled)
    assert dense.quote_fresh[:, slot].sum() > len(c) / 2
    spot, vix, vix9d = (written.index_close(t, day)[slot] for t in ("spx", "vix", "vix9d"))
    mid = model_mid(np.full(len(c), spot), c.strike, years_left(day, c.expiry, slot), vix, vix9d, c.is_call)
    slack = 0.03 + 0.002 * mid  # the files round SPX/VIX to 0.01
    assert np.all(dense.bid[:, slot] <= mid + slack) and np.all(mid - slack <= dense.ask[:, slot])
    spread = dense.ask[:, slot] - dense.bid[:, slot]
    assert np.all(spread >= 0.05 - 1e-9) and np.all(spread <= 0.015 * mid + 0.2 + 1e-9)  # + two ticks of widening


def test_skewed_surface_puts_richer_than_calls(written: Written) -> None:
    universe = written.reader.chain_universe(OPT, "spxw", written.info.end)
    assert universe is not None
    spot = universe.underlying.close
    far = (universe.expiry == universe.expiry.max())
    put_wing = far & ~universe.is_call & (universe.strike < spot * 0.96)
    call_wing = far & universe.is_call & (universe.strike > spot * 1.04)
    atm = far & (np.abs(universe.strike - spot) < 30)
    assert universe.implied_volatility[put_wing].min() > universe.implied_volatility[atm].max()
    assert universe.implied_volatility[call_wing].max() < universe.implied_volatility[atm].max()


def test_chain_has_expiries_near_section_9b_targets(written: Written) -> None:
    for day, chain in written.chains.items():
        dte = np.unique((chain.contracts.expiry - np.datetime64(day)).astype(int))
        within_filter = dte[dte <= 45]
        for target in SECTION_9B_TARGETS:
            assert np.abs(within_filter - target).min() <= (3 if target == 45 else 2), (day, target, within_filter)
        if day.weekday() in (0, 2, 4):
            assert 0 in dte  # SPXW Monday/Wednesday/Friday 0DTE
        strikes = np.unique(chain.contracts.strike[(chain.contracts.expiry == chain.contracts.expiry.min())])
        daily = written.reader.daily(IDX, "spx")
        assert daily is not None
        for reference in (daily.previous_close(day), written.index_close("spx", day)[0]):  # filter's, and open
            atm = int(np.argmin(np.abs(strikes - reference)))
            assert atm >= 40 and len(strikes) - atm > 40  # the algorithm's +-40 strikes, 5 points apart
            assert np.all(np.diff(strikes[atm - 40: atm + 41]) == 5.0)


# --- determinism ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["gap-friday"], indirect=True)
def test_same_name_same_bytes(written: Written, tmp_path: Path) -> None:
    first, second = written.info.folder, tmp_path
    write_scenario("gap-friday", second)
    files_a = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 50
    for rel in files_a:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_facts_are_finite(written: Written) -> None:
    facts = written.info.facts
    for name, value in vars(facts).items():
        if isinstance(value, float):
            assert math.isfinite(value), name
