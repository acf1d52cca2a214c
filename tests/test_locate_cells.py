"""The imports' cell lookup agrees with the exact rule (``locate_micro``) point for point.

A hand-made district (EPSG:4547, metres from a point near Weilai Road) chosen to break the
lookup: squares whose edges fall on cell edges, a triangle (a diagonal edge through cells), a
square with a hole (points in the hole are outside every area), an overlap sliver 1 m wide
(both interiors: the smallest code wins) and a micro-grid smaller than a cell::

    y=200 +-------+-------+-------+--+
          |  M3   |  M4   |  M6 []|M9|    [] the hole of M6; M9 overlaps M6 on x 299..300
    y=100 +-------+-------+-------+--+
          |  M1   |  M2   | M5 /     M7 (2 m x 2 m at 310..312, 10..12)
    y=0   +-------+-------+---/
          x=0    100     200    300 350
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, text

from geo.crs import parse_crs, to_target
from geo.locate import ensure_cells, relocate
from geo.records import import_records
from geo.settings import Settings
from tests.districts import store_areas

# An origin on a multiple of 100 m, so cell edges (multiples of the cell size) meet area edges.
ORIGIN = tuple(
    round(float(v), -2) for v in to_target(113.684, 34.772, parse_crs("EPSG:4326"), 4547)
)


def _wkt(rings: list[list[tuple[float, float]]]) -> str:
    parts = [
        "(" + ",".join(f"{ORIGIN[0] + x} {ORIGIN[1] + y}" for x, y in [*ring, ring[0]]) + ")"
        for ring in rings
    ]
    return f"MULTIPOLYGON(({','.join(parts)}))"


def _square(x0: float, y0: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]


MICRO: dict[str, list[list[tuple[float, float]]]] = {
    "M1": [_square(0, 0, 100, 100)],
    "M2": [_square(100, 0, 100, 100)],
    "M3": [_square(0, 100, 100, 100)],
    "M4": [_square(100, 100, 100, 100)],
    "M5": [[(200, 0), (300, 0), (200, 100)]],
    "M6": [_square(200, 100, 100, 100), _square(240, 140, 20, 20)[::-1]],
    "M7": [_square(310, 10, 2, 2)],
    "M9": [_square(299, 100, 51, 100)],
}


@pytest.fixture
def district(db: Engine, db_settings: Settings) -> Engine:
    rows = [
        ("S", "subdistrict", None, [], _wkt([_square(0, 0, 350, 200)])),
        ("T", "grid3", "S", ["S"], _wkt([_square(0, 0, 350, 200)])),
    ] + [(code, "micro", "T", ["S", "T"], _wkt(rings)) for code, rings in MICRO.items()]
    with db.begin() as conn:
        store_areas(conn, db_settings.region, rows)
    return db


def _points() -> np.ndarray:
    """Points on every vertex, along every edge, on cell edges, and at random (metres)."""
    rng = np.random.default_rng(7)
    vertices = [p for rings in MICRO.values() for ring in rings for p in ring]
    lattice = [(x, y) for x in np.arange(-4, 356, 2.0) for y in np.arange(-4, 206, 2.0)]
    on_edges = [
        (x, y) for x in (0, 100, 200, 240, 260, 299, 300, 310, 312, 350) for y in range(0, 201, 3)
    ]
    on_edges += [(x, y) for y in (0, 10, 12, 100, 140, 160, 200) for x in range(0, 351, 3)]
    on_edges += [(310 + a, 10 + b) for a in np.linspace(0, 2, 9) for b in np.linspace(0, 2, 9)]
    diagonal = [(200 + t, 100 - t) for t in np.linspace(0, 100, 101)]
    random = rng.uniform((-10, -10), (360, 210), size=(3000, 2))
    return np.vstack([vertices, lattice, on_edges, diagonal, random]).astype(float)


def _import(engine: Engine, settings: Settings, path: Path, pts: np.ndarray) -> None:
    lines = ["source,source_id,type,occurred_at,x,y"] + [
        f"t,P{k},fire,2025-03-01 08:30,{float(ORIGIN[0] + x)!r},{float(ORIGIN[1] + y)!r}"
        for k, (x, y) in enumerate(pts)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_records(engine, settings, path, kind="incidents", crs="EPSG:4547")
    assert report.rejected == []


def _disagreements(engine: Engine, settings: Settings) -> list[tuple[str, str, str]]:
    """Incidents whose stored area differs from what locate_micro says now."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.source_id, i.area_code, m.area_code FROM incidents i "
                "LEFT JOIN LATERAL locate_micro(i.region, i.geom) m ON true "
                "WHERE i.region = :r AND i.area_code IS DISTINCT FROM m.area_code"
            ),
            {"r": settings.region},
        ).all()
    return [tuple(r) for r in rows]


