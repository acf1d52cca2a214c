"""Placing points in micro-grids: the border rule and re-assignment after a boundary change.

The rule (``locate_micro`` in migration ``0003_records``, and the import's join below):

1. a point goes to the micro-grid whose interior contains it;
2. a point on a boundary shared by several micro-grids (on an edge, or on a vertex where three
   or more meet), or inside a sliver where two siblings overlap within the import tolerance, goes
   to the candidate with the smallest code, interiors first (``ORDER BY ST_Contains DESC, code``);
3. a point in no micro-grid is kept with a null ``area_code`` and an empty ``area_path``: never
   dropped, listed by ``GET /api/incidents?outside=true``.

So every point lands in exactly one micro-grid or, explicitly, in none. ``area_path`` is the
micro-grid's ancestors (top first) followed by its own code; "this area and everything under it"
is ``area_code = ANY(its descendant micro-grids)`` on the ``(region, area_code, ...)`` B-tree.

The rule runs as one set-based join in the database, never point by point from Python, in two
shapes with the same answer (tests/test_locate_cells.py checks they agree):

- ``locate_micro`` (point-driven: each point probes the partial GiST index ``areas_micro_gist``)
  for the re-assignment after a boundary change (:func:`relocate_records`) and the patrol
  check-ins;
- the imports' cell lookup (``geo/records/sql/records_locate.sql``, shared by incidents and
  hazards): the point's cell ``(floor(x / cell_m), floor(y / cell_m))`` is hash-joined to
  ``area_cells`` (:func:`ensure_cells`); a cell that crosses no micro-grid boundary answers
  without any geometry, a boundary cell tests the point exactly against the few micro-grids it
  touches, and a point in no cell goes through ``locate_micro``. With the default 4 m cells
  about 90 % of the demo district's points need no geometry test (bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.database import advisory_lock, current_scope, sql
from geo.settings import Settings


@dataclass(frozen=True)
class Relocation:
    """How many records a re-assignment moved to another micro-grid (or out of every one)."""

    incidents: int
    hazards: int
    fixes: int
    checkins: int

    def line(self) -> str:
        """The re-assignment in words, for the command line and import reports."""
        return (
            f"re-located records: {self.incidents} incident(s), {self.hazards} hazard(s), "
            f"{self.fixes} patrol fix(es) and {self.checkins} check-in(s) changed micro-grid"
        )


def lock_areas(
    conn: Connection, settings: Settings, *, change: bool = False, deadline: float | None = None
) -> None:
    """Take the region's boundary lock until the transaction ends.

    A boundary import takes it to ``change`` the areas: one at a time, validated and written
    against areas nobody else changes meanwhile. Every import that places points (incidents,
    hazards, patrol fixes, check-ins; files and API batches, scoped or not) holds it shared
    from its start: imports do not wait for each other on it, a boundary change waits for the
    imports under way (whose records its re-assignment then sees), and imports that start
    while it runs wait for it and place their points by the new boundaries. Always the first
    lock an import takes, so no other lock is ever held while waiting for it. A request gives
    up at its ``deadline`` (:func:`geo.database.advisory_lock`).
    """
    advisory_lock(
        conn,
        f"areas:{settings.region}",
        shared=not change,
        deadline=deadline,
        busy="a boundary import is changing the areas",
    )


def lock_cells(conn: Connection, settings: Settings, *, deadline: float | None = None) -> None:
    """Take the region's cell-lookup lock until the transaction ends.

    The builders of the lookup (:func:`ensure_cells`) and the unscoped record imports, which
    hold it from their start to their commit, take turns on it; so does a boundary import,
    before it writes, so that no import places points by the old boundaries after the new ones
    and their re-assignment are committed. A request gives up at its ``deadline``.
    """
    advisory_lock(
        conn,
        f"area_cells:{settings.region}",
        deadline=deadline,
        busy="an import is placing records in this region's micro-grids",
    )


def ensure_cells(conn: Connection, settings: Settings, *, deadline: float | None = None) -> float:
    """Make the region's cell lookup valid for ``settings.areas.locate_cell_m``; return the
    cell side.

    The lookup (``area_cells``, migration ``i0009``) is rebuilt when it is missing, was built
    with another cell size, or the areas changed since (a trigger on ``areas`` deletes its
    ``area_cell_grids`` row). The lock of :func:`lock_cells` keeps two imports from building
    it at once. About 2 s for the demo district's 652 micro-grids.

    An area-scoped caller never builds it (row-level security would hide the micro-grids outside
    their scope from the build); without a valid lookup, records_locate.sql places every point
    the exact way.
    """
    cell_m = float(settings.areas.locate_cell_m)
    if current_scope() is not None:
        return cell_m
    lock_cells(conn, settings, deadline=deadline)
    current = conn.execute(
        text("SELECT cell_m FROM area_cell_grids WHERE region = :region"),
        {"region": settings.region},
    ).scalar()
    if current != cell_m:
        conn.execute(
            text("DELETE FROM area_cells WHERE region = :region"), {"region": settings.region}
        )
        conn.execute(sql("area_cells_build"), {"region": settings.region, "cell_m": cell_m})
        conn.execute(text("SELECT analyze_table('area_cells')"))
    return cell_m


def relocate_records(
    conn: Connection,
    settings: Settings,
    *,
    moved: Sequence[str] | None = None,
    reparented: Sequence[str] = (),
) -> Relocation:
    """Re-run the micro-grid join for the incidents, hazards, patrol fixes and check-ins a
    boundary change can have moved, in the caller's transaction; rows whose area did not change
    are not written.

    ``moved`` are the micro-grids inserted or given a new shape and ``reparented`` the areas of
    any level given a new parent: only the records filed under a moved micro-grid, lying in one,
    or under a re-parented area are read (geo/sql/records_relocate.sql). ``moved`` None: every
    record.

    A boundary import calls it in its own transaction when areas changed
    (:func:`geo.boundaries.import_boundaries`), so records never sit in the old micro-grids
    once the new boundaries are visible. It places points with ``locate_micro``, not the cell
    lookup, which the change has just invalidated (the trigger on ``areas``, in the same
    transaction); the next import or :func:`relocate` rebuilds the lookup.
    """
    counts = conn.execute(
        sql("records_relocate"),
        {
            "region": settings.region,
            "moved": None if moved is None else list(moved),
            "reparented": list(reparented),
        },
    ).one()
    return Relocation(*(int(n) for n in counts))


def relocate(engine: Engine, settings: Settings) -> Relocation:
    """Rebuild the cell lookup if it is stale and re-assign every record (``gridsafe locate``).

    A boundary import re-assigns by itself; this is for areas changed by other means (SQL by
    hand, a restored backup). One transaction.
    """
    with engine.begin() as conn:
        ensure_cells(conn, settings)
        return relocate_records(conn, settings)
