"""Tom King options framework on LEAN: the only file that talks to LEAN, and it only translates.

``initialize`` reads the LEAN parameters into one typed settings object, subscribes the underlying
(SPX index with SPXW weeklies by default, or an equity such as SPY), its option chain (weeklies and
0DTE included), VIX, VIX9D, the E-mini S&P 500 future with extended hours, the beta reference and the
breadth members, and builds the desk (:mod:`desk`), where every trading decision is made. Each bar,
``on_data`` turns the slice into one plain :class:`desk.interface.BarSnapshot` and carries out the
actions the desk returns: orders (the desk's order gate decides as each is sent), cancels, logs,
plots, alerts, runtime statistics and object-store records. Order events, live commands and the
brokerage's connection go to the desk the same way. In live mode the DXLink stream runs here too.
"""
from __future__ import annotations

# region imports
from AlgorithmImports import *
# endregion
import builtins
import json
from collections import deque
from datetime import date, datetime, time, timedelta
from typing import Any

from core.market import BookPosition, ChainColumns, ContractSpec, ContractTable, Reading, SeriesBar
from core.orders import OrderIntent
from core.settings import Settings, load_settings
from desk import Desk
from desk.interface import (
    Action, Alert, BarSnapshot, CancelAllOrders, CancelOrder, Log, OrderUpdate, Plot, SaveRecord, SendOrder,
    SetStatistic, command_field)
from desk.interface import OrderStatus as DeskOrderStatus
from risk.alerts import WebhookAlerter

_STATUS = {OrderStatus.SUBMITTED: DeskOrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED: DeskOrderStatus.PARTIALLY_FILLED,
           OrderStatus.FILLED: DeskOrderStatus.FILLED, OrderStatus.CANCELED: DeskOrderStatus.CANCELED,
           OrderStatus.INVALID: DeskOrderStatus.INVALID}


