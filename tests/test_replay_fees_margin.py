"""Fees come from the algorithm's brokerage model and orders without the margin become Invalid, as in LEAN
(``InteractiveBrokersFeeModel.cs``, ``TastytradeFeeModel.cs``, ``DefaultBrokerageModel.cs``,
``TastytradeBrokerageModel.cs``, ``OptionMarginModel.cs``, ``OptionStrategyPositionGroupBuyingPowerModel.cs``)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from replay.engine.fees import ConstantFeeModel, InteractiveBrokersFeeModel, fee_amount
from replay.engine.lean_types import BrokerageName, OptionRight, OrderStatus, OrderType
from replay.engine.orders import Leg, Order
from tests.lean_book import Book, side

EXPIRY = date(2021, 1, 15)


def goog_calls(book: Book) -> tuple[object, object]:
    goog = book.equity("GOOG", 750.0, spread=0.1)
    low = book.option(goog, EXPIRY, 750.0, OptionRight.CALL)
    high = book.option(goog, EXPIRY, 760.0, OptionRight.CALL)
    book.quote(low.symbol, side(4.8), side(5.0))
    book.quote(high.symbol, side(2.0), side(2.2))
    return low, high


def spxw_puts(book: Book) -> tuple[object, object]:
    spx = book.index("SPX", 3700.0)
    short = book.option(spx, date(2021, 1, 8), 3600.0, OptionRight.PUT, root="SPXW")
    long = book.option(spx, date(2021, 1, 8), 3590.0, OptionRight.PUT, root="SPXW")
    book.quote(short.symbol, side(10.0), side(10.5))
    book.quote(long.symbol, side(8.0), side(8.5))
    return short, long


# --- fees ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("premium, quantity, fee", [
    (5.0, 10, 6.5),    # $0.65 a contract at a premium of $0.10 or more
    (0.07, 10, 5.0),   # $0.50 between $0.05 and $0.10
    (0.03, 10, 2.5),   # $0.25 below $0.05
    (5.0, 1, 1.0),     # $1 minimum per order
])
def test_interactive_brokers_option_fee_tiers(premium, quantity, fee):
    book = Book()
    low, _high = goog_calls(book)
    order = Order(OrderType.LIMIT, low.symbol, quantity, book.now, limit_price=premium)
    assert fee_amount(InteractiveBrokersFeeModel(), low, order) == pytest.approx(fee)


def test_interactive_brokers_equity_fee_and_free_equity_option_exercise():
    book = Book()
    low, _high = goog_calls(book)
    goog = book.algorithm.securities[low.symbol.underlying]
    model = InteractiveBrokersFeeModel()
    assert fee_amount(model, goog, Order(OrderType.MARKET, goog.symbol, 1000, book.now)) == pytest.approx(5.0)
    assert fee_amount(model, goog, Order(OrderType.MARKET, goog.symbol, 10, book.now)) == 1.0
    assert fee_amount(model, low, Order(OrderType.OPTION_EXERCISE, low.symbol, -3, book.now)) == 0.0


def test_default_model_charges_nothing_for_index_options():
    book = Book()
    short, _long = spxw_puts(book)
    book.algorithm.market_order(short.symbol, 1)
    assert book.algorithm.transactions.fees_paid == 0.0
    assert book.cash == pytest.approx(100_000 - 1050)


def test_tastytrade_charges_a_dollar_per_contract_opening_and_nothing_closing():
    book = Book(brokerage=BrokerageName.TASTYTRADE)
    low, _high = goog_calls(book)
    short, _long = spxw_puts(book)
    transactions = book.algorithm.transactions
    book.algorithm.market_order(low.symbol, 2)
    assert transactions.fees_paid == 2.0
    book.algorithm.market_order(low.symbol, -2)
    assert transactions.fees_paid == 2.0
    book.algorithm.market_order(low.symbol, -1)  # opens a short
    assert transactions.fees_paid == 3.0
    book.algorithm.market_order(short.symbol, 1)  # index options too
    assert transactions.fees_paid == 4.0


def test_a_security_fee_model_set_by_the_algorithm_is_used():
    book = Book()
    low, _high = goog_calls(book)
    low.set_fee_model(ConstantFeeModel(2.5))
    book.algorithm.market_order(low.symbol, 4)
    assert book.algorithm.transactions.fees_paid == 2.5


# --- brokerage order rules ------------------------------------------------------------------------------

def test_tastytrade_refuses_combo_market_orders_as_invalid_orders_that_still_count():
    book = Book(brokerage=BrokerageName.TASTYTRADE)
    low, high = goog_calls(book)
    tickets = book.algorithm.combo_market_order([Leg.create(low.symbol, 1), Leg.create(high.symbol, -1)], 1)
    assert [t.status for t in tickets] == [OrderStatus.INVALID] * 2
    assert book.algorithm.transactions.orders_count == 2
    assert low.holdings.quantity == 0
    assert "BrokerageModel declared unable to submit order" in book.algorithm.errors[-1]


def test_tastytrade_refuses_a_combo_limit_leg_that_crosses_zero():
    book = Book(brokerage=BrokerageName.TASTYTRADE)
    low, high = goog_calls(book)
    book.hold(low, 1, 5.0)
    tickets = book.algorithm.combo_limit_order([Leg.create(low.symbol, -2), Leg.create(high.symbol, 1)], 1, -1.0)
    assert tickets[0].status is OrderStatus.INVALID


def test_tastytrade_refuses_market_on_close():
    book = Book(when=datetime(2021, 1, 4, 15, 0), brokerage=BrokerageName.TASTYTRADE)
    low, _high = goog_calls(book)
    assert book.algorithm.market_on_close_order(low.symbol, 1).status is OrderStatus.INVALID


def test_an_order_for_a_security_without_a_price_is_refused_and_not_counted():
    book = Book()
    low, _high = goog_calls(book)
    unpriced = book.option(book.algorithm.securities[low.symbol.underlying], EXPIRY, 800.0, OptionRight.CALL)
    ticket = book.algorithm.market_order(unpriced.symbol, 1)
    assert ticket.status is OrderStatus.INVALID
    assert book.algorithm.transactions.orders_count == 0


# --- buying power ---------------------------------------------------------------------------------------

def test_naked_short_put_beyond_the_free_margin_is_invalid_but_the_same_put_in_a_spread_fills():
    book = Book(cash=20_000.0)
    short, long = spxw_puts(book)
    naked = book.algorithm.market_order(short.symbol, -1)
    # CBOE naked put: premium + (15% of 3700 - 100 out of the money) x 100 = 46,525 > 20,000
    assert naked.status is OrderStatus.INVALID
    assert "Insufficient buying power" in book.algorithm.errors[-1]
    assert book.algorithm.transactions.invalid_orders == 1
    tickets = book.algorithm.combo_market_order([Leg.create(short.symbol, -1), Leg.create(long.symbol, 1)], 1)
    assert [t.status for t in tickets] == [OrderStatus.FILLED] * 2  # margined at its $1,000 width
    assert book.cash == pytest.approx(20_000 + (10.0 - 8.5) * 100)
    assert book.algorithm.transactions.orders_count == 3


def test_spread_margin_is_its_width_times_the_quantity():
    book = Book(cash=5_000.0)
    short, long = spxw_puts(book)
    legs = [Leg.create(short.symbol, -1), Leg.create(long.symbol, 1)]
    assert book.algorithm.combo_market_order(legs, 5)[0].status is OrderStatus.FILLED  # 5 x $1,000
    assert book.algorithm.combo_market_order(legs, 1)[0].status is OrderStatus.INVALID  # a sixth does not fit


def test_closing_a_position_needs_no_margin():
    book = Book(cash=1_000.0)
    short, _long = spxw_puts(book)
    book.hold(short, -1, 10.0)
    assert book.algorithm.market_order(short.symbol, 1).status is OrderStatus.FILLED


def test_equity_order_needs_half_its_value_in_a_margin_account():
    book = Book(cash=10_000.0)
    goog = book.equity("GOOG", 750.0)
    assert book.algorithm.market_order(goog.symbol, 30).status is OrderStatus.INVALID  # 11,250 + fee
    assert book.algorithm.market_order(goog.symbol, 26).status is OrderStatus.FILLED  # 9,750 + fee


def test_a_resting_order_that_lost_its_margin_is_invalidated_at_the_next_scan():
    book = Book(cash=2_000.0)
    short, long = spxw_puts(book)
    ticket = book.algorithm.limit_order(long.symbol, 1, 8.0)  # $800 premium fits now
    assert ticket.status is OrderStatus.SUBMITTED
    book.algorithm.portfolio.cash = 500.0
    book.step()
    assert ticket.status is OrderStatus.INVALID
