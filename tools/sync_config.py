"""Write (or check) config.json parameters and the README parameter table from the settings.

The typed settings in ``core/settings.py`` are the single source of truth for parameter names,
defaults and descriptions. ``python -m tools.sync_config`` rewrites both files;
``python -m tools.sync_config --check`` exits 1 when either is out of date (the tests run it).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.settings import default_parameters, parameter_docs

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- parameters:begin -->", "<!-- parameters:end -->"


def config_text(current: dict[str, object]) -> str:
    """config.json with its parameters replaced by the defaults (other keys kept, order fixed)."""
    updated = dict(current)
    updated["parameters"] = default_parameters()
    return json.dumps(updated, indent=2) + "\n"


def parameter_table() -> str:
    rows = ["| parameter | default | meaning |", "|---|---|---|"]
    rows += [f"| `{spec.name}` | `{default}` | {spec.doc} |" for spec, default in parameter_docs()]
    return "\n".join(rows)


def readme_text(current: str) -> str:
    start, end = current.index(BEGIN) + len(BEGIN), current.index(END)
    return current[:start] + "\n" + parameter_table() + "\n" + current[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report whether the files are current")
    args = parser.parse_args(argv)
    wanted = {
        CONFIG: config_text(json.loads(CONFIG.read_text())),
        README: readme_text(README.read_text()),
    }
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.name} is out of date: run python -m tools.sync_config", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"updated {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
