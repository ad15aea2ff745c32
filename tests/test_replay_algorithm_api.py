"""LEAN algorithm members the replay implements as LEAN does: ``Liquidate``, security initializers, option
assignment models, the trade builder, margin-call models, securities added during the day."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from replay.engine.exercise import NullOptionAssignmentModel
from replay.engine.fees import ConstantFeeModel
from replay.engine.initializers import CompositeSecurityInitializer, FuncSecurityInitializer
from replay.engine.lean_types import BrokerageName, NotImplementedInDouble, OptionRight, OrderStatus
from replay.engine.margin import MarginCallModel
from replay.engine.trades import TradeDirection
from tests.lean_book import Book, side

REPO = Path(__file__).resolve().parents[1]
EXPIRY = date(2021, 1, 15)


def goog_call(book: Book, strike: float = 750.0):
    goog = book.equity("GOOG", 750.0, spread=0.1)
    call = book.option(goog, EXPIRY, strike, OptionRight.CALL)
    book.quote(call.symbol, side(5.0), side(5.3))
    return call


# --- liquidate -----------------------------------------------------------------------------------------

def test_liquidate_keeps_a_pending_market_order_that_already_closes_the_position():
    book = Book(when=datetime(2021, 1, 4, 12, 0))
    call = goog_call(book)
    book.hold(call, 2, 5.0)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 10, 0))  # stale: market orders wait
    pending = book.algorithm.market_order(call.symbol, -2)
    assert pending.status is OrderStatus.SUBMITTED
    assert book.algorithm.liquidate() == []
    assert pending.status is OrderStatus.SUBMITTED
    assert book.algorithm.transactions.orders_count == 1


def test_liquidate_nets_pending_market_orders_and_cancels_resting_limit_orders():
    book = Book(when=datetime(2021, 1, 4, 12, 0))
    call = goog_call(book)
    book.hold(call, 3, 5.0)
    resting = book.algorithm.limit_order(call.symbol, -1, 9.0)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 10, 0))
    pending = book.algorithm.market_order(call.symbol, -1)
    tickets = book.algorithm.liquidate(call.symbol)
    assert resting.status is OrderStatus.CANCELED
    assert pending.status is OrderStatus.SUBMITTED
    assert [t.quantity for t in tickets] == [-2]  # 3 held, 1 already on its way out


def test_liquidate_with_nothing_held_leaves_pending_market_orders_alone():
    book = Book(when=datetime(2021, 1, 4, 12, 0))
    call = goog_call(book)
    book.quote(call.symbol, side(5.0), side(5.3), end=datetime(2021, 1, 4, 10, 0))
    pending = book.algorithm.market_order(call.symbol, 1)
    book.algorithm.liquidate()
    assert pending.status is OrderStatus.SUBMITTED
    book.quote(call.symbol, side(5.1), side(5.4), end=book.now + timedelta(minutes=1))
    book.step()
    assert pending.status is OrderStatus.FILLED


# --- security initializers --------------------------------------------------------------------------------

def test_a_security_initializer_set_by_the_algorithm_replaces_the_brokerage_models():
    book = Book(brokerage=BrokerageName.TASTYTRADE)
    book.algorithm.set_security_initializer(lambda security: security.set_fee_model(ConstantFeeModel(3.0)))
    call = goog_call(book)
    book.algorithm.market_order(call.symbol, 2)
    assert book.algorithm.transactions.fees_paid == 3.0


def test_a_composite_initializer_keeps_the_brokerage_models_and_adds_its_own():
    book = Book(brokerage=BrokerageName.TASTYTRADE)
    marked = []
    book.algorithm.set_security_initializer(CompositeSecurityInitializer(
        book.algorithm.security_initializer, FuncSecurityInitializer(lambda security: marked.append(security.symbol))))
    call = goog_call(book)
    book.algorithm.market_order(call.symbol, 2)
    assert book.algorithm.transactions.fees_paid == 2.0  # tastytrade's $1 a contract
    assert call.symbol in marked


def test_set_brokerage_model_after_adding_securities_initializes_them_again_keeping_their_leverage():
    book = Book()
    goog = book.algorithm.add_equity("GOOG", leverage=4.0)
    call = goog_call(book)
    book.algorithm.set_brokerage_model(BrokerageName.TASTYTRADE)
    assert goog.leverage == 4.0
    book.algorithm.market_order(call.symbol, 2)
    assert book.algorithm.transactions.fees_paid == 2.0


def test_a_null_assignment_model_prevents_early_assignment():
    book = Book(when=datetime(2021, 1, 11, 10, 0))
    goog = book.equity("GOOG", 750.0, spread=0.2)
    call = book.option(goog, date(2021, 1, 14), 700.0, OptionRight.CALL)
    book.quote(call.symbol, side(49.0), side(51.0))
    book.hold(call, -1, 10.0)
    call.set_option_assignment_model(NullOptionAssignmentModel())
    book.step()
    assert call.holdings.quantity == -1
    assert book.algorithm.transactions.orders_count == 0


def test_only_the_null_margin_call_model_is_accepted():
    book = Book()
    book.algorithm.portfolio.set_margin_call_model(MarginCallModel.NULL)
    with pytest.raises(NotImplementedInDouble, match="margin calls"):
        book.algorithm.portfolio.set_margin_call_model(object())


# --- trade builder ---------------------------------------------------------------------------------------

def test_trade_builder_groups_fills_flat_to_flat_with_average_prices():
    book = Book()
    call = goog_call(book)
    algorithm = book.algorithm
    algorithm.market_order(call.symbol, 2)  # 2 @ 5.3
    book.quote(call.symbol, side(5.8), side(6.2))
    algorithm.market_order(call.symbol, 1)  # 1 @ 6.2
    assert algorithm.trade_builder.closed_trades == []
    book.quote(call.symbol, side(7.0), side(7.4))
    algorithm.market_order(call.symbol, -4)  # closes 3 @ 7.0 and opens a short of 1
    trade = algorithm.trade_builder.closed_trades[0]
    assert trade.direction is TradeDirection.LONG and trade.quantity == 3
    assert trade.entry_price == pytest.approx((2 * 5.3 + 6.2) / 3)
    assert trade.exit_price == 7.0
    assert trade.profit_loss == pytest.approx(round((7.0 - (2 * 5.3 + 6.2) / 3) * 3 * 100, 2))
    assert algorithm.trade_builder.has_open_position(call.symbol)
    algorithm.market_order(call.symbol, 1)  # buys the short back at 7.4
    short = algorithm.trade_builder.closed_trades[1]
    assert short.direction is TradeDirection.SHORT and short.profit_loss == pytest.approx(-40.0)


# --- a security added during the day ----------------------------------------------------------------------

MID_DAY_ALGORITHM = '''
from AlgorithmImports import *


class MidDayContract(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2015, 12, 24)
        self.set_end_date(2015, 12, 24)
        self.goog = self.add_equity("GOOG").symbol
        self.contract = None
        self.first_bar = None
        self.ticket = None

    def on_data(self, data):
        if self.contract is None and self.time.hour == 10:
            self.contract = Symbol.create_option(self.goog, Market.USA, OptionStyle.AMERICAN, OptionRight.CALL,
                                                 750, datetime(2016, 1, 8))
            self.add_option_contract(self.contract)
            self.added_at = self.time
        elif self.contract is not None and self.first_bar is None and data.quote_bars.contains_key(self.contract):
            self.first_bar = data.quote_bars[self.contract].end_time
            self.ticket = self.market_order(self.contract, 1)

    def on_end_of_algorithm(self):
        self.log(f"RESULT added={self.added_at} first={self.first_bar} status={self.ticket.status.name}")
'''


def test_a_contract_added_during_the_day_gets_data_from_the_next_bar_and_fills(lean_data_dir, tmp_path):
    algorithm = tmp_path / "mid_day.py"
    algorithm.write_text(MID_DAY_ALGORITHM, encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "replay", "--algorithm", str(algorithm), "--data", str(lean_data_dir),
                           "--out", str(out), "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in (out / "log.txt").read_text(encoding="utf-8").splitlines() if "RESULT" in x)
    assert "added=2015-12-24 10:00:00 first=2015-12-24 10:01:00 status=FILLED" in line
    assert json.loads((out / "statistics.json").read_text(encoding="utf-8"))["Total Orders"] == "1"
