"""Object-store keys, named in one place. Live and backtest records are kept apart so a backtest
never starts from, or overwrites, the live algorithm's safety state."""
from __future__ import annotations


def manual_mode_key(live: bool) -> str:
    return f"tom-king/{'live' if live else 'backtest'}/manual-mode.json"


def friday_history_key(live: bool) -> str:
    return f"tom-king/{'live' if live else 'backtest'}/progressive-friday.json"
