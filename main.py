"""Tom King options framework on LEAN: the only file that talks to LEAN.

``initialize`` reads the LEAN parameters into one typed settings object, subscribes the underlying
(SPX index with SPXW weeklies by default, or an equity such as SPY), its option chain (weeklies and
0DTE included), VIX, VIX9D and the E-mini S&P 500 future with extended hours, and builds the five
components. Each bar, ``on_data`` turns the slice into plain values once and runs the spec's order of
work: health check, Progressive Friday, Greeks monitor, Section 9B. Every order goes through
:meth:`TomKingFramework.submit_order`, the single gate that asks ManualModeFallback first.
"""
from __future__ import annotations

# region imports
from AlgorithmImports import *
# endregion
import builtins
import dataclasses
import json
import math
import re

import numpy as np
from datetime import date, datetime, time, timedelta
from typing import Any

from analysis import friday_signals as signals
from analysis.friday_outcome import FridayRecord, reference_condor, summarize
from analysis.progressive_friday import FridayAnalysis, FridayInputs, ProgressiveFridayAnalysis
from core.market import ChainColumns, MarketSnapshot, ContractSpec, BookPosition, Reading, SeriesTracker
from core.orders import OrderIntent
from core.settings import Settings, load_settings
from pricing.chain import PricingInputs, greeks_for, usable_mid
from risk.greeks_monitor import GreeksMonitor, PortfolioGreeks
from core.store_keys import friday_history_key, manual_mode_key
from risk.manual_mode import AutomationState, Effects, HealthInputs, ManualModeFallback
from risk.webhook import WebhookAlerter
from strategies.management import ExitRules, TradeBook, mark_net
from strategies.management import Trade as OpenTrade
from strategies.section9b import Section9BStrategies, StrategyAnalysis
from strategies.zero_dte import plan_zero_dte


