"""The project's shape: what LEAN, the LEAN CLI and the QuantConnect cloud require of it."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tools import build_cloud, sync_config

ROOT = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ("core", "pricing", "risk", "strategies", "analysis", "streaming")


def _python_files() -> list[Path]:
    skip = {".git", ".venv", "venv", "build", "backtests", "storage", "__pycache__"}
    return [p for p in ROOT.rglob("*.py") if not skip.intersection(p.relative_to(ROOT).parts)
            and p.relative_to(ROOT).parts[0] != "data"]  # LEAN's data folder; replay/data/ is source


def test_layout_exists():
    for name in ("main.py", "config.json", "lean.json", "README.md", "requirements.txt",
                 "requirements-dev.txt", ".gitignore", ".ci/run"):
        assert (ROOT / name).is_file(), name
    for package in ("pricing", "risk", "strategies", "analysis", "streaming", "replay", "core", "tests"):
        assert (ROOT / package).is_dir(), package


def test_config_json_is_strict_json_with_string_parameters():
    config = json.loads((ROOT / "config.json").read_text())  # strict: the LEAN CLI deletes a bad file
    assert config["algorithm-language"] == "Python"
    assert isinstance(config["description"], str) and config["description"]
    assert isinstance(config["local-id"], int)
    parameters = config["parameters"]
    assert parameters, "parameters must not be empty"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parameters.items())


def test_config_and_readme_match_the_settings():
    assert sync_config.main(["--check"]) == 0


def _project_copy(tmp_path: Path) -> Path:
    for name in ("config.json", "README.md"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    return tmp_path


def _edit_config(root: Path, edit) -> None:
    config = json.loads((root / "config.json").read_text())
    edit(config["parameters"])
    (root / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def test_an_edited_config_value_is_the_users_the_readme_keeps_the_defaults(tmp_path, capsys):
    """A user edits config.json the LEAN way: the check passes and the write mode keeps the edit; the
    README table still shows the settings' default."""
    root = _project_copy(tmp_path)
    _edit_config(root, lambda p: p.update({"cash": "25000"}))
    assert sync_config.main(["--check"], root=root) == 0
    _edit_config(root, lambda p: p.pop("greeks-delta-limit"))
    assert sync_config.main(["--check"], root=root) == 1
    assert "lacks 1 parameter(s) (greeks-delta-limit)" in capsys.readouterr().err
    assert sync_config.main([], root=root) == 0
    parameters = json.loads((root / "config.json").read_text())["parameters"]
    assert parameters["cash"] == "25000" and parameters["greeks-delta-limit"] == "100.0"
    assert "| `cash` | `100000.0` |" in (root / "README.md").read_text()


def test_config_check_names_a_typo_and_a_bad_value(tmp_path, capsys):
    root = _project_copy(tmp_path)
    _edit_config(root, lambda p: p.update({"cahs": "1"}))
    assert sync_config.main(["--check"], root=root) == 1
    assert "unknown parameter 'cahs' (config.json): did you mean 'cash'?" in capsys.readouterr().err
    root = _project_copy(tmp_path)
    _edit_config(root, lambda p: p.update({"cash": "lots"}))
    assert sync_config.main([], root=root) == 1
    assert "cash='lots'" in capsys.readouterr().err
    root = _project_copy(tmp_path)
    text = (root / "config.json").read_text()
    (root / "config.json").write_text(text.replace('"parameters": {', '"parameters": {\n    "cash": "nan",', 1))
    assert sync_config.main(["--check"], root=root) == 1
    assert "'cash' appears twice" in capsys.readouterr().err


def test_readme_table_drift_fails_the_check(tmp_path, capsys):
    root = _project_copy(tmp_path)
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("| `cash` | `100000.0` |", "| `cash` | `50000.0` |"))
    assert sync_config.main(["--check"], root=root) == 1
    assert "README.md: the parameter table differs" in capsys.readouterr().err
    assert sync_config.main([], root=root) == 0 and sync_config.main(["--check"], root=root) == 0


def test_lean_json_has_what_the_cli_and_engine_need():
    lean = json.loads((ROOT / "lean.json").read_text())
    assert lean["data-folder"] == "data"
    assert "organization-id" in lean or "job-organization-id" in lean
    backtesting = lean["environments"]["backtesting"]
    assert backtesting["live-mode"] is False
    for key in ("setup-handler", "result-handler", "data-feed-handler", "real-time-handler",
                "transaction-handler", "history-provider"):
        assert key in backtesting, key
    paper = lean["environments"]["live-paper"]
    assert paper["live-mode"] is True
    for key in ("live-mode-brokerage", "data-queue-handler", "history-provider"):
        assert key in paper, key


def _qcalgorithm_subclasses(tree: ast.Module) -> list[str]:
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id == "QCAlgorithm" for b in node.bases)]


def test_main_defines_exactly_one_qcalgorithm_subclass():
    tree = ast.parse((ROOT / "main.py").read_text())
    assert len(_qcalgorithm_subclasses(tree)) == 1


def test_main_stays_a_translator():
    """Issue 12: main.py only translates between LEAN and the desk; the trading logic lives in desk/."""
    assert len((ROOT / "main.py").read_text().splitlines()) <= 450


def test_main_uses_snake_case_lean_api():
    """PascalCase LEAN calls (self.AddEquity, self.Log) are rejected by the stubs and old style."""
    tree = ast.parse((ROOT / "main.py").read_text())
    pascal = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
              and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr[:1].isupper()]
    assert pascal == []


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_components_never_import_lean(package):
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py")
                 if _imported_modules(p) & {"AlgorithmImports", "QuantConnect", "clr", "System"}]
    assert offenders == []


def test_no_source_file_exceeds_the_cloud_limit():
    big = [str(p.relative_to(ROOT)) for p in _python_files() if p.stat().st_size > 64 * 1024]
    assert big == []


def test_cloud_workspace_holds_only_algorithm_files(tmp_path):
    files = build_cloud.build(tmp_path, "Project")
    names = {str(f) for f in files}
    assert "main.py" in names and "config.json" in names
    assert not any(n.startswith(("tests/", "replay/", "benchmarks/", "tools/")) for n in names)
    assert "streaming/__main__.py" not in names  # the command-line viewer is never imported
    assert all((tmp_path / "Project" / f).is_file() for f in files)
    assert json.loads((tmp_path / "lean.json").read_text())["data-folder"] == "data"
    # every project module main.py imports, directly or not, is in the workspace, with its packages
    for name in names:
        parent = Path(name).parent
        while parent != Path("."):
            assert str(parent / "__init__.py") in names, name
            parent = parent.parent


def test_the_cloud_bundle_fits_the_researcher_tier():
    files = build_cloud.algorithm_files()
    assert len(build_cloud.pushed(files)) <= 50
    assert "Researcher" in {t.name for t in build_cloud.fitting_tiers(files)}


def test_gitignore_covers_lean_outputs():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ("backtests/", "storage/", "live/", "data/", "__pycache__/"):
        assert entry in ignored, entry


def _module_graph() -> dict[str, set[str]]:
    """Project module -> project modules it imports at module level (static, from the sources)."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in _python_files() if p.relative_to(ROOT).parts[0] != "tests"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.parse(path.read_text()).body:  # module level only: lazy imports break no cycle
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def test_no_import_cycles():
    graph, state, cycles = _module_graph(), {}, []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open" and not module.startswith(target + "."):  # a package's own __init__
                cycles.append(path[path.index(target):] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_backslash_continuations():
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in _python_files()
                 for i, line in enumerate(p.read_text().splitlines(), 1) if line.rstrip().endswith("\\")]
    assert offenders == []
