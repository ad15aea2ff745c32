"""The trade book: the lifecycle state machine, fills, exit rules and the closing order."""
from __future__ import annotations

import dataclasses
import json
import math
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


# --- pinned by mutation testing: each test kills a class of silent mistakes ----------------------------

def test_a_diagonal_trade_expires_with_its_front_leg():
    front, back = (ContractSpec("SPX", "SPXW", d, 3700.0, True, 100.0) for d in (date(2021, 1, 22), date(2021, 2, 19)))
    intent = OrderIntent("Diagonal", (OrderLeg("f", -1, front), OrderLeg("b", 1, back)), 1, 5.0, datetime(2021, 1, 8, 10))
    trade = TradeBook(RULES).add_entry(intent, [1, 2], intent.created)
    assert trade.expiry == date(2021, 1, 22) and not trade.is_zero_dte


def test_trade_ids_count_from_one_and_continue_after_a_restore():
    from strategies.trade_book import book_to_text, restore_book

    book, first = _opened(_fly())
    second = book.add_entry(_fly(), [7], datetime(2021, 1, 8, 11))
    assert (first.trade_id, second.trade_id) == (1, 2)
    restored = TradeBook(RULES)
    restore_book(restored, book_to_text(book))
    assert [t.trade_id for t in restored.trades] == [1, 2]
    assert restored.add_entry(_fly(), [9], datetime(2021, 1, 8, 12)).trade_id == 3
    empty = TradeBook(RULES)
    restore_book(empty, '{"trades": []}')
    assert empty.add_entry(_fly(), [9], datetime(2021, 1, 8, 12)).trade_id == 1


def test_a_restored_trade_is_the_saved_trade_field_for_field():
    from strategies.trade_book import book_to_text, restore_book

    book, trade = _opened(_fly())
    book.on_fill(4, 7.5, -1, complete=False)  # an unrelated early event stays out of the record
    book.close_sent(trade, [11, 12, 13], "stop", datetime(2021, 1, 8, 12, 0))
    book.on_fill(11, 31.25, 1, complete=False, event_id=5)
    book.close_timed_out(trade)
    book.close_refused(trade, "stop", "REDUCE_ONLY")
    restored = TradeBook(RULES)
    (copy,) = restore_book(restored, book_to_text(book))
    from core.orders import intent_to_record

    assert intent_to_record(copy.intent) == intent_to_record(trade.intent)  # (NaN quotes compare unequal)
    for field in ("trade_id", "state", "opened", "entry_ids", "fills", "done", "entry_net", "close_ids",
                  "close_sent", "close_attempts", "exit_reason", "refused_in"):
        assert getattr(copy, field) == getattr(trade, field), field
    assert copy.fills[11] == (31.25, 1.0) and copy.close_attempts == 1 and copy.refused_in == "REDUCE_ONLY"


def test_an_open_trade_without_its_entry_price_is_an_unreadable_record():
    from strategies.trade_book import TradeRecordError, book_to_text, restore_book

    book, trade = _opened(_fly())
    text = book_to_text(book).replace('"entry_net": -11.0', '"entry_net": null')
    with pytest.raises(TradeRecordError, match="open without an entry price"):
        restore_book(TradeBook(RULES), text)


def test_a_cancel_or_rejection_of_an_entry_leg_while_closing_does_not_reopen():
    for event in ("cancel", "invalid"):
        book, trade = _opened(_fly())
        book.close_sent(trade, [7, 8, 9], "stop", datetime(2021, 1, 8, 12, 0))
        (book.on_cancel if event == "cancel" else book.on_invalid)(2)  # a late event for the entry's leg
        assert trade.state is TradeState.CLOSING and trade.close_ids == frozenset({7, 8, 9}), event


def test_a_refused_exit_is_remembered_with_the_state_it_was_refused_in():
    book, trade = _opened(_fly())
    book.close_refused(trade, "stop: -5.00 <= -4.00 per share", "MANUAL")
    assert (trade.exit_reason, trade.refused_in, trade.state) == (
        "stop: -5.00 <= -4.00 per share", "MANUAL", TradeState.OPEN)


def test_a_blocked_exit_escalates_once_after_the_wait_and_again_only_after_unblocking():
    book, trade = _opened(_fly())
    wait, t0 = timedelta(minutes=10), datetime(2021, 1, 8, 12, 0)
    assert not book.exit_blocked(trade, t0, wait)
    assert not book.exit_blocked(trade, t0 + timedelta(minutes=9, seconds=59), wait)
    assert book.exit_blocked(trade, t0 + wait, wait)
    assert not book.exit_blocked(trade, t0 + 2 * wait, wait)  # once
    book.exit_unblocked(trade)
    assert trade.exit_blocked_since is None and not trade.exit_escalated
    assert not book.exit_blocked(trade, t0 + 3 * wait, wait) and trade.exit_blocked_since == t0 + 3 * wait


