"""A plain-Python world for the desk: synthetic snapshots and a broker that fills limit orders.

Stated model (no LEAN): the underlying follows a given minute path; every SPXW contract expiring that
day is quoted at its Black-Scholes price (flat ``vol``, rate 0.25%, no dividend) plus and minus half a
``spread`` (a zero bid where the price is below half the spread), and LEAN's own IV for it is ``vol``;
VIX and VIX9D are constants; SPY (the beta reference) is a tenth of SPX. The broker fills an order at
once when its limit is at least the net mid (see :meth:`World.place`), cancels resting orders when
asked, and keeps the positions. Nothing here imports the LEAN double.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np

from core.market import BookPosition, ChainColumns, ContractSpec, Reading, SeriesBar
from core.orders import OrderIntent
from core.settings import load_settings
from desk import Desk
from desk.interface import Action, BarSnapshot, CancelOrder, OrderStatus, OrderUpdate, SendOrder
from pricing.black_scholes import bs_price
from pricing.expiry import year_fraction_to_expiry

RATE = 0.0025
SPY_PER_SPX = 0.1  # the beta reference (SPY) quoted at a tenth of SPX


class History:
    """LEAN history as the desk asks for it: yesterday's close and ten quiet opening windows."""

    def __init__(self, previous_close: float, previous_session: date) -> None:
        self.previous_close, self.previous_session = previous_close, previous_session

    def last_daily_close(self, series: str) -> tuple[date, float] | None:
        return (self.previous_session, self.previous_close) if series == "underlying" else None

    def opening_volumes(self, sessions: int, window_end: time) -> list[float]:
        return [1_000.0] * sessions


