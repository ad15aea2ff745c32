"""``TastytradeWebSocket``: the algorithm's view of the tastytrade DXLink feed.

Threading contract (why it looks like this): LEAN objects may only be touched on the algorithm thread.
The stream thread therefore only writes into the lock-protected cache and the signal queue; the
algorithm thread calls the getters, ``set_positions`` and ``drain_signals`` and does its own logging.
Nothing here imports LEAN; the constructor takes plain values.
"""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import time
from typing import Protocol

from streaming.auth import HttpTransport, QuoteTokenSource, TastytradeAuth, urllib_transport
from streaming.cache import (
    DEFAULT_MOVE_SYMBOLS,
    GreeksLimitMonitor,
    GreeksSnapshot,
    MarketCache,
    QuoteSnapshot,
    StreamBookGreeks,
    SummarySnapshot,
    TradeSnapshot,
    ZeroDteMoveMonitor,
)
from streaming.client import DxLinkClient
from streaming.config import DEFAULT_USER_AGENT, Redactor, StreamSettings, TastytradeConfig
from streaming.protocol import Batch, SubscriptionBook
from streaming.signals import GreeksWarning, Signal, SignalQueue, StreamStatus, ZeroDteMove
from streaming.symbols import future_root
from streaming.timing import ZERO_DTE_WINDOW, Clock, SystemClock

BatchSink = Callable[[list[Batch]], None]


class StreamingParameters(Protocol):
    """What ``from_settings`` reads from the algorithm's settings (core.settings.StreamingSettings)."""

    @property
    def environment(self) -> str: ...
    @property
    def move_threshold_pct(self) -> float: ...
    @property
    def signal_start(self) -> time: ...
    @property
    def signal_end(self) -> time: ...
    @property
    def delta_warning(self) -> float: ...
    @property
    def gamma_warning(self) -> float: ...
    @property
    def max_quote_age_seconds(self) -> float: ...
    @property
    def error_limit(self) -> int: ...
    @property
    def error_window_seconds(self) -> float: ...
    @property
    def keepalive_timeout_seconds(self) -> float: ...
    @property
    def dead_link_seconds(self) -> float: ...


_MOVE_EVENTS = ("Quote", "Trade", "Summary")


