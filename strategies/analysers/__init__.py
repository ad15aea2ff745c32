"""The Section 9B analysers, one module each; every module's docstring states its rule and score.

Each exposes ``NAME`` and ``analyze(ctx) -> StrategyAnalysis`` (see :mod:`strategies.analysers.common`).
"""
