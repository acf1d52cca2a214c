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


_SQUARES = text(
    """
INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom)
SELECT :region, :p || 'S', :p || 'S', 'subdistrict', NULL, '{}',
       ST_Multi(ST_MakeEnvelope(:x0, :y0, :x0 + :side * 100, :y0 + :side * 100, 4547))
UNION ALL
SELECT :region, :p || 'G2', :p || 'G2', 'grid2', :p || 'S', ARRAY[:p || 'S'],
       ST_Multi(ST_MakeEnvelope(:x0, :y0, :x0 + :side * 100, :y0 + :side * 100, 4547))
UNION ALL
SELECT :region, :p || 'G3-' || r, :p || 'G3-' || r, 'grid3', :p || 'G2',
       ARRAY[:p || 'S', :p || 'G2'],
       ST_Multi(ST_MakeEnvelope(:x0, :y0 + r * 100, :x0 + :side * 100, :y0 + (r + 1) * 100, 4547))
FROM generate_series(0, :side - 1) r
UNION ALL
SELECT :region, :p || 'M' || (r * :side + c), :p || 'M' || (r * :side + c), 'micro',
       :p || 'G3-' || r, ARRAY[:p || 'S', :p || 'G2', :p || 'G3-' || r],
       ST_Multi(ST_MakeEnvelope(:x0 + c * 100, :y0 + r * 100,
                                :x0 + (c + 1) * 100, :y0 + (r + 1) * 100, 4547))
FROM generate_series(0, :side - 1) r, generate_series(0, :side - 1) c
"""
)


def square_district(
    conn: Connection, region: str, *, prefix: str, side: int, x0: float, y0: float
) -> None:
    """A district of ``side`` x ``side`` square 100 m micro-grids from ``(x0, y0)``: one
    subdistrict and grid2, a grid3 per row, micro-grid ``<prefix>M<row * side + column>``;
    every code starts with ``prefix``."""
    conn.execute(_SQUARES, {"region": region, "p": prefix, "side": side, "x0": x0, "y0": y0})
