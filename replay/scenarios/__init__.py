"""Built-in market scenarios: stated models written as LEAN-format files (see :mod:`.catalogue`).

Modules, each building on the ones above it:

* :mod:`~replay.scenarios.model`: SPX, VIX, VIX9D and E-mini paths at minute steps (:class:`DayPlan`);
* :mod:`~replay.scenarios.chain`: the SPXW listing and its Black-Scholes quotes, trades, open interest;
* :mod:`~replay.scenarios.files`: byte-deterministic writers of LEAN's zip and CSV files;
* :mod:`~replay.scenarios.write`: per-instrument writers that lay the simulated sessions out as LEAN does;
* :mod:`~replay.scenarios.catalogue`: the named scenarios and :func:`write_scenario`.
"""
from __future__ import annotations

from replay.scenarios.catalogue import (
    DEFAULT_SCENARIO, SCENARIOS, Scenario, ScenarioFacts, ScenarioInfo, scenario_names, write_scenario)

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "Scenario", "ScenarioFacts", "ScenarioInfo", "scenario_names", "write_scenario"]
