"""Exercise, assignment and expiry through ``OptionExercise`` orders, as LEAN does them
(``DefaultExerciseModel.cs``, ``OptionPortfolioModel.cs``, ``DefaultOptionAssignmentModel.cs``,
``BacktestingBrokerage.ProcessAssignmentOrders``)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from replay.engine.lean_types import OptionRight, OrderStatus, OrderType
from tests.lean_book import Book, side


def test_exercising_a_long_equity_call_buys_the_shares_at_the_strike_through_an_exercise_order():
    book = Book()
    goog = book.equity("GOOG", 750.0)
    call = book.option(goog, date(2021, 1, 15), 740.0, OptionRight.CALL)
    book.quote(call.symbol, side(11.0), side(11.5))
    book.hold(call, 1, 12.0)
    ticket = book.algorithm.exercise_option(call.symbol, 1)
    assert ticket.order.type is OrderType.OPTION_EXERCISE
    assert ticket.status is OrderStatus.FILLED
    assert (call.holdings.quantity, goog.holdings.quantity, goog.holdings.average_price) == (0, 100, 740.0)
    assert book.cash == pytest.approx(100_000 - 740.0 * 100)  # the option leg closes at 0, no fee
    assert book.algorithm.transactions.orders_count == 1
    assert book.algorithm.transactions.fees_paid == 0.0


def test_a_short_position_cannot_be_exercised_and_the_refusal_is_not_counted():
    book = Book()
    goog = book.equity("GOOG", 750.0)
    call = book.option(goog, date(2021, 1, 15), 740.0, OptionRight.CALL)
    book.quote(call.symbol, side(11.0), side(11.5))
    book.hold(call, -1, 12.0)
    assert book.algorithm.exercise_option(call.symbol, 1).status is OrderStatus.INVALID
    assert book.algorithm.transactions.orders_count == 0


def index_put(book: Book, strike: float, close: float):
    spx = book.index("SPX", close)
    put = book.option(spx, date(2021, 1, 8), strike, OptionRight.PUT, root="SPXW")
    book.quote(put.symbol, side(90.0), side(91.0))
    return spx, put


def test_an_index_option_in_the_money_settles_in_cash_at_the_underlying_close():
    book = Book(when=datetime(2021, 1, 9, 0, 0))
    spx, put = index_put(book, 3800.0, 3700.0)
    book.hold(put, 2, 90.0)
    book.algorithm.transactions.exercise(put, -2)
    assert put.holdings.quantity == 0 and spx.holdings.quantity == 0
    assert book.cash == pytest.approx(100_000 + 100.0 * 100 * 2)
    assert put.holdings.profit == pytest.approx((100.0 - 90.0) * 100 * 2)
    assert book.algorithm.transactions.orders_count == 1


def test_an_option_out_of_the_money_expires_at_zero():
    book = Book(when=datetime(2021, 1, 9, 0, 0))
    _spx, put = index_put(book, 3600.0, 3700.0)
    book.hold(put, 1, 20.0)
    order = book.algorithm.transactions.exercise(put, -1)
    assert put.holdings.quantity == 0
    assert book.cash == 100_000
    assert put.holdings.profit == pytest.approx(-20.0 * 100)
    assert book.algorithm.order_events[-1].message.startswith("OTM")
    assert order.type is OrderType.OPTION_EXERCISE


def test_an_assigned_short_put_buys_the_shares_and_the_algorithm_hears_of_the_assignment():
    book = Book(when=datetime(2021, 1, 16, 0, 0))
    goog = book.equity("GOOG", 700.0)
    put = book.option(goog, date(2021, 1, 15), 750.0, OptionRight.PUT)
    book.quote(put.symbol, side(49.0), side(51.0))
    book.hold(put, -1, 45.0)
    book.algorithm.transactions.exercise(put, 1)
    assert goog.holdings.quantity == 100 and goog.holdings.average_price == 750.0
    assert book.cash == pytest.approx(100_000 - 75_000)
    assert [e.is_assignment for e in book.algorithm.assignment_events] == [True]


def deep_short_call(days_to_expiry: int, underlying: float) -> tuple[Book, object, object]:
    book = Book(when=datetime(2021, 1, 11, 10, 0))
    goog = book.equity("GOOG", underlying, spread=0.2)
    call = book.option(goog, date(2021, 1, 11 + days_to_expiry), 700.0, OptionRight.CALL)
    book.quote(call.symbol, side(underlying - 701.0), side(underlying - 699.0))
    book.hold(call, -1, 10.0)
    return book, goog, call


def test_a_deep_in_the_money_short_american_call_near_expiry_is_assigned_early():
    book, goog, call = deep_short_call(days_to_expiry=3, underlying=750.0)  # 6.7% in the money
    book.step()
    assert (call.holdings.quantity, goog.holdings.quantity) == (0, -100)
    assert book.algorithm.transactions.orders_count == 1
    assert book.algorithm.assignment_events[0].is_assignment
    assert book.algorithm.transactions.orders[1].tag == "Simulated option assignment before expiration"


@pytest.mark.parametrize("days, underlying", [(10, 750.0), (3, 730.0)])
def test_no_early_assignment_far_from_expiry_or_less_than_five_percent_in_the_money(days, underlying):
    book, _goog, call = deep_short_call(days_to_expiry=days, underlying=underlying)
    book.step()
    assert book.algorithm.transactions.orders_count == 0
    assert call.holdings.quantity == -1


def test_early_assignment_is_checked_once_an_hour():
    book, goog, call = deep_short_call(days_to_expiry=3, underlying=730.0)
    book.step()  # 10:01: checked, only 4% in the money
    book.trade(goog.symbol, 750.0)
    book.step()  # 10:02: deep in the money now, but the next check is at 11:00
    assert call.holdings.quantity == -1
    book.algorithm.time = datetime(2021, 1, 11, 10, 59)
    book.step()  # 11:00
    assert call.holdings.quantity == 0
    assert book.algorithm.transactions.orders_count == 1
