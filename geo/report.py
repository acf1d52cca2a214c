"""What an import did: the one report every importer returns and records."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo.errors import Problem
from geo.locate import Relocation

CANDIDATE_EXAMPLES = 5
"""Rows named as examples of an unknown value."""


@dataclass
class Candidate:
    """A value no vocabulary word means, offered as a new synonym.

    Attributes
    ----------
    field
        The field it was found in (``type``).
    value
        The value as the file writes it (``打架斗殴``).
    count
        Rows that hold it.
    rows
        The first few of them (:data:`CANDIDATE_EXAMPLES`).
    """

    field: str
    value: str
    count: int = 0
    rows: list[int] = dataclasses.field(default_factory=list)


OUTSIDE = "outside every area: kept with no area"
"""The warning for a record located outside every micro-grid (stored with no area)."""


@dataclass
class ImportReport:
    """Counts and findings of one import.

    ``inserted + updated + unchanged`` rows are in the database afterwards; every row of the
    file that is not among them is in ``rejected`` with its reason. ``relocated`` is set by a
    boundary import that changed areas: how many stored records it moved to another micro-grid.
    """

    kind: str
    source: str
    crs: str = ""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    relocated: Relocation | None = None
    candidates: list[Candidate] = field(default_factory=list)
    run_id: int | None = None
    """The import log's id of this run (set when it is recorded)."""

    def add_candidates(self, field_name: str, found: list[tuple[str, int]]) -> None:
        """Count unknown values of ``field_name`` (value, row) as candidate synonyms."""
        known = {(c.field, c.value): c for c in self.candidates}
        for value, row in found:
            candidate = known.get((field_name, value))
            if candidate is None:
                candidate = Candidate(field_name, value)
                known[(field_name, value)] = candidate
                self.candidates.append(candidate)
            candidate.count += 1
            if len(candidate.rows) < CANDIDATE_EXAMPLES:
                candidate.rows.append(row)

    # Seconds spent per step of the import (read, checks, times, stage, locate, upsert,
    # commit), summed over its batches: what bench/bench_import.py tabulates; not stored.
    timings: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the time the ``with`` block takes to ``timings[step]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - start

    @property
    def loaded(self) -> int:
        """Rows the file now stands for in the database."""
        return self.inserted + self.updated + self.unchanged

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (the API's response and the import log's record); ``relocated``
        only when the import re-assigned records."""
        out: dict[str, object] = {
            "kind": self.kind,
            "source": self.source,
            "crs": self.crs,
            "loaded": self.loaded,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [asdict(p) for p in self.rejected],
            "warnings": [asdict(p) for p in self.warnings],
        }
        if self.relocated is not None:
            out["relocated"] = asdict(self.relocated)
        if self.candidates:
            out["candidates"] = [asdict(c) for c in self.candidates]
        return out

    def lines(self) -> list[str]:
        """Human-readable lines for the command line."""
        out = [
            f"{self.kind} from {self.source} ({self.crs}): loaded {self.loaded} "
            f"(new {self.inserted}, updated {self.updated}, unchanged {self.unchanged}), "
            f"rejected {len(self.rejected)}"
        ]
        out += [f"  rejected {p}" for p in self.rejected]
        out += [f"  warning {p}" for p in self.warnings]
        if self.relocated is not None:
            out.append(self.relocated.line())
        out += [
            f"  unknown {c.field} {c.value!r} in {c.count} row(s) (e.g. rows "
            f"{', '.join(map(str, c.rows))}): add it as a synonym to import them"
            for c in self.candidates
        ]
        return out

    def summary_lines(self, details: str) -> list[str]:
        """:meth:`lines` for a terminal, the full list being in the file ``details``: the points
        outside every area (thousands in a city's file) are counted in one line, where the first
        of them was."""
        outside = sum(p.reason == OUTSIDE for p in self.warnings)
        out: list[str] = []
        for line in self.lines():
            if not line.endswith(OUTSIDE):
                out.append(line)
            elif outside:
                out.append(f"  {outside:,} points outside the district; list in {details}")
                outside = 0
        return out


def record_run(conn: Connection, *, region: str, sha256: str, report: ImportReport) -> None:
    """Append the report to the import log, in the import's own transaction, with who ran it
    (the audit actor of the transaction); its id is kept as ``report.run_id``."""
    conn.execute(
        text(
            "INSERT INTO import_runs (region, kind, source, sha256, report, actor) "
            "VALUES (:region, :kind, :source, :sha, CAST(:report AS jsonb), "
            "COALESCE(NULLIF(current_setting('gridsafe.actor', true), ''), session_user))"
        ),
        {
            "region": region,
            "kind": report.kind,
            "source": report.source,
            "sha": sha256,
            "report": json.dumps(report.as_dict(), ensure_ascii=False),
        },
    )
    # Not RETURNING: a grid member's transaction may insert into the log but not read it; the
    # identity's sequence it may use.
    report.run_id = int(
        conn.execute(
            text("SELECT currval(pg_get_serial_sequence('import_runs', 'id'))")
        ).scalar_one()
    )
