"""The replay fills orders as LEAN's fill models do (``FillModel.cs``, ``EquityFillModel.cs``,
``BacktestingBrokerage.Scan``), from each side's minute bar; see :mod:`replay.engine.fills`."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from replay.engine.lean_types import OptionRight, OrderStatus, OrderType
from replay.engine.orders import Leg
from tests.lean_book import Book, side

EXPIRY = date(2021, 1, 15)


def goog_call(book: Book, strike: float = 750.0):
    goog = book.equity("GOOG", 750.0, spread=0.1)
    return book.option(goog, EXPIRY, strike, OptionRight.CALL)


def test_market_buy_fills_at_the_ask_bar_close_before_market_order_returns():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(5.0, low=4.8, high=5.2), side(5.3, low=5.0, high=5.4, open=5.2))
    ticket = book.algorithm.market_order(call.symbol, 2)
    assert ticket.status is OrderStatus.FILLED
    assert ticket.average_fill_price == 5.3
    # Interactive Brokers (the default model): 2 x $0.65, premium read at the bid
    assert book.algorithm.transactions.fees_paid == pytest.approx(1.30)
    assert book.cash == pytest.approx(100_000 - 2 * 5.3 * 100 - 1.30)
    assert call.holdings.quantity == 2


def test_market_sell_fills_at_the_bid_bar_close():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(5.0, low=4.8, high=5.2), side(5.3))
    ticket = book.algorithm.market_order(call.symbol, -1)
    assert ticket.average_fill_price == 5.0
    assert call.holdings.quantity == -1


def test_market_order_on_data_older_than_an_hour_waits_for_a_fresh_bar():
    book = Book(when=datetime(2021, 1, 4, 12, 0))
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 10, 30))
    ticket = book.algorithm.market_order(call.symbol, 1)
    assert ticket.status is OrderStatus.SUBMITTED
    book.step()
    assert ticket.status is OrderStatus.SUBMITTED  # still nothing newer
    book.quote(call.symbol, side(5.5), side(5.8), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.status is OrderStatus.FILLED
    assert ticket.average_fill_price == 5.8


def test_market_order_on_data_within_the_hour_fills_at_once():
    book = Book(when=datetime(2021, 1, 4, 12, 0))
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 11, 30))
    assert book.algorithm.market_order(call.symbol, 1).average_fill_price == 5.3


def test_limit_buy_never_fills_on_its_placing_bar_and_needs_the_ask_low_strictly_below_the_limit():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(4.7), side(5.3, low=4.9, high=5.4))  # would cross, but it is the placing bar
    ticket = book.algorithm.limit_order(call.symbol, 1, 5.0)
    assert ticket.status is OrderStatus.SUBMITTED
    book.quote(call.symbol, side(4.7), side(5.1, low=5.0, high=5.2), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.status is OrderStatus.SUBMITTED  # a low equal to the limit is not enough
    book.quote(call.symbol, side(4.7), side(4.95, low=4.9, high=4.98), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.status is OrderStatus.FILLED
    assert ticket.average_fill_price == 4.98  # min(ask high, limit)


def test_limit_sell_fills_when_the_bid_high_is_strictly_above_the_limit_at_the_better_of_low_and_limit():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3))
    ticket = book.algorithm.limit_order(call.symbol, -1, 5.2)
    book.quote(call.symbol, side(5.2, low=5.1, high=5.2), side(5.4), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.status is OrderStatus.SUBMITTED
    book.quote(call.symbol, side(5.3, low=5.25, high=5.35), side(5.5), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.average_fill_price == 5.25  # max(bid low, limit)


def test_limit_order_ignores_the_trade_bar_of_an_option():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3))
    ticket = book.algorithm.limit_order(call.symbol, 1, 5.0)
    book.trade(call.symbol, 4.5, end=book.now + timedelta(minutes=1))  # a trade below the limit
    book.quote(call.symbol, side(5.0), side(5.3), end=book.now + timedelta(minutes=1))
    book.step()
    assert ticket.status is OrderStatus.SUBMITTED


def spread_book() -> tuple[Book, object, object]:
    book = Book()
    low = goog_call(book, 750.0)
    high = book.option(book.algorithm.securities[low.symbol.underlying], EXPIRY, 760.0, OptionRight.CALL)
    book.quote(low.symbol, side(4.8), side(5.0))
    book.quote(high.symbol, side(2.0), side(2.2))
    return book, low, high


def next_bars(book: Book, low, high, low_bid, low_ask, high_bid, high_ask) -> None:
    end = book.now + timedelta(minutes=1)
    book.quote(low.symbol, low_bid, low_ask, end=end)
    book.quote(high.symbol, high_bid, high_ask, end=end)
    book.step()


def test_bought_combo_limit_sums_own_side_lows_and_fills_only_strictly_below_its_limit():
    book, low, high = spread_book()
    legs = [Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)]
    tickets = book.algorithm.combo_limit_order(legs, 1, 2.8)  # natural debit now 5.0 - 2.0 = 3.0
    assert [t.status for t in tickets] == [OrderStatus.SUBMITTED] * 2
    # buy leg reads the ask bar's low, sell leg the bid bar's low: 4.8 - 2.0 = 2.8, not below 2.8
    next_bars(book, low, high, side(4.7), side(5.0, low=4.8), side(2.1, low=2.0), side(2.3))
    assert tickets[0].status is OrderStatus.SUBMITTED
    next_bars(book, low, high, side(4.7), side(5.0, low=4.75), side(2.1, low=2.0), side(2.3))
    assert [t.status for t in tickets] == [OrderStatus.FILLED] * 2
    assert [t.average_fill_price for t in tickets] == [4.75, 2.0]  # each leg at its bar's low
    assert (low.holdings.quantity, high.holdings.quantity) == (1, -1)


def test_sold_combo_limit_sums_own_side_highs_and_fills_only_strictly_above_its_limit():
    book, low, high = spread_book()
    legs = [Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)]
    tickets = book.algorithm.combo_limit_order(legs, -1, 3.0)  # sell the 750 call, buy the 760
    # sell leg reads the bid bar's high, buy leg the ask bar's high: 5.2 - 2.2 = 3.0, not above 3.0
    next_bars(book, low, high, side(5.0, high=5.2), side(5.3), side(2.0), side(2.1, high=2.2))
    assert tickets[0].status is OrderStatus.SUBMITTED
    next_bars(book, low, high, side(5.0, high=5.3), side(5.4), side(2.0), side(2.1, high=2.2))
    assert [t.average_fill_price for t in tickets] == [5.3, 2.2]
    assert (low.holdings.quantity, high.holdings.quantity) == (-1, 1)


def test_combo_limit_waits_for_the_next_time_step_then_may_fill_on_a_bar_ending_at_the_order_time():
    book, low, high = spread_book()
    legs = [Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)]
    tickets = book.algorithm.combo_limit_order(legs, 1, 10.0)  # far through the market
    assert tickets[0].status is OrderStatus.SUBMITTED  # the scan skips a non-market order placed now
    book.step()  # no newer bars: LEAN's ComboLimitFill refuses only data ending *before* the order
    assert [t.average_fill_price for t in tickets] == [5.0, 2.0]


def test_combo_limit_does_not_fill_on_data_that_ended_before_the_order():
    book, low, high = spread_book()
    book.quote(high.symbol, side(2.0), side(2.2), end=book.now - timedelta(minutes=5))
    legs = [Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)]
    tickets = book.algorithm.combo_limit_order(legs, 1, 10.0)
    book.step()
    assert tickets[0].status is OrderStatus.SUBMITTED


def test_combo_market_fills_every_leg_at_its_own_side_close_at_once():
    book, low, high = spread_book()
    tickets = book.algorithm.combo_market_order([Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)], 2)
    assert [t.average_fill_price for t in tickets] == [5.0, 2.0]
    assert [t.order.type for t in tickets] == [OrderType.COMBO_MARKET] * 2
    assert (low.holdings.quantity, high.holdings.quantity) == (2, -2)


def test_combo_leg_limit_fills_all_legs_at_their_own_limits_or_none():
    book, low, high = spread_book()
    legs = [Leg.create(low.symbol, 1, 4.9), Leg.create(high.symbol, -1, 2.1)]
    tickets = book.algorithm.combo_leg_limit_order(legs, 1)
    next_bars(book, low, high, side(4.8), side(5.0, low=4.85, high=4.88), side(2.0, high=2.05), side(2.2))
    assert tickets[0].status is OrderStatus.SUBMITTED  # the sell leg's bid high is not above 2.1
    next_bars(book, low, high, side(4.8), side(5.0, low=4.85, high=4.88), side(2.0, low=2.0, high=2.15), side(2.2))
    assert [t.average_fill_price for t in tickets] == [4.88, 2.1]


def test_stop_market_sell_triggers_on_the_bid_low_below_the_stop():
    book = Book()
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3))
    book.hold(call, 1, 5.0)
    ticket = book.algorithm.stop_market_order(call.symbol, -1, 4.5)
    next_bars_single(book, call, side(4.6, low=4.5), side(4.8))
    assert ticket.status is OrderStatus.SUBMITTED
    next_bars_single(book, call, side(4.4, low=4.3), side(4.6))
    assert ticket.average_fill_price == 4.4  # min(stop, bid close)


def next_bars_single(book: Book, security, bid, ask) -> None:
    book.quote(security.symbol, bid, ask, end=book.now + timedelta(minutes=1))
    book.step()


def test_market_order_while_the_exchange_is_closed_becomes_market_on_open_and_fills_at_the_next_open():
    book = Book(when=datetime(2021, 1, 4, 17, 0))
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 16, 0))
    ticket = book.algorithm.market_order(call.symbol, 1)
    assert ticket.order.type is OrderType.MARKET_ON_OPEN
    book.algorithm.time = datetime(2021, 1, 5, 9, 30)
    next_bars_single(book, call, side(5.5), side(5.9, open=5.7))
    assert ticket.average_fill_price == 5.7  # the ask bar's open


def test_market_on_close_fills_at_the_close_of_the_session():
    book = Book(when=datetime(2021, 1, 4, 15, 0))
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3))
    ticket = book.algorithm.market_on_close_order(call.symbol, 1)
    next_bars_single(book, call, side(5.0), side(5.4))
    assert ticket.status is OrderStatus.SUBMITTED
    book.algorithm.time = datetime(2021, 1, 4, 15, 59)
    next_bars_single(book, call, side(5.1), side(5.6))
    assert ticket.average_fill_price == 5.6


def test_equity_market_order_fills_at_the_ask_and_pays_the_ib_share_fee():
    book = Book()
    goog = book.equity("GOOG", 750.0, spread=0.2)
    ticket = book.algorithm.market_order(goog.symbol, 100)
    assert ticket.average_fill_price == pytest.approx(750.1)
    assert book.algorithm.transactions.fees_paid == 1.0  # 100 x $0.005, $1 minimum