def test_entries_today_count_each_strategy_on_its_own_day():
    book = TradeBook(RULES)
    book.add_entry(_fly(), [1], datetime(2021, 1, 8, 10, 40))
    book.add_entry(_fly(), [2], datetime(2021, 1, 8, 11, 0))
    book.add_entry(_fly(), [3], datetime(2021, 1, 7, 11, 0))
    other = OrderIntent("Batman Spread", _fly().legs, 1, -1.0, datetime(2021, 1, 8, 10, 40))
    book.add_entry(other, [4], other.created)
    assert book.entries_today("Enhanced Butterfly", FRI) == 2
    assert book.entries_today("Batman Spread", FRI) == 1 and book.entries_today("Batman Spread", date(2021, 1, 7)) == 0


def test_realized_pnl_needs_every_closing_leg_done():
    book, trade = _opened(_fly())
    assert book.realized_pnl_per_share(trade) is None  # no close yet
    book.close_sent(trade, [7, 8, 9], "stop", datetime(2021, 1, 8, 12, 0))
    book.on_fill(7, 20.0, 3)
    book.on_fill(8, 8.0, -6)
    assert book.realized_pnl_per_share(trade) is None  # one closing leg still working


@pytest.mark.parametrize("settlement, expected", [
    (3650.0, 11.0), (3700.0, 11.0), (3725.0, -14.0), (3750.0, -39.0), (3775.0, -14.0), (3800.0, 11.0),
    (3900.0, 11.0)])
def test_held_to_expiry_a_call_fly_is_worth_its_intrinsic_value(settlement, expected):
    """Sold wings, bought body, entered for an 11.00 credit: the P&L per share at settlement is
    -(S-3700)+ + 2(S-3750)+ - (S-3800)+ + 11 (worked by hand)."""
    book, trade = _opened(_fly())
    assert book.settled_pnl_per_share(trade, settlement) == pytest.approx(expected)


@pytest.mark.parametrize("settlement, value", [(3600.0, -50.0), (3650.0, -50.0), (3675.0, -25.0), (3700.0, 0.0),
                                               (3800.0, 0.0)])
def test_held_to_expiry_a_put_spread_is_worth_its_intrinsic_value(settlement, value):
    short, long = (ContractSpec("SPX", "SPXW", FRI, k, False, 100.0) for k in (3700.0, 3650.0))
    intent = OrderIntent("Put Spread", (OrderLeg("s", -1, short), OrderLeg("l", 1, long)), 1, -5.0,
                         datetime(2021, 1, 8, 10))
    book = TradeBook(RULES)
    trade = book.add_entry(intent, [1, 2], intent.created)
    assert book.settled_pnl_per_share(trade, settlement) is None  # not filled yet
    book.on_fill(1, 6.0, -1)
    book.on_fill(2, 1.0, 1)
    assert book.settled_pnl_per_share(trade, settlement) == pytest.approx(value + 5.0)


def test_held_to_expiry_needs_every_leg_to_be_an_option():
    stock = OrderIntent("Hedge", (OrderLeg("SPY", 100),), 1, None, datetime(2021, 1, 8, 10))
    book = TradeBook(RULES)
    trade = book.add_entry(stock, [1], stock.created)
    book.on_fill(1, 380.0, 100)
    assert book.settled_pnl_per_share(trade, 3700.0) is None


def test_the_restart_reconciliation_matches_each_leg_in_full():
    from strategies.trade_book import reconcile_restart

    book, trade = _opened(_fly())  # 3 units: -3 lower, +6 body, -3 upper
    held = {leg.contract: 3.0 * leg.quantity for leg in trade.intent.legs}
    lower, body, upper = (leg.contract for leg in trade.intent.legs)
    extra = ContractSpec("SPX", "SPXW", FRI, 3900.0, True, 100.0)
    found = reconcile_restart(book, held | {body: 7.0, extra: -1.0})
    assert found.attached == [trade] and found.orphans == {body: 1.0, extra: -1.0}
    for partly in ({**held, body: 5.0}, {**held, upper: 3.0}, {lower: -3.0}):  # short, flipped, one leg only
        book2, trade2 = _opened(_fly())
        found = reconcile_restart(book2, partly)
        assert found.partial == [trade2] and found.attached == [] and found.closed_outside == []
        assert trade2.state is TradeState.OPEN
    book3, trade3 = _opened(_fly())
    found = reconcile_restart(book3, {extra: 2.0})
    assert found.closed_outside == [trade3] and trade3.state is TradeState.CLOSED and found.orphans == {extra: 2.0}
    assert trade3.exit_reason == "closed outside the algorithm"


def test_the_restart_reconciliation_reopens_a_closing_trade_and_cancels_an_unfilled_entry():
    from strategies.trade_book import reconcile_restart

    book, trade = _opened(_fly())
    book.close_sent(trade, [7, 8, 9], "stop", datetime(2021, 1, 8, 12, 0))
    held = {leg.contract: 3.0 * leg.quantity for leg in trade.intent.legs}
    found = reconcile_restart(book, held)
    assert found.attached == [trade] and trade.state is TradeState.OPEN and trade.close_ids == frozenset()
    assert trade.close_sent is None
    working = TradeBook(RULES)
    entry = working.add_entry(_fly(), [1, 2, 3], datetime(2021, 1, 8, 10, 40))
    found = reconcile_restart(working, {})
    assert found.closed_outside == [entry] and entry.state is TradeState.CANCELLED


