"""Replay: a LEAN double for tests that grows into an offline runner over LEAN-format data."""
