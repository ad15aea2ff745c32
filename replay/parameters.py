"""The LEAN parameters of a replay, resolved as ``lean backtest`` resolves them.

``lean backtest PROJECT`` reads the project's ``config.json`` ``parameters`` (strict JSON, string values;
the CLI deletes a file it cannot parse, so the replay refuses one instead, naming the file and the JSON
error), and ``--parameter KEY VALUE`` replaces single values for that run. The replay puts, between the
two, what a built-in scenario's data requires (its dates and instruments), so an edited ``config.json``
applies to a scenario run except where the data decides. Later sources win:
``config.json`` < scenario < ``--parameter`` < ``--start``/``--end``.

Names are checked against what the algorithm reads (the project's settings for ``main.py``, the literal
``get_parameter`` names of another algorithm file): LEAN ignores a name nobody reads, so a typo would
silently change nothing; here it is refused with the closest known name. An empty ``--parameter`` value
is refused too (``main.py`` reads an empty value as "use the default"; on a command line it is almost
always an unset shell variable). For ``main.py`` every value is parsed by the settings before the run,
so a bad value is one line naming the parameter (a secret parameter's value is never shown).
"""
from __future__ import annotations

import ast
import difflib
import json
from typing import Any
from collections.abc import Iterable, Mapping
from pathlib import Path

from core.params import SettingsError
from core.settings import load_settings, parameter_docs
from replay.errors import UsageError

CONFIG_NAME = "config.json"
PROJECT_MAIN = Path(__file__).resolve().parents[1] / "main.py"
_READERS = ("get_parameter", "GetParameter")


def config_parameters(project: Path) -> dict[str, str]:
    """The ``parameters`` of ``project/config.json`` ({} without the file), or a :class:`UsageError`
    naming the file and what is wrong with it."""
    path = project / CONFIG_NAME
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except DuplicateKey as exc:
        raise UsageError(f"{path}: {exc} (JSON readers keep one of them silently; keep one)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    parameters = config.get("parameters", {}) if isinstance(config, dict) else None
    if not isinstance(parameters, dict):
        raise UsageError(f"{path}: \"parameters\" must be a JSON object of strings")
    for name, value in parameters.items():
        if not isinstance(value, str):
            raise UsageError(f"{path}: parameter {name!r} must be a string (LEAN parameters are strings), "
                             f"not {json.dumps(value)}")
    return dict(parameters)


class DuplicateKey(ValueError):
    """A key given twice in one JSON object."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a repeated key: strict JSON leaves duplicates undefined, and a
    parameter written twice would otherwise take one value without a word."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"{key!r} appears twice")
        seen[key] = value
    return seen


def is_project_main(algorithm: Path) -> bool:
    return algorithm.resolve() == PROJECT_MAIN


def known_names(algorithm: Path) -> frozenset[str] | None:
    """The parameter names ``algorithm`` reads; None when that cannot be known (a name computed at run
    time, or a file that does not parse: loading it reports that)."""
    if is_project_main(algorithm):
        return frozenset(spec.name for spec, _default in parameter_docs())
    try:
        tree = ast.parse(algorithm.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _READERS:
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                return None
            names.add(first.value)
    return frozenset(names)


def check_names(names: Iterable[str], known: frozenset[str] | None, source: str, reader: str) -> None:
    """Refuse a name ``reader`` does not read, suggesting the closest known one."""
    if known is None:
        return
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = (f"did you mean {close[0]!r}?" if close else
                "see the parameter table in README.md" if reader == "main.py" else
                f"{reader} reads {', '.join(sorted(known)) or 'no parameters'}")
        raise UsageError(f"unknown parameter {name!r} ({source}): {hint}")


def command_line(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``--parameter KEY VALUE`` pairs as a mapping; an empty value is refused."""
    found: dict[str, str] = {}
    for name, value in pairs:
        if not value.strip():
            raise UsageError(f"--parameter {name}: empty value (leave the parameter out to use its default)")
        found[name] = value
    return found


def check_settings(parameters: Mapping[str, str], source: str = "") -> None:
    """Parse ``main.py``'s settings from ``parameters`` now, as its ``initialize`` will."""
    try:
        load_settings(parameters.get)
    except SettingsError as exc:
        raise UsageError(f"{source}: {exc}" if source else str(exc)) from None


def resolve(algorithm: Path, scenario: Mapping[str, str], cli: Iterable[tuple[str, str]],
            dates: Mapping[str, str]) -> dict[str, str]:
    """Every parameter of the run, in the order of precedence of the module docstring."""
    known, reader = known_names(algorithm), algorithm.name
    project = config_parameters(algorithm.parent)
    check_names(project, known, str(algorithm.parent / CONFIG_NAME), reader)
    given = command_line(cli)
    check_names(given, known, "--parameter", reader)
    merged = {**project, **scenario, **given, **dates}
    if is_project_main(algorithm):
        check_settings(project, str(algorithm.parent / CONFIG_NAME))  # lean backtest would fail on it too
        check_settings(merged)
    return merged