def test_the_restart_reconciliation_of_a_one_lot():
    """One unit: every held quantity is exactly one contract per leg (the edge of "in full")."""
    from strategies.trade_book import reconcile_restart

    short, long = (ContractSpec("SPX", "SPXW", FRI, k, False, 100.0) for k in (3700.0, 3650.0))
    spread = OrderIntent("Put Spread", (OrderLeg("s", -1, short), OrderLeg("l", 1, long)), 1, -5.0,
                         datetime(2021, 1, 8, 10))

    def opened() -> tuple[TradeBook, object]:
        book = TradeBook(RULES)
        trade = book.add_entry(spread, [1, 2], spread.created)
        book.on_fill(1, 6.0, -1)
        book.on_fill(2, 1.0, 1)
        return book, trade

    book, trade = opened()
    assert reconcile_restart(book, {short: -1.0, long: 1.0}).attached == [trade]
    book, trade = opened()
    found = reconcile_restart(book, {short: -1.0})  # the long wing sold by hand
    assert found.partial == [trade] and found.attached == [] and found.closed_outside == []
    book, trade = opened()
    assert reconcile_restart(book, {}).closed_outside == [trade]


def test_target_and_stop_are_set_from_the_fill_not_the_limit():
    """The spec's exits are relative to the credit received: a condor sent at a 3.45 credit and
    filled at 3.75 stops at 1.5 x 3.75 and targets 80% of 3.75, not of 3.45."""
    from core.orders import ExitRule

    rule = ExitRule(target_of_credit=0.8, credit_stop_multiple=1.5)
    intent = dataclasses.replace(_fly(), limit_price=-3.45, value_range=(-30.0, 0.0), exit_rule=rule).priced_at(-3.45)
    assert (intent.profit_target, intent.stop_loss) == pytest.approx((0.8 * 3.45, -1.5 * 3.45))
    book = TradeBook(RULES)
    trade = book.add_entry(intent, [1, 2, 3], intent.created)
    for order_id, price, quantity in ((1, 30.0, -3), (2, 15.0, 6), (3, 3.75, -3)):  # net -3.75 per share
        book.on_fill(order_id, price, quantity)
    assert trade.entry_net == pytest.approx(-3.75)
    assert (trade.intent.profit_target, trade.intent.stop_loss) == pytest.approx((3.0, -5.625))
    now = datetime(2021, 1, 8, 11, 0)
    assert book.exit_reason(trade, -3.75 - 5.5, now) is None  # past 1.5 x the limit credit, not the fill's
    assert book.exit_reason(trade, -3.75 - 5.63, now).startswith("stop: -5.63 <= -5.62")


def test_a_fill_without_an_exit_rule_keeps_its_levels():
    book, trade = _opened(_fly())
    assert (trade.intent.profit_target, trade.intent.stop_loss) == (1.0, -4.0)


def test_exit_rules_follow_the_entry_and_survive_the_record():
    """Credit: a multiple of the credit, capped at the max loss; debit: a fraction of the debit; the
    target a share of what is left to make (none when that is unbounded)."""
    from core.orders import ExitRule, intent_from_record, intent_to_record

    rule = ExitRule(target_of_max_profit=0.5, credit_stop_multiple=2.0, debit_stop_fraction=0.5)
    assert rule.levels(-2.0, (-5.0, 0.0)) == (1.0, -3.0)  # 2 x credit = 4, capped at the max loss 3
    assert rule.levels(-1.0, (-10.0, 0.0)) == (0.5, -2.0)
    assert rule.levels(4.0, (0.0, 14.0)) == (5.0, -2.0)  # half of 14 - 4 to make; half the debit
    assert rule.levels(4.0, (0.0, math.inf)) == (None, -2.0)
    assert ExitRule(target_of_credit=0.5).levels(3.0, None) == (None, None)  # a debit has no credit to keep
    intent = dataclasses.replace(_fly(), value_range=(-5.0, 0.0), exit_rule=rule)
    again = intent_from_record(json.loads(json.dumps(intent_to_record(intent))))
    assert again.exit_rule == rule and intent_to_record(again) == intent_to_record(intent)
    assert (again.priced_at(-1.5).profit_target, again.priced_at(-1.5).stop_loss) == (0.75, -3.0)
    old = intent_to_record(_fly())
    del old["exit_rule"]  # a record saved before exit rules were: its levels stand
    assert intent_from_record(old).priced_at(-9.0).stop_loss == -4.0
    with pytest.raises(ValueError, match="exit_rule"):
        intent_from_record(intent_to_record(intent) | {"exit_rule": {"stop_everything": 1}})
