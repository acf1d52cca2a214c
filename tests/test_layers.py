"""The import walk goes one way: cli/, api/ and demo/ on top, then maps/, then geo/.

Read from the sources (no import is run): each package may import only the packages below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"geo", "maps", "api", "cli", "demo"}
WEB = {"fastapi", "starlette", "folium", "branca", "jinja2", "uvicorn", "typer"}
BELOW = {
    "geo": set(),
    "maps": {"geo"},
    "api": {"geo", "maps"},
    "demo": {"geo"},
    "cli": {"geo", "demo"},
}
"""The packages each one may import (besides itself)."""


def _imported(path: Path) -> set[str]:
    """The top-level names of the modules ``path`` imports (absolute imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(BELOW))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names = _imported(path)
        refused = (names & OURS) - BELOW[package] - {package}
        if package in {"geo", "demo"}:
            refused |= names & WEB
        if refused:
            wrong[str(path.relative_to(ROOT))] = sorted(refused)
    assert not wrong, wrong
