"""Strategies: multi-leg structures, their exact risk, and the Section 9B analysers (no LEAN imports).

Layout (each module's docstring states its units):
    structures.py    a multi-leg structure: its legs (Leg), its natural / mid / far prices (Structure),
                     its exact expiry risk from the payoff's kinks (RiskProfile), its probability of profit
    valuation.py     a structure valued with the pricing model: net Greeks from each leg's own IV, and
                     two-expiry structures valued at the front expiry (back legs by the pricing core)
    params.py        analyser parameters (Section9BSettings + documented extras), SPY price scale
    verdict.py       StrategyAnalysis, NetPrices, the order plan (OrderIntent) and the risk budget
    analysers/       the six analysers, each beside its 0-100 score formula, in three families:
                     butterflies.py (enhanced butterfly, batman), broken_wings.py (broken-wing butterfly
                     and condor), spreads.py (diagonal, 1x2 ratio), and common.py (choosing contracts:
                     liquid quotes, nearest listed expiry and strikes, ATM IV; the shared gates; tier())
    section9b.py     Section9BStrategies: runs them all and ranks the tradeable ones
    zero_dte.py      the Friday 0DTE credit spread (vertical or iron condor) Progressive Friday drives
    trade_book.py    the trade book: every structure opened, entry order to close, as a state machine
"""
