"""Mutation testing: does the test suite notice when a module's logic is subtly broken?

``python -m tools.mutate MODULE.py [MODULE.py ...] --tests TEST [TEST ...] [-k EXPR] [--jobs N] [--equivalent FILE]``

Each mutant changes one place of one module (standard operators, after mutmut and PIT):

* ``compare``  a flipped comparison: ``<`` <-> ``>=``, ``<=`` <-> ``>``, ``==`` <-> ``!=``, ``is`` <-> ``is not``,
  ``in`` <-> ``not in``
* ``boolop``   ``and`` <-> ``or``; ``not x`` -> ``x``
* ``constant`` a number ``n`` -> ``n + 1`` (``1.0`` -> ``2.0``, ``0`` -> ``1``), ``True`` <-> ``False``
* ``drop``     a state assignment (``obj.attr = ...``, ``obj[key] = ...``, ``x += ...`` on either) removed
* ``minmax``   ``max(...)`` <-> ``min(...)``

Docstrings, strings, f-strings, annotations and ``__all__`` are left alone. The project is copied to a
scratch folder per job (``--jobs``, default 2); each mutant is written there and the given tests run
with ``pytest -x``; a failing or timed-out run kills the mutant. The score is killed / (mutants -
equivalent): ``--equivalent`` names a file of mutant ids (``module:line:col:operator``, one per line,
``# why`` after it) that cannot change behaviour, each with its reason. Survivors are listed with their
source line so a test can be written to kill them. Not part of CI: a run takes minutes.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "venv", "build", "replay-out", "backtests", "storage", "__pycache__", ".mypy_cache",
             ".pytest_cache", ".hypothesis", "data"}
FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


@dataclasses.dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    col: int
    operator: str
    description: str
    index: int  # the site's position in the module's walk order

    @property
    def id(self) -> str:
        return f"{self.module}:{self.line}:{self.col}:{self.operator}"


def _protected(tree: ast.Module) -> set[int]:
    """Nodes never mutated: docstrings, annotations, ``__all__``, f-string parts."""
    keep: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            keep.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            mark(body[0])
        if isinstance(node, (ast.AnnAssign, ast.arg)):
            mark(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
        if isinstance(node, ast.JoinedStr):
            mark(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
    return keep


def _changed(value: bool | int | float) -> bool | int | float:
    return (not value) if isinstance(value, bool) else value + 1


def _is_state_target(target: ast.expr) -> bool:
    return isinstance(target, (ast.Attribute, ast.Subscript)) or (
        isinstance(target, ast.Tuple) and any(isinstance(e, (ast.Attribute, ast.Subscript)) for e in target.elts))


def _sites(tree: ast.Module) -> list[tuple[ast.AST, str, str]]:
    """(node, operator, description) for every mutation site, in walk order."""
    keep = _protected(tree)
    sites: list[tuple[ast.AST, str, str]] = []
    for node in ast.walk(tree):
        if id(node) in keep:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in FLIP:
                    sites.append((node, f"compare{i}", f"{type(op).__name__} -> {FLIP[type(op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            sites.append((node, "boolop", "and -> or" if isinstance(node.op, ast.And) else "or -> and"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((node, "not", "not x -> x"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
            sites.append((node, "constant", f"{node.value!r} -> {_changed(node.value)!r}"))
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and (
                any(_is_state_target(t) for t in node.targets) if isinstance(node, ast.Assign)
                else _is_state_target(node.target)):
            sites.append((node, "drop", "state assignment removed"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            sites.append((node, "minmax", f"{node.func.id} -> {'min' if node.func.id == 'max' else 'max'}"))
    return sites


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, operator: str) -> None:
        self.target, self.operator = target, operator

    def visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return super().visit(node)
        op = self.operator
        if op.startswith("compare"):
            assert isinstance(node, ast.Compare)
            i = int(op[len("compare"):])
            node.ops[i] = FLIP[type(node.ops[i])]()
        elif op == "boolop":
            assert isinstance(node, ast.BoolOp)
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif op == "not":
            assert isinstance(node, ast.UnaryOp)
            return node.operand
        elif op == "constant":
            assert isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float))
            node.value = _changed(node.value)
        elif op == "drop":
            return ast.Pass()
        elif op == "minmax":
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            node.func.id = "min" if node.func.id == "max" else "max"
        return node


def mutants(module: Path) -> list[Mutant]:
    tree = ast.parse(module.read_text())
    relative = str(module.resolve().relative_to(ROOT))
    return [Mutant(relative, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), op, desc, i)
            for i, (node, op, desc) in enumerate(_sites(tree))]


def mutated_source(module: Path, mutant: Mutant) -> str:
    tree = ast.parse(module.read_text())
    node, op, _ = _sites(tree)[mutant.index]
    mutated = _Apply(node, op).visit(tree)
    return ast.unparse(ast.fix_missing_locations(mutated))


def _copy_project(scratch: Path) -> Path:
    """A scratch copy of the repository (without caches and LEAN's top-level ``data/`` folder; a
    package named ``data`` deeper down, like ``replay/data``, is code and is copied)."""
    target = scratch / "project"

    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder).resolve() == ROOT
        return [n for n in names if n in SKIP_DIRS and (n != "data" or top)]

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def _run_tests(project: Path, tests: list[str], timeout: float) -> bool:
    """True when the tests pass (the mutant survived). No bytecode is written or read: two mutants of
    the same size written within one second would otherwise share a stale ``.pyc``."""
    command = [sys.executable, "-B", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(command, cwd=project, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _worker(project: Path, jobs: list[Mutant], tests: list[str], timeout: float) -> list[tuple[Mutant, bool]]:
    results = []
    for mutant in jobs:
        path = project / mutant.module
        original = path.read_text()
        try:
            path.write_text(mutated_source(ROOT / mutant.module, mutant))
            results.append((mutant, _run_tests(project, tests, timeout)))
        finally:
            path.write_text(original)
    return results


def read_equivalent(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        text, _, why = line.partition("#")
        if text.strip():
            out[text.strip()] = why.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="+", type=Path, help="modules to mutate (paths)")
    parser.add_argument("--tests", nargs="+", required=True, help="pytest targets that must kill the mutants")
    parser.add_argument("-k", "--keyword", default="", help="pytest -k expression to select the tests")
    parser.add_argument("--jobs", type=int, default=2, help="parallel scratch copies (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test run (default 120)")
    parser.add_argument("--equivalent", type=Path, default=ROOT / "tools" / "mutation-equivalents.txt",
                        help="mutant ids that cannot change behaviour (default tools/mutation-equivalents.txt)")
    args = parser.parse_args(argv)
    if args.keyword:
        args.tests = [*args.tests, "-k", args.keyword]
    queued = [m for module in args.modules for m in mutants(module)]
    equivalent = read_equivalent(args.equivalent)
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        projects = [_copy_project(Path(scratch) / str(i)) for i in range(max(args.jobs, 1))]
        if not _run_tests(projects[0], args.tests, args.timeout):
            print("error: the tests fail without any mutation; fix them first", file=sys.stderr)
            return 2
        chunks = [queued[i::len(projects)] for i in range(len(projects))]
        with concurrent.futures.ThreadPoolExecutor(len(projects)) as pool:
            results = [r for part in pool.map(lambda pc: _worker(pc[0], pc[1], args.tests, args.timeout),
                                              zip(projects, chunks)) for r in part]
    return _report(results, equivalent)


def _report(results: list[tuple[Mutant, bool]], equivalent: dict[str, str]) -> int:
    by_module: dict[str, list[tuple[Mutant, bool]]] = {}
    for mutant, survived in sorted(results, key=lambda r: (r[0].module, r[0].line, r[0].col, r[0].operator)):
        by_module.setdefault(mutant.module, []).append((mutant, survived))
    for module, rows in by_module.items():
        lines = (ROOT / module).read_text().splitlines()
        counted = [(m, s) for m, s in rows if m.id not in equivalent]
        killed = sum(1 for _m, s in counted if not s)
        score = killed / len(counted) if counted else 1.0
        print(f"{module}: {killed}/{len(counted)} killed ({score:.0%}); {len(rows) - len(counted)} equivalent "
              f"of {len(rows)} mutants")
        for mutant, survived in counted:
            if survived:
                print(f"  SURVIVED {mutant.id} {mutant.description}: {lines[mutant.line - 1].strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
