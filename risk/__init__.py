"""Risk: pricing core, Greeks monitor and the manual-mode safety state (no LEAN imports here)."""
