"""Latest-value cache, the 0DTE move and Greeks limit monitors, and the signal queue."""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import pytest

from streaming.cache import GreeksLimitMonitor, MarketCache, ZeroDteMoveMonitor
from streaming.config import Redactor
from streaming.protocol import Batch
from streaming.signals import ConnectionChanged, ConnectionState, LogLine, SignalQueue
from streaming.timing import NEW_YORK, day_id, in_zero_dte_window

FRIDAY = date(2025, 12, 19)
OPTION = ".SPY251219C500"


class FakeClock:
    """Monotonic and wall time moved by hand."""

    def __init__(self, wall: datetime) -> None:
        self.mono = 1000.0
        self.wall = wall.timestamp()

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def set_wall(self, wall: datetime) -> None:
        self.wall = wall.timestamp()

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def quote_batch(symbol: str, bid: float, ask: float, bid_size: float = 1.0, ask_size: float = 1.0) -> Batch:
    return Batch("Quote", [symbol], ([bid], [ask], [bid_size], [ask_size]))


def summary_batch(symbol: str, open_price: float, day: date, prev_close: float = math.nan) -> Batch:
    return Batch("Summary", [symbol], ([float(day_id(day))], [open_price], [prev_close], [0.0]))


def greeks_batch(symbol: str, delta: float, gamma: float, theta: float = -0.1, vega: float = 0.2) -> Batch:
    return Batch("Greeks", [symbol], ([1.0], [0.2], [delta], [gamma], [theta], [0.0], [vega]))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(ny(FRIDAY, 11))


WANTED = ("SPY", "SPX", OPTION, ".SPY251219P480", ".QQQ251219C500")


@pytest.fixture
def cache(clock: FakeClock) -> MarketCache:
    return MarketCache(clock, WANTED)