class World:
    """A desk, a day's market and a broker; ``run`` plays minutes and carries out every action."""

    def __init__(self, day: date = date(2021, 1, 8), open_price: float = 3800.0, vol: float = 0.20,
                 spread: float = 0.10, parameters: dict[str, str] | None = None,
                 strikes: tuple[float, float, float] = (3600.0, 4000.0, 5.0), live: bool = False,
                 records: dict[str, str | None] | None = None) -> None:
        self.day, self.vol, self.spread = day, vol, spread
        params = {"underlying": "SPX", "futures-enabled": "false", **(parameters or {})}
        self.settings = load_settings(params.get)
        self.history = History(open_price, day - timedelta(days=1))
        self.desk = Desk(self.settings, live=live, history=self.history)
        low, high, step = strikes
        self.contracts = [ContractSpec("SPX", "SPXW", day, float(k), is_call, 100.0)
                          for k in np.arange(low, high + step / 2, step) for is_call in (True, False)]
        self.positions: dict[ContractSpec, float] = {}
        self.cash = self.settings.universe.cash
        self.actions: list[Action] = []
        self.orders: list[tuple[datetime, OrderIntent]] = []
        self.refuse_next_with: str | None = None  # the broker rejects the next order (INVALID)
        self.hold_fills = False  # keep fill events in ``held`` instead of delivering them at once
        self.held: list[OrderUpdate] = []
        self._event_ids = itertools.count(1)
        self.quote_age: dict[ContractSpec, float] = {}  # minutes since a contract's last real quote (else 0)
        self.resting: set[int] = set()  # order ids working unfilled
        self._ids = itertools.count(1)
        self.spot = open_price
        self.now = datetime.combine(day, time(9, 30))
        self.actions += self.desk.start(records or {}, self.now)

    # --- the market ---------------------------------------------------------------------------------

    def quotes(self) -> tuple[np.ndarray, np.ndarray]:
        t = year_fraction_to_expiry(self.now, np.array([self.day] * len(self.contracts), dtype="datetime64[D]"))
        strike = np.array([c.strike for c in self.contracts])
        is_call = np.array([c.is_call for c in self.contracts])
        model = bs_price(self.spot, strike, t, RATE, 0.0, self.vol, is_call)
        bid = np.round(np.maximum(model - self.spread / 2, 0.0), 2)
        return bid, np.round(np.maximum(model + self.spread / 2, 0.05), 2)

    def snapshot(self, vix: float = 20.0) -> BarSnapshot:
        bid, ask = self.quotes()
        rows = [(b, a, (b + a) / 2, 10.0, 500.0, self.vol, self.quote_age.get(c, 0.0))  # LEAN's IV: the model's
                for c, b, a in zip(self.contracts, bid, ask)]
        chain = ChainColumns.from_rows(self.contracts, rows)
        positions = tuple(BookPosition(c.describe(), q, 100.0, c, "SPX") for c, q in self.positions.items() if q)
        spy = self.spot * SPY_PER_SPX
        bars = (SeriesBar("underlying", self.spot, self.spot, volume=100.0), SeriesBar("vix", vix, vix),
                SeriesBar("vix9d", vix * 1.1, vix * 1.1), SeriesBar("beta", spy, spy))
        return BarSnapshot(self.now, True, self.history.previous_session, bars, chain, positions,
                           self.portfolio_value(bid, ask), Reading(RATE), Reading(0.0),
                           call_volume=50.0, put_volume=70.0)

    def portfolio_value(self, bid: np.ndarray, ask: np.ndarray) -> float:
        mid = {c: (b + a) / 2 for c, b, a in zip(self.contracts, bid, ask)}
        return self.cash + sum(q * mid[c] * 100.0 for c, q in self.positions.items())

    # --- the broker ---------------------------------------------------------------------------------

    def place(self, intent: OrderIntent) -> list[int]:
        """A limit at or through the net natural fills at the natural prices; one between the mid and
        the natural fills at the limit (each leg moved from its natural by the same share of its
        spread); one short of the mid rests unfilled. Rejects instead when told to. Returns the legs'
        order ids."""
        self.orders.append((self.now, intent))
        bid, ask = self.quotes()
        index = {c: i for i, c in enumerate(self.contracts)}
        ids = [next(self._ids) for _ in intent.legs]
        rows = [index[leg.contract] for leg in intent.legs if leg.contract is not None]
        q = np.array([leg.quantity for leg in intent.legs], dtype=float)
        natural_legs = np.where(q > 0, ask[rows], bid[rows])
        mid_legs = (ask[rows] + bid[rows]) / 2.0
        natural, mid = float(q @ natural_legs), float(q @ mid_legs)
        limit = natural if intent.limit_price is None else intent.limit_price
        if self.refuse_next_with is None and limit < mid - 1e-9:
            self.resting.update(ids)  # the market is not at the limit
            return ids
        share = 0.0 if limit >= natural or natural == mid else (natural - limit) / (natural - mid)
        prices = natural_legs + share * (mid_legs - natural_legs)
        for order_id, leg, price in zip(ids, intent.legs, prices):
            assert leg.contract is not None
            quantity = leg.quantity * intent.units
            if self.refuse_next_with is not None:
                self._deliver(self.desk.on_order_event(OrderUpdate(
                    order_id, OrderStatus.INVALID, self.now, message=self.refuse_next_with, order_key=f"group-{ids[0]}")))
                continue
            self.positions[leg.contract] = self.positions.get(leg.contract, 0.0) + quantity
            self.cash -= quantity * float(price) * 100.0
            fill = OrderUpdate(order_id, OrderStatus.FILLED, self.now, float(price), float(quantity),
                               order_key=f"group-{ids[0]}", event_id=next(self._event_ids))
            if self.hold_fills:
                self.held.append(fill)
            else:
                self._deliver(self.desk.on_order_event(fill))
        self.refuse_next_with = None
        return ids

    def _deliver(self, actions: list[Action]) -> None:
        """Carry out actions as main.py does: orders go back to the desk's gate with ``place``."""
        for action in actions:
            self.actions.append(action)
            if isinstance(action, CancelOrder) and action.order_id in self.resting:
                self.resting.discard(action.order_id)
                self._deliver(self.desk.on_order_event(OrderUpdate(action.order_id, OrderStatus.CANCELED, self.now)))
            elif isinstance(action, SendOrder):
                holdings = {c.describe(): q for c, q in self.positions.items() if q}
                self._deliver(self.desk.send(action, self.place, holdings, self.now))

    # --- time ---------------------------------------------------------------------------------------

    def run(self, until: time, path: Callable[[datetime], float] | None = None, vix: float = 20.0) -> None:
        """Play minute bars up to ``until`` (bars stamped at their end, 09:31 first)."""
        while self.now.time() < until:
            self.now += timedelta(minutes=1)
            if path is not None:
                self.spot = path(self.now)
            self._deliver(self.desk.on_bar(self.snapshot(vix)))

    def saved(self) -> dict[str, str | None]:
        """The object store as the desk left it: the last text saved under each key."""
        from desk.interface import SaveRecord

        return {a.key: a.text for a in self.actions if isinstance(a, SaveRecord)}

    def logs(self) -> list[str]:
        from desk.interface import Log

        return [a.text for a in self.actions if isinstance(a, Log)]
