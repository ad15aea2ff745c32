"""The emulator: ``main.py`` run against a LEAN double over the readers of :mod:`replay.data`.

Modules, each building on the ones above it:

* :mod:`~replay.engine.services`: the object store, scheduled events and ``notify`` of the double;
* :mod:`~replay.engine.double`: the ``AlgorithmImports`` double (:func:`~replay.engine.double.install`);
* :mod:`~replay.engine.iv`: the double's ``OptionContract.implied_volatility``;
* :mod:`~replay.engine.rates`: LEAN's risk-free rate curve;
* :mod:`~replay.engine.broker`: the simulated broker (fills, fees, holdings, expiry settlement);
* :mod:`~replay.engine.feed`: one day of LEAN-format files as the minute slices LEAN would deliver;
* :mod:`~replay.engine.runner`: the day-by-day replay (:func:`~replay.engine.runner.run_replay`);
* :mod:`~replay.engine.results`: statistics, orders, log and chart of a run.
"""
