"""Strategies: multi-leg structures, their exact risk, and the Section 9B analysers (no LEAN imports).

Layout (each module's docstring states its units):
    legs.py          Leg (contract, signed quantity, bid/ask) and Structure (natural / mid / far prices)
    payoff.py        exact expiry risk of one-expiry structures from the payoff's kinks (RiskProfile)
    front_expiry.py  two-expiry structures valued at the front expiry (back legs by the pricing core)
    probability.py   probability of profit at the chain's ATM IV
    net_greeks.py    net Greeks from each leg's own implied volatility
    chain_select.py  liquid quotes, nearest listed expiry and strikes, ATM IV
    params.py        analyser parameters (Section9BSettings + documented extras), SPY price scale
    scoring.py       0-100 score formulas as (component, points) parts
    verdict.py       StrategyAnalysis, NetPrices, the order plan (OrderIntent) and the risk budget
    analysers/       one module per analyser: butterfly, diagonal, ratio, broken_wing, batman, condor
    section9b.py     Section9BStrategies: runs them all and ranks the tradeable ones
"""
