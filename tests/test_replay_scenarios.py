"""The replay on the built-in scenarios: what a new user runs first, and the behaviours they exercise."""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from replay.engine.results import statistics
from replay.engine.runner import ReplayConfig, run_replay
from replay.outputs import run_trades, write_outputs
from replay.scenarios import write_scenario

ROOT = Path(__file__).resolve().parents[1]


def _run(name: str, folder: Path, **overrides: str):
    info = write_scenario(name, folder)
    return info, run_replay(ReplayConfig(folder, {**info.parameters, **overrides}))


def _inject(algo, intent):
    """Hand the desk an order as its strategies do: it leaves through the gate when main.py sends it."""
    from desk.interface import EntryPurpose, SendOrder

    algo.desk.outbox.add(SendOrder(intent, EntryPurpose(intent.strategy)))


def _attempt_daily_spread(algo, at=(11, 0)):
    """Make the algorithm try one 0DTE-or-nearest put credit spread a day through its order gate."""
    from core.orders import OrderIntent, OrderLeg

    original, attempts = algo.desk.trading.run_section9b, []

    def trade(snap, pricing):
        original(snap, pricing)
        if (snap.time.hour, snap.time.minute) != at or snap.underlying.price.value is None:
            return
        chain, spot = snap.chain, snap.underlying.price.value
        nearest = min(chain.expiries())
        puts = {c.strike: i for i, c in enumerate(chain.contracts) if c.expiry == nearest and not c.is_call}
        short_strike = max(k for k in puts if k <= spot - 10)
        short, long = puts[short_strike], puts[max(k for k in puts if k <= short_strike - 25)]
        legs = (OrderLeg("short", -1, chain.contracts[short], chain.bid[short], chain.ask[short]),
                OrderLeg("long", 1, chain.contracts[long], chain.bid[long], chain.ask[long]))
        credit = chain.bid[short] - chain.ask[long]
        intent = OrderIntent("daily spread", legs, 1, -(credit - 0.3), snap.time, signals=("test",))
        attempts.append(intent)
        _inject(algo, intent)

    algo.desk.trading.run_section9b = trade
    return attempts


def test_vix_spike_switches_to_manual_mode(tmp_path):
    from replay.engine.runner import Replay

    info = write_scenario("vix-spike", tmp_path)
    isolate = {"manual-portfolio-delta-limit": "1000000", "greeks-breaches-for-manual": "5"}  # VIX alone
    replay = Replay(ReplayConfig(tmp_path, {**info.parameters, **isolate}))
    attempts = _attempt_daily_spread(replay.algorithm)
    run = replay.run()
    stats = statistics(run)
    assert info.facts.vix_max > 50
    assert stats["Manual Mode Activations"] == 1 and stats["Missing Files"] == 0
    critical = [line for line in run.algorithm.logs if line.startswith("[CRITICAL] MANUAL MODE ACTIVATED")]
    assert critical and critical[0].startswith("[CRITICAL] MANUAL MODE ACTIVATED: Extreme VIX: 5")
    assert stats["Runtime Statistics"]["Automation State"] == "MANUAL"
    assert run.algorithm.transactions.cancel_calls == 1
    halted_at = run.algorithm.desk.manual_mode.since
    sent = run.algorithm.transactions.get_orders(lambda o: o.tag == "daily spread")
    assert attempts and sent and all(t.time < halted_at for t in sent)  # orders before the spike, none after
    suggestions = run.algorithm.desk.manual_mode.pending_trades
    assert suggestions and all(s.time > halted_at for s in suggestions)
    assert stats["Runtime Statistics"]["Trade Suggestions"] == str(len(suggestions))
    assert any("MANUAL TRADE SUGGESTION" in line and "Refused because: MANUAL: Extreme VIX" in line
               for line in run.algorithm.logs)


