"""The Section 9B analysers, in three family modules; each analyser is one ``analyze_*(ctx) ->
StrategyAnalysis`` function whose docstring states its rule and score; its score formula (0-100, as
(component, points) parts) stands beside it.

    common.py        what they all share: choosing contracts from the chain (liquid quotes, nearest
                     listed expiry and strikes, ATM IV), the bar's Context, the shared gates, pricing a
                     chosen structure, the score formulas' step function tier()
    butterflies.py   analyze_butterfly (the enhanced 0DTE butterfly) and analyze_batman (a call
                     butterfly above and a put butterfly below the money)
    broken_wings.py  analyze_broken_wing_butterfly and analyze_broken_wing_condor (they share
                     broken_wing_setup: gates, direction, expiry, credit)
    spreads.py       analyze_diagonal (front/back expiries at one strike) and analyze_ratio (1x2 put ratio)

:data:`strategies.section9b.ANALYSERS` lists them in report order.
"""
