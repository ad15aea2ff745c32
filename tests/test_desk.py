"""The desk driven directly with plain snapshots (no LEAN double): a whole synthetic day, the gate at send
time, events, commands and the stream's signals."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from desk.interface import (
    Alert, CancelAllOrders, EntryPurpose, Plot, SaveRecord, SendOrder, SetStatistic, manual_mode_key)
from risk.manual_mode import AutomationState
from strategies.trade_book import TradeState
from streaming.signals import ConnectionChanged, ConnectionState, GreeksWarning, LogLine, ZeroDteMove
from tests.desk_world import World


def _drift(percent_by_1030: float, open_price: float = 3800.0):
    """A path that moves ``percent_by_1030`` percent over the first hour, then holds."""
    def path(now: datetime) -> float:
        minutes = min(now.hour * 60 + now.minute - (9 * 60 + 30), 60)
        return open_price * (1 + percent_by_1030 / 100.0 * minutes / 60.0)
    return path


def test_a_whole_synthetic_friday_enters_manages_and_exits_the_0dte_condor():
    world = World()
    world.run(time(16, 0), _drift(0.09))
    logs = world.logs()
    (friday,) = [line for line in logs if "Score:" in line]  # one reading, at the decision time
    assert friday.startswith("=" * 40 + "\nPROGRESSIVE FRIDAY DETECTED!")
    assert "Signals measured: 4/6 (unavailable: breadth, momentum)" in friday
    assert "VIX Structure: BACKWARDATION (+2)" in friday and "P/C Ratio: 1.40 (+2)" in friday
    assert ("RECOMMENDATION: Enhanced 0DTE opportunity\n- Increase position size by 50%\n"
            "- Tighten stop loss to 1.5x credit\n- Target 80% of credit received") in friday
    assert "[0DTE] no entry: outside the entry window 10:30-13:30" in logs  # normal until the reading
    (entry_time, entry), *exits = world.orders
    assert entry.strategy == "0DTE Iron Condor" and entry_time.time() == time(10, 30)
    first_exit, (exit_time, exit_order) = exits[0][1], exits[-1]
    assert all(order.strategy == "0DTE Iron Condor exit" for _t, order in exits)
    # the target's first close asks the mid (resting), the retry after the timeout goes at natural
    assert first_exit.limit_price < exit_order.limit_price
    assert [leg.quantity for leg in entry.legs] == [-1, 1, -1, 1] and entry.limit_price < 0
    assert exit_order.strategy == "0DTE Iron Condor exit" and exit_order.reduces_only
    assert [leg.quantity for leg in exit_order.legs] == [1, -1, 1, -1]
    (trade,) = world.desk.trading.book.trades
    # a quiet afternoon: the credit decays to the 80% target before the 15:00 time exit
    assert trade.state is TradeState.CLOSED and trade.exit_reason.startswith("profit target")
    assert time(10, 30) < exit_time.time() < time(15, 0) and len(exits) == 2
    assert not any(world.positions.values())
    pnl = world.cash - world.settings.universe.cash
    stats = {a.name: a.value for a in world.actions if isinstance(a, SetStatistic)}
    assert stats["0DTE progressive Fridays"] == (
        f"1 trade, win rate {'100%' if pnl > 0 else '0%'}, avg credit {-trade.entry_net:.2f}, "
        f"avg P&L before fees ${pnl:,.2f}, worst ${pnl:,.2f}")
    plots = [a for a in world.actions if isinstance(a, Plot)]
    assert plots and {p.series for p in plots} >= {"Delta (SPY shares)", "Theta ($/day)"}
    assert world.desk.manual_mode.state is AutomationState.AUTOMATIC


def test_the_gate_decides_when_the_order_is_sent_not_when_it_was_planned():
    world = World()
    world.run(time(10, 29), _drift(0.09))
    world.now = world.now.replace(minute=30)
    planned = world.desk.on_bar(world.snapshot())
    orders = [a for a in planned if isinstance(a, SendOrder)]
    assert [o.intent.strategy for o in orders] == ["0DTE Iron Condor"]
    ok, _ = world.desk.on_command("manual", {"reason": "news"}, world.now)  # between planning and sending
    assert ok
    placed: list[object] = []
    actions = world.desk.send(orders[0], lambda intent: placed.append(intent) or [1], {}, world.now)
    assert placed == [] and world.desk.trading.book.trades == []
    suggestion = world.desk.manual_mode.pending_trades[-1]
    assert suggestion.intent.strategy == "0DTE Iron Condor" and suggestion.refused_because == "MANUAL: Manual command: news"
    assert any(isinstance(a, SaveRecord) and a.key == manual_mode_key(False) for a in actions)
    world.run(time(11, 0), _drift(0.09))
    assert world.orders == []  # refused once: not planned again every minute


def test_the_rate_window_counts_orders_placed_not_orders_checked():
    world = World(parameters={"manual-max-orders-per-minute": "1"})
    world.run(time(10, 29), _drift(0.09))
    order = SendOrder(_some_intent(world), EntryPurpose("Test"))
    world.desk.send(order, lambda intent: [], {}, world.now)  # LEAN placed nothing
    assert world.desk.manual_mode.orders_sent.count(world.now) == 0
    world.desk.send(order, lambda intent: [7], {}, world.now)
    assert world.desk.manual_mode.orders_sent.count(world.now) == 1
    world.desk.send(order, lambda intent: [8], {}, world.now)  # the second within 60 s breaks the rate
    assert world.desk.manual_mode.state is AutomationState.REDUCE_ONLY
    assert world.desk.manual_mode.orders_sent.count(world.now) == 1


def _some_intent(world: World):
    from core.orders import OrderIntent, OrderLeg

    put = world.contracts[1]
    return OrderIntent("Test", (OrderLeg(put.describe(), -1, put, 1.0, 1.1),), 1, -1.0, world.now)


def test_a_rejected_entry_fails_its_trade_and_counts_once_against_the_error_budget():
    world = World()
    world.run(time(10, 29), _drift(0.09))
    world.refuse_next_with = "insufficient buying power"
    world.run(time(10, 30), _drift(0.09))
    (trade,) = world.desk.trading.book.trades
    assert trade.state is TradeState.FAILED
    assert world.desk.manual_mode.error_count == 1  # four legs of one combo: one error
    assert any(line.startswith("[ORDER ERROR] 1/3") for line in world.logs())


def test_stream_signals_are_dispatched_by_type():
    world = World()
    world.run(time(10, 0), _drift(0.0))
    at = datetime(2021, 1, 8, 15, 0)
    actions = world.desk.on_stream([
        LogLine("error", "token rejected", at), LogLine("info", "subscribed", at),
        ConnectionChanged(ConnectionState.RECONNECTING, "close 1012", at),
        GreeksWarning("delta", 62.0, 50.0, (), at), object()], world.now)
    texts = [(a.text, a.error) for a in actions]
    assert texts == [("[WebSocket] token rejected", True), ("[WebSocket] subscribed", False),
                     ("[WebSocket] reconnecting: close 1012", False),
                     ("[GREEKS WARNING] Portfolio Delta: 62.00 (limit 50, real-time)", False)]


def test_a_stream_move_re_runs_the_0dte_entry_check_between_bars():
    world = World()
    world.run(time(10, 29), _drift(0.09))
    world.now = world.now.replace(minute=30)
    world.desk.on_bar(world.snapshot())  # the bar's entry is planned here and dropped (not sent)
    world.desk.trading.start_day()
    move = ZeroDteMove("SPX", 3830.0, 3800.0, 0.79, world.now)
    actions = world.desk.on_stream([move], world.now)
    assert "[0DTE SIGNAL] SPX moved +0.79% from the open 3800.00 - CHECK ENTRY" in [
        a.text for a in actions if hasattr(a, "text")]
    assert [a.intent.strategy for a in actions if isinstance(a, SendOrder)] == ["0DTE Iron Condor"]


def test_an_internal_error_halts_cancels_and_alerts():
    world = World()
    world.run(time(9, 35), _drift(0.0))
    actions = world.desk.on_internal_error("ZeroDivisionError('boom')", world.now)
    assert world.desk.manual_mode.state is AutomationState.MANUAL
    assert any(isinstance(a, CancelAllOrders) for a in actions)
    assert any(isinstance(a, Alert) and "MANUAL MODE ACTIVATED" in a.subject for a in actions)
    assert actions[0].text == "on_data failed at 2021-01-08 09:35:00: ZeroDivisionError('boom')"


def test_out_of_session_bars_record_data_and_decide_nothing():
    import dataclasses

    world = World()
    world.now = datetime(2021, 1, 8, 8, 0)
    actions = world.desk.on_bar(dataclasses.replace(world.snapshot(), in_session=False))
    assert actions == [] and world.desk.day is None


@pytest.mark.parametrize("command, fields, ok, said", [
    ("status", {}, True, "[STATUS] AUTOMATIC"),
    ("resume", {"token": "x"}, False, "[COMMAND] already AUTOMATIC"),
    ("fly", {}, False, "[COMMAND] unknown command 'fly'; expected resume, manual or status"),
])
def test_commands(command, fields, ok, said):
    world = World()
    result, actions = world.desk.on_command(command, fields, world.now)
    assert result is ok and actions[0].text.startswith(said)


def test_progressive_needs_evidence_and_the_reading_is_held_for_the_day():
    """Without the opening-volume baseline only 3 of 6 signals are measured: a perfect score is not
    progressive; the block says why and the normal 0DTE parameters stay in force all day."""
    world = World()
    world.history.opening_volumes = lambda sessions, window_end: []  # type: ignore[method-assign]
    world.run(time(15, 59), _drift(0.09))
    (friday,) = [line for line in world.logs() if "Score:" in line]
    assert "FRIDAY PATTERN (not progressive: 3/6 signals measured, 4 needed)" in friday
    assert "Signals measured: 3/6 (unavailable: volume, breadth, momentum)" in friday
    assert "RECOMMENDATION: Normal 0DTE opportunity\n- Normal position size\n- Stop loss to 2x credit" in friday
    reading = world.desk.friday.reading
    assert reading is not None and reading.score >= 7 and not reading.is_progressive
    assert reading.time.time() == time(10, 30)
    (entry_time, entry), *_ = world.orders
    assert "normal Friday" in entry.signals
    stats = {a.name: a.value for a in world.actions if isinstance(a, SetStatistic)}
    assert stats["Progressive Friday 2021-01-08"] == "10/10 HIGH (3/6 signals, 4 needed)"


def test_fills_delivered_twice_and_concurrently_count_once():
    """LEAN raises order events on its own thread in live mode, and a fill may arrive twice: eight
    threads deliver every fill of the entry at once while bars keep coming; the trade counts each once."""
    import threading

    world = World()
    world.run(time(10, 29), _drift(0.09))
    world.hold_fills = True
    world.run(time(10, 30), _drift(0.09))
    fills = list(world.held)
    assert len(fills) == 4
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            for fill in fills:
                world.desk.on_order_event(fill)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    world.hold_fills = False
    world.run(time(10, 40), _drift(0.09))
    for thread in threads:
        thread.join()
    assert errors == []
    (trade,) = world.desk.trading.book.trades
    assert trade.state is TradeState.OPEN
    expected = sum(f.fill_price * f.fill_quantity for f in fills) / trade.intent.units
    assert trade.entry_net == pytest.approx(expected)
    assert all(trade.fills[f.order_id][1] == f.fill_quantity for f in fills)


def _crash(open_price: float = 3800.0, from_minute: int = 11 * 60):
    """Flat until ``from_minute`` (minutes after midnight), then down 0.1% a minute."""
    def path(now: datetime) -> float:
        minutes = now.hour * 60 + now.minute
        return open_price * (1 - 0.001 * max(minutes - from_minute, 0))
    return path


def test_no_close_on_stale_quotes_then_one_escalation_then_the_close_on_fresh_ones():
    world = World(parameters={"exit-stale-escalate-minutes": "10", "manual-portfolio-delta-limit": "1e9",
                              "greeks-breaches-for-manual": "9"})
    world.run(time(10, 30), _crash())
    (trade,) = world.desk.trading.book.trades
    assert trade.state is TradeState.OPEN  # no automatic close on a stale quote:
    stale_leg = trade.intent.legs[0].contract
    world.quote_age[stale_leg] = 30.0  # this leg's quote stops updating before the sell-off
    world.run(time(11, 40), _crash())
    logs = world.logs()
    waiting = [line for line in logs if "waiting for fresh quotes" in line]
    assert len(waiting) == 1 and "stop: " in waiting[0] and stale_leg.describe() in waiting[0]
    assert [i.strategy for _t, i in world.orders if i.strategy.startswith("0DTE")] == ["0DTE Iron Condor"]
    alerts = [a for a in world.actions if isinstance(a, Alert) and a.subject == "EXIT NEEDS A HUMAN"]
    assert len(alerts) == 1  # once, not every minute
    suggestion = world.desk.manual_mode.pending_trades[-1]
    assert suggestion.intent.strategy == "0DTE Iron Condor exit" and "stale" not in suggestion.intent.strategy
    assert "without usable quotes" in suggestion.refused_because
    world.quote_age.clear()  # fresh quotes again: the rule closes it
    world.run(time(11, 42), _crash())
    assert [i.strategy for _t, i in world.orders if i.strategy.startswith("0DTE")][-1] == "0DTE Iron Condor exit"
    assert trade.state is TradeState.CLOSED


def test_a_close_never_pays_more_than_the_structure_can_be_worth():
    """Gapping through the stop on wide quotes: the natural price to close is beyond the structure's
    worst expiry value; the closing limit is capped there, so the loss is at most the max loss."""
    world = World(parameters={"manual-portfolio-delta-limit": "1e9", "greeks-breaches-for-manual": "9"})
    world.run(time(10, 30), _drift(0.0))
    (trade,) = world.desk.trading.book.trades
    world.spot, world.spread = 3650.0, 12.0  # a 4% gap down; deep in-the-money puts quoted 12 points wide
    world.run(time(10, 31))
    (_t, close), = [(t, i) for t, i in world.orders if i.strategy.endswith("exit")]
    lowest, _highest = trade.intent.value_range
    assert lowest == -30.0 and close.limit_price == pytest.approx(30.0)  # the wider side's width
    assert any("natural +48.05 capped at +30.00" in line for line in world.logs())  # natural + one tick
    assert trade.state is TradeState.CLOSED  # filled at the cap, inside the wide market
    from strategies.trade_book import TradeBook

    realized = TradeBook.realized_pnl_per_share(trade)
    worst = TradeBook.max_loss_at_fill_per_share(trade)
    assert realized is not None and worst is not None and -realized <= worst + 1e-9


def _restarted(before: World, **changes: object) -> World:
    """The same account redeployed: a new desk from the saved records, the brokerage's holdings."""
    after = World(live=True, records=before.saved(), **changes)  # type: ignore[arg-type]
    after.positions, after.cash, after.now, after.spot = dict(before.positions), before.cash, before.now, before.spot
    return after


