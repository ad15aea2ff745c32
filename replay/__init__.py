"""Replay: ``main.py`` offline, against a LEAN double over LEAN-format data, without Docker.

Sub-packages (each imports only the ones listed before it):

* :mod:`replay.data`: readers of LEAN's on-disk data (minute zips, chains, universes, market hours);
* :mod:`replay.scenarios`: built-in market scenarios written as LEAN-format files;
* :mod:`replay.engine`: the ``AlgorithmImports`` double, simulated broker, minute feed, runner and results.

CLI: ``python -m replay`` (:mod:`replay.__main__`) runs ``main.py`` over a data folder or a scenario.
"""
