"""The emulator: a LEAN Python algorithm run against a LEAN double over the readers of :mod:`replay.data`.

Modules, roughly in dependency order:

* :mod:`~replay.engine.lean_types`: LEAN's enums, ``NotImplementedInDouble`` and the strict base class;
* :mod:`~replay.engine.symbols`: ``Symbol`` and ``SecurityIdentifier``;
* :mod:`~replay.engine.market_data`: bars, open interest, delistings, option chains, the slice;
* :mod:`~replay.engine.exchange`: exchange hours from LEAN's market-hours database;
* :mod:`~replay.engine.securities`: securities, their cache of real data, holdings, the portfolio;
* :mod:`~replay.engine.orders`: orders, tickets, order events, legs;
* :mod:`~replay.engine.fees`, :mod:`~replay.engine.fills`: LEAN's fee and fill models;
* :mod:`~replay.engine.positions`, :mod:`~replay.engine.margin`: option strategy groups and buying power;
* :mod:`~replay.engine.brokerage`: brokerage models (default, tastytrade);
* :mod:`~replay.engine.exercise`: exercise, assignment, early assignment;
* :mod:`~replay.engine.transactions`: order processing from submission to fill (the backtesting brokerage);
* :mod:`~replay.engine.universe`, :mod:`~replay.engine.chains`: option chain filters and daily selection;
* :mod:`~replay.engine.strategies`, :mod:`~replay.engine.price_models`: ``OptionStrategies``, ``OptionPriceModels``;
* :mod:`~replay.engine.services`: object store, scheduled events, ``notify``;
* :mod:`~replay.engine.history`, :mod:`~replay.engine.rates`, :mod:`~replay.engine.dividends`,
  :mod:`~replay.engine.iv`: history requests, LEAN's rate curve and dividend yield, the double's IV;
* :mod:`~replay.engine.algorithm`: ``QCAlgorithm``; :mod:`~replay.engine.double`: ``AlgorithmImports``;
* :mod:`~replay.engine.feed`: one day of data as arrays and the slices built from it;
* :mod:`~replay.engine.runner`: the time loop (:func:`~replay.engine.runner.run_replay`);
* :mod:`~replay.engine.results`: statistics (LEAN's names and formats), orders, log and chart.
"""
