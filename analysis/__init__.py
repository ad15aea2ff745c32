"""Analysis: the Progressive Friday pattern (no LEAN imports here)."""