def test_gap_friday_is_scored_from_measured_signals(tmp_path):
    """Thursday and Friday: every signal the scenario models is measured by main.py and equals the
    scenario's own facts, computed independently from the files it wrote."""
    info, run = _run("gap-friday", tmp_path, **{"start-date": "2021-06-24"})
    analysis = run.algorithm.desk.friday.reading
    assert analysis is not None and analysis.is_progressive and analysis.confidence == "HIGH"
    measured = {s.name: s for s in analysis.signals if s.available}
    assert set(measured) == {"gap", "volume", "vix_structure", "pc_ratio", "momentum"}
    facts = info.facts
    assert measured["gap"].reading.value == pytest.approx(facts.gap_pct, abs=1e-9)
    assert measured["volume"].reading.value == pytest.approx(facts.opening_volume_ratio, rel=1e-9)
    assert measured["momentum"].reading.value == pytest.approx(facts.premarket_move_pct, abs=1e-9)
    assert measured["vix_structure"].label == "BACKWARDATION"
    assert measured["pc_ratio"].reading.value > 1.2
    breadth = next(s for s in analysis.signals if s.name == "breadth")
    assert breadth.reading.reason == "sector SPDR proxy: no members configured"
    stats = statistics(run)["Runtime Statistics"]
    assert stats["Progressive Fridays"].startswith("1: win rate")
    assert stats["Other Fridays"] == "0 with an outcome"


