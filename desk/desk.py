"""The desk: the per-bar pipeline and the per-day state, in plain Python (``main.py`` is its LEAN shell).

One bar: record the real bars, take the day's first bar as a session start, build the market view,
check automation health (ManualModeFallback), read the Friday (ProgressiveFridayAnalysis), measure the
book (GreeksMonitor), manage open trades, try the Friday 0DTE spread and Section 9B. Each stage hands
its values to the next; what must happen in LEAN comes back as actions (:mod:`desk.interface`).

Orders leave as :class:`desk.interface.SendOrder` actions; ``main.py`` hands each back to
:meth:`Desk.send` with a function that places it, and the order gate decides at that moment, with the
state as it is then (an order event between two sends is already counted). Every public method holds
one re-entrant lock: LEAN raises order events on its own thread in live mode.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta

from core.market import MarketSnapshot, Reading, Series
from core.orders import OrderIntent, OrderLeg
from core.settings import Settings
from desk.friday import FridayDesk
from desk.interface import (
    Action, Alert, BarSnapshot, CancelAllOrders, HedgePurpose, MarketHistory, OrderStatus, OrderUpdate, Outbox, Plot,
    SaveRecord, SendOrder, friday_history_key, manual_mode_key, trade_book_key)
from desk.trading import Trading
from pricing.chain import PricingInputs, greeks_for
from risk.greeks_monitor import GreeksMonitor, PortfolioGreeks
from risk.manual_mode import AutomationState, Effects, HealthInputs, ManualModeFallback, random_token
from risk.order_gate import GateContext, OrderGate
from strategies.trade_book import TradeRecordError, book_to_text, reconcile_restart, restore_book
from streaming.signals import ConnectionChanged, GreeksWarning, LogLine, ZeroDteMove

Place = Callable[[OrderIntent], list[int]]
COMMAND_TEXT_LIMIT = 200


def clean_text(text: str | None, limit: int = COMMAND_TEXT_LIMIT) -> str:
    """A human's text made safe to log and store: control characters (newlines included) become
    spaces, runs of spaces one, and at most ``limit`` characters are kept."""
    if not text:
        return ""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(printable.split())
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"


class Desk:
    """The five capabilities behind one pipeline; every method returns the actions for LEAN."""

    def __init__(self, settings: Settings, live: bool, history: MarketHistory) -> None:
        self.settings, self.live, self.history = settings, live, history
        self.outbox = Outbox()
        self._lock = threading.RLock()
        self.series = Series(settings.universe.underlying, settings.greeks.beta_reference,
                             settings.friday.breadth_tickers(), timedelta(minutes=settings.manual.stale_data_minutes))
        self.manual_mode = ManualModeFallback(settings.manual, Effects(
            log=self.outbox.log, cancel_open_orders=lambda: self.outbox.add(CancelAllOrders()),
            alert=lambda subject, body: self.outbox.add(Alert(subject, body)),
            save=lambda text: self.outbox.add(SaveRecord(manual_mode_key(live), text))),
            token_factory=random_token if live else None,  # replays stay deterministic
            greeks_breaches_to_trigger=settings.greeks.breaches_for_manual)
        self.gate = OrderGate(settings.manual, combo_market_orders=settings.universe.brokerage_model != "tastytrade",
                              state_for=self.manual_mode.state_for)
        self.greeks_monitor = GreeksMonitor(settings.greeks, on_multiple_breaches=self._greeks_breach,
                                            log=self.outbox.log)
        self.friday = FridayDesk(settings.friday, self.series, history, self.outbox, live)
        self.trading = Trading(settings, self.outbox, self.series["underlying"].last_close_on,
                               self.manual_mode.suggest_trade)
        self.day: date | None = None
        self._now = datetime.min
        self.session_start: datetime | None = None
        self.last_market: MarketSnapshot | None = None
        self.last_book: PortfolioGreeks | None = None
        self._last_pricing: PricingInputs | None = None
        self._chain_quotes_today = 0
        self._stream_down_since: datetime | None = None
        self._max_abs_delta, self._min_theta = 0.0, 0.0
        self._active_hedges: set[str] = set()
        self._saved_book = book_to_text(self.trading.book)
        self._reconcile_pending = False
        self._state_shown: tuple[AutomationState, str] | None = None

    # --- start ----------------------------------------------------------------------------------

    def record_keys(self) -> list[str]:
        """Object-store keys ``main.py`` reads before :meth:`start` (live only: a backtest starts fresh)."""
        return [manual_mode_key(True), friday_history_key(True), trade_book_key(True)] if self.live else []

    def start(self, records: Mapping[str, str | None], now: datetime) -> list[Action]:
        """Restore the saved state before any order can be sent (live), else say where it is kept. The
        restored trades are matched with the brokerage's holdings on the first bar (LEAN loads them
        after ``initialize``)."""
        with self._lock:
            if self.live:
                self.manual_mode.restore(records.get(manual_mode_key(True)), now)
                self.friday.restore(records.get(friday_history_key(True)))
                self._restore_trades(records.get(trade_book_key(True)), now)
                self._reconcile_pending = True
            else:
                self.outbox.log(f"[MANUAL MODE] backtest starts AUTOMATIC; transitions are saved under "
                                f"{manual_mode_key(False)}")
            return self._take()

    def _restore_trades(self, text: str | None, now: datetime) -> None:
        if text is None:
            return
        try:
            trades = restore_book(self.trading.book, text)
        except TradeRecordError as exc:
            self.manual_mode.escalate(AutomationState.MANUAL, f"unreadable trade-book record: {exc}", now,
                                      {"restore": "unreadable trade book"})
            return
        self._saved_book = text
        self.outbox.log(f"[TRADES] restored {len(trades)} open trade(s): "
                        + ("; ".join(f"{t.strategy} x{t.intent.units} ({t.state.value})" for t in trades) or "none"))

    def _reconcile_restart(self, market: MarketSnapshot) -> None:
        """First bar after a live restart: re-attach, close or hand over the restored trades."""
        held = {p.contract: p.quantity for p in market.positions if p.contract is not None}
        found = reconcile_restart(self.trading.book, held)
        for trade in found.attached:
            self.outbox.log(f"[TRADES] {trade.strategy} x{trade.intent.units}: held; its exit rules apply again")
        for trade in found.closed_outside:
            self.outbox.log(f"[TRADES] {trade.strategy}: no longer held; closed outside the algorithm")
        for trade in found.partial:
            self._hand_over(trade.intent, f"{trade.strategy} is held only in part after the restart", market.time)
        for contract, quantity in found.orphans.items():
            legs = (OrderLeg(contract.describe(), int(-quantity), contract),)
            intent = OrderIntent(f"Unmanaged {contract.describe()}", legs, 1, None, market.time, reduces_only=True,
                                 signals=("held at the restart, no saved trade: monitored, not managed",))
            self._hand_over(intent, "a position no saved trade explains", market.time)

    def _hand_over(self, intent: OrderIntent, why: str, now: datetime) -> None:
        self.manual_mode.suggest_trade(intent, why, now)
        self.outbox.add(Alert("POSITION NEEDS A HUMAN", f"{intent.strategy}: {why}"))

    def _save_trades(self) -> None:
        """Every change to a live trade goes to the object store (a restart must not forget it)."""
        text = book_to_text(self.trading.book)
        if text != self._saved_book:
            self._saved_book = text
            self.outbox.add(SaveRecord(trade_book_key(self.live), text))

    def _take(self) -> list[Action]:
        self._save_trades()
        self._show_state()
        return self.outbox.take()

    def _show_state(self) -> None:
        """The automation state and, while halted, how a human resumes it, as runtime statistics (LEAN's
        results panel, the replay's summary) whenever they change. Live, the token stays in the alert:
        whoever resumes must have read it."""
        mm = self.manual_mode
        shown = (mm.state, mm.ack_token)
        if shown == self._state_shown:
            return
        self._state_shown = shown
        token = "<token from the alert>" if self.live else mm.ack_token
        self.outbox.statistic("Automation State", mm.state.name)
        self.outbox.statistic("Resume With", "not halted" if mm.state is AutomationState.AUTOMATIC else
                              f'live command {{"command": "resume", "token": "{token}"}} once no trigger is active')

    # --- one bar ----------------------------------------------------------------------------------

    def on_bar(self, snap: BarSnapshot) -> list[Action]:
        with self._lock:
            now = self._now = snap.time
            if not snap.in_session:  # extended-hours bars (the E-mini): data only, no trading logic
                self.series.record(now, snap.bars, snap.future_contract)
                return self._take()
            if self.day != now.date():
                self._start_day(now.date(), snap.previous_session, snap.future_contract)
                self.session_start = now - timedelta(minutes=1)
            self.series.record(now, snap.bars, snap.future_contract)
            volume = sum(bar.volume for bar in snap.bars if bar.name == "underlying")
            self.friday.count_volume(now, volume, snap.call_volume, snap.put_volume)
            self._chain_quotes_today += len(snap.chain)
            market = self._market(snap)
            if self._reconcile_pending:
                self._reconcile_pending = False
                self._reconcile_restart(market)
            pricing = _pricing(snap, market, self.settings)
            book = self._book_greeks(market, pricing) if market.positions else None
            self.manual_mode.check_automation_health(now, self._health(snap, market, book))
            if market.is_friday() and (market.has_same_day_expiry() or not len(market.chain)):
                self.friday.run(market, pricing)  # without option data the same-day expiry cannot be checked
            if book is not None:
                self._run_greeks(market, book)
            self.trading.manage(market, self.manual_mode.state.name)
            self._run_zero_dte(market, pricing)
            self.trading.run_section9b(market, pricing)
            self.last_market, self._last_pricing, self.last_book = market, pricing, book
            return self._take()

    def _start_day(self, day: date, previous_session: date, future_contract: str) -> None:
        if self.day is not None:
            self._report_day(self.day)
        self.day, self._chain_quotes_today = day, 0
        self.trading.start_day()
        self.friday.start_day(day)
        closes = {name: self.history.last_daily_close(name) for name in self.series.daily_close_series()}
        self.series.begin_day(day, previous_session, closes, future_contract)

    def _market(self, snap: BarSnapshot) -> MarketSnapshot:
        now = snap.time
        underlying = self.series.state("underlying", now)
        spot = underlying.price.value if underlying.price.value is not None else float("nan")
        # options carry the underlying's price now (for dollar delta); stock and futures their own
        positions = tuple(p if p.contract is None else dataclasses.replace(p, underlying_price=spot)
                          for p in snap.positions)
        return MarketSnapshot(
            time=now, underlying=underlying, vix=self.series.state("vix", now),
            vix9d=self.series.state("vix9d", now), future=self.series.state("future", now),
            chain=snap.chain, positions=positions, portfolio_value=snap.portfolio_value)

    def _book_greeks(self, market: MarketSnapshot, pricing: PricingInputs | None) -> PortfolioGreeks:
        """The book's Greeks: IV from live mids by the pricing core, LEAN's rate and dividend yield."""
        held = [p.contract for p in market.positions if p.contract is not None]
        greeks = greeks_for(held, market.chain, pricing) if pricing is not None else {}
        reference = (self.series.state("beta", market.time).price if "beta" in self.series.trackers
                     else market.underlying.price)
        return self.greeks_monitor.calculate_portfolio_greeks(market.positions, greeks, reference)

    def _health(self, snap: BarSnapshot, market: MarketSnapshot, book: PortfolioGreeks | None) -> HealthInputs:
        """What the fallback's triggers measure this bar."""
        now, unmeasurable = snap.time, None
        if book is not None and book.missing:  # fail closed: a book we cannot measure must not trade
            inputs = [f"underlying price {market.underlying.price.describe()}"]
            inputs += [f"{name} {reading.describe()}" for name, reading in
                       (("rate", snap.rate), ("dividend yield", snap.dividend_yield)) if not reading.available]
            unmeasurable = f"Greeks unavailable for {', '.join(book.missing)} ({'; '.join(inputs)})"
        elif book is not None and not book.measurable:
            unmeasurable = f"Portfolio delta in {book.reference} shares unavailable ({book.delta.reason})"
        return HealthInputs(
            vix=market.vix.price,
            portfolio_delta=book.delta_reading() if book is not None else Reading(0.0),
            underlying_data_age_minutes=self.series.data_age_minutes("underlying", now, self.session_start, True),
            vix_data_age_minutes=self.series.data_age_minutes("vix", now, self.session_start, False),
            websocket_down_seconds=self._stream_down_seconds(snap), websocket_failed=snap.stream_failure,
            greeks_breaches=(tuple(self.greeks_monitor.limit_alerts(book))
                             if book is not None and book.measurable else ()),
            greeks_unavailable=unmeasurable)

    def _stream_down_seconds(self, snap: BarSnapshot) -> float | None:
        """Live only: how long the DXLink stream has not been connected (None without a stream)."""
        if snap.stream_connected is None:
            return None  # backtest, or no stream configured (LEAN's own live feed is the data)
        if snap.stream_connected:
            self._stream_down_since = None
            return 0.0
        if self._stream_down_since is None:
            self._stream_down_since = snap.time
        return (snap.time - self._stream_down_since).total_seconds()

    def _greeks_breach(self, reason: str) -> None:
        self.manual_mode.escalate(self.manual_mode.state_for("greeks"), reason, self._now)

    def _run_greeks(self, market: MarketSnapshot, book: PortfolioGreeks) -> None:
        if not book.measurable or book.delta.value is None:
            return  # partial sums would understate the risk; manual mode already took over
        alerts = self.greeks_monitor.monitor_greeks_limits(book)
        self._max_abs_delta = max(self._max_abs_delta, abs(book.delta.value))
        self._min_theta = min(self._min_theta, book.theta_dollars_per_day)
        self.outbox.statistic(self._delta_statistic, f"{self._max_abs_delta:.2f}")
        self.outbox.statistic("Min Theta ($/day)", f"{self._min_theta:.2f}")
        g = self.settings.greeks
        hedges = self.greeks_monitor.suggest_hedge(book) if alerts else []
        kinds = {hedge.split(":")[0] for hedge in hedges}
        for hedge in hedges:  # a suggestion is logged when its kind appears, not every minute it persists
            if hedge.split(":")[0] not in self._active_hedges:
                self.outbox.log(f"[HEDGE SUGGESTION] {hedge}")
                if hedge.startswith("Delta Hedge") and g.auto_hedge:
                    self._send_delta_hedge(book, market, hedge)
        self._active_hedges = kinds
        if market.time.minute % g.plot_every_minutes == 0:
            self._plot_greeks(book)

    def _send_delta_hedge(self, book: PortfolioGreeks, market: MarketSnapshot, why: str) -> None:
        """``greeks-auto-hedge``: the suggested delta hedge as a market order in the reference's shares,
        once per breach episode; the gate decides (REDUCE_ONLY admits it when it reduces the breach)."""
        shares = -round(book.delta.value or 0.0)
        if shares:
            intent = OrderIntent("Delta Hedge", (OrderLeg(book.reference, shares),), 1, None, market.time,
                                 signals=(why,))
            self.outbox.add(SendOrder(intent, HedgePurpose(why)))

    def _plot_greeks(self, book: PortfolioGreeks) -> None:
        chart, unit = "Portfolio Greeks", book.reference
        for series, value in ((f"Delta ({unit} shares)", book.delta.value), (f"Gamma ({unit} shares/$)", book.gamma.value),
                              ("Dollar gamma ($/1%)", book.dollar_gamma_per_pct),
                              ("Theta ($/day)", book.theta_dollars_per_day),
                              ("Vega ($/vol pt)", book.vega_dollars_per_point)):
            if value is not None:
                self.outbox.add(Plot(chart, series, value))

    @property
    def _delta_statistic(self) -> str:
        return f"Max |Delta| ({self.settings.greeks.beta_reference.upper()} shares)"

    def _run_zero_dte(self, market: MarketSnapshot, pricing: PricingInputs | None) -> None:
        self.trading.run_zero_dte(market, pricing, self.friday.is_progressive, self.friday.parameters())

    # --- orders -----------------------------------------------------------------------------------

    def send(self, order: SendOrder, place: Place, holdings: Mapping[str, float], now: datetime) -> list[Action]:
        """The gate decides now: refused orders become suggestions, allowed ones are placed with
        ``place`` (LEAN's order ids back) and counted in the rate window only once placed.
        ``holdings`` maps instrument keys (``OrderLeg.key``) to signed quantities held now."""
        with self._lock:
            mm = self.manual_mode
            decision = self.gate.check(order.intent, self._gate_context(order.intent, holdings, now))
            if not mm.admit(decision, now):
                mm.suggest_trade(order.intent, decision.reason, now)
                self.trading.refused(order, mm.state.name)
                return self._take()
            order_ids = place(order.intent)
            if order_ids:
                mm.orders_sent.record(now)
            self.trading.sent(order, order_ids, now, mm.state.name)
            return self._take()

    def _gate_context(self, intent: OrderIntent, holdings: Mapping[str, float], now: datetime) -> GateContext:
        mm, book = self.manual_mode, self.last_book
        delta = (book.delta.value if book is not None and book.measurable
                 else 0.0 if self.last_market is not None and not self.last_market.positions else None)
        return GateContext(mm.state, mm.reason, holdings, mm.orders_sent.count(now),
                           frozenset(t.name for t in mm.active_triggers), delta,
                           self.settings.manual.portfolio_delta_limit, self._delta_effect(intent),
                           delta_only=all(leg.contract is None for leg in intent.legs))

    def _delta_effect(self, intent: OrderIntent) -> float | None:
        """What the order adds to the book's delta, in shares of the beta reference (None: unknown).
        Shares of the reference count one for one; the underlying's shares and its options by the
        price ratio (beta 1: the S&P family); anything else is unknown."""
        market, pricing = self.last_market, self._last_pricing
        reference = self.settings.greeks.beta_reference.upper()
        if market is None or market.underlying.price.value is None:
            return None
        spot = market.underlying.price.value
        ref_price = spot if reference == self.settings.universe.underlying.upper() else (
            self.series.state("beta", market.time).price.value if "beta" in self.series.trackers else None)
        if ref_price is None or ref_price <= 0:
            return None
        contracts = [leg.contract for leg in intent.legs if leg.contract is not None]
        greeks = greeks_for(contracts, market.chain, pricing) if contracts and pricing is not None else {}
        total = 0.0
        for leg in intent.legs:
            shares = leg.quantity * intent.units
            if leg.contract is None and leg.name.upper() == reference:
                total += shares
            elif leg.contract is None and leg.name.upper() == self.settings.universe.underlying.upper():
                total += shares * spot / ref_price
            elif leg.contract is not None and leg.contract in greeks:
                total += shares * greeks[leg.contract].delta * leg.contract.multiplier * spot / ref_price
            else:
                return None
        return total

    def on_order_event(self, update: OrderUpdate) -> list[Action]:
        with self._lock:
            status = "INVALID" if update.status is OrderStatus.INVALID else update.status.value
            self.manual_mode.on_order_event(status, update.message, update.time, update.order_key)
            self.trading.on_order_update(update)
            return self._take()

    # --- the human, the stream, the brokerage ---------------------------------------------------------

    def on_command(self, command: str | None, fields: Mapping[str, str | None], now: datetime
                   ) -> tuple[bool, list[Action]]:
        """Live commands: ``status``, ``manual`` (with a ``reason``), ``resume`` (with the alert's ``token``).
        A human's text is cleaned (no control characters, at most ``COMMAND_TEXT_LIMIT`` characters)
        before it is logged or stored: a newline must not forge a log line."""
        with self._lock:
            mm, ok = self.manual_mode, True
            command = clean_text(command)
            if command == "status":
                self.outbox.log(f"[STATUS] {mm.status()}")
            elif command == "manual" and mm.state is AutomationState.MANUAL:
                self.outbox.log(f"[COMMAND] already MANUAL: {mm.status()}")
            elif command == "manual":
                mm.activate_manual_mode(f"Manual command: {clean_text(fields.get('reason')) or 'halted by command'}",
                                        now)
            elif command == "resume":
                ok, message = mm.resume(now, clean_text(fields.get("token")), by="live command")
                self.outbox.log(message if ok else f"[COMMAND] {message}")
            else:
                ok = False
                self.outbox.log(f"[COMMAND] unknown command {command!r}; expected resume, manual or status")
            return ok, self._take()

    def on_stream(self, signals: Iterable[object], now: datetime) -> list[Action]:
        """What the DXLink thread queued; a 0DTE move re-runs the entry check on the last bar's market
        (its chain quotes are the last bar's; the move is the stream's)."""
        with self._lock:
            moved = False
            for signal in signals:
                match signal:
                    case LogLine(level="error"):
                        self.outbox.error(f"[WebSocket] {signal.message}")
                    case LogLine():
                        self.outbox.log(f"[WebSocket] {signal.message}")
                    case ConnectionChanged():
                        self.outbox.log(f"[WebSocket] {signal.state.value}: {signal.reason}")
                    case ZeroDteMove():
                        moved = True
                        self.outbox.log(f"[0DTE SIGNAL] {signal.symbol} moved {signal.move_pct:+.2f}% from the "
                                        f"open {signal.day_open:.2f} - CHECK ENTRY")
                    case GreeksWarning():
                        self.outbox.log(f"[GREEKS WARNING] Portfolio {signal.greek.capitalize()}: "
                                        f"{signal.value:.2f} (limit {signal.limit:g}, real-time)")
            market = self.last_market
            if moved and market is not None and market.today == now.date():
                self._run_zero_dte(market, self._last_pricing)
            return self._take()

    def on_brokerage_disconnect(self, now: datetime) -> list[Action]:
        with self._lock:
            self.manual_mode.on_brokerage_disconnect(now)
            return self._take()

    def on_brokerage_reconnect(self) -> list[Action]:
        with self._lock:
            self.outbox.log("[BROKERAGE] reconnected; automation stays as it is until a human resumes it")
            return self._take()

    def on_internal_error(self, error: str, now: datetime) -> list[Action]:
        """A bug in a bar must stop trading, not the algorithm: halt and say why."""
        with self._lock:
            self.outbox.error(f"on_data failed at {now}: {error}")
            self.manual_mode.activate_manual_mode(f"Internal error in on_data: {error}", now)
            return self._take()

    # --- the end ------------------------------------------------------------------------------------

    def on_end(self) -> list[Action]:
        with self._lock:
            self.friday.finish()
            if self.day is not None:
                self._report_day(self.day)
            for tracker in self.series.trackers.values():
                days = sorted(tracker.days_with_data)
                seen = ", ".join(d.isoformat() for d in days) if days else "none"
                self.outbox.log(f"[DATA] {tracker.name}: days with data: {seen}")
            mm, out = self.manual_mode, self.outbox
            out.log(f"[STATUS] {mm.status()}")
            out.statistic("Trade Suggestions", str(len(mm.pending_trades)))
            out.statistic("Section 9B Opportunities", str(self.trading.opportunities_seen))
            out.statistic(self._delta_statistic, f"{self._max_abs_delta:.2f}")
            out.statistic("Min Theta ($/day)", f"{self._min_theta:.2f}")
            return self._take()

    def _report_day(self, day: date) -> None:
        """Say which series had no data on ``day`` (their analysis was skipped, nothing invented)."""
        missing = self.series.missing_on(day)
        if missing:
            self.outbox.log(f"[DATA] {day}: no data for {', '.join(missing)}; signals needing them were unavailable")
        if self._chain_quotes_today == 0:
            self.outbox.log(f"[DATA] {day}: no {self.settings.universe.option_ticker} option chain data")


def _pricing(snap: BarSnapshot, market: MarketSnapshot, settings: Settings) -> PricingInputs | None:
    """Spot, LEAN's rate and dividend yield, the exercise style; None when the rate or yield is missing."""
    if snap.rate.value is None or snap.dividend_yield.value is None:
        return None
    return PricingInputs(
        now=snap.time, spot=market.underlying.price.value, rate=snap.rate.value,
        dividend_yield=snap.dividend_yield.value, american=settings.universe.underlying_type == "equity",
        max_quote_age_minutes=settings.greeks.max_quote_age_minutes)