def test_quote_snapshot_mid_spread_and_age(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPY", 500.0, 500.2), clock.monotonic())
    clock.advance(2.5)
    quote = cache.quote("SPY")
    assert quote is not None
    assert quote.mid == pytest.approx(500.1) and quote.spread == pytest.approx(0.2)
    assert quote.age_seconds == pytest.approx(2.5)
    assert cache.seconds_since_last_event() == pytest.approx(2.5)
    assert cache.quote("QQQ") is None


def test_nan_and_infinity_fields_keep_the_event(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPX", 5931.2, 5933.1, math.nan, math.inf), clock.monotonic())
    quote = cache.quote("SPX")
    assert quote is not None and quote.bid == 5931.2
    assert math.isnan(quote.bid_size) and math.isnan(quote.ask_size)
    cache.apply(quote_batch("SPX", math.nan, 5933.1), clock.monotonic())
    quote = cache.quote("SPX")
    assert quote is not None and math.isnan(quote.mid) and math.isnan(quote.spread)


def test_last_event_of_a_symbol_in_a_frame_wins(cache: MarketCache, clock: FakeClock) -> None:
    batch = Batch("Quote", ["SPY", "SPY"], ([1.0, 2.0], [1.5, 2.5], [1.0, 1.0], [1.0, 1.0]))
    cache.apply(batch, clock.monotonic())
    quote = cache.quote("SPY")
    assert quote is not None and quote.bid == 2.0


def test_summary_and_latest_price(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(summary_batch("SPX", 5900.0, FRIDAY, prev_close=5880.0), clock.monotonic())
    summary = cache.summary("SPX")
    assert summary is not None and summary.day_open == 5900.0 and summary.prev_close == 5880.0
    assert summary.day_id == day_id(FRIDAY)
    assert math.isnan(cache.latest_price("SPX"))
    cache.apply(Batch("Trade", ["SPX"], ([5910.0], [1.0], [10.0])), clock.monotonic())
    assert cache.latest_price("SPX") == 5910.0  # index: trades only
    clock.advance(1)
    cache.apply(quote_batch("SPX", 5911.0, 5913.0), clock.monotonic())
    assert cache.latest_price("SPX") == 5912.0  # the fresher of mid and last


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        (ny(FRIDAY, 9, 59), False),
        (ny(FRIDAY, 10, 0), True),
        (ny(FRIDAY, 14, 59), True),
        (ny(FRIDAY, 15, 0), False),
        (ny(date(2025, 12, 18), 11), False),  # Thursday
        (ny(date(2025, 7, 18), 10, 30), True),  # Friday in daylight-saving time
    ],
)
def test_zero_dte_window(when: datetime, inside: bool) -> None:
    assert in_zero_dte_window(when) is inside


def test_zero_dte_move_signals_once_per_crossing(cache: MarketCache, clock: FakeClock) -> None:
    monitor = ZeroDteMoveMonitor(cache, threshold_pct=0.5, watch=("SPY", "/ES"))
    monitor.watch_symbols(["SPY", "QQQ", "/ESZ25:XCME", "/MESZ25:XCME"])
    assert monitor.watched == {"SPY", "/ESZ25:XCME"}
    at = datetime.now()
    cache.apply(summary_batch("SPY", 500.0, FRIDAY), clock.monotonic())
    cache.apply(quote_batch("SPY", 502.0, 502.2), clock.monotonic())  # +0.42 %
    assert monitor.evaluate(clock.time(), at) == []
    cache.apply(quote_batch("SPY", 502.9, 503.1), clock.monotonic())  # +0.6 %
    (move,) = monitor.evaluate(clock.time(), at)
    assert move.symbol == "SPY" and move.day_open == 500.0 and move.move_pct == pytest.approx(0.6)
    cache.apply(quote_batch("SPY", 503.9, 504.1), clock.monotonic())
    assert monitor.evaluate(clock.time(), at) == []  # still beyond: no repeat
    cache.apply(quote_batch("SPY", 500.0, 500.2), clock.monotonic())
    assert monitor.evaluate(clock.time(), at) == []  # back inside: re-armed
    cache.apply(quote_batch("SPY", 496.9, 497.1), clock.monotonic())
    (move,) = monitor.evaluate(clock.time(), at)
    assert move.move_pct == pytest.approx(-0.6)


def test_zero_dte_needs_window_and_todays_open(cache: MarketCache, clock: FakeClock) -> None:
    monitor = ZeroDteMoveMonitor(cache, threshold_pct=0.5, watch=("SPY",))
    monitor.watch_symbols(["SPY"])
    at = datetime.now()
    cache.apply(summary_batch("SPY", 500.0, date(2025, 12, 18)), clock.monotonic())  # yesterday's summary
    cache.apply(quote_batch("SPY", 510.0, 510.0), clock.monotonic())
    assert monitor.evaluate(clock.time(), at) == []
    cache.apply(summary_batch("SPY", math.nan, FRIDAY), clock.monotonic())  # no open yet
    assert monitor.evaluate(clock.time(), at) == []
    cache.apply(summary_batch("SPY", 500.0, FRIDAY), clock.monotonic())
    clock.set_wall(ny(FRIDAY, 15, 30))
    assert monitor.measure("SPY", clock.time(), at) is None
    clock.set_wall(ny(FRIDAY, 14, 0))
    assert monitor.measure("SPY", clock.time(), at) is not None


def test_portfolio_greeks_are_position_weighted(cache: MarketCache, clock: FakeClock) -> None:
    monitor = GreeksLimitMonitor(cache, delta_limit=50.0, gamma_limit=10.0)
    monitor.set_positions({OPTION: 2 * 100, ".SPY251219P480": -1 * 100, "SPY": -30, ".QQQ251219C500": 100, "X": 0})
    cache.apply(greeks_batch(OPTION, 0.5, 0.04, theta=-0.2), clock.monotonic())
    cache.apply(greeks_batch(".SPY251219P480", -0.3, 0.02), clock.monotonic())
    book = monitor.portfolio()
    assert book.delta == pytest.approx(200 * 0.5 + -100 * -0.3 - 30)
    assert book.gamma == pytest.approx(200 * 0.04 - 100 * 0.02)
    assert book.theta == pytest.approx(200 * -0.2 - 100 * -0.1)
    assert book.positions_without_greeks == (".QQQ251219C500",)


def test_greeks_warnings_on_crossing_only(cache: MarketCache, clock: FakeClock) -> None:
    monitor = GreeksLimitMonitor(cache, delta_limit=50.0, gamma_limit=10.0)
    at = datetime.now()
    monitor.set_positions({OPTION: 200})
    assert monitor.relevant([OPTION]) and not monitor.relevant(["SPY"])
    cache.apply(greeks_batch(OPTION, 0.2, 0.01), clock.monotonic())  # delta 40, gamma 2
    assert monitor.evaluate(at) == []
    cache.apply(greeks_batch(OPTION, 0.3, 0.06), clock.monotonic())  # delta 60, gamma 12
    warnings = {w.greek: w for w in monitor.evaluate(at)}
    assert warnings["delta"].value == pytest.approx(60) and warnings["delta"].limit == 50
    assert warnings["gamma"].value == pytest.approx(12)
    assert monitor.evaluate(at) == []
    assert len(monitor.breaches(at)) == 2  # the query still reports them
    cache.apply(greeks_batch(OPTION, 0.3, 0.01), clock.monotonic())  # gamma back inside
    assert monitor.evaluate(at) == []
    cache.apply(greeks_batch(OPTION, 0.3, 0.07), clock.monotonic())
    assert [w.greek for w in monitor.evaluate(at)] == ["gamma"]


def test_nan_greeks_count_as_missing(cache: MarketCache, clock: FakeClock) -> None:
    monitor = GreeksLimitMonitor(cache, delta_limit=50.0, gamma_limit=10.0)
    monitor.set_positions({OPTION: 100})
    cache.apply(greeks_batch(OPTION, math.nan, math.nan), clock.monotonic())
    book = monitor.portfolio()
    assert book.delta == 0.0 and book.positions_without_greeks == (OPTION,)


def test_signal_queue_suppresses_repeats_and_redacts(clock: FakeClock) -> None:
    queue = SignalQueue(clock, Redactor(("s3cret-token",)), repeat_interval_seconds=60.0)
    for _ in range(5):
        queue.log("warning", "bad frame with s3cret-token", key="bad")
    clock.advance(61)
    queue.log("warning", "bad frame", key="bad")
    queue.connection(ConnectionState.CONNECTED, "ok")
    signals = queue.drain()
    lines = [s for s in signals if isinstance(s, LogLine)]
    assert [line.message for line in lines] == [
        "bad frame with ***",
        "bad frame (and 4 similar since the last report)",
    ]
    assert isinstance(signals[-1], ConnectionChanged)
    assert queue.drain() == []


def test_signal_queue_is_bounded(clock: FakeClock) -> None:
    queue = SignalQueue(clock, Redactor(), max_items=3)
    for n in range(5):
        queue.log("info", f"line {n}")
    signals = queue.drain()
    assert isinstance(signals[0], LogLine) and "2 stream signals dropped" in signals[0].message
    assert [s.message for s in signals[1:] if isinstance(s, LogLine)] == ["line 2", "line 3", "line 4"]


# ----- a cache bounded by the subscription (issue 17 point 4) and quote age (point 3) ---------------------
def test_only_wanted_symbols_are_cached_and_the_rest_counted(clock: FakeClock) -> None:
    cache = MarketCache(clock, ["SPY"])
    batch = Batch("Quote", ["SPY", "QQQ", "IWM"], ([1.0, 2.0, 3.0], [1.1, 2.1, 3.1], [1.0] * 3, [1.0] * 3))
    assert cache.apply(batch, clock.monotonic()) == 2
    assert cache.symbols("Quote") == ["SPY"] and cache.unrequested_events == 2 and cache.size() == 1
    assert cache.apply(quote_batch("SPY", 5.0, 5.1), clock.monotonic()) == 0
    assert cache.unrequested_events == 2


def test_events_of_unrequested_symbols_alone_are_not_market_events(clock: FakeClock) -> None:
    cache = MarketCache(clock, ["SPY"])
    cache.apply(quote_batch("QQQ", 1.0, 1.1), clock.monotonic())
    assert cache.seconds_since_last_event() is None
    cache.apply(Batch("Quote", [], ([], [], [], [])), clock.monotonic())
    assert cache.seconds_since_last_event() is None


def test_retain_forgets_what_is_no_longer_wanted(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPY", 1.0, 1.1), clock.monotonic())
    cache.apply(quote_batch("SPX", 2.0, 2.1), clock.monotonic())
    cache.apply(greeks_batch(OPTION, 0.5, 0.01), clock.monotonic())
    assert cache.retain(["SPX"]) == 2
    assert cache.quote("SPY") is None and cache.greeks(OPTION) is None and cache.quote("SPX") is not None
    assert cache.apply(quote_batch("SPY", 1.0, 1.1), clock.monotonic()) == 1  # now unrequested
    assert cache.retain(["SPX", "SPY"]) == 0
    cache.apply(quote_batch("SPY", 3.0, 3.1), clock.monotonic())
    assert cache.quote("SPY") is not None


def test_an_old_quote_is_not_served(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPY", 500.0, 500.2), clock.monotonic())
    clock.advance(10.0)
    assert cache.quote("SPY", max_age_seconds=10.0) is not None  # exactly the limit: still served
    clock.advance(0.5)
    assert cache.quote("SPY", max_age_seconds=10.0) is None
    old = cache.quote("SPY")
    assert old is not None and old.age_seconds == pytest.approx(10.5)


def test_latest_price_ignores_stale_quote_and_trade(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPX", 5911.0, 5913.0), clock.monotonic())
    clock.advance(5.0)
    cache.apply(Batch("Trade", ["SPX"], ([5920.0], [1.0], [10.0])), clock.monotonic())
    clock.advance(5.0)
    assert cache.latest_price("SPX", max_age_seconds=6.0) == 5920.0
    assert cache.latest_price("SPX", max_age_seconds=5.0) == 5920.0  # the trade is exactly 5 s old
    cache.apply(quote_batch("SPX", 5921.0, 5923.0), clock.monotonic())  # a fresher quote wins
    assert cache.latest_price("SPX", max_age_seconds=5.0) == 5922.0
    clock.advance(6.0)
    assert math.isnan(cache.latest_price("SPX", max_age_seconds=5.0))
    assert cache.latest_price("SPX") == 5922.0


def test_a_stale_price_fakes_no_0dte_move(cache: MarketCache, clock: FakeClock) -> None:
    monitor = ZeroDteMoveMonitor(cache, threshold_pct=0.5, watch=("SPY",), max_price_age_seconds=30.0)
    monitor.watch_symbols(["SPY"])
    cache.apply(summary_batch("SPY", 500.0, FRIDAY), clock.monotonic())
    cache.apply(quote_batch("SPY", 505.0, 505.2), clock.monotonic())
    clock.advance(31.0)
    assert monitor.measure("SPY", clock.time(), datetime.now()) is None
    cache.apply(quote_batch("SPY", 505.0, 505.2), clock.monotonic())
    assert monitor.measure("SPY", clock.time(), datetime.now()) is not None


def test_signal_lines_are_redacted_then_clipped(clock: FakeClock) -> None:
    secret = "S" * 40
    queue = SignalQueue(clock, Redactor((secret,)))
    queue.log("warning", "x" * 280 + secret + "y" * 100)
    queue.connection(ConnectionState.RECONNECTING, "z" * 290 + secret)
    line, change = queue.drain()
    assert isinstance(line, LogLine) and isinstance(change, ConnectionChanged)
    assert line.message == "x" * 280 + "***" + "y" * 16 + "…" and len(line.message) == 300
    assert change.reason == "z" * 290 + "***"
    assert "SSSS" not in line.message + change.reason


# ----- what the mutation run of cache.py left alive ------------------------------------------------------
def test_snapshots_are_immutable_slotted_values(cache: MarketCache, clock: FakeClock) -> None:
    """They cross from the stream's cache to the algorithm thread: frozen, so no one changes them under
    a reader; slotted, so thousands of them per bar cost no dictionaries."""
    now = clock.monotonic()
    cache.apply(quote_batch("SPY", 1.0, 1.1), now)
    cache.apply(Batch("Trade", ["SPY"], ([1.0], [1.0], [1.0])), now)
    cache.apply(greeks_batch(OPTION, 0.5, 0.01), now)
    cache.apply(summary_batch("SPY", 1.0, FRIDAY), now)
    monitor = GreeksLimitMonitor(cache, delta_limit=50.0, gamma_limit=10.0)
    values = [cache.quote("SPY"), cache.trade("SPY"), cache.greeks(OPTION), cache.summary("SPY"), monitor.portfolio()]
    for value in values:
        assert value is not None
        with pytest.raises(AttributeError):
            object.__getattribute__(value, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, "X")


def test_latest_price_takes_the_fresher_of_mid_and_last(cache: MarketCache, clock: FakeClock) -> None:
    cache.apply(quote_batch("SPX", 5911.0, 5913.0), clock.monotonic())
    clock.advance(1.0)
    cache.apply(Batch("Trade", ["SPX"], ([5920.0], [1.0], [1e12])), clock.monotonic())  # a huge day volume
    assert cache.latest_price("SPX") == 5920.0  # the trade is fresher
    clock.advance(1.0)
    cache.apply(quote_batch("SPX", 5921.0, 5923.0), clock.monotonic())
    assert cache.latest_price("SPX") == 5922.0  # now the quote is (the volume is not a time)
    clock.advance(1.0)
    cache.apply(Batch("Trade", ["SPX"], ([math.nan], [1.0], [1.0])), clock.monotonic())
    assert cache.latest_price("SPX") == 5922.0  # a fresher trade without a price does not hide the mid


def test_the_move_rule_accepts_any_positive_open(cache: MarketCache, clock: FakeClock) -> None:
    monitor = ZeroDteMoveMonitor(cache, threshold_pct=0.5, watch=("SPY",))
    monitor.watch_symbols(["SPY"])
    cache.apply(summary_batch("SPY", 0.8, FRIDAY), clock.monotonic())
    cache.apply(quote_batch("SPY", 0.81, 0.81), clock.monotonic())
    move = monitor.measure("SPY", clock.time(), datetime.now())
    assert move is not None and move.move_pct == pytest.approx(1.25)
    cache.apply(summary_batch("SPY", 0.0, FRIDAY), clock.monotonic())
    assert monitor.measure("SPY", clock.time(), datetime.now()) is None


def test_relevance_is_about_the_watched_symbols() -> None:
    cache = MarketCache(FakeClock(ny(FRIDAY, 11)), ["SPY", "QQQ"])
    moves = ZeroDteMoveMonitor(cache, threshold_pct=0.5, watch=("SPY",))
    assert not moves.relevant(["SPY"])  # nothing watched yet
    moves.watch_symbols(["SPY", "QQQ"])
    assert moves.relevant(["QQQ", "SPY"]) and not moves.relevant(["QQQ"])
    greeks = GreeksLimitMonitor(cache, delta_limit=1.0, gamma_limit=1.0)
    assert not greeks.relevant([OPTION])
    greeks.set_positions({OPTION: 100})
    assert greeks.relevant([OPTION]) and not greeks.relevant(["SPY"])


def test_book_greeks_sum_every_greek_and_skip_what_is_not_finite(cache: MarketCache, clock: FakeClock) -> None:
    monitor = GreeksLimitMonitor(cache, delta_limit=50.0, gamma_limit=10.0)
    put, qqq = ".SPY251219P480", ".QQQ251219C500"
    monitor.set_positions({OPTION: 100, put: -100, qqq: 100})
    # row: price, volatility, delta, gamma, theta, rho, vega
    cache.apply(Batch("Greeks", [OPTION], ([1.0], [0.2], [0.5], [0.04], [-0.2], [0.1], [0.3])), clock.monotonic())
    cache.apply(Batch("Greeks", [put], ([1.0], [0.2], [-0.3], [0.02], [math.nan], [0.1], [math.nan])), clock.monotonic())
    book = monitor.portfolio()
    assert book.delta == pytest.approx(100 * 0.5 + 100 * 0.3)
    assert book.gamma == pytest.approx(100 * 0.04 - 100 * 0.02)
    assert book.theta == pytest.approx(100 * -0.2)  # the put's NaN theta adds nothing
    assert book.vega == pytest.approx(100 * 0.3)  # nor its NaN vega
    assert book.positions_without_greeks == (qqq,)
    cache.apply(Batch("Greeks", [OPTION], ([1.0], [0.2], [math.nan], [0.04], [-0.2], [0.1], [0.3])), clock.monotonic())
    cache.apply(Batch("Greeks", [put], ([1.0], [0.2], [-0.3], [math.nan], [-0.1], [0.1], [0.2])), clock.monotonic())
    book = monitor.portfolio()
    assert book.positions_without_greeks == (OPTION, put, qqq)  # NaN delta or NaN gamma: not measured
    assert (book.delta, book.gamma, book.theta, book.vega) == (0.0, 0.0, 0.0, 0.0)
