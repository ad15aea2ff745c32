"""Keep the README parameter table and ``config.json`` in step with the typed settings, without fighting
a user's edited values.

``core/settings.py`` is the single source of every parameter's name, default and description.

* The README table is generated from the settings' *defaults*: ``--check`` fails when it differs, so the
  documented defaults are always the code's.
* ``config.json`` holds the values LEAN runs with (``lean backtest`` and ``python -m replay`` read its
  ``parameters``); a user edits them. The check asks only what LEAN and the settings need: strict JSON,
  string values, every name a known parameter (a typo is named with the closest known name), every
  parameter listed (the cloud IDE shows what ``config.json`` lists) and every value valid. The write mode
  adds missing parameters with their defaults and never changes a value that is there.

``python -m tools.sync_config`` writes; ``--check`` exits 1 naming what is out of step (CI runs it).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.settings import default_parameters, parameter_docs
from replay.errors import UsageError
from replay.parameters import CONFIG_NAME, check_names, check_settings, config_parameters

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / CONFIG_NAME
README = ROOT / "README.md"
BEGIN, END = "<!-- parameters:begin -->", "<!-- parameters:end -->"


def parameter_table() -> str:
    rows = ["| parameter | default | meaning |", "|---|---|---|"]
    rows += [f"| `{spec.name}` | `{default}` | {spec.doc} |" for spec, default in parameter_docs()]
    return "\n".join(rows)


def readme_text(current: str) -> str:
    start, end = current.index(BEGIN) + len(BEGIN), current.index(END)
    return current[:start] + "\n" + parameter_table() + "\n" + current[end:]


def config_problems(root: Path) -> tuple[dict[str, str], list[str]]:
    """(the file's parameters, what is wrong with them: unreadable, unknown names, invalid values)."""
    try:
        values = config_parameters(root)
        check_names(values, frozenset(default_parameters()), CONFIG_NAME, "main.py")
        check_settings(values)
    except UsageError as exc:
        return {}, [str(exc)]
    return values, []


def config_text(root: Path, values: dict[str, str]) -> str:
    """``config.json`` with every parameter listed in the settings' order: the file's values kept, the
    missing ones at their defaults (other keys unchanged)."""
    path = root / CONFIG_NAME
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    current["parameters"] = {name: values.get(name, default) for name, default in default_parameters().items()}
    return json.dumps(current, indent=2) + "\n"


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sync_config", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report what is out of step")
    args = parser.parse_args(argv)
    config, readme = root / CONFIG_NAME, root / README.name
    values, problems = config_problems(root)
    if problems:
        print(problems[0], file=sys.stderr)
        return 1
    missing = [name for name in default_parameters() if name not in values]
    table = readme_text(readme.read_text(encoding="utf-8"))
    stale_readme = table != readme.read_text(encoding="utf-8")
    if args.check:
        if missing:
            print(f"{config.name} lacks {len(missing)} parameter(s) ({', '.join(missing[:3])}"
                  f"{', ...' if len(missing) > 3 else ''}): run python -m tools.sync_config", file=sys.stderr)
        if stale_readme:
            print(f"{readme.name}: the parameter table differs from the settings' defaults: "
                  "run python -m tools.sync_config", file=sys.stderr)
        return 1 if missing or stale_readme else 0
    if missing:
        config.write_text(config_text(root, values), encoding="utf-8")
        print(f"updated {config.name}: added {', '.join(missing)} at their defaults")
    if stale_readme:
        readme.write_text(table, encoding="utf-8")
        print(f"updated {readme.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