class TomKingFramework(QCAlgorithm):
    """One algorithm wiring ManualModeFallback, TastytradeWebSocket, GreeksMonitor,
    ProgressiveFridayAnalysis and Section9BStrategies (all in the desk) into LEAN's event handlers."""

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
        self._contracts: dict[Symbol, ContractSpec] = {}
        self._symbols: dict[ContractSpec, Symbol] = {}
        self._last_quote: dict[Symbol, datetime] = {}  # time of each contract's last real (not fill-forward) quote
        self._table = ContractTable()  # each chain contract's fixed columns, converted once
        self._previous_session: tuple[date, date] | None = None
        self.webhook = (WebhookAlerter(self.cfg.manual.alert_webhook_url)
                        if self.live_mode and self.cfg.manual.alert_webhook_url else None)
        self.desk = Desk(self.cfg, self.live_mode, history=self)
        saved = {key: self.object_store.read(key) if self.object_store.contains_key(key) else None
                 for key in self.desk.record_keys()}
        self._apply(self.desk.start(saved, self.time))
        self.websocket: Any = None
        if self.live_mode:
            self._start_stream()
        else:
            self.log("WebSocket streaming disabled in backtest mode")
        self.log(f"[OK] All critical features initialized: {universe.underlying} ({universe.underlying_type}) "
                 f"options {universe.option_ticker}, {universe.start_date}..{universe.end_date}")

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
        self.series_symbols: dict[str, Symbol] = {
            "underlying": self.underlying_symbol, "vix": self.vix_symbol, "vix9d": self.vix9d_symbol}
        if self.future is not None:
            self.series_symbols["future"] = self.future.symbol  # the continuous front contract
        if self.beta_symbol is not None:
            self.series_symbols["beta"] = self.beta_symbol
        self.series_symbols |= {f"breadth:{ticker}": symbol for ticker, symbol in self.breadth_symbols.items()}
        self.dividend_yield_model = DividendYieldProvider(self.underlying_symbol)
        self.set_benchmark(self.underlying_symbol)

    # --- the stream (live only) --------------------------------------------------------------------

    def _start_stream(self) -> None:
        """tastytrade's DXLink stream in a background thread (it never calls LEAN): the underlying, VIX and
        VIX9D, the spec's SPY and front /ES and /MES (following LEAN's mapped E-mini through rolls), and
        the held contracts; the 0DTE move signal watches the underlying, SPY and the E-minis."""
        from streaming import DEFAULT_MOVE_SYMBOLS, ConfigError, TastytradeWebSocket, live_stream_symbols

        universe = self.cfg.universe
        symbols = live_stream_symbols(universe.underlying, universe.underlying_type == "index", self._front_e_minis())
        try:
            self.websocket = TastytradeWebSocket.from_settings(
                self.cfg.streaming, symbols, move_symbols=(symbols[0], *DEFAULT_MOVE_SYMBOLS))
        except ConfigError as exc:  # LEAN's own live feed still runs; the stream is unavailable
            self.error(f"[WebSocket] not started: {exc}")
            return
        self.websocket.connect()
        self.log(f"[WebSocket] streaming started for {', '.join(symbols[:3])}; for the 0DTE move signal "
                 f"{', '.join(symbols[3:])}; held contracts follow the book")
        # between minute bars, a 0DTE move signal from the stream can trigger the entry check
        self.schedule.on(self.date_rules.every_day(self.underlying_symbol), self.time_rules.every(timedelta(seconds=20)),
                         self._stream_tick)

    def _front_e_minis(self) -> tuple[str, ...]:
        """/ES and /MES streamer symbols of LEAN's mapped front E-mini (a calendar rule until one is mapped)."""
        from streaming import e_mini_streamer_symbols

        mapped = self.future.mapped if self.future is not None else None
        return e_mini_streamer_symbols(mapped.id.date.date() if mapped is not None else None, self.time.date())

    def _stream_tick(self) -> None:
        if self.websocket is not None:
            self.websocket.follow_front_futures(self._front_e_minis())  # LEAN's E-mini rolled: so does the stream
        self._apply(self._drain_stream())

    def _drain_stream(self) -> list[Action]:
        """What the stream and webhook threads queued, handled on the algorithm thread."""
        if self.webhook is not None:
            for failure in self.webhook.drain_failures():
                self.error(f"[ALERT] {failure}")
        if self.websocket is None:
            return []
        return self.desk.on_stream(self.websocket.drain_signals(), self.time)

    def _sync_stream_positions(self) -> None:
        """Tell the stream what is held (streamer symbol -> signed quantity x multiplier)."""
        if self.websocket is None:
            return
        from streaming import occ_to_streamer_symbol

        held: dict[str, float] = {}
        for position in self._positions():
            symbol = self._symbols.get(position.contract) if position.contract is not None else None
            name = occ_to_streamer_symbol(symbol.value) if symbol is not None else position.name
            held[name] = position.quantity * position.multiplier
        self.websocket.set_positions(held)

    # --- slice -> snapshot -------------------------------------------------------------------------

    def on_data(self, slice: Slice) -> None:
        """One bar through the desk; an unexpected error halts automation (fail closed), not LEAN."""
        try:
            self._apply(self._drain_stream())
            self._apply(self.desk.on_bar(self._snapshot(slice)))
        except builtins.Exception as exc:  # noqa: BLE001 - any bug here must stop trading, not the algorithm
            self._apply(self.desk.on_internal_error(repr(exc), self.time))

    def _snapshot(self, slice: Slice) -> BarSnapshot:
        underlying = self.securities[self.underlying_symbol]
        # LEAN's market hours are in the exchange's own time zone (Chicago for SPX): ask with its clock
        in_session = underlying.exchange.hours.is_open(underlying.local_time - timedelta(minutes=1), False)
        bars = self._series_bars(slice)
        if not in_session:
            return BarSnapshot(self.time, False, self._previous_trading_day(), bars, ChainColumns.empty(), (),
                               float(self.portfolio.total_portfolio_value), Reading.missing("out of session"),
                               Reading.missing("out of session"), future_contract=self._front_contract())
        held = {h.symbol for h in self.portfolio.values() if h.invested} if self.portfolio.invested else set()
        chain, calls, puts = self._chain_columns(slice, held)
        return BarSnapshot(
            time=self.time, in_session=True, previous_session=self._previous_trading_day(), bars=bars,
            chain=chain, positions=self._positions(), portfolio_value=float(self.portfolio.total_portfolio_value),
            rate=self._reading(lambda: self.risk_free_interest_rate_model.get_interest_rate(self.time)),
            dividend_yield=self._reading(lambda: self.dividend_yield_model.get_dividend_yield(self.time)),
            call_volume=calls, put_volume=puts, future_contract=self._front_contract(),
            **self._stream_health())

    def _stream_health(self) -> dict[str, Any]:
        """A stale stream (silent past the keepalive timeout agreed in SETUP) counts as down; a FAILED one
        (credentials rejected) will not come back, so the desk's stream trigger fires at once."""
        if self.websocket is None:
            return {}
        status = self.websocket.status()
        return {"stream_connected": status.is_connected,
                "stream_failure": (status.last_error or "stopped") if status.has_failed else None}

    @staticmethod
    def _reading(read: Any) -> Reading:
        """A LEAN model value, or why LEAN could not give it."""
        try:
            return Reading(float(read()))
        except builtins.Exception as exc:  # noqa: BLE001 - reported as unavailable: pricing then fails closed
            return Reading.missing(str(exc))

    def _previous_trading_day(self) -> date:
        today = self.time.date()
        if self._previous_session is None or self._previous_session[0] != today:
            hours = self.securities[self.underlying_symbol].exchange.hours
            previous = hours.get_previous_trading_day(datetime.combine(today, time(0, 0))).date()
            self._previous_session = (today, previous)
        return self._previous_session[1]

    def _series_bars(self, slice: Slice) -> tuple[SeriesBar, ...]:
        """The followed series' real (not fill-forward) bars, with their closing quotes when LEAN has them."""
        bars = []
        for name, symbol in self.series_symbols.items():
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
            bars.append(SeriesBar(name, float(bar.close), float(bar.open), bid, ask, float(bar.volume)))
        return tuple(bars)

    def _front_contract(self) -> str:
        """The E-mini contract the continuous series maps to now (LEAN's ``mapped``)."""
        return str(self.future.mapped) if self.future is not None else ""

    def _chain_columns(self, slice: Slice, held: set[Symbol]) -> tuple[ChainColumns, float, float]:
        """The option chain as column arrays, and the call and put contracts really traded this minute:
        one pass, one lookup per contract, fixed columns from ``_table``; volume from trade bars (LEAN
        zeroes a fill-forward bar's); LEAN's model IV only for held contracts (a fallback, lazily built)."""
        chain = slice.option_chains.get(self.option_symbol)
        if chain is None:
            return ChainColumns.empty(), 0.0, 0.0
        rows: list[int] = []
        quotes: list[tuple[float, ...]] = []
        quote_bars, now, last_quote, table = slice.quote_bars, self.time, self._last_quote, self._table
        for lean_contract in chain:
            symbol = lean_contract.symbol
            row = table.row(symbol)
            if row is None:
                row = table.add(symbol, self._contracts.get(symbol) or self._contract_from_symbol(symbol))
            rows.append(row)
            quote = quote_bars.get(symbol)
            if quote is not None and not quote.is_fill_forward:
                last_quote[symbol] = now
            seen = last_quote.get(symbol)
            age = (now - seen).total_seconds() / 60.0 if seen is not None else float("nan")
            quotes.append((*_quote_row(lean_contract, symbol in held), age))
        columns = table.columns(rows, quotes)
        calls = float(columns.volume[columns.is_call].sum())
        return columns, calls, float(columns.volume.sum()) - calls

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

    def _positions(self) -> tuple[BookPosition, ...]:
        """Holdings with their multipliers; stock and futures carry their own price."""
        if not self.portfolio.invested:
            return ()
        held = []
        for holding in (h for h in self.portfolio.values() if h.invested):
            symbol = holding.symbol
            multiplier = float(self.securities[symbol].symbol_properties.contract_multiplier)
            contract = self._contracts.get(symbol)
            if contract is None and symbol.security_type in (SecurityType.OPTION, SecurityType.INDEX_OPTION):
                contract = self._contract_from_symbol(symbol)
            if contract is not None:
                held.append(BookPosition(str(symbol), float(holding.quantity), multiplier, contract,
                                         contract.underlying))
            else:
                price = float(self.securities[symbol].price)
                held.append(BookPosition(str(symbol), float(holding.quantity), multiplier, None, str(symbol),
                                         price if price > 0 else float("nan")))
        return tuple(held)

    # --- LEAN history for the desk (desk.interface.MarketHistory) ------------------------------------

    def last_daily_close(self, series: str) -> tuple[date, float] | None:
        """(session date, close) of the latest daily bar in LEAN history, None when there is none.

        LEAN stamps a history row with the bar's end time (the close, or midnight after it), so the
        session is the date one second before that stamp."""
        frame = self.history(self.series_symbols[series], 2, Resolution.DAILY)
        if frame is None or frame.empty or "close" not in frame:
            return None
        stamp = frame.index[-1][-1] if isinstance(frame.index[-1], tuple) else frame.index[-1]
        return (stamp - timedelta(seconds=1)).date(), float(frame["close"].iloc[-1])

    def opening_volumes(self, sessions: int, window_end: time) -> list[float]:
        """First-window volume of each of the last sessions from LEAN minute history (bars stamped at
        their end, so the window is (09:30, window_end])."""
        frame = self.history(self.underlying_symbol, timedelta(days=sessions * 7 // 5 + 7), Resolution.MINUTE)
        if frame is None or frame.empty or "volume" not in frame:
            return []
        stamps = [ts[-1] if isinstance(ts, tuple) else ts for ts in frame.index]
        per_day: dict[date, float] = {}
        for stamp, volume in zip(stamps, frame["volume"].tolist()):
            if time(9, 30) < stamp.time() <= window_end and stamp.date() < self.time.date():
                per_day[stamp.date()] = per_day.get(stamp.date(), 0.0) + float(volume)
        return [per_day[d] for d in sorted(per_day)][-sessions:]

    # --- actions -> LEAN ---------------------------------------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        """Carry out the desk's actions in order (an order's own follow-up actions come right after it)."""
        queue = deque(actions)
        while queue:
            match queue.popleft():
                case Log(text=text, error=True):
                    self.error(text)
                case Log(text=text):
                    self.log(text)
                case SendOrder() as order:
                    queue.extendleft(reversed(self.desk.send(order, self._place, self._holdings_by_key(), self.time)))
                case CancelOrder(order_id=order_id):
                    self.transactions.cancel_order(order_id)
                case CancelAllOrders():
                    self.transactions.cancel_open_orders()
                case Plot(chart=chart, series=series, value=value):
                    self.plot(chart, series, value)
                case Alert(subject=subject, body=body):
                    self._alert(subject, body)
                case SetStatistic(name=name, value=value):
                    self.set_runtime_statistic(name, value)
                case SaveRecord(key=key, text=text):
                    self.object_store.save(key, text)

    def _place(self, intent: OrderIntent) -> list[int]:
        """Send an order the gate allowed: one leg as a market or limit order, several as a combo limit."""
        symbols = [self._symbols[leg.contract] if leg.contract is not None else self.securities[leg.name].symbol
                   for leg in intent.legs]
        if len(intent.legs) == 1:
            quantity = intent.legs[0].quantity * intent.units
            if intent.limit_price is None:
                return [self.market_order(symbols[0], quantity, tag=intent.strategy).order_id]
            return [self.limit_order(symbols[0], quantity, intent.limit_price, tag=intent.strategy).order_id]
        legs = [Leg.create(s, leg.quantity) for s, leg in zip(symbols, intent.legs)]
        tickets = (self.combo_market_order(legs, intent.units, tag=intent.strategy) if intent.limit_price is None
                   else self.combo_limit_order(legs, intent.units, intent.limit_price, tag=intent.strategy))
        return [ticket.order_id for ticket in tickets]

    def _holdings_by_key(self) -> dict[str, float]:
        """Signed quantities held, keyed like ``OrderLeg.key`` (exact contract, or the ticker)."""
        held = {}
        for holding in self.portfolio.values():
            if holding.invested:
                contract = self._contracts.get(holding.symbol)
                held[contract.describe() if contract is not None else str(holding.symbol)] = float(holding.quantity)
        return held

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

    # --- LEAN events -> the desk --------------------------------------------------------------------

    def on_order_event(self, order_event: OrderEvent) -> None:
        status = _STATUS.get(order_event.status, DeskOrderStatus.OTHER)
        self._apply(self.desk.on_order_event(OrderUpdate(
            order_event.order_id, status, self.time, float(order_event.fill_price), float(order_event.fill_quantity),
            str(order_event.message), self._order_key(order_event.order_id), int(order_event.id))))
        if status in (DeskOrderStatus.FILLED, DeskOrderStatus.PARTIALLY_FILLED):
            self._sync_stream_positions()

    def _order_key(self, order_id: int) -> str:
        """One key per order as the trader sees it: a combo's legs share their group's key."""
        order = self.transactions.get_order_by_id(order_id)
        group = order.group_order_manager if order is not None else None
        return f"group-{group.id}" if group is not None else f"order-{order_id}"

    def on_command(self, data: Any) -> bool | None:
        """Live commands (``lean live command``): resume, manual, status."""
        command = command_field(data, "command")
        fields = {key: command_field(data, key) for key in ("reason", "token")}
        ok, actions = self.desk.on_command(command, fields, self.time)
        self._apply(actions)
        if command == "status" and self.webhook is not None:
            self.log(f"[STATUS] alerts: {self.webhook.status()}")
        return ok

    def on_brokerage_disconnect(self) -> None:
        self._apply(self.desk.on_brokerage_disconnect(self.time))

    def on_brokerage_reconnect(self) -> None:
        self._apply(self.desk.on_brokerage_reconnect())

    def on_end_of_algorithm(self) -> None:
        self._apply(self.desk.on_end())
        if self.websocket is not None:
            self.websocket.close()


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


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]

