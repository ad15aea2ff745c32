"""The desk's entries and exits (desk/trading.py) unit by unit: verdict logging, the Section 9B entry
(guards, sizing at the walked limit, the walk itself), the Friday 0DTE wrapper, what the gate and the
broker said, the results statistics, marks. The whole-day behaviour is in test_desk.py."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import pytest

from core.market import BookPosition, ChainColumns, ContractSpec, MarketSnapshot, Reading, SeriesState
from core.orders import OrderIntent
from core.settings import load_settings
from desk.interface import (
    ClosePurpose, EntryPurpose, HedgePurpose, Log, OrderStatus, OrderUpdate, Outbox, SendOrder, SetStatistic)
from desk.trading import Trading
from strategies.structures import Leg, Structure
from strategies.trade_book import TradeState
from strategies.verdict import NetPrices, StrategyAnalysis

FRI = date(2021, 1, 8)
NOW = datetime(2021, 1, 8, 11, 0)


def _trading(**parameters: str) -> tuple[Trading, Outbox, list[tuple[OrderIntent, str]]]:
    settings = load_settings(parameters.get)
    outbox, suggested = Outbox(), []
    closes = {FRI: 3760.0}
    trading = Trading(settings, outbox, closes.get, lambda intent, why, now: suggested.append((intent, why)))
    return trading, outbox, suggested


def _market(now: datetime = NOW, portfolio: float = 100_000.0, chain: ChainColumns | None = None) -> MarketSnapshot:
    price = Reading(3750.0, as_of=now)
    state = SeriesState("SPX", price, Reading(3740.0), Reading(3730.0))
    empty = SeriesState("VIX", Reading.missing("x"), Reading.missing("x"), Reading.missing("x"))
    return MarketSnapshot(now, state, empty, empty, empty, chain or ChainColumns.empty(), (), portfolio)


def _fly(expiry: date = date(2021, 1, 15), bid_ask: tuple[float, float] = (10.0, 10.4)) -> Structure:
    """Sell the wings, buy two bodies; each leg quoted bid/ask."""
    legs = tuple(Leg(ContractSpec("SPX", "SPXW", expiry, k, True, 100.0), q, *bid_ask)
                 for k, q in ((3700.0, -1), (3750.0, 2), (3800.0, -1)))
    return Structure("Fly", legs)


def _verdict(structure: Structure | None = None, score: float = 80.0, lowest: float = -40.0,
             strategy: str = "Enhanced Butterfly") -> StrategyAnalysis:
    """A tradeable verdict: limit at the mid (rounded), natural from the quotes; its value range
    (per share) ``(lowest, 0)``."""
    structure = structure or _fly()
    prices = NetPrices.of(structure, 0.05)
    intent = OrderIntent(strategy, tuple(leg.order_leg() for leg in structure.legs), 1, prices.limit, NOW,
                         max_loss=(prices.limit - lowest) * 100.0, value_range=(lowest, 0.0))
    return StrategyAnalysis(strategy, True, score, "ENTER", structure, prices, None, None, (), (), intent,
                            (prices.limit - lowest) * 100.0, 1)


def _sent(outbox: Outbox) -> list[SendOrder]:
    return [a for a in outbox.take() if isinstance(a, SendOrder)]


# --- verdict logging -------------------------------------------------------------------------------

def test_a_verdict_is_logged_on_a_flip_and_a_changed_reason_only_after_thirty_minutes():
    trading, outbox, _ = _trading()
    refused = dataclasses.replace(_verdict(), can_trade=False, reason="VIX too low: 14.00 < 15")

    def said(verdict: StrategyAnalysis, minutes: int) -> list[str]:
        trading._log_verdict(verdict, NOW + timedelta(minutes=minutes))
        return [a.text for a in outbox.take() if isinstance(a, Log)]

    assert said(refused, 0) == ["[Section 9B] Enhanced Butterfly: VIX too low: 14.00 < 15"]
    assert said(dataclasses.replace(refused, reason="VIX too low: 14.50 < 15"), 40) == []  # numbers only
    changed = dataclasses.replace(refused, reason="No 0DTE options available")
    assert said(changed, 29) == []  # a new reason, but within 30 minutes of the last line
    assert said(changed, 30) == ["[Section 9B] Enhanced Butterfly: No 0DTE options available"]
    assert said(changed, 90) == []  # the same reason again: never repeated
    assert said(_verdict(), 91) == ["[Section 9B] Enhanced Butterfly: ENTER"]  # a flip: at once
    assert said(dataclasses.replace(_verdict(), strategy="Batman Spread"), 91) == ["[Section 9B] Batman Spread: ENTER"]


# --- the Section 9B entry ----------------------------------------------------------------------------

def test_the_best_opportunity_is_logged_when_it_changes_and_counted_as_a_statistic(monkeypatch):
    trading, outbox, _ = _trading()
    best, other = _verdict(score=60.0), dataclasses.replace(_verdict(score=50.0), strategy="Batman Spread")
    monkeypatch.setattr(trading.section9b, "analyze_all_section9b", lambda market, pricing: ([best, other], [best, other]))
    for _ in range(2):
        trading.run_section9b(_market(), None)
    actions = outbox.take()
    assert [a.text for a in actions if isinstance(a, Log) and "Best opportunity" in a.text] == [
        "[Section 9B] Best opportunity: Enhanced Butterfly (Score: 60)"]
    assert [a.value for a in actions if isinstance(a, SetStatistic)] == ["2", "4"]
    assert not [a for a in actions if isinstance(a, SendOrder)]  # 60 < s9b-execute-min-score (70)
    monkeypatch.setattr(trading.section9b, "analyze_all_section9b", lambda market, pricing: ([], []))
    trading.run_section9b(_market(), None)
    assert outbox.take() == [] and trading.opportunities_seen == 4


def test_an_entry_is_sized_at_its_limit_within_the_risk_budget_and_the_contract_cap():
    trading, outbox, _ = _trading()
    verdict = _verdict()  # mid limit: -1x10.2 + 2x10.2 - 1x10.2 = 0.00 debit; lowest value -40 per share
    trading._execute(verdict, _market(portfolio=100_000.0))
    (order,) = _sent(outbox)
    unit_loss = (order.intent.limit_price + 40.0) * 100.0
    assert order.intent.units == min(int(5_000 // unit_loss), 50 // 4)
    assert order.intent.max_loss == pytest.approx(unit_loss * order.intent.units)
    assert order.purpose == EntryPurpose("Enhanced Butterfly")
    capped, outbox_c, _ = _trading(**{"manual-max-contracts-per-order": "8"})
    capped._execute(verdict, _market(portfolio=10_000_000.0))
    assert _sent(outbox_c)[0].intent.units == 2  # 8 contracts // 4 per unit


def test_no_entry_when_not_even_one_unit_fits_saying_so_once():
    trading, outbox, _ = _trading()
    for _ in range(3):
        trading._execute(_verdict(), _market(portfolio=1_000.0))  # 5% of $1,000 < one unit's $4,000
    actions = outbox.take()
    assert not [a for a in actions if isinstance(a, SendOrder)]
    assert [a.text for a in actions if isinstance(a, Log)] == [
        "[Section 9B] Enhanced Butterfly: the risk budget (5% of $1,000) allows no unit at max loss $4,000.00 per unit"]
    unknown = dataclasses.replace(_verdict(), intent=dataclasses.replace(_verdict().intent, value_range=None))
    trading._execute(unknown, _market())
    assert "max loss unknown per unit" in outbox.take()[0].text


def test_one_entry_per_strategy_at_a_time_none_after_a_suggestion_and_at_most_the_attempts():
    trading, outbox, _ = _trading(**{"s9b-max-entry-attempts": "2"})
    verdict = _verdict()
    trading._execute(verdict, _market())
    (first,) = _sent(outbox)
    trading.sent(first, [1, 2, 3], NOW, "AUTOMATIC")
    trading._execute(verdict, _market())
    assert _sent(outbox) == []  # one live trade per strategy
    trading.on_order_update(OrderUpdate(1, OrderStatus.CANCELED, NOW))
    trading._execute(verdict, _market(NOW + timedelta(minutes=11)))
    (second,) = _sent(outbox)
    trading.sent(second, [4, 5, 6], NOW, "AUTOMATIC")
    trading.on_order_update(OrderUpdate(4, OrderStatus.CANCELED, NOW))
    trading._execute(verdict, _market(NOW + timedelta(minutes=22)))
    assert _sent(outbox) == []  # two attempts a day
    other, outbox_o, _ = _trading()
    other.refused(SendOrder(verdict.intent, EntryPurpose("Enhanced Butterfly")), "MANUAL")
    other._execute(verdict, _market())
    assert _sent(outbox_o) == []  # suggested today: not again


def test_each_retry_walks_the_limit_toward_the_natural_price_never_through_it():
    trading, outbox, _ = _trading(**{"s9b-max-entry-attempts": "3"})
    verdict = _verdict(_fly(bid_ask=(10.0, 10.6)))
    prices = verdict.prices
    limits = []
    for attempt in range(3):
        trading._execute(verdict, _market(NOW + timedelta(minutes=11 * attempt)))
        (order,) = _sent(outbox)
        limits.append(order.intent.limit_price)
        trading.sent(order, [10 * attempt + 1], NOW, "AUTOMATIC")
        trading.on_order_update(OrderUpdate(10 * attempt + 1, OrderStatus.CANCELED, NOW))
    assert limits[0] == prices.limit and limits[2] == pytest.approx(prices.natural)
    assert limits[0] < limits[1] < limits[2]  # a debit walking up
    assert limits[1] == pytest.approx(prices.limit + 0.5 * (prices.natural - prices.limit) // 0.05 * 0.05, abs=0.05)
    single, outbox_s, _ = _trading(**{"s9b-max-entry-attempts": "1"})
    single._execute(verdict, _market())
    assert _sent(outbox_s)[0].intent.limit_price == pytest.approx(prices.natural)  # one attempt: at natural
    two, outbox_t, _ = _trading(**{"s9b-max-entry-attempts": "2"})
    two._execute(verdict, _market())
    assert _sent(outbox_t)[0].intent.limit_price == prices.limit  # two attempts: the mid first


def test_no_new_0dte_structure_after_its_time_exit():
    trading, outbox, _ = _trading()
    today = _verdict(_fly(expiry=FRI))
    trading._execute(today, _market(datetime(2021, 1, 8, 15, 0)))
    assert _sent(outbox) == []
    trading._execute(today, _market(datetime(2021, 1, 8, 14, 59)))
    assert len(_sent(outbox)) == 1
    later, outbox_l, _ = _trading()
    later._execute(_verdict(), _market(datetime(2021, 1, 8, 15, 10)))  # next week's: still fine
    assert len(_sent(outbox_l)) == 1


# --- what the gate and the broker said ------------------------------------------------------------------

def test_a_refused_or_unplaced_close_is_not_retried_in_that_state():
    trading, outbox, _ = _trading()
    verdict = _verdict()
    trading._execute(verdict, _market())
    (order,) = _sent(outbox)
    trading.sent(order, [1, 2, 3], NOW, "AUTOMATIC")
    for order_id, price, quantity in ((1, 10.0, -1), (2, 10.4, 2), (3, 10.0, -1)):
        trading.on_order_update(OrderUpdate(order_id, OrderStatus.FILLED, NOW, price, quantity))
    (trade,) = trading.book.trades
    close = SendOrder(trading.book.closing_intent(trade, "stop", 1.0, NOW), ClosePurpose(trade.trade_id, "stop"))
    trading.refused(close, "MANUAL")
    assert trade.refused_in == "MANUAL" and trade.state is TradeState.OPEN
    trading.sent(close, [], NOW, "REDUCE_ONLY")  # LEAN placed nothing
    assert trade.refused_in == "REDUCE_ONLY" and any("placed no closing order" in a.text for a in outbox.take()
                                                     if isinstance(a, Log))
    trading.sent(close, [7, 8, 9], NOW, "AUTOMATIC")
    assert trade.state is TradeState.CLOSING
    trading.sent(close, [10], NOW, "AUTOMATIC")  # a stale duplicate for a trade no longer open: ignored
    assert trade.close_ids == frozenset({7, 8, 9})
    trading.refused(SendOrder(close.intent, ClosePurpose(99, "stop")), "MANUAL")  # an unknown trade: nothing


def test_an_entry_lean_did_not_place_is_not_retried_today():
    trading, outbox, _ = _trading()
    verdict = _verdict()
    trading._execute(verdict, _market())
    (order,) = _sent(outbox)
    trading.sent(order, [], NOW, "AUTOMATIC")
    assert trading.book.trades == [] and any("placed no order" in a.text for a in outbox.take() if isinstance(a, Log))
    trading._execute(verdict, _market())
    assert _sent(outbox) == []
    trading.start_day()
    trading._execute(verdict, _market(NOW + timedelta(days=3)))
    assert len(_sent(outbox)) == 1


def test_a_hedge_is_only_reported():
    trading, outbox, _ = _trading()
    hedge = SendOrder(OrderIntent("Delta Hedge", (), 1, None, NOW), HedgePurpose("delta 450"))
    trading.sent(hedge, [5], NOW, "REDUCE_ONLY")
    trading.refused(hedge, "MANUAL")
    assert trading.book.trades == [] and [a.text for a in outbox.take() if isinstance(a, Log)] == [
        "[HEDGE]  sent (delta 450)"]


# --- results -------------------------------------------------------------------------------------------

def _zero_dte_trade(trading: Trading, credit: float, progressive: bool, units: int = 2):
    short, long = (ContractSpec("SPX", "SPXW", FRI, k, False, 100.0) for k in (3700.0, 3670.0))
    intent = OrderIntent("0DTE Put Credit Spread", (Leg(short, -1, 0, 0).order_leg(), Leg(long, 1, 0, 0).order_leg()),
                         units, -credit, NOW, signals=("progressive Friday" if progressive else "normal Friday",))
    first = 100 * (len(trading.book.trades) + 1)
    trading.sent(SendOrder(intent, EntryPurpose("0DTE")), [first, first + 1], NOW, "AUTOMATIC")
    trading.on_order_update(OrderUpdate(first, OrderStatus.FILLED, NOW, credit + 0.5, -units))
    trading.on_order_update(OrderUpdate(first + 1, OrderStatus.FILLED, NOW, 0.5, units))
    return trading.book.trades[-1]


def test_0dte_results_by_group_from_closing_fills_or_the_settlement():
    trading, outbox, _ = _trading()
    won = _zero_dte_trade(trading, 3.0, progressive=True)
    trading.sent(SendOrder(trading.book.closing_intent(won, "target", 1.0, NOW), ClosePurpose(won.trade_id, "t")),
                 [3, 4], NOW, "AUTOMATIC")
    trading.on_order_update(OrderUpdate(3, OrderStatus.FILLED, NOW, 1.2, 2))
    trading.on_order_update(OrderUpdate(4, OrderStatus.FILLED, NOW, 0.2, -2))
    stats = {a.name: a.value for a in outbox.take() if isinstance(a, SetStatistic)}
    assert stats["0DTE progressive Fridays"] == (
        "1 trade, win rate 100%, avg credit 3.00, avg P&L before fees $400.00, worst $400.00")  # (3.0 - 1.0) x 100 x 2
    lost = _zero_dte_trade(trading, 2.0, progressive=False, units=1)
    trading.manage(_market(datetime(2021, 1, 8, 16, 0)), "AUTOMATIC")  # no longer held: settled at 3760
    stats = {a.name: a.value for a in outbox.take() if isinstance(a, SetStatistic)}
    assert lost.state is TradeState.CLOSED
    assert stats["0DTE normal Fridays"] == "1 trade, win rate 100%, avg credit 2.00, avg P&L before fees $200.00, worst $200.00"
    flat = _zero_dte_trade(trading, 2.0, progressive=False, units=1)
    trading.settlement_close = {FRI: 3685.0}.get  # 15 points into the 3700/3670 spread
    trading.manage(_market(datetime(2021, 1, 8, 16, 0)), "AUTOMATIC")
    stats = {a.name: a.value for a in outbox.take() if isinstance(a, SetStatistic)}
    assert flat.state is TradeState.CLOSED
    assert stats["0DTE normal Fridays"] == (
        "2 trades, win rate 50%, avg credit 2.00, avg P&L before fees $-550.00, worst $-1,300.00")  # (2 - 15) x 100


def test_other_strategies_have_no_0dte_statistic_and_an_unsettled_trade_has_no_result():
    trading, outbox, _ = _trading()
    trading.settlement_close = lambda day: None
    _zero_dte_trade(trading, 2.0, progressive=False)
    trading.manage(_market(datetime(2021, 1, 8, 16, 0)), "AUTOMATIC")
    assert not [a for a in outbox.take() if isinstance(a, SetStatistic)]


def test_a_one_dollar_win_counts_as_a_win():
    trading, outbox, _ = _trading()
    trade = _zero_dte_trade(trading, 2.0, progressive=False, units=1)
    close = SendOrder(trading.book.closing_intent(trade, "target", 1.99, NOW), ClosePurpose(trade.trade_id, "t"))
    trading.sent(close, [900, 901], NOW, "AUTOMATIC")
    trading.on_order_update(OrderUpdate(900, OrderStatus.FILLED, NOW, 2.49, 1))
    trading.on_order_update(OrderUpdate(901, OrderStatus.FILLED, NOW, 0.5, -1))
    stats = {a.name: a.value for a in outbox.take() if isinstance(a, SetStatistic)}
    assert stats["0DTE normal Fridays"] == "1 trade, win rate 100%, avg credit 2.00, avg P&L before fees $1.00, worst $1.00"


def _chain(rows: list[tuple[ContractSpec, float, float, float]]) -> ChainColumns:
    """(contract, bid, ask, quote age in minutes) rows."""
    return ChainColumns.from_rows([r[0] for r in rows], [(b, a, (b + a) / 2, 0, 0, float("nan"), age)
                                                          for _c, b, a, age in rows])


def test_marks_are_mids_of_fresh_quotes_a_zero_bid_included():
    from desk.trading import _marks

    a, b, c, d = (ContractSpec("SPX", "SPXW", FRI, k, True, 100.0) for k in (3700.0, 3750.0, 3800.0, 3850.0))
    chain = _chain([(a, 10.0, 10.6, 0.0), (b, 0.0, 0.05, 1.0), (c, 5.0, 4.0, 0.0), (d, 3.0, 3.2, 6.0)])
    mark = _marks(_market(chain=chain), 5.0)
    assert mark(a) == pytest.approx(10.3) and mark(b) == pytest.approx(0.025)
    assert mark(c) is None and mark(d) is None  # crossed; older than 5 minutes
    assert mark(ContractSpec("SPX", "SPXW", FRI, 3900.0, True, 100.0)) is None  # not in the chain


def test_an_exit_blocked_by_a_leg_missing_from_the_chain_still_reaches_a_human():
    trading, outbox, suggested = _trading(**{"exit-stale-escalate-minutes": "10"})
    trade = _zero_dte_trade(trading, 2.0, progressive=False, units=1)
    short, long = (leg.contract for leg in trade.intent.legs)
    chain = _chain([(short, 30.0, 31.0, 0.0)])  # the long wing is no longer in the chain
    positions = tuple(BookPosition(c.describe(), q, 100.0, c, "SPX") for c, q in ((short, -1.0), (long, 1.0)))
    for minute in range(0, 12):  # from the 0DTE time exit on
        market = dataclasses.replace(_market(datetime(2021, 1, 8, 15, minute), chain=chain), positions=positions)
        trading.manage(market, "AUTOMATIC")
    (intent, why), = suggested
    assert intent.limit_price is None and "SPXW 2021-01-08 3670P" in why
    assert [a.text for a in outbox.take() if isinstance(a, Log) and "waiting" in a.text] == [
        "[0DTE] 0DTE Put Credit Spread: 0DTE time exit at 15:00, but no usable quote within 5 min for "
        "SPXW 2021-01-08 3670P: waiting for fresh quotes before closing"]


def test_the_0dte_entry_runs_once_a_day_and_other_trades_do_not_block_it(monkeypatch):
    trading, outbox, _ = _trading()
    calls: list[object] = []
    plan_or_reason: list[object] = ["credit 0.87 below the minimum 3.06"]
    monkeypatch.setattr("desk.trading.plan_zero_dte", lambda *args: calls.append(args) or plan_or_reason[0])
    pricing = object()
    params = load_settings(lambda n: None).friday.zero_dte(False)
    friday = _market(datetime(2021, 1, 8, 11, 0))
    trading._execute(_verdict(), friday)  # a Section 9B trade opened today
    trading.sent(_sent(outbox)[0], [1, 2, 3], friday.time, "AUTOMATIC")
    trading.run_zero_dte(friday, pricing, False, params)  # type: ignore[arg-type]
    trading.run_zero_dte(dataclasses.replace(friday, time=friday.time + timedelta(minutes=1)), pricing, False, params)  # type: ignore[arg-type]
    assert len(calls) == 2  # the Section 9B trade does not count as today's 0DTE
    plan_or_reason[0] = "credit 0.91 below the minimum 3.06"  # another number, the same refusal
    trading.run_zero_dte(friday, pricing, False, params)  # type: ignore[arg-type]
    assert [a.text for a in outbox.take() if isinstance(a, Log)] == [
        "[0DTE] no entry: credit 0.87 below the minimum 3.06"]
    thursday = _market(datetime(2021, 1, 7, 11, 0))
    trading.run_zero_dte(thursday, pricing, False, params)  # type: ignore[arg-type]
    trading.run_zero_dte(friday, None, False, params)  # no pricing inputs
    assert len(calls) == 3


def test_a_retry_sets_its_exits_at_its_own_limit_and_the_fill_sets_them_again_once():
    """A conceding retry is a different trade plan: target and stop follow its limit (what a human
    reading the order or suggestion sees), then the fill's price (what the trade is managed by)."""
    from core.orders import ExitRule

    rule = ExitRule(target_of_max_profit=0.5, credit_stop_multiple=2.0, debit_stop_fraction=0.5)
    trading, outbox, _ = _trading(**{"s9b-max-entry-attempts": "3"})
    base = _verdict(_fly(bid_ask=(10.0, 10.6)))
    verdict = dataclasses.replace(base, intent=dataclasses.replace(base.intent, exit_rule=rule))
    trading._execute(verdict, _market())
    (first,) = _sent(outbox)
    trading.sent(first, [1], NOW, "AUTOMATIC")
    trading.on_order_update(OrderUpdate(1, OrderStatus.CANCELED, NOW))
    trading._execute(verdict, _market(NOW + timedelta(minutes=11)))
    (second,) = _sent(outbox)
    limit = second.intent.limit_price
    assert limit is not None and limit > first.intent.limit_price
    assert (second.intent.profit_target, second.intent.stop_loss) == rule.levels(limit, (-40.0, 0.0))
    assert second.intent.stop_loss != first.intent.stop_loss
    trading.sent(second, [11, 12, 13], NOW, "AUTOMATIC")
    units, body = second.intent.units, (limit - 0.05 + 20.0) / 2  # the fill: 0.05 better than the limit
    for order_id, price, quantity in ((11, 10.0, -units), (12, body, 2 * units), (13, 10.0, -units)):
        trading.on_order_update(OrderUpdate(order_id, OrderStatus.FILLED, NOW, price, quantity, event_id=1))
    trading.on_order_update(OrderUpdate(13, OrderStatus.FILLED, NOW, 10.0, -units, event_id=1))  # delivered twice
    (trade,) = [t for t in trading.book.trades if t.state is TradeState.OPEN]
    assert trade.entry_net == pytest.approx(limit - 0.05)
    target, stop = rule.levels(trade.entry_net, (-40.0, 0.0))
    assert (trade.intent.profit_target, trade.intent.stop_loss) == pytest.approx((target, stop))
    opened = [a.text for a in outbox.take() if isinstance(a, Log) and "filled at" in a.text]
    assert opened == [f"[Section 9B] Enhanced Butterfly x{units} filled at {trade.entry_net:+.2f} per share "
                      f"(limit {limit:+.2f}); profit target {target:+.2f}, stop {stop:+.2f} per share, set from the fill"]
