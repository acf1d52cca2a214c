"""The design is written in the project (docs/), and what the code cites there exists.

No file cites documents outside the repository; every page under ``docs/`` that a source file or
the README names is there; the README's index lists the architecture and every decision.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("geo", "api", "maps", "cli", "demo", "tests", "bench", "scripts")
OUTSIDE = ("DESIGN" + ".md", "STYLE" + ".md")
CITED = re.compile(r"docs/[\w./-]+?\.md")


def _texts() -> dict[str, str]:
    files = [
        p for d in SOURCES for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".sql", ".sh"}
    ]
    files += [ROOT / "README.md", ROOT / "pyproject.toml", *(ROOT / "docs").rglob("*.md")]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def test_nothing_cites_documents_outside_the_project() -> None:
    cites = {name for name, text in _texts().items() if any(o in text for o in OUTSIDE)}
    assert not cites


def test_every_cited_doc_exists() -> None:
    missing = {
        (name, cited)
        for name, text in _texts().items()
        for cited in CITED.findall(text)
        if not (ROOT / cited).is_file() and not (ROOT / "docs" / cited).is_file()
    }
    assert not missing


def test_the_readme_indexes_the_design() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "decisions" / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
    assert "docs/decisions/README.md" in readme
    decisions = sorted(p.name for p in (ROOT / "docs" / "decisions").glob("0*.md"))
    assert len(decisions) >= 7
    assert all(f"({name})" in index for name in decisions)