def _ways(engine: Engine, settings: Settings, cell_m: float) -> dict[str, int]:
    """How many stored points each way of records_locate.sql answered."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT CASE WHEN c.i IS NULL THEN 'uncharted' "
                "            WHEN c.area_code IS NULL THEN 'exact' ELSE 'cell' END, count(*) "
                "FROM incidents i LEFT JOIN area_cells c ON c.region = i.region "
                " AND c.i = floor(ST_X(i.geom) / :s)::int AND c.j = floor(ST_Y(i.geom) / :s)::int "
                "GROUP BY 1"
            ),
            {"s": cell_m},
        ).all()
    return {str(k): int(n) for k, n in rows}


@pytest.mark.parametrize("cell_m", [4.0, 7.3, 0.5])
def test_cell_lookup_agrees_with_the_exact_rule(
    district: Engine, db_settings: Settings, tmp_path: Path, cell_m: float
) -> None:
    settings = db_settings.replace(locate_cell_m=cell_m)
    pts = _points()
    _import(district, settings, tmp_path / "p.csv", pts)
    assert _disagreements(district, settings) == []
    ways = _ways(district, settings, cell_m)
    # Every way was exercised: most points without geometry, boundary cells, points outside.
    assert ways["cell"] > ways["exact"] > 0
    assert ways["uncharted"] > 0
    with district.connect() as conn:
        first = conn.execute(text("SELECT area_code FROM incidents WHERE source_id = 'P0'"))
        assert first.scalar_one() == "M1"  # M1's first vertex, shared by no one else


def test_hand_worked_answers_through_the_lookup(
    district: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    named = {
        "edge M1/M2": (100, 50),
        "vertex of four": (100, 100),
        "diagonal M5": (250, 50),
        "beyond diagonal": (260, 50),
        "hole of M6": (250, 150),
        "hole's edge": (240, 150),
        "sliver M6/M9": (299.5, 150),
        "M9 alone": (320, 150),
        "tiny M7": (311, 11),
        "tiny M7 corner": (310, 10),
        "outside": (400, 50),
    }
    _import(district, db_settings, tmp_path / "h.csv", np.array(list(named.values())))
    with district.connect() as conn:
        got: dict[str, str | None] = dict(
            conn.execute(text("SELECT source_id, area_code FROM incidents")).all()
        )
    expected = ["M1", "M1", "M5", None, None, "M6", "M6", "M9", "M7", "M7", None]
    assert [got[f"P{k}"] for k in range(len(named))] == expected


def test_lookup_rebuilt_after_a_boundary_change(
    district: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    pts = _points()
    _import(district, db_settings, tmp_path / "a.csv", pts)
    with district.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM area_cell_grids")).scalar_one() == 1
    # Move the M1/M2 edge 21 m west (off the cell edges): any change to areas drops the lookup.
    with district.begin() as conn:
        conn.execute(
            text("UPDATE areas SET geom = ST_GeomFromText(:w, 4547) WHERE code = :c"),
            [
                {"c": "M1", "w": _wkt([_square(0, 0, 79, 100)])},
                {"c": "M2", "w": _wkt([_square(79, 0, 121, 100)])},
            ],
        )
        assert conn.execute(text("SELECT count(*) FROM area_cell_grids")).scalar_one() == 0
    moved = relocate(district, db_settings)  # gridsafe locate: rebuilds the lookup too
    assert moved.incidents > 0
    assert _disagreements(district, db_settings) == []
    with district.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM area_cell_grids")).scalar_one() == 1
    # A new import after the change goes through the rebuilt lookup.
    with district.begin() as conn:
        conn.execute(text("DELETE FROM incidents"))
    _import(district, db_settings, tmp_path / "b.csv", pts)
    assert _disagreements(district, db_settings) == []
    with district.connect() as conn:
        area = conn.execute(text("SELECT area_code FROM incidents WHERE source_id = 'P0'"))
        assert area.scalar_one() == "M1"


def test_stale_lookup_is_never_used(district: Engine, db_settings: Settings) -> None:
    """Built, then the areas change in the same transaction: ensure_cells builds it again."""
    with district.begin() as conn:
        ensure_cells(conn, db_settings)
        conn.execute(text("DELETE FROM areas WHERE code = 'M7'"))
        assert conn.execute(text("SELECT count(*) FROM area_cell_grids")).scalar_one() == 0
        ensure_cells(conn, db_settings)
        stale = conn.execute(
            text("SELECT count(*) FROM area_cells WHERE 'M7' = ANY(candidates) OR area_code = 'M7'")
        ).scalar_one()
    assert stale == 0
