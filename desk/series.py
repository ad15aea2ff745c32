"""The price series the desk follows (underlying, VIX, VIX9D, E-mini, beta reference, breadth members).

One :class:`core.market.SeriesTracker` per series, fed only real bars. At each session start the
previous close of the underlying and the breadth members comes from LEAN's daily history, the others'
from their last bar of the previous session (the E-mini's from its own 16:00 bar, and only when the
same contract is still the front: across a roll the difference would be carry, not a move).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from core.market import Reading, SeriesState, SeriesTracker
from core.settings import Settings
from desk.interface import MarketHistory, SeriesBar

CME_SETTLEMENT = time(16, 0)  # the E-mini bar whose close is the cash session's close


class Series:
    """The trackers by name, and the E-mini's session closes keyed by contract."""

    def __init__(self, settings: Settings) -> None:
        stale = timedelta(minutes=settings.manual.stale_data_minutes)
        u = settings.universe
        self.trackers = {
            "underlying": SeriesTracker(u.underlying, stale),
            "vix": SeriesTracker("VIX", stale),
            "vix9d": SeriesTracker("VIX9D", stale),
            "future": SeriesTracker("ES", stale),
        }
        reference = settings.greeks.beta_reference.upper()
        if reference != u.underlying.upper():
            self.trackers["beta"] = SeriesTracker(reference, stale)
        self.breadth_tickers = settings.friday.breadth_tickers()
        for ticker in self.breadth_tickers:
            self.trackers[f"breadth:{ticker}"] = SeriesTracker(ticker, stale)
        self._future_close: dict[date, tuple[float, str]] = {}

    def __getitem__(self, name: str) -> SeriesTracker:
        return self.trackers[name]

    def state(self, name: str, now: datetime) -> SeriesState:
        return self.trackers[name].state(now)

    def record(self, now: datetime, bars: Iterable[SeriesBar], future_contract: str) -> None:
        for bar in bars:
            tracker = self.trackers.get(bar.name)
            if tracker is None:
                continue
            tracker.record(now, bar.close, bar.bid, bar.ask, bar.volume, bar.open)
            if bar.name == "future" and now.time() == CME_SETTLEMENT:
                self._future_close[now.date()] = (bar.close, future_contract)

    def begin_day(self, day: date, previous_session: date, history: MarketHistory, future_contract: str) -> None:
        daily = ["underlying", *(f"breadth:{t}" for t in self.breadth_tickers)]  # as LEAN history holds them
        closes = {name: history.last_daily_close(name) for name in daily}
        stored = self._future_close.get(previous_session)
        same = stored is not None and stored[1] == future_contract
        closes["future"] = (previous_session, stored[0]) if stored is not None and same else None
        for name, tracker in self.trackers.items():
            tracker.begin_day(day, previous_session, closes.get(name), last_bar_is_close=name != "future")

    def change_pct(self, name: str, now: datetime) -> Reading:
        """Percent change of a series' price vs its previous session close."""
        state = self.state(name, now)
        if state.price.value is None or state.previous_close.value is None:
            return Reading.missing(state.price.reason or state.previous_close.reason)
        return Reading((state.price.value / state.previous_close.value - 1.0) * 100.0)

    def missing_on(self, day: date) -> list[str]:
        return [t.name for t in self.trackers.values() if day not in t.days_with_data]

    def data_age_minutes(self, name: str, now: datetime, session_start: datetime | None, required: bool
                         ) -> float | None:
        """Minutes without a new bar in this session; None for an optional series never seen at all
        (a backtest without VIX data has nothing to be stale)."""
        last = self.trackers[name].last_time
        if last is None and not required:
            return None
        known = [t for t in (last, session_start) if t is not None]
        return (now - max(known)).total_seconds() / 60.0 if known else 0.0