def test_a_live_restart_restores_open_trades_and_their_exit_rules():
    first = World(live=True)
    first.run(time(11, 0), _drift(0.09))
    (trade,) = first.desk.trading.book.trades
    assert trade.state is TradeState.OPEN
    assert "tom-king/live/trade-book.json" in first.saved()
    second = _restarted(first)
    (restored,) = second.desk.trading.book.trades
    assert restored.intent == trade.intent and restored.entry_net == trade.entry_net
    second.run(time(16, 0), _drift(0.09))
    logs = second.logs()
    assert "[TRADES] restored 1 open trade(s): 0DTE Iron Condor x2 (open)" in logs
    assert "[TRADES] 0DTE Iron Condor x2: held; its exit rules apply again" in logs
    assert restored.state is TradeState.CLOSED and restored.exit_reason.startswith(("profit target", "0DTE time exit"))
    assert not any(second.positions.values())
    assert [o.strategy for _t, o in second.orders][:1] == ["0DTE Iron Condor exit"]  # no second entry that day


def test_a_restart_closes_trades_gone_by_hand_and_hands_over_positions_it_cannot_explain():
    first = World(live=True)
    first.run(time(11, 0), _drift(0.09))
    (trade,) = first.desk.trading.book.trades
    stray = next(c for c in first.contracts if c.strike == 3900.0 and c.is_call)
    second = _restarted(first)
    second.positions = {stray: -1.0}  # the condor was closed by hand; a call was sold by hand
    second.run(time(11, 1), _drift(0.09))
    (restored,) = second.desk.trading.book.trades
    assert restored.state is TradeState.CLOSED and restored.exit_reason == "closed outside the algorithm"
    suggestion = second.desk.manual_mode.pending_trades[-1]
    assert suggestion.intent.strategy == "Unmanaged SPXW 2021-01-08 3900C"
    assert [leg.quantity for leg in suggestion.intent.legs] == [1] and suggestion.intent.reduces_only
    alerts = [a for a in second.actions if isinstance(a, Alert) and a.subject == "POSITION NEEDS A HUMAN"]
    assert len(alerts) == 1