class TomKingFramework(QCAlgorithm):
    """One algorithm wiring ManualModeFallback, TastytradeWebSocket, GreeksMonitor,
    ProgressiveFridayAnalysis and Section9BStrategies into LEAN's event handlers."""

    def initialize(self) -> None:
        self.cfg: Settings = load_settings(self._read_parameter)
        universe = self.cfg.universe
        self.set_start_date(universe.start_date.year, universe.start_date.month, universe.start_date.day)
        self.set_end_date(universe.end_date.year, universe.end_date.month, universe.end_date.day)
        self.set_cash(universe.cash)
        self.set_time_zone(TimeZones.NEW_YORK)
        if universe.brokerage_model == "tastytrade":
            self.set_brokerage_model(BrokerageName.TASTYTRADE, AccountType.MARGIN)
        self._subscribe()
        self._build_components()
        self.log(f"[OK] All critical features initialized: {universe.underlying} ({universe.underlying_type}) "
                 f"options {universe.option_ticker}, {universe.start_date}..{universe.end_date}")

    # --- set-up ---------------------------------------------------------------------------

    def _read_parameter(self, name: str) -> str | None:
        value = self.get_parameter(name)
        return None if value is None else str(value)

    def _subscribe(self) -> None:
        universe = self.cfg.universe
        if universe.underlying_type == "index":
            self.underlying_symbol = self.add_index(universe.underlying, Resolution.MINUTE).symbol
            option = self.add_index_option(self.underlying_symbol, universe.option_ticker, Resolution.MINUTE)
        else:
            self.underlying_symbol = self.add_equity(universe.underlying, Resolution.MINUTE).symbol
            option = self.add_option(self.underlying_symbol, universe.option_ticker, Resolution.MINUTE)
        strikes, days = universe.strikes_around_atm, universe.max_expiry_days
        option.set_filter(lambda u: u.include_weeklys().strikes(-strikes, strikes).expiration(0, days))
        self.option_symbol = option.symbol
        self.vix_symbol = self.add_index("VIX", Resolution.MINUTE).symbol
        self.vix9d_symbol = self.add_index("VIX9D", Resolution.MINUTE).symbol
        self.future: Future | None = None
        if universe.futures_enabled:
            self.future = self.add_future(
                Futures.Indices.SP_500_E_MINI, Resolution.MINUTE, extended_market_hours=True,
                data_mapping_mode=DataMappingMode.OPEN_INTEREST,
                data_normalization_mode=DataNormalizationMode.RAW, contract_depth_offset=0)
            self.future.set_filter(0, 182)
        self.beta_symbol: Symbol | None = None
        reference = self.cfg.greeks.beta_reference
        if reference.upper() != universe.underlying.upper():
            self.beta_symbol = self.add_equity(reference, Resolution.MINUTE).symbol
        self.breadth_symbols = {t: self.add_equity(t, Resolution.MINUTE).symbol
                                for t in self.cfg.friday.breadth_tickers()}
        self.dividend_yield_model = DividendYieldProvider(self.underlying_symbol)
        self.set_benchmark(self.underlying_symbol)

    def _build_components(self) -> None:
        stale = timedelta(minutes=self.cfg.manual.stale_data_minutes)
        self.trackers = {
            "underlying": SeriesTracker(self.cfg.universe.underlying, stale),
            "vix": SeriesTracker("VIX", stale),
            "vix9d": SeriesTracker("VIX9D", stale),
            "future": SeriesTracker("ES", stale),
        }
        if self.beta_symbol is not None:
            self.trackers["beta"] = SeriesTracker(self.cfg.greeks.beta_reference.upper(), stale)
        for ticker in self.breadth_symbols:
            self.trackers[f"breadth:{ticker}"] = SeriesTracker(ticker, stale)
        self._opening_baseline: list[float] = []
        self._opening_volume_today = 0.0
        self._future_session_close: dict[date, tuple[float, str]] = {}
        self._friday_records: list[FridayRecord] = []
        self._friday_saved: list[Any] = self._load_friday_history()
        self._friday_pending: FridayRecord | None = None
        self._contracts: dict[Symbol, ContractSpec] = {}
        self._last_quote: dict[Symbol, datetime] = {}  # time of each contract's last real quote
        self._symbols: dict[ContractSpec, Symbol] = {}
        self._chain_quotes_today = 0
        self._option_volume = {"call": 0.0, "put": 0.0}  # contracts traded today, from real trade bars
        self._day: date | None = None
        self._last_messages: dict[str, str] = {}
        self._max_abs_delta, self._min_theta, self._opportunities_seen = 0.0, 0.0, 0
        self._active_hedges: set[str] = set()
        self.friday_analysis: FridayAnalysis | None = None
        self._session_start: datetime | None = None
        self._stream_down_since: datetime | None = None
        self.webhook = WebhookAlerter(self.cfg.manual.alert_webhook_url) \
            if self.live_mode and self.cfg.manual.alert_webhook_url else None
        self.manual_mode = ManualModeFallback(self.cfg.manual, Effects(
            log=self.log, cancel_open_orders=self._cancel_open_orders, alert=self._alert,
            save=self._save_manual_record), greeks_breaches_to_trigger=self.cfg.greeks.breaches_for_manual)
        self._restore_manual_record()
        self.greeks_monitor = GreeksMonitor(
            self.cfg.greeks, on_multiple_breaches=self._greeks_breach, log=self.log)
        self.progressive_friday = ProgressiveFridayAnalysis(self.cfg.friday)
        self.section9b = Section9BStrategies(self.cfg.section9b)
        s9b = self.cfg.section9b
        self.trades = TradeBook(ExitRules(s9b.zero_dte_exit, s9b.close_days_before_expiry, s9b.close_time,
                                          timedelta(minutes=s9b.entry_timeout_minutes)))
        self._suggested_today: set[str] = set()
        self._verdict_log: dict[str, tuple[bool, str, datetime]] = {}
        self._zero_dte_results: list[tuple[str, float, float]] = []  # (group, credit/share, P&L $)
        self._last_snapshot: MarketSnapshot | None = None
        self.websocket: Any = None
        if self.live_mode:
            self._start_stream()
        else:
            self.log("WebSocket streaming disabled in backtest mode")

    def _start_stream(self) -> None:
        """Live only: tastytrade's DXLink stream in a background thread (it never calls LEAN)."""
        from streaming import ConfigError, TastytradeWebSocket

        symbols = [self.cfg.universe.underlying, "VIX", "VIX9D"]
        try:
            self.websocket = TastytradeWebSocket.from_settings(self.cfg.streaming, symbols)
        except ConfigError as exc:  # LEAN's own live feed still runs; the stream is unavailable
            self.error(f"[WebSocket] not started: {exc}")
            return
        self.websocket.connect()
        self.log(f"[WebSocket] streaming started for {', '.join(symbols)}")
        # between minute bars, a 0DTE move signal from the stream can trigger the entry check
        self.schedule.on(self.date_rules.every_day(self.underlying_symbol), self.time_rules.every(timedelta(seconds=20)),
                         self._stream_tick)

    def _stream_tick(self) -> None:
        """Scheduled in live mode: drain the stream; a 0DTE move re-runs the entry check on the last bar's
        snapshot (its chain quotes are the last bar's; the move is the stream's)."""
        moved = self._drain_stream()
        if moved and self._last_snapshot is not None and self._last_snapshot.today == self.time.date():
            self._run_zero_dte(self._last_snapshot)

    def _drain_stream(self) -> bool:
        """Handle what the stream and webhook threads queued (on the algorithm thread, where LEAN may be called)."""
        if self.webhook is not None:
            for failure in self.webhook.drain_failures():
                self.error(f"[ALERT] {failure}")
        if self.websocket is None:
            return False
        moved = False
        for signal in self.websocket.drain_signals():
            kind = type(signal).__name__
            if kind == "LogLine":
                (self.error if signal.level == "error" else self.log)(f"[WebSocket] {signal.message}")
            elif kind == "ConnectionChanged":
                self.log(f"[WebSocket] {signal.state.value}: {signal.reason}")
            elif kind == "ZeroDteMove":
                moved = True
                self.log(f"[0DTE SIGNAL] {signal.symbol} moved {signal.move_pct:+.2f}% from the open "
                         f"{signal.day_open:.2f} - CHECK ENTRY")
            elif kind == "GreeksWarning":
                self.log(f"[GREEKS WARNING] Portfolio {signal.greek.capitalize()}: {signal.value:.2f} "
                         f"(limit {signal.limit:g}, real-time)")
        return moved

    def _sync_stream_positions(self) -> None:
        """Tell the stream what is held (streamer symbol -> signed quantity x multiplier)."""
        if self.websocket is None:
            return
        from streaming.symbols import occ_to_streamer_symbol

        held: dict[str, float] = {}
        for position in self._positions():
            symbol = self._symbols.get(position.contract) if position.contract is not None else None
            name = occ_to_streamer_symbol(symbol.value) if symbol is not None else position.name
            held[name] = position.quantity * position.multiplier
        self.websocket.set_positions(held)

    # --- effects handed to components -------------------------------------------------------

    def _cancel_open_orders(self) -> None:
        self.transactions.cancel_open_orders()

    def _alert(self, subject: str, body: str) -> None:
        """Log the alert; in live mode also send it to the configured LEAN notify targets (delivered by
        QuantConnect's cloud) and the webhook (for local ``lean live deploy``, where notify sends nothing)."""
        self.log(f"[ALERT] {subject}: {body}")
        if not self.live_mode:
            return
        m = self.cfg.manual
        for address in _listed(m.alert_emails):
            self.notify.email(address, subject, body)
        for phone in _listed(m.alert_sms):
            self.notify.sms(phone, f"{subject}: {body}")
        if m.alert_telegram_chat_id:
            self.notify.telegram(m.alert_telegram_chat_id, f"{subject}: {body}")
        if m.alert_web_url:
            self.notify.web(m.alert_web_url, json.dumps({"subject": subject, "body": body}))
        if self.webhook is not None:
            self.webhook.send(subject, body)

    def _greeks_breach(self, reason: str) -> None:
        self.manual_mode.escalate(AutomationState[self.cfg.manual.state_greeks], reason, self.time)

    def _save_manual_record(self, text: str) -> None:
        self.object_store.save(manual_mode_key(self.live_mode), text)

    def _restore_manual_record(self) -> None:
        """Live: restore the saved state before any order can be sent. Backtests start AUTOMATIC and
        write their own key, so they never inherit or overwrite the live record."""
        key = manual_mode_key(self.live_mode)
        if not self.live_mode:
            self.log(f"[MANUAL MODE] backtest starts AUTOMATIC; transitions are saved under {key}")
            return
        text = self.object_store.read(key) if self.object_store.contains_key(key) else None
        self.manual_mode.restore(text, self.time)

    # --- per bar ----------------------------------------------------------------------------

    def on_data(self, slice: Slice) -> None:
        """Run one bar; an unexpected error halts automation (fail closed) instead of crashing LEAN."""
        try:
            self._on_bar(slice)
        except builtins.Exception as exc:  # noqa: BLE001 - any bug here must stop trading, not the algorithm
            self.error(f"on_data failed at {self.time}: {exc!r}")
            self.manual_mode.activate_manual_mode(f"Internal error in on_data: {exc!r}", self.time)

    def _on_bar(self, slice: Slice) -> None:
        now = self.time
        self._drain_stream()
        underlying = self.securities[self.underlying_symbol]
        hours = underlying.exchange.hours
        # LEAN's market hours are in the exchange's own time zone (Chicago for SPX): ask with its clock
        if not hours.is_open(underlying.local_time - timedelta(minutes=1), False):
            self._record_series(slice, now)  # extended-hours E-mini bars: data only, no trading logic
            return
        if self._day != now.date():
            previous = hours.get_previous_trading_day(datetime.combine(now.date(), time(0, 0)))
            self._start_day(now.date(), previous.date())
            self._session_start = now - timedelta(minutes=1)
        self._record_series(slice, now)
        held = {h.symbol for h in self.portfolio.values() if h.invested}
        chain = self._chain_columns(slice, held)
        snap = self._snapshot(now, chain)
        self._last_snapshot = snap
        book = self._book_greeks(snap) if snap.positions else None
        self.manual_mode.check_automation_health(now, self._health(now, snap, book))
        if snap.is_friday() and (snap.has_same_day_expiry() or not len(snap.chain)):
            self._run_friday(snap)  # without option data the same-day expiry cannot be checked
        if book is not None:
            self._run_greeks(snap, book)
        self._manage_trades(snap)
        self._run_zero_dte(snap)
        self._run_section9b(snap)

    def _health(self, now: datetime, snap: MarketSnapshot, book: PortfolioGreeks | None) -> HealthInputs:
        """What the fallback's triggers measure this bar."""
        unmeasurable = None
        if book is not None and book.missing:  # fail closed: a book we cannot measure must not trade
            unmeasurable = (f"Greeks unavailable for {', '.join(book.missing)} (underlying price "
                            f"{snap.underlying.price.describe()})")
        return HealthInputs(
            vix=snap.vix.price,
            portfolio_delta=book.delta_reading() if book is not None else Reading(0.0),
            underlying_data_age_minutes=self._data_age(self.trackers["underlying"], now, required=True),
            vix_data_age_minutes=self._data_age(self.trackers["vix"], now, required=False),
            websocket_down_seconds=self._stream_down_seconds(now),
            greeks_breaches=tuple(self.greeks_monitor.limit_alerts(book)) if book is not None and not book.missing
            else (),
            greeks_unavailable=unmeasurable)

    def _data_age(self, tracker: SeriesTracker, now: datetime, required: bool) -> float | None:
        """Minutes without a new bar in this session; None for an optional series never seen at all
        (a backtest without VIX data has nothing to be stale)."""
        last = tracker.last_time
        if last is None and not required:
            return None
        known = [t for t in (last, self._session_start) if t is not None]
        return (now - max(known)).total_seconds() / 60.0 if known else 0.0

    def _stream_down_seconds(self, now: datetime) -> float | None:
        """Live only: how long the DXLink stream has not been connected (None in backtests)."""
        if not self.live_mode or self.websocket is None:
            return None  # backtest, or no stream configured (LEAN's own live feed is the data)
        connected = self.websocket.is_connected
        if connected:
            self._stream_down_since = None
            return 0.0
        if self._stream_down_since is None:
            self._stream_down_since = now
        return (now - self._stream_down_since).total_seconds()

    def _start_day(self, day: date, previous_session: date) -> None:
        if self._day is not None:
            self._report_day(self._day)
        self._day, self._chain_quotes_today, self.friday_analysis = day, 0, None
        self._option_volume = {"call": 0.0, "put": 0.0}
        self._suggested_today = set()
        self._finish_friday()
        closes = {"underlying": self._last_daily_close(self.underlying_symbol)}
        closes |= {f"breadth:{t}": self._last_daily_close(s) for t, s in self.breadth_symbols.items()}
        stored = self._future_session_close.get(previous_session)
        # only the same contract's close: across a roll the difference would be carry, not a move
        same = stored is not None and stored[1] == self._front_contract()
        closes["future"] = (previous_session, stored[0]) if stored is not None and same else None
        for name, tracker in self.trackers.items():
            tracker.begin_day(day, previous_session, closes.get(name), last_bar_is_close=name != "future")
        self._opening_volume_today = 0.0
        self._opening_baseline = self._opening_volumes(self.underlying_symbol) if day.weekday() == 4 else []

    def _last_daily_close(self, symbol: Symbol) -> tuple[date, float] | None:
        """(session date, close) of the latest daily bar in LEAN history, None when there is none.

        LEAN stamps a history row with the bar's end time (the close, or midnight after it), so the
        session is the date one second before that stamp."""
        frame = self.history(symbol, 2, Resolution.DAILY)
        if frame is None or frame.empty or "close" not in frame:
            return None
        stamp = frame.index[-1][-1] if isinstance(frame.index[-1], tuple) else frame.index[-1]
        return (stamp - timedelta(seconds=1)).date(), float(frame["close"].iloc[-1])

    def _record_series(self, slice: Slice, now: datetime) -> None:
        """Feed real (not fill-forward) bars to the trackers."""
        sources = [("underlying", self.underlying_symbol), ("vix", self.vix_symbol), ("vix9d", self.vix9d_symbol)]
        if self.future is not None:
            sources.append(("future", self.future.symbol))  # the continuous front contract
        if self.beta_symbol is not None:
            sources.append(("beta", self.beta_symbol))
        sources += [(f"breadth:{ticker}", symbol) for ticker, symbol in self.breadth_symbols.items()]
        for name, symbol in sources:
            if not slice.bars.contains_key(symbol):
                continue
            bar = slice.bars[symbol]
            if bar.is_fill_forward:
                continue
            bid = ask = float("nan")
            if slice.quote_bars.contains_key(symbol):
                quote = slice.quote_bars[symbol]
                bid = float(quote.bid.close) if quote.bid is not None else bid
                ask = float(quote.ask.close) if quote.ask is not None else ask
            self.trackers[name].record(now, float(bar.close), bid, ask, float(bar.volume), float(bar.open))
            if name == "underlying" and now.time() <= self._opening_window_end():
                self._opening_volume_today += float(bar.volume)
            elif name == "future" and now.time() == time(16, 0):  # CME equity-index settlement time
                self._future_session_close[now.date()] = (float(bar.close), self._front_contract())

    def _front_contract(self) -> str:
        """The E-mini contract the continuous series maps to now (LEAN's ``mapped``)."""
        return str(self.future.mapped) if self.future is not None else ""

    def _opening_window_end(self) -> time:
        minutes = 9 * 60 + 30 + self.cfg.friday.opening_minutes
        return time(minutes // 60, minutes % 60)

    def _opening_volumes(self, symbol: Symbol) -> list[float]:
        """First-window volume of each of the last N sessions from LEAN minute history (bars stamped
        at their end, so the window is (09:30, 09:30 + N minutes])."""
        sessions = self.cfg.friday.volume_sessions
        frame = self.history(symbol, timedelta(days=sessions * 7 // 5 + 7), Resolution.MINUTE)
        if frame is None or frame.empty or "volume" not in frame:
            return []
        stamps = [ts[-1] if isinstance(ts, tuple) else ts for ts in frame.index]
        end = self._opening_window_end()
        per_day: dict[date, float] = {}
        for stamp, volume in zip(stamps, frame["volume"].tolist()):
            if time(9, 30) < stamp.time() <= end and stamp.date() < self.time.date():
                per_day[stamp.date()] = per_day.get(stamp.date(), 0.0) + float(volume)
        return [per_day[d] for d in sorted(per_day)][-sessions:]

    def _chain_columns(self, slice: Slice, held: set[Symbol]) -> ChainColumns:
        """The option chain as column arrays, counting today's traded call/put volume on the way.

        LEAN's model IV is read only for held contracts (LEAN evaluates it lazily, and it is only a
        fallback for a position whose quote is unusable)."""
        chain = slice.option_chains.get(self.option_symbol)
        if chain is None:
            return ChainColumns.empty()
        contracts: list[ContractSpec] = []
        quotes: list[tuple[float, ...]] = []
        bars, quote_bars, now = slice.bars, slice.quote_bars, self.time
        for lean_contract in chain:
            contract = self._contract_for(lean_contract)
            contracts.append(contract)
            symbol = lean_contract.symbol
            if quote_bars.contains_key(symbol) and not quote_bars[symbol].is_fill_forward:
                self._last_quote[symbol] = now
            seen = self._last_quote.get(symbol)
            age = (now - seen).total_seconds() / 60.0 if seen is not None else float("nan")
            if bars.contains_key(lean_contract.symbol):  # a real trade this minute adds to today's volume
                bar = bars[lean_contract.symbol]
                if not bar.is_fill_forward:
                    self._option_volume["call" if contract.is_call else "put"] += float(bar.volume)
            quotes.append((*_quote_row(lean_contract, symbol in held), age))
        self._chain_quotes_today += len(contracts)
        return ChainColumns.from_rows(contracts, quotes)

    def _contract_for(self, lean_contract: Any) -> ContractSpec:
        return self._contracts.get(lean_contract.symbol) or self._contract_from_symbol(lean_contract.symbol)

    def _contract_from_symbol(self, symbol: Symbol) -> ContractSpec:
        """Our contract identity from LEAN's security identifier (also for holdings never in the chain)."""
        sid = symbol.id
        root = str(sid.symbol).upper()
        contract = ContractSpec(
            underlying=self.cfg.universe.underlying, root=root, expiry=sid.date.date(),
            strike=float(sid.strike_price), is_call=sid.option_right == OptionRight.CALL,
            multiplier=float(self.securities[symbol].symbol_properties.contract_multiplier),
            settles_at_open=self.cfg.universe.underlying_type == "index" and root == "SPX")
        self._contracts[symbol], self._symbols[contract] = contract, symbol
        return contract

    def _positions(self, underlying_price: float = float("nan")) -> tuple[BookPosition, ...]:
        """Holdings with their multipliers; options carry the underlying's current price."""
        held = []
        for holding in self.portfolio.values():
            if not holding.invested:
                continue
            symbol = holding.symbol
            multiplier = float(self.securities[symbol].symbol_properties.contract_multiplier)
            contract = self._contracts.get(symbol)
            if contract is None and symbol.security_type in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
                contract = self._contract_from_symbol(symbol)
            if contract is not None:
                held.append(BookPosition(str(symbol), float(holding.quantity), multiplier, contract,
                                         contract.underlying, underlying_price))
            else:
                price = float(self.securities[symbol].price)
                held.append(BookPosition(str(symbol), float(holding.quantity), multiplier, None, str(symbol),
                                         price if price > 0 else float("nan")))
        return tuple(held)

    def _snapshot(self, now: datetime, chain: ChainColumns) -> MarketSnapshot:
        states = {name: tracker.state(now) for name, tracker in self.trackers.items()}
        return MarketSnapshot(
            time=now,
            underlying=states["underlying"], vix=states["vix"], vix9d=states["vix9d"], future=states["future"],
            chain=chain, positions=self._positions(_or_nan(states["underlying"].price)),
            portfolio_value=float(self.portfolio.total_portfolio_value))

    # --- the four stages ----------------------------------------------------------------------

    def _run_friday(self, snap: MarketSnapshot) -> None:
        f = self.cfg.friday
        future = self.trackers["future"].state(snap.time)
        breadth = {t: _change_pct(self.trackers[f"breadth:{t}"].state(snap.time)) for t in self.breadth_symbols}
        inputs = FridayInputs(
            gap_pct=signals.gap_pct(snap.underlying.previous_close, snap.underlying.day_open),
            volume_ratio=signals.opening_volume_ratio(
                snap.time, self._opening_window_end(), self._opening_volume_today, self._opening_baseline,
                f.volume_sessions),
            vix9d=snap.vix9d.price, vix=snap.vix.price,
            put_call_ratio=signals.put_call_ratio(self._option_volume["put"], self._option_volume["call"]),
            breadth=signals.advance_decline(breadth, "sector SPDR proxy"),
            premarket_move_pct=signals.premarket_move_pct(future.day_open, future.previous_close))
        analysis = self.progressive_friday.analyze_friday_pattern(snap.time, inputs)
        previous = self.friday_analysis
        if previous is None or (analysis.is_progressive, analysis.confidence) != (
                previous.is_progressive, previous.confidence):
            self.log(analysis.render())
            if analysis.is_progressive:
                params = self.progressive_friday.get_enhanced_0dte_parameters(True)
                self.log(f"[Progressive Friday] Adjusting parameters: {params}")
        self.friday_analysis = analysis
        self.set_runtime_statistic(
            f"Progressive Friday {snap.today}",
            f"{analysis.score:g}/10 {analysis.confidence} ({len(analysis.available_signals())}/6 signals)")
        if self._friday_pending is None and snap.time.time() >= f.decision_time and snap.underlying.price.value:
            condor = reference_condor(snap.chain, self._pricing_inputs(snap), f.outcome_short_delta, f.outcome_wing_pct)
            self._friday_pending = FridayRecord.from_analysis(analysis, condor)
            self.log(f"[Progressive Friday] recorded at {snap.time:%H:%M}: score {analysis.score:g}; reference "
                     f"condor {condor if isinstance(condor, str) else _describe_condor(condor)}")

    def _load_friday_history(self) -> list[Any]:
        """Live: the Fridays recorded by earlier deployments (kept, never overwritten). Backtests start empty."""
        key = friday_history_key(self.live_mode)
        if not self.live_mode or not self.object_store.contains_key(key):
            return []
        try:
            saved = json.loads(self.object_store.read(key))
        except ValueError as exc:
            self.error(f"[Progressive Friday] stored history unreadable ({exc}); starting a new one beside it")
            self.object_store.save(key + ".unreadable", self.object_store.read(key))
            return []
        return saved if isinstance(saved, list) else []

    def _finish_friday(self) -> None:
        """Settle the recorded Friday against that day's close, store it, update the statistics."""
        record, self._friday_pending = self._friday_pending, None
        if record is None:
            return
        record.close = self.trackers["underlying"].last_close_on(record.day)
        self._friday_records.append(record)
        self.object_store.save(friday_history_key(self.live_mode), json.dumps(
            self._friday_saved + [r.to_record() for r in self._friday_records], sort_keys=True))
        for label, text in summarize(self._friday_records).items():
            self.set_runtime_statistic(label, text)
        pnl = "n/a" if record.pnl_dollars is None else f"${record.pnl_dollars:,.2f}"
        self.log(f"[Progressive Friday] {record.day}: close {record.close}, won {record.won}, "
                 f"within short strikes {record.closed_within_shorts}, P&L {pnl} per 1-lot")

    def _pricing_inputs(self, snap: MarketSnapshot) -> PricingInputs:
        """Spot, LEAN's risk-free rate and dividend yield, and the exercise style for the pricing core."""
        return PricingInputs(
            now=snap.time, spot=snap.underlying.price.value,
            rate=float(self.risk_free_interest_rate_model.get_interest_rate(snap.time)),
            dividend_yield=float(self.dividend_yield_model.get_dividend_yield(snap.time)),
            american=self.cfg.universe.underlying_type == "equity",
            max_quote_age_minutes=self.cfg.greeks.max_quote_age_minutes)

    def _book_greeks(self, snap: MarketSnapshot) -> PortfolioGreeks:
        """The book's Greeks: IV from live mids by the pricing core, LEAN's rate and dividend yield."""
        held = [p.contract for p in snap.positions if p.contract is not None]
        greeks = greeks_for(held, snap.chain, self._pricing_inputs(snap))
        reference = self.trackers["beta"].state(snap.time).price if "beta" in self.trackers else \
            snap.underlying.price
        return self.greeks_monitor.calculate_portfolio_greeks(snap.positions, greeks, reference)

    def _run_greeks(self, snap: MarketSnapshot, book: PortfolioGreeks) -> None:
        if book.missing:
            return  # partial sums would understate the risk; manual mode already took over
        alerts = self.greeks_monitor.monitor_greeks_limits(book)
        self._max_abs_delta = max(self._max_abs_delta, abs(book.delta_shares))
        self._min_theta = min(self._min_theta, book.theta_dollars_per_day)
        self.set_runtime_statistic("Max |Delta| (shares)", f"{self._max_abs_delta:.2f}")
        self.set_runtime_statistic("Min Theta ($/day)", f"{self._min_theta:.2f}")
        hedges = self.greeks_monitor.suggest_hedge(book, self.cfg.universe.underlying,
                                                   self.cfg.greeks.beta_reference.upper()) if alerts else []
        kinds = {hedge.split(":")[0] for hedge in hedges}
        for hedge in hedges:  # a suggestion is logged when its kind appears, not every minute it persists
            if hedge.split(":")[0] not in self._active_hedges:
                self.log(f"[HEDGE SUGGESTION] {hedge}")
        self._active_hedges = kinds
        if snap.time.minute % self.cfg.greeks.plot_every_minutes == 0:
            self._plot_greeks(book)

    def _plot_greeks(self, book: PortfolioGreeks) -> None:
        self.plot("Portfolio Greeks", "Delta (shares)", book.delta_shares)
        self.plot("Portfolio Greeks", "Gamma (shares/$)", book.gamma_shares)
        self.plot("Portfolio Greeks", "Theta ($/day)", book.theta_dollars_per_day)
        self.plot("Portfolio Greeks", "Vega ($/vol pt)", book.vega_dollars_per_point)
        if book.beta_weighted_delta.value is not None:
            self.plot("Portfolio Greeks", f"Beta-weighted delta ({self.cfg.greeks.beta_reference.upper()} shares)",
                      book.beta_weighted_delta.value)

    def _run_section9b(self, snap: MarketSnapshot) -> None:
        market = self._pricing_inputs(snap) if snap.underlying.price.value is not None else None
        verdicts, opportunities = self.section9b.analyze_all_section9b(snap, market)
        for verdict in verdicts:
            self._log_verdict(verdict, snap.time)
        if opportunities:
            self._opportunities_seen += len(opportunities)
            self.set_runtime_statistic("Section 9B Opportunities", str(self._opportunities_seen))
        best = opportunities[0] if opportunities else None
        if best is not None and best.score >= self.cfg.section9b.execute_min_score:
            self._execute_section9b(best, snap)

    def _run_zero_dte(self, snap: MarketSnapshot) -> None:
        """The Friday 0DTE credit spread with the day's (progressive or normal) parameters, once a day."""
        z = self.cfg.zero_dte
        if not z.enabled or not snap.is_friday() or snap.underlying.price.value is None \
                or any(t.strategy.startswith("0DTE") and t.opened.date() == snap.today for t in self.trades.trades) \
                or "0DTE" in self._suggested_today:
            return
        progressive = bool(self.friday_analysis is not None and self.friday_analysis.is_progressive)
        params = self.progressive_friday.get_enhanced_0dte_parameters(progressive)
        s9b = self.cfg.section9b
        plan = plan_zero_dte(snap, self._pricing_inputs(snap), z, params, progressive,
                             snap.underlying.price.value / s9b.spy_reference_price,
                             s9b.max_risk_per_trade * snap.portfolio_value, s9b.limit_tick)
        if isinstance(plan, str):
            self._log_once("0dte", f"[0DTE] no entry: {plan}", by_kind=True)
            return
        self.log(f"[0DTE] {plan.intent.strategy} x{plan.intent.units} ({'progressive' if progressive else 'normal'}"
                 f" Friday, move {plan.move_pct:+.2f}%): {plan.intent.describe_legs()} for "
                 f"{-plan.intent.limit_price if plan.intent.limit_price is not None else 0:.2f} credit")
        tickets = self.submit_order(plan.intent)
        if tickets:
            self.trades.add_entry(plan.intent, [t.order_id for t in tickets], snap.time)
        else:
            self._suggested_today.add("0DTE")

    def trades_settlement_price(self, trade: OpenTrade) -> float | None:
        """The underlying's last real price on the trade's expiry day (its PM settlement here)."""
        return self.trackers["underlying"].last_close_on(trade.expiry)

    def _record_result(self, trade: OpenTrade, pnl_per_share: float | None) -> None:
        """0DTE trades: P&L tagged progressive/normal, summarised as runtime statistics."""
        if not trade.strategy.startswith("0DTE") or pnl_per_share is None or trade.entry_net is None:
            return
        group = "progressive" if "progressive Friday" in trade.intent.signals else "normal"
        dollars = pnl_per_share * trade.intent.legs[0].contract.multiplier * trade.intent.units \
            if trade.intent.legs[0].contract is not None else pnl_per_share
        self._zero_dte_results.append((group, -trade.entry_net, dollars))
        for label in ("progressive", "normal"):
            done = [(c, p) for g, c, p in self._zero_dte_results if g == label]
            if not done:
                continue
            wins = sum(1 for _c, p in done if p > 0)
            self.set_runtime_statistic(
                f"0DTE {label} Fridays",
                f"{len(done)} trades, win rate {wins / len(done):.0%}, avg credit {sum(c for c, _ in done) / len(done):.2f}, "
                f"avg P&L ${sum(p for _, p in done) / len(done):,.2f}, worst ${min(p for _, p in done):,.2f}")

    def _log_verdict(self, verdict: StrategyAnalysis, now: datetime) -> None:
        """A verdict is logged when it turns tradeable or not; a changed reason at most every 30 minutes
        (verdicts flip between near-equal reasons minute to minute)."""
        key = f"s9b:{verdict.strategy}"
        last = self._verdict_log.get(key)
        kind = re.sub(r"[-+]?[0-9][0-9.,]*", "#", verdict.reason)
        flipped = last is None or last[0] != verdict.can_trade
        if flipped or (last is not None and last[1] != kind and now - last[2] >= timedelta(minutes=30)):
            self._verdict_log[key] = (verdict.can_trade, kind, now)
            self.log(f"[Section 9B] {verdict.strategy}: {verdict.reason}")

    def _execute_section9b(self, best: StrategyAnalysis, snap: MarketSnapshot) -> None:
        """The spec's handler: one sized combo limit order through the gate, one trade per strategy."""
        s9b = self.cfg.section9b
        if best.intent is None or best.strategy in self.trades.live_strategies() \
                or best.strategy in self._suggested_today \
                or self.trades.entries_today(best.strategy, snap.today) >= s9b.max_entry_attempts:
            return
        if best.intent.legs and all(leg.contract is not None and leg.contract.expiry == snap.today
                                    for leg in best.intent.legs) and snap.time.time() >= s9b.zero_dte_exit:
            return  # no new 0DTE structure once its time exit has passed
        per_unit = best.intent.contracts_total()
        units = min(best.units_within_risk, self.cfg.manual.max_contracts_per_order // max(per_unit, 1))
        if units < 1:
            self._log_once(f"size:{best.strategy}", f"[Section 9B] {best.strategy}: the risk budget "
                           f"({self.cfg.section9b.max_risk_per_trade:.0%} of ${snap.portfolio_value:,.0f}) "
                           f"allows no unit at max loss ${best.max_loss_dollars or 0:,.2f} per unit")
            return
        max_loss = best.intent.max_loss * units if best.intent.max_loss is not None else None
        intent = dataclasses.replace(best.intent, units=units, max_loss=max_loss,
                                     limit_price=self._walked_limit(best, snap))
        self.log(f"[Section 9B] Best opportunity: {best.strategy} (Score: {best.score:g}) x{units}: "
                 f"{intent.describe_legs()} at {intent.limit_price:+.2f}")
        tickets = self.submit_order(intent)
        if tickets:
            self.trades.add_entry(intent, [t.order_id for t in tickets], snap.time)
        else:
            self._suggested_today.add(best.strategy)  # one suggestion per strategy per day

    def _walked_limit(self, best: StrategyAnalysis, snap: MarketSnapshot) -> float | None:
        """First attempt at the analyser's limit (the mid); each retry of the day concedes an equal step
        toward the natural price, the last attempt at natural, never through it (rounded in our favour)."""
        if best.prices is None or best.intent is None:
            return best.intent.limit_price if best.intent is not None else None
        attempts = self.cfg.section9b.max_entry_attempts
        k = self.trades.entries_today(best.strategy, snap.today)
        step = k / (attempts - 1) if attempts > 1 else 1.0
        mid, natural = best.intent.limit_price or best.prices.mid, best.prices.natural
        tick = self.cfg.section9b.limit_tick
        return min(math.floor((mid + step * (natural - mid)) / tick + 1e-9) * tick, natural)

    def _manage_trades(self, snap: MarketSnapshot) -> None:
        """Each minute: reconcile with holdings, cancel stale entries and closes, close open trades at
        target, stop or their time rule."""
        held = {p.contract: p.quantity for p in snap.positions if p.contract is not None}
        for trade in self.trades.reconcile(held):
            self.log(f"[Section 9B] {trade.strategy}: no longer held ({trade.exit_reason}); trade closed")
            close = self.trades_settlement_price(trade)
            self._record_result(trade, None if close is None else self.trades.settled_pnl_per_share(trade, close))
        for trade in self.trades.stale_entries(snap.time):
            trade.state = "cancelling"
            for order_id in trade.entry_ids:
                self.transactions.cancel_order(order_id)
            self.log(f"[Section 9B] {trade.strategy}: entry not filled within "
                     f"{self.cfg.section9b.entry_timeout_minutes:g} min, cancelling")
        for trade in self.trades.stale_closes(snap.time):
            trade.close_attempts += 1
            for order_id in trade.close_ids:
                self.transactions.cancel_order(order_id)
        rows = {c: i for i, c in enumerate(snap.chain.contracts)}
        # the last two-sided quote marks a position (as LEAN marks holdings), fresh or not
        mids = usable_mid(snap.chain.bid, snap.chain.ask, np.zeros(len(snap.chain)), np.inf)
        mark = lambda c: float(mids[rows[c]]) if c in rows and mids[rows[c]] == mids[rows[c]] else None  # noqa: E731
        state = self.manual_mode.state.name
        for trade in [t for t in self.trades.trades if t.state == "open"]:
            if trade.refused_in == state:
                continue  # its exit is already a suggestion in this state; not repeated every minute
            current = mark_net(trade.intent.legs, mark)
            reason = self.trades.exit_reason(trade, current, snap.time)
            if reason is not None:
                self._close_trade(trade, reason, current, snap)

    def _close_trade(self, trade: OpenTrade, reason: str, current: float | None, snap: MarketSnapshot) -> None:
        """Reverse the structure: at mid (rounded in our favour) for a first profit-target attempt, else at
        the natural price (rounded to be marketable), on the limit tick tastytrade accepts."""
        rows = {c: i for i, c in enumerate(snap.chain.contracts)}
        natural = 0.0
        for leg in trade.intent.legs:
            if leg.contract is None or leg.contract not in rows:
                self._log_once(f"close:{trade.strategy}", f"[Section 9B] {trade.strategy}: cannot close "
                               f"({reason}): {leg.label()} has no quote")
                return
            i = rows[leg.contract]
            natural += -leg.quantity * float(snap.chain.ask[i] if -leg.quantity > 0 else snap.chain.bid[i])
        tick = self.cfg.section9b.limit_tick
        at_mid = reason.startswith("profit target") and current is not None and trade.close_attempts == 0
        if at_mid and current is not None:
            limit = math.floor(-current / tick) * tick
        else:
            limit = math.ceil(natural / tick) * tick
        if limit != limit:
            return
        intent = self.trades.closing_intent(trade, reason, round(limit, 10), snap.time)
        self.log(f"[Section 9B] closing {trade.strategy}: {reason}")
        tickets = self.submit_order(intent)
        trade.exit_reason = reason
        if tickets:
            trade.state, trade.close_ids, trade.close_sent = "closing", {t.order_id for t in tickets}, snap.time
        else:
            trade.refused_in = self.manual_mode.state.name

    def _log_once(self, key: str, message: str, by_kind: bool = False) -> None:
        """Log a recurring status line only when it changes (minute bars would repeat it 390 times);
        ``by_kind`` compares it with its numbers masked, so a drifting price is not a change."""
        seen = re.sub(r"[-+]?[0-9][0-9.,]*", "#", message) if by_kind else message
        if self._last_messages.get(key) != seen:
            self._last_messages[key] = seen
            self.log(message)

    # --- the single order gate ----------------------------------------------------------------

    def submit_order(self, intent: OrderIntent) -> list[OrderTicket]:
        """Every order goes through here: the fallback decides, refused orders become suggestions."""
        allowed, why = self.manual_mode.allows(intent, self._holdings_by_key(), self.time)
        if allowed and len(intent.legs) > 1 and intent.limit_price is None:
            allowed, why = False, "combo market orders are rejected by tastytrade; a limit is required"
        if not allowed:
            self.manual_mode.suggest_trade(intent, why, self.time)
            return []
        symbols = [self._leg_symbol(leg.contract, leg.name) for leg in intent.legs]
        if len(intent.legs) == 1:
            quantity = intent.legs[0].quantity * intent.units
            if intent.limit_price is None:
                return [self.market_order(symbols[0], quantity, tag=intent.strategy)]
            return [self.limit_order(symbols[0], quantity, intent.limit_price, tag=intent.strategy)]
        legs = [Leg.create(symbol, leg.quantity) for symbol, leg in zip(symbols, intent.legs)]
        assert intent.limit_price is not None
        return list(self.combo_limit_order(legs, intent.units, intent.limit_price, tag=intent.strategy))

    def _holdings_by_key(self) -> dict[str, float]:
        """Signed quantities held, keyed like ``OrderLeg.key`` (exact contract, or the ticker)."""
        held = {}
        for holding in self.portfolio.values():
            if holding.invested:
                contract = self._contracts.get(holding.symbol)
                held[contract.describe() if contract is not None else str(holding.symbol)] = float(holding.quantity)
        return held

    def _leg_symbol(self, contract: ContractSpec | None, name: str) -> Symbol:
        if contract is not None:
            return self._symbols[contract]
        return self.securities[name].symbol

    # --- events ---------------------------------------------------------------------------------

    def on_order_event(self, order_event: OrderEvent) -> None:
        status = "INVALID" if order_event.status == OrderStatus.INVALID else str(order_event.status)
        self.manual_mode.on_order_event(status, str(order_event.message), self.time,
                                        self._order_key(order_event.order_id))
        if order_event.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            trade = self.trades.on_fill(order_event.order_id, float(order_event.fill_price),
                                        float(order_event.fill_quantity), order_event.status == OrderStatus.FILLED)
            if trade is not None and trade.state == "closed":
                self._record_result(trade, self.trades.realized_pnl_per_share(trade))
            self._sync_stream_positions()
        elif order_event.status == OrderStatus.CANCELED:
            self.trades.on_cancel(order_event.order_id)
        elif order_event.status == OrderStatus.INVALID:
            self.trades.on_invalid(order_event.order_id)

    def _order_key(self, order_id: int) -> str:
        """One key per order as the trader sees it: a combo's legs share their group's key."""
        order = self.transactions.get_order_by_id(order_id)
        group = order.group_order_manager if order is not None else None
        return f"group-{group.id}" if group is not None else f"order-{order_id}"

    def on_command(self, data: Any) -> bool | None:
        """Live commands (``lean live command``): resume, manual, status."""
        command = _command_field(data, "command")
        if command == "status":
            self.log(f"[STATUS] {self.manual_mode.status()}")
            return True
        if command == "manual":
            reason = _command_field(data, "reason") or "halted by command"
            self.manual_mode.activate_manual_mode(f"Manual command: {reason}", self.time)
            return True
        if command == "resume":
            resumed, message = self.manual_mode.resume(self.time, _command_field(data, "token"), by="live command")
            self.log(message if resumed else f"[COMMAND] {message}")
            return resumed
        self.log(f"[COMMAND] unknown command {command!r}; expected resume, manual or status")
        return False

    def on_brokerage_disconnect(self) -> None:
        self.manual_mode.on_brokerage_disconnect(self.time)

    def on_brokerage_reconnect(self) -> None:
        self.log("[BROKERAGE] reconnected; automation stays as it is until a human resumes it")

    def on_end_of_algorithm(self) -> None:
        self._finish_friday()
        if self._day is not None:
            self._report_day(self._day)
        for tracker in self.trackers.values():
            days = sorted(tracker.days_with_data)
            seen = ", ".join(d.isoformat() for d in days) if days else "none"
            self.log(f"[DATA] {tracker.name}: days with data: {seen}")
        self.log(f"[STATUS] {self.manual_mode.status()}")
        self.set_runtime_statistic("Automation State", self.manual_mode.state.name)
        self.set_runtime_statistic("Trade Suggestions", str(len(self.manual_mode.pending_trades)))
        self.set_runtime_statistic("Section 9B Opportunities", str(self._opportunities_seen))
        self.set_runtime_statistic("Max |Delta| (shares)", f"{self._max_abs_delta:.2f}")
        self.set_runtime_statistic("Min Theta ($/day)", f"{self._min_theta:.2f}")
        if self.websocket is not None:
            self.websocket.close()

    def _report_day(self, day: date) -> None:
        """Say which series had no data on ``day`` (their analysis was skipped, nothing invented)."""
        missing = [t.name for t in self.trackers.values() if day not in t.days_with_data]
        if missing:
            self.log(f"[DATA] {day}: no data for {', '.join(missing)}; signals needing them were unavailable")
        if self._chain_quotes_today == 0:
            self.log(f"[DATA] {day}: no {self.cfg.universe.option_ticker} option chain data")


# --- plain helpers (no state) --------------------------------------------------------------------

def _positive_or_nan(value: Any) -> float:
    number = float(value)
    return number if number > 0 else float("nan")


def _quote_row(contract: Any, read_lean_iv: bool) -> tuple[float, float, float, float, float, float]:
    """(bid, ask, last, volume, open interest, LEAN IV) with zero/missing prices as NaN (a zero bid is kept)."""
    bid = float(contract.bid_price)
    lean_iv = _positive_or_nan(contract.implied_volatility) if read_lean_iv else float("nan")
    return (bid if bid >= 0 else float("nan"), _positive_or_nan(contract.ask_price),
            _positive_or_nan(contract.last_price), float(contract.volume), float(contract.open_interest), lean_iv)


def _or_nan(reading: Reading) -> float:
    return reading.value if reading.value is not None else float("nan")


def _change_pct(state: Any) -> Reading:
    """Percent change of a series' price vs its previous session close."""
    if state.price.value is None or state.previous_close.value is None:
        return Reading.missing(state.price.reason or state.previous_close.reason)
    return Reading((state.price.value / state.previous_close.value - 1.0) * 100.0)


def _describe_condor(condor: Any) -> str:
    return (f"{condor.long_put:g}/{condor.short_put:g}P - {condor.short_call:g}/{condor.long_call:g}C "
            f"credit {condor.credit:.2f}")


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _command_field(data: Any, key: str) -> str | None:
    """Read one field of a LEAN command payload (a dynamic object, a dict or a JSON string)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if isinstance(data, dict):
        value = data.get(key)
    else:
        try:
            value = getattr(data, key)
        except builtins.Exception:  # noqa: BLE001 - LEAN's dynamic object raises on a missing member
            value = None
    return None if value is None else str(value)
