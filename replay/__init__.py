"""Replay: a LEAN Python algorithm (by default ``main.py``) offline, against a LEAN double over LEAN-format
data, without Docker.

Sub-packages (each imports only the ones listed before it):

* :mod:`replay.data`: readers of LEAN's on-disk data (minute zips, chains, universes, market hours);
* :mod:`replay.scenarios`: built-in market scenarios written as LEAN-format files;
* :mod:`replay.engine`: the ``AlgorithmImports`` double, LEAN's fill, fee, margin and expiry rules, the
  minute feed, runner and results.

CLI: ``python -m replay [--algorithm FILE]`` (:mod:`replay.__main__`) runs an algorithm over a data folder
or a scenario.
"""
