"""The desk: the trading logic behind ``main.py``, in plain Python (no LEAN imports).

    interface.py  what crosses between main.py and the desk: BarSnapshot, OrderUpdate, the actions
    desk.py       Desk: the per-bar pipeline, the order gate at send time, commands, the stream's signals
    friday.py     Progressive Friday measured, scored, recorded and settled
    trading.py    Section 9B and Friday 0DTE entries, exits of the trade book
"""
from desk.desk import Desk

__all__ = ["Desk"]
