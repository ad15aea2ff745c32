"""What a replay leaves to read: LEAN-style log lines with repeats collapsed, trades one row each, the
chart's trading-time axis, mid-marked equity."""
from __future__ import annotations

import csv
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from replay.data import DataEvent
from replay.engine.lean_types import SecurityType
from replay.engine.marks import mid_marked_value
from replay.outputs.logfile import collapsed, log_text
from replay.outputs.timeline import SESSION_GAP, TradingTime
from replay.outputs.trades import TradeRow, by_strategy, write_trades


def test_log_lines_are_stamped_as_lean_stamps_them_and_repeats_collapse():
    t = datetime(2021, 8, 13, 10, 31)
    entries = [(None, "init"), (t, "A"), (t.replace(minute=32), "A"), (t.replace(minute=40), "A"),
               (t.replace(minute=41), "B\nsecond line"), (t.replace(minute=42), "A")]
    assert collapsed(entries) == [
        "Algorithm Initialization: init",
        "2021-08-13 10:31:00 A",
        "2021-08-13 10:40:00 ... repeated 2 times",
        "2021-08-13 10:41:00 B\nsecond line",
        "2021-08-13 10:42:00 A",
    ]
    assert collapsed([(t, "A"), (t, "A")])[-1] == "2021-08-13 10:31:00 ... repeated 1 times"


def test_the_log_starts_with_the_data_notes_that_explain_missing_files():
    event = DataEvent("missing", "/data/index/usa/minute/spx/20210709_trade.zip", "index spx trade 2021-07-09")
    text = log_text([(datetime(2021, 8, 9, 9, 31), "hello")], [event])
    lines = text.splitlines()
    assert lines[0] == "Replay data notes: 1 missing file(s), 0 quirk(s) worked around"
    assert lines[1] == f"[DATA] missing: {event.path} ({event.detail})"
    assert lines[-1] == "2021-08-09 09:31:00 hello"
    assert log_text([], []).startswith("Replay data notes: every file the run asked for was there")


def test_trading_time_leaves_out_nights_and_weekends():
    friday, monday = date(2021, 8, 13), date(2021, 8, 16)
    axis = TradingTime([datetime.combine(d, datetime.min.time()).replace(hour=h, minute=m)
                        for d in (friday, monday) for h, m in ((9, 31), (16, 0))])
    close, open_ = axis.x(datetime(2021, 8, 13, 16, 0)), axis.x(datetime(2021, 8, 16, 9, 30))
    assert open_ - close == SESSION_GAP  # the weekend is a short blank, not 65 hours
    assert axis.x(datetime(2021, 8, 16, 10, 30)) - open_ == 60  # a minute is a minute
    assert axis.x(datetime(2021, 8, 16, 0, 0)) == open_  # a midnight step sits at the session's edge
    assert axis.x(datetime(2021, 8, 14, 12, 0)) == close  # Saturday: the end of Friday's session
    assert axis.day_ticks() == [(0.0, "Fri 08-13"), (open_, "Mon 08-16")]
    assert axis.boundaries() == [open_ - SESSION_GAP / 2]


def _security(kind, quantity, price, bid, ask, multiplier=100.0):
    return SimpleNamespace(type=kind, price=price, cache=SimpleNamespace(bid_price=bid, ask_price=ask),
                           holdings=SimpleNamespace(quantity=quantity),
                           symbol_properties=SimpleNamespace(contract_multiplier=multiplier))


def test_equity_is_marked_at_each_quoted_holdings_mid():
    """A short option last printed at the ask (2.10, quote 1.90/2.10) is worth -2.00 a share at mid; an
    unquoted holding keeps LEAN's price; a far wing bid at zero is still a quote."""
    portfolio = SimpleNamespace(held={
        "short": _security(SecurityType.OPTION, -2, 2.10, 1.90, 2.10),
        "stale": _security(SecurityType.OPTION, 1, 5.00, 0.0, 0.0),
        "wing": _security(SecurityType.OPTION, 1, 0.05, 0.0, 0.05),
        "future": _security(SecurityType.FUTURE, 1, 4000.0, 3999.0, 4001.0, 50.0),
    })
    lean_value = 10_000.0
    expected = lean_value + (-2 * 100 * (2.00 - 2.10)) + (1 * 100 * (0.025 - 0.05))
    assert mid_marked_value(portfolio, lean_value) == pytest.approx(expected)


def test_trades_csv_has_one_row_per_trade_and_the_summary_one_line_per_strategy(tmp_path):
    opened, closed = datetime(2021, 8, 13, 10, 36), datetime(2021, 8, 13, 15, 1)
    rows = [TradeRow("Enhanced Butterfly", "-1 SPY 2021-08-13 440C +2 SPY 2021-08-13 445C -1 SPY 2021-08-13 450C", 2,
                     opened, -1.10, closed, 0.40, 780.0, 136.0, 4.0, "0DTE time exit at 15:00"),
             TradeRow("0DTE Put Credit Spread", "-1 SPY 2021-08-13 435P +1 SPY 2021-08-13 432P", 5, opened, -0.45,
                      None, None, 1275.0, None, 10.0, "open at the end of the run")]
    path = write_trades(rows, tmp_path / "trades.csv")
    table = list(csv.DictReader(path.open()))
    assert [r["strategy"] for r in table] == ["Enhanced Butterfly", "0DTE Put Credit Spread"]
    assert table[0]["entry_time"] == "2021-08-13 10:36:00" and table[0]["exit_price"] == "0.40"
    assert table[0]["pnl"] == "136.00" and table[1]["exit_time"] == "" and table[1]["pnl"] == ""
    assert by_strategy(rows) == ["0DTE Put Credit Spread: 0 closed (0 won), P&L $+0.00, 1 open",
                                 "Enhanced Butterfly: 1 closed (1 won), P&L $+136.00"]
