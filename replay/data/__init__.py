"""LEAN-format data readers: the data layer of the offline replay (see :mod:`replay.data.reader`).

Modules, each building on the ones above it:

* :mod:`~replay.data.errors`: :class:`LeanDataError` (a file that cannot be read) and the
  :class:`DataLog` of missing files and quirks;
* :mod:`~replay.data.timestamps`: data time zones and the int64 ms-since-New-York-midnight clock;
* :mod:`~replay.data.paths`: where LEAN keeps each file, zip member names, days with data;
* :mod:`~replay.data.zip_csv`: fast, strict parsing of the numeric CSV members of a zip;
* :mod:`~replay.data.market`: market hours and symbol properties (time zones, sessions, multipliers);
* :mod:`~replay.data.bars`: column-array bar types, single-security minute and daily/hour readers;
* :mod:`~replay.data.chain`: whole option/future chain days;
* :mod:`~replay.data.universe`: option universe CSVs (LEAN's daily chain listing);
* :mod:`~replay.data.dense`: dense (contract x minute) arrays on a :class:`MinuteGrid`;
* :mod:`~replay.data.reader`: :class:`LeanDataReader`, the entry point over a LEAN ``data`` folder.

The names below are the public reader API; the modules' other names are their internals.
"""
from __future__ import annotations

from replay.data.bars import DailyBars, OpenInterest, QuoteBars, TradeBars
from replay.data.chain import ChainSeries, FutureChainDay, FutureContracts, OptionChainDay, OptionContracts
from replay.data.dense import DenseChain, MinuteGrid, dense_chain, dense_security
from replay.data.errors import DataEvent, DataLog, LeanDataError
from replay.data.paths import SecurityType, option_underlying, weekdays_without_data
from replay.data.reader import LeanDataReader, MinuteDay, chain_dense
from replay.data.universe import OptionUniverse, UnderlyingRow

__all__ = [
    "ChainSeries", "DailyBars", "DataEvent", "DataLog", "DenseChain", "FutureChainDay", "FutureContracts",
    "LeanDataError", "LeanDataReader", "MinuteDay", "MinuteGrid", "OpenInterest", "OptionChainDay",
    "OptionContracts", "OptionUniverse", "QuoteBars", "SecurityType", "TradeBars", "UnderlyingRow",
    "chain_dense", "dense_chain", "dense_security", "option_underlying", "weekdays_without_data",
]  # fmt: skip