def test_an_unreadable_trade_book_starts_manual():
    world = World(live=True, records={"tom-king/live/trade-book.json": '{"trades": [{"trade_id": 1}]}'})
    assert world.desk.manual_mode.state is AutomationState.MANUAL
    assert world.desk.manual_mode.reason.startswith("unreadable trade-book record: KeyError")


def test_command_fields_are_read_from_every_payload_lean_hands_over():
    """``lean live command`` payloads arrive as a dynamic object, a dict or a JSON string; a missing
    field or unreadable text is None, never an exception in ``on_command``."""
    from types import SimpleNamespace

    from desk.interface import command_field

    class Dynamic:  # LEAN's dynamic object raises something other than AttributeError on a missing member
        command = "resume"

        def __getattr__(self, name):
            raise KeyError(name)

    assert command_field({"command": "status", "token": 1234}, "token") == "1234"
    assert command_field('{"command": "manual", "reason": "news"}', "reason") == "news"
    assert command_field(SimpleNamespace(command="resume"), "command") == "resume"
    assert command_field(Dynamic(), "command") == "resume" and command_field(Dynamic(), "token") is None
    assert command_field("{not json", "command") is None and command_field({"command": None}, "command") is None


@pytest.mark.parametrize("live", [False, True])
def test_the_automation_state_and_how_to_resume_are_runtime_statistics_when_they_change(live):
    """A halt shows in LEAN's results panel (and the replay's summary) with how a human resumes it; live,
    the token stays in the alert (whoever resumes must have read it)."""
    world = World(live=live)
    world.run(time(9, 35), _drift(0.0))
    statistics = {a.name: a.value for a in world.actions if isinstance(a, SetStatistic)}
    assert (statistics["Automation State"], statistics["Resume With"]) == ("AUTOMATIC", "not halted")
    world.actions.clear()
    _, actions = world.desk.on_command("manual", {"reason": "news"}, world.now)
    shown = {a.name: a.value for a in actions if isinstance(a, SetStatistic)}
    token = world.desk.manual_mode.ack_token
    assert shown["Automation State"] == "MANUAL"
    expected = "<token from the alert>" if live else token
    resume = f'live command {{"command": "resume", "token": "{expected}"}} once no trigger is active'
    assert shown["Resume With"] == resume
    _, again = world.desk.on_command("status", {}, world.now)
    assert not any(isinstance(a, SetStatistic) for a in again)  # unchanged: not repeated
