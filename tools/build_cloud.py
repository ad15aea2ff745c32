"""Build a clean QuantConnect cloud workspace holding only the files the algorithm imports.

The cloud counts every pushed file of a project (``.py``, ``.ipynb``, ``.cs``, ``.html``, ``.css``;
every ``__init__.py`` too) against a per-project quota that depends on the organisation's tier, and
``lean cloud push`` uploads every such file under the project folder, tests included. This follows
``main.py``'s imports through the project's own packages (statically, with ``ast``), copies exactly
those modules and their packages' ``__init__.py`` files with ``config.json`` into
``<out>/<project>/`` beside a minimal ``lean.json``, and reports which tiers the bundle fits.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUSHED_SUFFIXES = (".py", ".ipynb", ".cs", ".html", ".css")


@dataclasses.dataclass(frozen=True)
class Tier:
    name: str
    max_files: int
    max_file_bytes: int


#: QuantConnect's per-project quotas (files, bytes per file) by organisation tier.
TIERS = (Tier("Free", 25, 32 * 1024), Tier("Researcher", 50, 64 * 1024), Tier("Team", 75, 128 * 1024))


def _module_file(root: Path, module: str) -> Path | None:
    """The project file of a dotted module name (a module or a package's ``__init__``), if any."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, root: Path) -> set[str]:
    """Dotted names a file imports (``from a.b import c`` may name the module ``a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if _module_file(root, n) is not None}


def algorithm_files(root: Path = ROOT) -> list[Path]:
    """``main.py``, ``config.json`` and every project module reachable from ``main.py``, with the
    ``__init__.py`` of each package on the way (relative to ``root``)."""
    seen: set[Path] = set()
    todo = [root / "main.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path, root):
            parts = module.split(".")
            todo += [f for f in (_module_file(root, ".".join(parts[:i])) for i in range(1, len(parts) + 1))
                     if f is not None]
    return [Path("config.json")] + sorted(p.relative_to(root) for p in seen)


def pushed(files: list[Path]) -> list[Path]:
    """The files the cloud counts against the quota."""
    return [f for f in files if f.suffix in PUSHED_SUFFIXES]


def fitting_tiers(files: list[Path], root: Path = ROOT) -> list[Tier]:
    counted = pushed(files)
    largest = max((root / f).stat().st_size for f in counted)
    return [t for t in TIERS if len(counted) <= t.max_files and largest <= t.max_file_bytes]


def build(out: Path, project: str, root: Path = ROOT) -> list[Path]:
    """Write the workspace; return the project's files (relative paths)."""
    files = algorithm_files(root)
    target = out / project
    if target.exists():
        shutil.rmtree(target)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    workspace = {"data-folder": "data", "organization-id": "", "job-organization-id": ""}
    out.mkdir(parents=True, exist_ok=True)
    (out / "lean.json").write_text(json.dumps(workspace, indent=2) + "\n")
    return files


def report(files: list[Path], root: Path = ROOT) -> str:
    counted = pushed(files)
    largest = max(counted, key=lambda f: (root / f).stat().st_size)
    size = (root / largest).stat().st_size
    lines = [f"{len(counted)} pushed files; largest {largest} ({size / 1024:.1f} KB)"]
    fits = {t.name for t in fitting_tiers(files, root)}
    for t in TIERS:
        verdict = "fits" if t.name in fits else "does NOT fit"
        lines.append(f"  {t.name:<10} {t.max_files} files / {t.max_file_bytes // 1024} KB per file: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "cloud", help="workspace folder (default build/cloud)")
    parser.add_argument("--project", default="TomKingFramework", help="cloud project name (default TomKingFramework)")
    args = parser.parse_args(argv)
    try:
        files = build(args.out, args.project)
    except OSError as exc:
        print(f"error: cannot write the workspace in {args.out}: {exc}", file=sys.stderr)
        return 1
    for relative in files:
        print(f"  {relative}")
    print(report(files))
    if not fitting_tiers(files):
        print("error: the bundle fits no QuantConnect tier", file=sys.stderr)
        return 1
    print(f"workspace in {args.out / args.project}; push with:\n  cd {args.out} && lean cloud push --project {args.project}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
