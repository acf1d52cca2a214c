"""Hand-made districts written straight into ``areas`` (EPSG:4547, each area named by its code).

For tests about what happens to points and records in areas, not about the boundary import,
whose checks tests/test_boundaries.py covers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

# (code, level, parent code, ancestors top first, WKT polygon or multipolygon in EPSG:4547)
AreaRow = tuple[str, str, str | None, list[str], str]

_INSERT = text(
    "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
    "VALUES (:r, :c, :c, :l, :p, :a, ST_GeomFromText(:w, 4547))"
)


def store_areas(conn: Connection, region: str, rows: Iterable[AreaRow]) -> None:
    """Insert the areas in the caller's transaction."""
    conn.execute(
        _INSERT,
        [{"r": region, "c": c, "l": lv, "p": p, "a": a, "w": w} for c, lv, p, a, w in rows],
    )
