"""The trade book: the lifecycle state machine, fills, exit rules and the closing order."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg
from strategies.trade_book import TRANSITIONS, ExitRules, IllegalTransition, TradeBook, TradeState, mark_net

RULES = ExitRules(time(15, 0), 1, time(15, 30), timedelta(minutes=10))
FRI = date(2021, 1, 8)


def _fly(expiry: date = FRI) -> OrderIntent:
    lower, body, upper = (ContractSpec("SPX", "SPXW", expiry, k, True, 100.0) for k in (3700.0, 3750.0, 3800.0))
    legs = (OrderLeg("l", -1, lower), OrderLeg("b", 2, body), OrderLeg("u", -1, upper))
    return OrderIntent("Enhanced Butterfly", legs, 3, -2.0, datetime(2021, 1, 8, 10, 40),
                       profit_target=1.0, stop_loss=-4.0, max_loss=900.0)


def _opened(intent: OrderIntent) -> tuple[TradeBook, object]:
    book = TradeBook(RULES)
    trade = book.add_entry(intent, [1, 2, 3], intent.created)
    for order_id, price, quantity in ((1, 30.0, -3), (2, 10.0, 6), (3, 1.0, -3)):
        book.on_fill(order_id, price, quantity)
    return book, trade


def test_entry_is_open_once_every_leg_filled_with_its_net_price():
    book = TradeBook(RULES)
    trade = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    book.on_fill(1, 30.0, -3)
    assert trade.state is TradeState.WORKING and book.live_strategies() == {"Enhanced Butterfly"}
    book.on_fill(2, 10.0, 6)
    book.on_fill(3, 1.0, -3)
    assert trade.state is TradeState.OPEN and trade.entry_net == pytest.approx(-30 + 20 - 1)  # a credit of 11


@pytest.mark.parametrize("mark, minute, reason", [
    (-10.0, (11, 0), "profit target: +1.00 >= +1.00 per share"),
    (-15.0, (11, 0), "stop: -4.00 <= -4.00 per share"),
    (-11.0, (11, 0), None),
    (-11.0, (15, 0), "0DTE time exit at 15:00"),
    (None, (15, 0), "0DTE time exit at 15:00"),  # time rules need no mark
    (None, (11, 0), None),
])
def test_exit_rules_for_a_0dte_trade(mark, minute, reason):
    book, trade = _opened(_fly())
    assert book.exit_reason(trade, mark, datetime(2021, 1, 8, *minute)) == reason


def test_other_expiries_close_before_expiry():
    book, trade = _opened(_fly(expiry=date(2021, 1, 15)))
    assert book.exit_reason(trade, -11.0, datetime(2021, 1, 14, 15, 29)) is None
    assert (book.exit_reason(trade, -11.0, datetime(2021, 1, 14, 15, 30))
            == "closing 1 trading day(s) before expiry 2021-01-15")


def test_closing_order_reverses_every_leg_and_reduces_only():
    book, trade = _opened(_fly())
    close = book.closing_intent(trade, "stop", 14.2, datetime(2021, 1, 8, 12, 0))
    assert [leg.quantity for leg in close.legs] == [1, -2, 1] and close.units == 3 and close.reduces_only
    book.on_cancel(99)  # unrelated order: nothing happens
    assert trade.state is TradeState.OPEN


def test_unfilled_entries_go_stale_and_cancel():
    book = TradeBook(RULES)
    trade = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    assert book.stale_entries(datetime(2021, 1, 8, 10, 49)) == []
    assert book.stale_entries(datetime(2021, 1, 8, 10, 50)) == [trade]
    book.on_cancel(2)
    assert trade.state is TradeState.CANCELLED and book.live_strategies() == set()


def test_mark_needs_every_leg():
    intent = _fly()
    marks = {leg.contract: p for leg, p in zip(intent.legs, (30.0, 10.0, 1.0))}
    assert mark_net(intent.legs, marks.get) == pytest.approx(-11.0)
    assert mark_net(intent.legs, lambda c: None) is None


def test_partial_fills_accumulate_until_the_leg_is_complete():
    book = TradeBook(RULES)
    trade = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    book.on_fill(1, 30.0, -1, complete=False)
    book.on_fill(1, 31.0, -2, complete=True)
    book.on_fill(2, 10.0, 6)
    assert trade.state is TradeState.WORKING
    book.on_fill(3, 1.0, -3)
    assert trade.state is TradeState.OPEN
    assert trade.entry_net == pytest.approx((-(30 + 2 * 31) + 60 - 3) / 3)


def test_fills_arriving_before_the_entry_is_registered_are_kept():
    book = TradeBook(RULES)
    for order_id, price, quantity in ((1, 30.0, -3), (2, 10.0, 6), (3, 1.0, -3)):
        book.on_fill(order_id, price, quantity)  # live: the broker was faster than the submit call
    trade = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    assert trade.state is TradeState.OPEN and trade.entry_net == pytest.approx(-11.0)


def test_rejections_fail_entries_and_reopen_closes():
    book = TradeBook(RULES)
    entry = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    book.on_invalid(2)
    assert entry.state is TradeState.FAILED and book.live_strategies() == set()
    book, trade = _opened(_fly())
    book.close_sent(trade, [7, 8, 9], "stop", datetime(2021, 1, 8, 12, 0))
    assert book.stale_closes(datetime(2021, 1, 8, 12, 10)) == [trade]
    book.on_invalid(8)
    assert trade.state is TradeState.OPEN and trade.close_ids == frozenset()


def test_reconcile_closes_trades_no_longer_held():
    book, trade = _opened(_fly())
    held = {leg.contract: 3.0 * leg.quantity for leg in trade.intent.legs}
    assert book.reconcile(held) == [] and trade.state is TradeState.OPEN
    assert book.reconcile({}) == [trade] and trade.state is TradeState.CLOSED and trade.exit_reason == "no longer held"


def test_the_lifecycle_only_moves_along_its_transition_table():
    assert all(not TRANSITIONS[s] for s in (TradeState.CLOSED, TradeState.CANCELLED, TradeState.FAILED))
    book, trade = _opened(_fly())
    with pytest.raises(IllegalTransition, match="open -> cancelling"):
        book.request_entry_cancel(trade)  # an open trade has no entry to cancel
    assert trade.state is TradeState.OPEN
    assert book.reconcile({}) == [trade]
    with pytest.raises(IllegalTransition, match="closed -> closing"):
        book.close_sent(trade, [9], "stop", datetime(2021, 1, 8, 12, 0))


def test_a_cancelled_close_reopens_the_trade_and_its_retry_goes_at_natural():
    book, trade = _opened(_fly())
    book.close_sent(trade, [7, 8, 9], "stop", datetime(2021, 1, 8, 12, 0))
    assert book.close_timed_out(trade) == frozenset({7, 8, 9}) and trade.close_attempts == 1
    book.on_cancel(8)
    assert trade.state is TradeState.OPEN and trade.close_ids == frozenset()
    book.close_sent(trade, [10, 11, 12], "stop", datetime(2021, 1, 8, 12, 11))
    for order_id, price, quantity in ((10, 20.0, 3), (11, 8.0, -6), (12, 0.5, 3)):
        book.on_fill(order_id, price, quantity)
    assert trade.state is TradeState.CLOSED
    assert book.realized_pnl_per_share(trade) == pytest.approx(-(-11.0 + (20 - 16 + 0.5)))


def test_events_for_orders_not_yet_registered_are_applied_when_they_are():
    book = TradeBook(RULES)
    book.on_invalid(5)  # a synchronous rejection before the submit call returned
    trade = book.add_entry(_fly(), [5], datetime(2021, 1, 8, 10, 40))
    assert trade.state is TradeState.FAILED


def test_no_module_but_the_trade_book_writes_trade_state():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    writes = re.compile(r"\btrades?\w*\.(_state|state)\s*=(?!=)")
    writers = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if "tests" not in p.parts and p.name != "trade_book.py" and writes.search(p.read_text())]
    assert writers == []


def test_a_fill_delivered_twice_is_applied_once():
    book = TradeBook(RULES)
    trade = book.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    for _ in range(2):
        book.on_fill(1, 30.0, -1, complete=False, event_id=11)
    book.on_fill(1, 30.0, -2, complete=True, event_id=12)
    assert trade.fills[1] == (30.0, -3.0)