def test_default_cli_run_uses_a_scenario(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "replay", "--scenario", "quiet-week", "--end", "2021-08-09", "--out",
         str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "scenario quiet-week" in done.stderr and "Days Run: 1 (2021-08-09)" in done.stdout
    assert "Missing Files: 0" in done.stdout
    assert (tmp_path / "statistics.json").is_file()


def test_unknown_scenario_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "replay", "--scenario", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "nope" in done.stderr


def test_a_combo_through_the_gate_fills_exits_and_balances_end_to_end(tmp_path):
    """A 0DTE put credit spread sent through the desk's gate with a limit 0.50 through the natural credit
    fills under LEAN's combo-limit rule (legs at their own-side bar lows), tastytrade charging $1 per
    contract to open and nothing to close. The desk's 15:00 time exit is a marketable limit (one tick
    beyond the natural price), which LEAN's strict rule fills. The books balance to the cent."""
    from core.orders import OrderIntent, OrderLeg
    from replay.engine.runner import Replay

    info = write_scenario("quiet-week", tmp_path)
    isolate = {"manual-portfolio-delta-limit": "1000000", "greeks-breaches-for-manual": "5"}  # not the limits
    replay = Replay(ReplayConfig(tmp_path, {**info.parameters, **isolate, "end-date": "2021-08-10"}))
    algo = replay.algorithm
    original, placed = algo.desk.trading.run_section9b, []

    def trade(snap, pricing):
        original(snap, pricing)
        if placed or (snap.time.hour, snap.time.minute) != (10, 0):
            return
        chain, spot = snap.chain, snap.underlying.price.value
        puts = {c.strike: i for i, c in enumerate(chain.contracts) if c.expiry == snap.today and not c.is_call}
        short_strike = max(k for k in puts if k <= spot - 10)
        short, long = puts[short_strike], puts[short_strike - 25]
        legs = (OrderLeg("short", -1, chain.contracts[short], chain.bid[short], chain.ask[short]),
                OrderLeg("long", 1, chain.contracts[long], chain.bid[long], chain.ask[long]))
        credit = chain.bid[short] - chain.ask[long]
        placed.append(credit)
        _inject(algo, OrderIntent("test spread", legs, 2, -(credit - 0.5), snap.time))

    algo.desk.trading.run_section9b = trade
    run = replay.run()
    assert len(placed) == 1
    entry = algo.transactions.get_orders(lambda o: o.tag == "test spread")
    assert len(entry) == 2 and all(o.status.name == "FILLED" for o in entry)
    exits = algo.transactions.get_orders(lambda o: o.tag == "test spread exit")
    assert len(exits) == 2 and all(o.time.time() >= datetime.strptime("15:00", "%H:%M").time() for o in exits)
    assert all(o.status.name == "FILLED" for o in exits)
    assert not [f for f in run.broker.fills if f.kind == "option_exercise"]  # nothing left to expire
    cash_flows = sum(-f.quantity * f.price * 100 - f.fee for f in run.broker.fills)
    stats = statistics(run)
    assert stats["Total Fees ($)"] == 4.0  # tastytrade: 2 legs x 2 contracts x $1 to open
    assert stats["Total Fees"] == "$4.00"
    assert stats["Net Profit ($)"] == pytest.approx(round(cash_flows, 2), abs=0.01)
    assert not any(h.invested for h in algo.portfolio.values())
    assert stats["Runtime Statistics"]["Automation State"] == "AUTOMATIC"


def test_friday_move_trades_the_enhanced_butterfly(tmp_path):
    """The >1% Friday: Section 9B's best opportunity goes out as one combo limit order and fills under
    LEAN's combo-limit rule; the trade book closes it by its rules (target at the mid first, then the
    0DTE time exit as a marketable limit), so nothing is left for expiry."""
    info, run = _run("friday-move", tmp_path, **{"start-date": "2021-05-14", "end-date": "2021-05-17"})
    assert abs(info.facts.friday_max_move_pct) > 1
    fly = run.algorithm.transactions.get_orders(lambda o: o.tag == "Enhanced Butterfly")
    assert fly and {t.type.name for t in fly} == {"COMBO_LIMIT"}
    first_group = [t for t in fly if t.group_order_manager.id == fly[0].group_order_manager.id]
    units = first_group[0].group_order_manager.quantity
    assert [t.quantity / units for t in first_group] == [-1, 2, -1]  # sold wings, bought body
    assert fly[0].time.time() >= datetime.strptime("10:35", "%H:%M").time()
    filled = [f for f in run.broker.fills if f.tag == "Enhanced Butterfly"]
    assert filled, "a butterfly entry must fill"
    fly_symbols = {f.symbol for f in filled}
    exits = [f for f in run.broker.fills if f.tag == "Enhanced Butterfly exit"]
    assert {f.symbol for f in exits} == fly_symbols and all(f.time.time() <= datetime.strptime("15:05", "%H:%M").time()
                                                           for f in exits)
    assert not [f for f in run.broker.fills if f.kind == "option_exercise" and f.symbol in fly_symbols]
    assert not any(h.invested for h in run.algorithm.portfolio.values() if str(h.symbol) in fly_symbols)

    # what the trader reads: one trades.csv row for the butterfly, P&L = price difference x 100 x units - fees
    rows = [r for r in run_trades(run) if r.strategy == "Enhanced Butterfly"]
    assert len(rows) == 1 and rows[0].entry_time is not None and rows[0].exit_time is not None
    row, fees = rows[0], sum(f.fee for f in run.broker.fills if f.tag.startswith("Enhanced Butterfly"))
    assert row.fees == pytest.approx(fees) and row.units == units
    assert row.pnl == pytest.approx(-(row.entry_price + row.exit_price) * 100 * units - fees)
    assert row.exit_time == max(f.time for f in exits) and row.exit_reason
    out = tmp_path / "out"
    write_outputs(run, statistics(run), out, "friday-move")
    assert len(list(csv.DictReader((out / "trades.csv").open()))) == len(run_trades(run))
    log = (out / "log.txt").read_text()
    assert re.search(rf"^{row.entry_time:%Y-%m-%d} 1\d:\d\d:00 \[Section 9B\] Entering Enhanced Butterfly", log, re.M)


def test_no_trade_loses_more_than_its_max_loss_at_the_fill(tmp_path):
    """Every built-in scenario, every closed trade: the realised loss (by its closing fills, or held
    to settlement) is at most the max loss computed at the entry's actual fill price. The delta and
    Greeks limits are lifted so that trading goes on after a first breach (REDUCE_ONLY would stop new
    entries for the rest of the week)."""
    from replay.scenarios import scenario_names
    from strategies.trade_book import TradeBook, TradeState

    checked = []
    isolate = {"manual-portfolio-delta-limit": "1000000", "greeks-breaches-for-manual": "5"}
    for name in scenario_names():
        _info, run = _run(name, tmp_path / name, **isolate)
        assert statistics(run)["Missing Files"] == 0, name  # the scenario writes every file the run reads
        book = run.algorithm.desk.trading.book
        for trade in [t for t in book.trades if t.state is TradeState.CLOSED and t.entry_net is not None]:
            realized = TradeBook.realized_pnl_per_share(trade)
            if realized is None:  # held to the end: settled at the underlying's close on expiry
                close = run.algorithm.desk.series["underlying"].last_close_on(trade.expiry)
                realized = TradeBook.settled_pnl_per_share(trade, close) if close is not None else None
            worst = TradeBook.max_loss_at_fill_per_share(trade)
            assert realized is not None and worst is not None, (name, trade.strategy)
            assert -realized <= worst + 1e-9, (name, trade.strategy, realized, worst)
            checked.append((name, trade.strategy))
    assert checked, "the scenarios should close at least one trade"


def test_a_live_run_stopped_mid_trade_restarts_and_the_trade_exits_by_its_rule(tmp_path):
    """Issue 13, restart-safe trade book: a live run on the >1% Friday is stopped at 11:00 with the
    Enhanced Butterfly (entered 10:46) and an earlier broken-wing butterfly open. A new live run starts
    at 11:01 from the same object store with the brokerage's cash and holdings (as LEAN's
    ``BrokerageSetupHandler`` loads them): both trades are restored and re-attached on the first bar, and
    the butterfly then closes by its 0DTE time exit as it would have without the restart."""
    from replay.engine.runner import ReplayConfig, account_of, run_replay
    from strategies.trade_book import TradeState

    info = write_scenario("friday-move", tmp_path / "data")
    parameters = {**info.parameters, "manual-portfolio-delta-limit": "1000000"}  # the BWB's delta allows the fly
    store = tmp_path / "store"
    first = run_replay(ReplayConfig(tmp_path / "data", parameters, live_mode=True, store=store,
                                    stop_at=datetime(2021, 5, 14, 11, 0)))
    open_before = {t.strategy: t.expiry for t in first.algorithm.desk.trading.book.trades
                   if t.state is TradeState.OPEN}
    assert set(open_before) == {"Enhanced Butterfly", "Broken Wing Butterfly"}
    account = account_of(first)
    assert len(account.holdings) == 6  # three legs each

    second = run_replay(ReplayConfig(tmp_path / "data", parameters, live_mode=True, store=store,
                                     account=account, resume_at=datetime(2021, 5, 14, 11, 0)))
    algo = second.algorithm
    logs = "\n".join(algo.logs)
    assert "[TRADES] restored 2 open trade(s)" in logs
    assert "Enhanced Butterfly x" in logs and "held; its exit rules apply again" in logs
    assert "closed outside the algorithm" not in logs and "POSITION NEEDS A HUMAN" not in logs
    fly = [t for t in algo.desk.trading.book.trades if t.strategy == "Enhanced Butterfly"]
    assert len(fly) == 1 and fly[0].state is TradeState.CLOSED
    assert fly[0].exit_reason.startswith("0DTE time exit")
    exits = [f for f in second.broker.fills if f.tag == "Enhanced Butterfly exit"]
    assert len({f.symbol for f in exits}) == 3
    assert all(datetime(2021, 5, 14, 15, 0) <= f.time <= datetime(2021, 5, 14, 15, 5) for f in exits)
    assert second.broker.fills[0].time > datetime(2021, 5, 14, 11, 0)  # nothing before the restart replays
    bwb = [t for t in algo.desk.trading.book.trades if t.strategy == "Broken Wing Butterfly"]
    assert len(bwb) == 1 and bwb[0].state is TradeState.OPEN  # its rules hold it, as in an unbroken run
