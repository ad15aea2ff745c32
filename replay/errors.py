"""What can stop a replay before or after its run, kept apart by who must act.

A :class:`UsageError` is the user's input (an argument, a parameter, ``config.json``, an output folder):
the CLI prints its one line and exits 2, as argparse does for a bad argument. A :class:`DataError` is the
data's fault (no data for the dates, an empty folder): the CLI exits 1. A malformed data file raises
:class:`replay.data.LeanDataError` (file, member, line), also exit 1.
"""
from __future__ import annotations


class UsageError(Exception):
    """The run cannot start as asked; the message says what to change (exit status 2)."""


class DataError(Exception):
    """The data cannot give a meaningful run (exit status 1)."""