class TastytradeWebSocket:
    """Real-time quotes, trades, Greeks and day summaries from tastytrade's DXLink feed.

    ``config`` gives the OAuth credentials (the token flow runs on the stream thread); alternatively
    ``token_source`` supplies a DXLink URL and quote token directly (command line, tests).
    ``symbols`` are DXLink streamer symbols (see ``streaming.symbols``). Limits default to the spec:
    0.5 % 0DTE move on Fridays 10:00-15:00 New York, |delta| 50, |gamma| 10 (share-equivalent,
    position-weighted). ``batch_sink`` (tools only) receives every decoded batch on the stream
    thread and must not block.

    From the algorithm (live mode only), all on the algorithm thread:
    ``connect()`` in initialize; ``set_positions({...})`` whenever holdings change; ``drain_signals()``
    and ``status()`` in on_data or a scheduled event; ``close()`` in on_end_of_algorithm.
    """

    def __init__(
        self,
        config: TastytradeConfig | None,
        symbols: Iterable[str] = (),
        *,
        settings: StreamSettings | None = None,
        clock: Clock | None = None,
        move_threshold_pct: float = 0.5,
        move_window: tuple[time, time] = ZERO_DTE_WINDOW,
        move_symbols: Iterable[str] = DEFAULT_MOVE_SYMBOLS,
        delta_limit: float = 50.0,
        gamma_limit: float = 10.0,
        token_source: QuoteTokenSource | None = None,
        http_transport: HttpTransport = urllib_transport,
        rng: random.Random | None = None,
        batch_sink: BatchSink | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._redactor = Redactor()
        settings = settings or StreamSettings()
        self._signals = SignalQueue(
            self._clock,
            self._redactor,
            max_items=settings.max_queued_signals,
            repeat_interval_seconds=settings.log_repeat_interval_seconds,
        )
        source = self._token_source(config, token_source, http_transport)
        self._settings = settings
        self._book = SubscriptionBook(symbols)
        self._cache = MarketCache(self._clock, self._book.symbols())
        self._front_futures = frozenset(s for s in self._book.symbols() if future_root(s) is not None)
        self._moves = ZeroDteMoveMonitor(
            self._cache,
            threshold_pct=move_threshold_pct,
            watch=tuple(move_symbols),
            window=move_window,
            max_price_age_seconds=settings.max_quote_age_seconds,
        )
        self._moves.watch_symbols(self._book.symbols())
        self._greeks = GreeksLimitMonitor(self._cache, delta_limit=delta_limit, gamma_limit=gamma_limit)
        self._sink = batch_sink
        self._client = DxLinkClient(
            source,
            self._book,
            self._signals,
            on_feed=self._on_feed,
            settings=settings,
            clock=self._clock,
            rng=rng,
            redactor=self._redactor,
            user_agent=config.user_agent if config is not None else DEFAULT_USER_AGENT,
        )

    @classmethod
    def from_settings(
        cls,
        params: StreamingParameters,
        symbols: Iterable[str],
        *,
        config: TastytradeConfig | None = None,
        clock: Clock | None = None,
        move_symbols: Iterable[str] = DEFAULT_MOVE_SYMBOLS,
    ) -> TastytradeWebSocket:
        """Built from the algorithm's validated streaming settings (LEAN parameters).

        Credentials come from ``config`` or, by default, the ``TASTYTRADE_*`` environment variables
        (raises ``ConfigError`` naming the missing ones); ``params.environment`` picks the API.
        """
        config = config or TastytradeConfig.from_env()
        if config.environment != params.environment:
            config = dataclasses.replace(config, environment=params.environment)
        settings = StreamSettings(
            keepalive_timeout_seconds=params.keepalive_timeout_seconds,
            dead_link_seconds=params.dead_link_seconds,
            error_limit=params.error_limit,
            error_window_seconds=params.error_window_seconds,
            max_quote_age_seconds=params.max_quote_age_seconds,
        )
        return cls(
            config,
            symbols,
            settings=settings,
            clock=clock,
            move_threshold_pct=params.move_threshold_pct,
            move_window=(params.signal_start, params.signal_end),
            move_symbols=move_symbols,
            delta_limit=params.delta_warning,
            gamma_limit=params.gamma_warning,
        )

    def _token_source(
        self, config: TastytradeConfig | None, given: QuoteTokenSource | None, transport: HttpTransport
    ) -> QuoteTokenSource:
        """The OAuth flow for a config, or the given source; secrets are registered for redaction."""
        if given is not None and config is None:
            return given
        if config is None or given is not None:
            raise ValueError("give either a TastytradeConfig or a token_source, not both")
        self._redactor.add(config.refresh_token, config.client_secret, config.client_id)
        return TastytradeAuth(config, transport=transport, clock=self._clock, on_secret=self._redactor.add)

    def __repr__(self) -> str:
        return f"TastytradeWebSocket(state={self._client.state.value}, symbols={len(self._book.symbols())})"

    # ----- life cycle -------------------------------------------------------------------------
    def connect(self) -> None:
        """Starts the stream thread and returns at once (call in ``initialize`` when live)."""
        self._client.start()

    def close(self, timeout_seconds: float = 2.0) -> None:
        """Closes the connection (call from ``on_end_of_algorithm``)."""
        self._client.stop(timeout_seconds)

    @property
    def is_connected(self) -> bool:
        """Connected with frames arriving: False while stale (silent past the agreed keepalive
        timeout), reconnecting, failed or closed, so callers treat stale data like no data."""
        return self.status().is_connected

    def status(self) -> StreamStatus:
        """State and data age, for the manual-mode fallback's health check."""
        return self._client.status(self._cache.seconds_since_last_event(), self._cache.unrequested_events)

    def drain_signals(self) -> list[Signal]:
        """Connection changes, log lines, 0DTE moves and Greeks warnings since the last call."""
        return self._signals.drain()

    # ----- subscriptions and positions ----------------------------------------------------------
    def subscribe(self, symbols: Iterable[str]) -> None:
        """Adds streamer symbols; the stream thread sends them within ``poll_interval_seconds``."""
        self._book.add(symbols)
        self._wanted_changed()

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        """Removes streamer symbols; their cached data is forgotten at once (unless still held)."""
        self._book.remove(symbols)
        self._wanted_changed()

    def follow_front_futures(self, symbols: Iterable[str]) -> None:
        """Replaces the streamed front futures contracts (a roll: ``/ESH26:XCME`` -> ``/ESM26:XCME``).

        The ones given at construction are the first set; the 0DTE move signal follows by root.
        """
        new = frozenset(symbols)
        old, self._front_futures = self._front_futures, new
        if new != old:
            self._book.remove(old - new)
            self._book.add(new)
            self._wanted_changed()

    def set_positions(self, positions: Mapping[str, float]) -> None:
        """Held positions as ``{streamer_symbol: signed quantity x multiplier}``; replaces the last call.

        Held options are subscribed (Quote, Greeks) automatically; Greeks limits are re-checked at once.
        """
        self._greeks.set_positions(positions)
        self._book.set_held(self._greeks.held_options())
        self._wanted_changed()
        for warning in self._greeks.evaluate(self._signals.now()):
            self._signals.put(warning)

    def _wanted_changed(self) -> None:
        """The cache and the move monitor follow the subscription book."""
        wanted = self._book.symbols()
        self._cache.retain(wanted)
        self._moves.watch_symbols(wanted)

    # ----- the cache ----------------------------------------------------------------------------
    def get_real_time_quote(self, symbol: str, max_age_seconds: float | None = None) -> QuoteSnapshot | None:
        """The latest quote with its age, or None when there is none or it is older than
        ``max_age_seconds`` (default: the ``max_quote_age_seconds`` setting)."""
        limit = self._settings.max_quote_age_seconds if max_age_seconds is None else max_age_seconds
        return self._cache.quote(symbol, limit)

    def get_real_time_trade(self, symbol: str) -> TradeSnapshot | None:
        return self._cache.trade(symbol)

    def get_real_time_greeks(self, symbol: str) -> GreeksSnapshot | None:
        return self._cache.greeks(symbol)

    def get_day_summary(self, symbol: str) -> SummarySnapshot | None:
        return self._cache.summary(symbol)

    def portfolio_greeks(self) -> StreamBookGreeks:
        return self._greeks.portfolio()

    # ----- the spec's checks as queries -----------------------------------------------------------
    def check_0dte_entry(self, symbol: str) -> ZeroDteMove | None:
        """The spec's 0DTE move now (Friday 10:00-15:00 New York, beyond the threshold), else None."""
        return self._moves.measure(symbol, self._clock.time(), self._signals.now())

    def check_greeks_limits(self) -> list[GreeksWarning]:
        """Position-weighted Greeks beyond their limits now."""
        return self._greeks.breaches(self._signals.now())

    # ----- stream thread ------------------------------------------------------------------------
    def _on_feed(self, batches: list[Batch], received_at: float) -> None:
        """Runs on the stream thread: cache, then the two monitors, then the optional tool sink."""
        moves = greeks = False
        unrequested = 0
        for batch in batches:
            unrequested += self._cache.apply(batch, received_at)
            if batch.event_type in _MOVE_EVENTS and self._moves.relevant(batch.symbols):
                moves = True
            if batch.event_type == "Greeks" and self._greeks.relevant(batch.symbols):
                greeks = True
        if unrequested:
            self._signals.log(
                "warning",
                f"{unrequested} events for symbols we did not subscribe ignored "
                f"({self._cache.unrequested_events} so far)",
                key="unrequested",
            )
        if moves or greeks:
            self._emit_checks(moves, greeks)
        if self._sink is not None:
            self._sink(batches)

    def _emit_checks(self, moves: bool, greeks: bool) -> None:
        at = self._signals.now()
        found: list[Signal] = []
        if moves:
            found.extend(self._moves.evaluate(self._clock.time(), at))
        if greeks:
            found.extend(self._greeks.evaluate(at))
        for signal in found:
            self._signals.put(signal)

