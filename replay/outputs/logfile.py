"""``log.txt`` as LEAN writes a backtest's log, made readable.

LEAN stamps every ``log``/``debug``/``error`` line with the algorithm's time
(``BacktestingResultHandler.AddToLogStore``: ``yyyy-MM-dd HH:mm:ss message``), and lines written during
``initialize`` with ``Algorithm Initialization:``. A message repeated on consecutive time steps (a status
that holds for hours) is written once, followed by ``... repeated N times`` stamped with its last time:
the log keeps every fact without 255 identical lines. The replay's own notes about the data folder
(missing files, quirks worked around) head the file, so a "Missing Files" count can be traced.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from replay.data import DataEvent

STAMP = "%Y-%m-%d %H:%M:%S"  # LEAN's DateFormat.UI


def stamped(when: datetime | None, text: str) -> str:
    return f"{when:{STAMP}} {text}" if when is not None else f"Algorithm Initialization: {text}"


def collapsed(entries: Iterable[tuple[datetime | None, str]]) -> list[str]:
    """The entries as log lines, a run of identical consecutive messages written once plus a count."""
    lines: list[str] = []
    last_text: str | None = None
    repeats, last_time = 0, None
    for when, text in entries:
        if text == last_text:
            repeats, last_time = repeats + 1, when
            continue
        if repeats:
            lines.append(stamped(last_time, f"... repeated {repeats} times"))
        lines.append(stamped(when, text))
        last_text, repeats = text, 0
    if repeats:
        lines.append(stamped(last_time, f"... repeated {repeats} times"))
    return lines


def data_notes(events: list[DataEvent]) -> list[str]:
    """The header: what the data folder lacked or needed worked around, each once."""
    if not events:
        return ["Replay data notes: every file the run asked for was there"]
    missing = sum(1 for e in events if e.kind == "missing")
    head = f"Replay data notes: {missing} missing file(s), {len(events) - missing} quirk(s) worked around"
    return [head, *(f"[DATA] {e.kind}: {e.path} ({e.detail})" for e in events)]


def log_text(entries: Iterable[tuple[datetime | None, str]], events: list[DataEvent]) -> str:
    return "\n".join([*data_notes(events), "", *collapsed(entries)]) + "\n"
