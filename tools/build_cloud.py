"""Build a clean QuantConnect cloud workspace holding only the algorithm's files.

The cloud counts every file of a project against its quota (25-250 files, 32-256 KB each by tier),
and ``lean cloud push`` uploads every ``.py`` under the project folder, tests included. This copies
``main.py``, ``config.json`` and the algorithm packages into ``build/cloud/<project>/`` beside a
minimal ``lean.json``, and refuses files over the size limit.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "pricing", "risk", "strategies", "analysis", "streaming")
TOP_FILES = ("main.py", "config.json")
MAX_FILE_BYTES = 64 * 1024


def algorithm_files(root: Path = ROOT) -> list[Path]:
    """The files the cloud project needs, relative to ``root`` (no tests, replay, tools, caches)."""
    files = [Path(name) for name in TOP_FILES]
    for package in PACKAGES:
        files += sorted(p.relative_to(root) for p in (root / package).rglob("*.py")
                        if "__pycache__" not in p.parts)
    return files


def build(out: Path, project: str, root: Path = ROOT) -> list[Path]:
    """Write the workspace; return the project's files. Raises ValueError on an oversized file."""
    files = algorithm_files(root)
    too_big = [f"{f} ({(root / f).stat().st_size} bytes)" for f in files
               if (root / f).stat().st_size > MAX_FILE_BYTES]
    if too_big:
        raise ValueError(f"files over the cloud limit of {MAX_FILE_BYTES} bytes: {', '.join(too_big)}")
    target = out / project
    if target.exists():
        shutil.rmtree(target)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    workspace = {"data-folder": "data", "organization-id": "", "job-organization-id": ""}
    (out / "lean.json").write_text(json.dumps(workspace, indent=2) + "\n")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "cloud", help="workspace folder")
    parser.add_argument("--project", default="TomKingFramework", help="cloud project name")
    args = parser.parse_args(argv)
    try:
        files = build(args.out, args.project)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for relative in files:
        print(f"  {relative}")
    print(f"{len(files)} files in {args.out / args.project}; push with:\n"
          f"  cd {args.out} && lean cloud push --project {args.project}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
