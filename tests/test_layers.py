"""The package's layering, read from the import-linter contract in pyproject.toml and checked on the source.

`.ci/run` runs `lint-imports` too; this test keeps the rule in the test suite (with no extra package) and
checks imports inside functions, which are how igfsim defers heavy modules.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "igfsim"


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every igfsim import in the file, at any depth (function-level included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found += [(node.lineno, f"{mod}.{a.name}" if mod == "igfsim" else mod) for a in node.names]
    return [(line, m) for line, m in found if m == "igfsim" or m.startswith("igfsim.")]


def _layer_of(module: str, layers: list[list[str]]) -> tuple[int, str] | None:
    for rank, layer in enumerate(layers):
        for member in layer:
            if module == member or module.startswith(member + "."):
                return rank, member
    return None


def _violations(files: list[Path], layers: list[list[str]]) -> list[str]:
    problems = []
    for path in files:
        here = _layer_of(_module_name(path), layers)
        if here is None:
            continue  # igfsim/__init__.py: the public API re-exports every layer
        for line, imported in _imports(path):
            there = _layer_of(imported, layers)
            if there is None or there[1] == here[1]:
                continue
            if there[0] < here[0]:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {here[1]} imports {imported} (a higher layer)")
            elif there[0] == here[0]:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {here[1]} imports its sibling {imported}")
    return problems


def test_every_module_of_the_package_is_in_a_layer():
    layers = _layers()
    outside = [
        _module_name(p)
        for p in SRC.rglob("*.py")
        if _layer_of(_module_name(p), layers) is None and _module_name(p) != "igfsim"
    ]
    assert outside == [], f"add these modules to a layer of the import-linter contract: {outside}"


def test_no_module_imports_a_higher_layer_or_a_sibling():
    problems = _violations(sorted(SRC.rglob("*.py")), _layers())
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("where", "code", "expected"),
    [
        ("model/bad.py", "from igfsim.scenario import load_scenario\n", "igfsim.model imports igfsim.scenario"),
        ("engines/bad.py", "def f():\n    from igfsim.runner import run_scenario\n", "igfsim.engines imports"),
        ("report/bad.py", "from igfsim.export.models import write_sbml\n", "sibling igfsim.export.models"),
        ("sweep/bad.py", "from ..analysis import metric\n", "igfsim.sweep imports igfsim.analysis"),
    ],
)
def test_an_upward_import_is_found(tmp_path, monkeypatch, where, code, expected):
    """The checker itself: a planted upward (or sibling) import, at module or function level, is reported."""
    layers = _layers()
    fake = tmp_path / "src" / "igfsim"
    (fake / where).parent.mkdir(parents=True)
    (fake / where).write_text(code, encoding="utf-8")
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "SRC", fake)
    monkeypatch.setattr(this, "ROOT", tmp_path)
    problems = _violations([fake / where], layers)
    assert any(expected in p for p in problems), problems
