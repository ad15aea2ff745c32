"""Pricing: option maths with no LEAN imports, so that ``risk/`` means risk.

    black_scholes.py     European (Black-Scholes-Merton) prices, Greeks and implied volatility
    lets_be_rational.py  Jäckel's "Let's Be Rational" normalised Black and its implied-vol solver
    american.py          American prices, Greeks and implied volatility (Andersen-Lake-Offengenden)
    expiry.py            time to expiry in years on the exchange clock (AM/PM settlement)
    chain.py             chain-level pricing: the pricing core as the strategies call it (IVs, model
                         prices and Greeks), per-contract IV and Greeks from a chain's quotes (PricingInputs)
"""
