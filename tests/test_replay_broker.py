"""The simulated broker: fills against quotes, combo natural prices, fees, accounting, settlement."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from replay.engine import double as ld
from replay.engine.broker import SimulatedBroker

EXPIRY = date(2021, 1, 8)


class Book:
    """A bare double algorithm with a quote table the broker reads."""

    def __init__(self, fee: float = 1.0, combo_market_allowed: bool = False) -> None:
        self.quotes: dict[ld.Symbol, tuple[float, float, float]] = {}
        self.algo = ld.QCAlgorithm()
        self.algo.time = datetime(2021, 1, 8, 10, 0)
        self.algo.set_cash(100_000)
        self.events: list[tuple[int, ld.OrderStatus, str]] = []
        self.algo.on_order_event = lambda e: self.events.append((e.order_id, e.status, e.message))  # type: ignore
        self.broker = SimulatedBroker(self.quotes.get, fee, combo_market_allowed)
        self.algo.brokerage_sim = self.broker
        self.spx = self.algo.add_index("SPX").symbol
        self.spy = self.algo.add_equity("SPY").symbol

    def option(self, strike: float, right: ld.OptionRight, bid: float, ask: float, equity: bool = False) -> ld.Symbol:
        underlying = self.spy if equity else self.spx
        kind = ld.SecurityType.OPTION if equity else ld.SecurityType.INDEX_OPTION
        symbol = ld.option_symbol("SPY" if equity else "SPXW", underlying, EXPIRY, strike, right, kind)
        self.algo.add_contract(symbol)
        self.quotes[symbol] = (bid, ask, (bid + ask) / 2)
        return symbol


def test_market_order_fills_at_the_opposing_quote_with_fees():
    book = Book()
    call = book.option(3700, ld.OptionRight.CALL, 10.0, 10.4)
    ticket = book.algo.market_order(call, 2)
    assert ticket.status is ld.OrderStatus.FILLED and ticket.fill_price == 10.4
    assert book.algo.portfolio.cash == pytest.approx(100_000 - 2 * 10.4 * 100 - 2.0)
    assert book.algo.portfolio[call].quantity == 2 and book.broker.fees_paid == 2.0
    assert [s for _, s, _ in book.events] == [ld.OrderStatus.SUBMITTED, ld.OrderStatus.FILLED]


def test_market_order_without_price_is_invalid():
    book = Book()
    call = book.option(3700, ld.OptionRight.CALL, float("nan"), float("nan"))
    book.quotes[call] = (float("nan"), float("nan"), float("nan"))
    ticket = book.algo.market_order(call, 1)
    assert ticket.status is ld.OrderStatus.INVALID
    assert book.events[-1][2] == "no price data to fill a market order"


def test_index_is_not_tradable():
    book = Book()
    ticket = book.algo.market_order(book.spx, 1)
    assert ticket.status is ld.OrderStatus.INVALID and "not tradable" in book.events[-1][2]


def test_limit_order_rests_until_the_quote_reaches_it():
    book = Book()
    put = book.option(3650, ld.OptionRight.PUT, 5.0, 5.4)
    ticket = book.algo.limit_order(put, -1, 5.2)
    book.broker.process(book.algo)
    assert ticket.status is ld.OrderStatus.SUBMITTED
    book.quotes[put] = (5.3, 5.6, 5.4)
    book.broker.process(book.algo)
    assert ticket.status is ld.OrderStatus.FILLED and ticket.fill_price == 5.3


def test_combo_limit_fills_only_when_net_natural_crosses():
    book = Book()
    short_put = book.option(3650, ld.OptionRight.PUT, 5.0, 5.4)
    long_put = book.option(3600, ld.OptionRight.PUT, 2.0, 2.3)
    legs = [ld.Leg.create(short_put, -1), ld.Leg.create(long_put, 1)]
    tickets = book.algo.combo_limit_order(legs, 3, -2.8)  # a credit of at least 2.80 per share
    book.broker.process(book.algo)  # natural: -5.0 + 2.3 = -2.70, not enough credit
    assert all(t.status is ld.OrderStatus.SUBMITTED for t in tickets)
    book.quotes[short_put] = (5.2, 5.5, 5.3)  # natural: -5.2 + 2.3 = -2.90
    book.broker.process(book.algo)
    assert [t.fill_price for t in tickets] == [5.2, 2.3]
    assert book.algo.portfolio[short_put].quantity == -3 and book.algo.portfolio[long_put].quantity == 3
    assert book.algo.portfolio.cash == pytest.approx(100_000 + 3 * 2.9 * 100 - 6.0)


def test_combo_market_is_invalid_under_tastytrade():
    book = Book(combo_market_allowed=False)
    call = book.option(3700, ld.OptionRight.CALL, 10.0, 10.4)
    put = book.option(3700, ld.OptionRight.PUT, 9.0, 9.4)
    tickets = book.algo.combo_market_order([ld.Leg.create(call, 1), ld.Leg.create(put, 1)], 1)
    assert all(t.status is ld.OrderStatus.INVALID for t in tickets)
    assert "combo market" in book.events[-1][2]


def test_cancel_open_orders_cancels_resting_orders():
    book = Book()
    book.algo.transactions.on_cancel = lambda: book.broker.cancel_all(book.algo)
    put = book.option(3650, ld.OptionRight.PUT, 5.0, 5.4)
    ticket = book.algo.limit_order(put, 1, 4.0)
    book.algo.transactions.cancel_open_orders()
    book.broker.process(book.algo)
    assert ticket.status is ld.OrderStatus.CANCELED and book.broker.open_groups == {}


def test_average_price_and_realised_cash():
    book = Book(fee=0.0)
    call = book.option(3700, ld.OptionRight.CALL, 10.0, 10.0)
    book.algo.market_order(call, 1)
    book.quotes[call] = (12.0, 12.0, 12.0)
    book.algo.market_order(call, 1)
    assert book.algo.portfolio[call].average_price == pytest.approx(11.0)
    book.quotes[call] = (15.0, 15.0, 15.0)
    book.algo.market_order(call, -2)
    assert book.algo.portfolio[call].quantity == 0
    assert book.algo.portfolio.cash == pytest.approx(100_000 + (15 * 2 - 10 - 12) * 100)


def test_index_options_cash_settle_at_intrinsic():
    book = Book(fee=0.0)
    call = book.option(3700, ld.OptionRight.CALL, 10.0, 10.0)
    put = book.option(3650, ld.OptionRight.PUT, 1.0, 1.0)
    book.algo.market_order(call, -1)
    book.algo.market_order(put, 1)
    cash = book.algo.portfolio.cash
    book.broker.settle_expiries(book.algo, EXPIRY, lambda _s: 3712.5)
    assert book.algo.portfolio[call].quantity == 0 and book.algo.portfolio[put].quantity == 0
    assert book.algo.portfolio.cash == pytest.approx(cash - 12.5 * 100)
    assert [f.kind for f in book.broker.fills[-2:]] == ["cash-settlement", "cash-settlement"]


def test_equity_call_exercise_delivers_shares_at_the_strike():
    book = Book(fee=0.0)
    call = book.option(380, ld.OptionRight.CALL, 5.0, 5.0, equity=True)
    book.algo.market_order(call, 1)
    cash = book.algo.portfolio.cash
    book.broker.settle_expiries(book.algo, EXPIRY, lambda _s: 390.0)
    assert book.algo.portfolio[book.spy].quantity == 100
    # paid the strike for 100 shares: cash falls by 380 x 100 (intrinsic received, shares bought at spot)
    assert book.algo.portfolio.cash == pytest.approx(cash - 380 * 100)
    assert book.broker.fills[-1].kind == "exercise"


def test_otm_options_expire_worthless_and_unrelated_expiries_stay():
    book = Book(fee=0.0)
    put = book.option(3600, ld.OptionRight.PUT, 1.0, 1.0)
    book.algo.market_order(put, 1)
    book.broker.settle_expiries(book.algo, date(2021, 1, 7), lambda _s: 3700.0)
    assert book.algo.portfolio[put].quantity == 1
    book.broker.settle_expiries(book.algo, EXPIRY, lambda _s: 3700.0)
    assert book.algo.portfolio[put].quantity == 0


def test_selling_a_combo_fills_at_or_above_its_limit():
    book = Book()
    short_put = book.option(3650, ld.OptionRight.PUT, 5.0, 5.4)
    long_put = book.option(3600, ld.OptionRight.PUT, 2.0, 2.3)
    # the same credit spread written as SELLING one unit of (long 3650 put, short 3600 put)
    legs = [ld.Leg.create(short_put, 1), ld.Leg.create(long_put, -1)]
    tickets = book.algo.combo_limit_order(legs, -2, 2.9)  # receive at least 2.90 per unit
    book.broker.process(book.algo)  # natural per unit: 5.0 (sell at bid) - 2.3 (buy at ask) = 2.70
    assert all(t.status is ld.OrderStatus.SUBMITTED for t in tickets)
    book.quotes[short_put] = (5.3, 5.5, 5.4)  # natural 3.00
    book.broker.process(book.algo)
    assert [t.fill_price for t in tickets] == [5.3, 2.3]
    assert book.algo.portfolio[short_put].quantity == -2 and book.algo.portfolio[long_put].quantity == 2


def test_no_settlement_price_leaves_the_position_open_and_named():
    book = Book(fee=0.0)
    call = book.option(3700, ld.OptionRight.CALL, 10.0, 10.0)
    book.algo.market_order(call, 1)
    assert book.broker.settle_expiries(book.algo, EXPIRY, lambda _s: None) == [str(call)]
    assert book.algo.portfolio[call].quantity == 1


def test_settlement_sends_order_events_and_records_share_delivery():
    book = Book(fee=0.0)
    put = book.option(400, ld.OptionRight.PUT, 5.0, 5.0, equity=True)
    book.algo.market_order(put, -1)
    book.events.clear()
    book.broker.settle_expiries(book.algo, EXPIRY, lambda _s: 390.0)  # assigned: buy 100 SPY at 400
    assert book.algo.portfolio[book.spy].quantity == 100
    assert [f.kind for f in book.broker.fills[-2:]] == ["assignment", "assignment"]
    assert [s for _, s, _ in book.events] == [ld.OrderStatus.FILLED, ld.OrderStatus.FILLED]


def test_dividend_yield_from_the_factor_file(tmp_path):
    folder = tmp_path / "equity" / "usa" / "factor_files"
    folder.mkdir(parents=True)
    # SPY's last rows: the March 2021 dividend is 391.48 x (1 - 0.996736) = 1.2778
    (folder / "spy.csv").write_text("20201217,0.9925053,1,372.24\n20210318,0.9967360,1,391.48\n20501231,1,1,0\n")
    ld.DividendYieldProvider.data_root = tmp_path
    try:
        provider = ld.DividendYieldProvider(ld.Symbol("SPY", ld.SecurityType.EQUITY))
        expected = (372.24 * (1 - 0.9925053 / 0.9967360) + 391.48 * (1 - 0.9967360)) / 400.0
        assert provider.get_dividend_yield(date(2021, 3, 19), 400.0) == pytest.approx(expected)
        assert ld.DividendYieldProvider(ld.Symbol("GOOG", ld.SecurityType.EQUITY)).get_dividend_yield(
            date(2021, 3, 19)) == 0.0  # no factor file: LEAN's provider yields 0
    finally:
        ld.DividendYieldProvider.data_root = None
