"""Strategies: multi-leg structures and the Section 9B analysers (no LEAN imports here)."""
