"""A record outside every area is stored with no area and an empty path (``'{}'``), by a file
import, a re-import and the JSON endpoints alike; migration p0018 rewrites the ``{NULL}`` paths
that imports stored before, once: run again, it writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, text

from geo.crs import parse_crs, to_target, to_wgs84
from geo.database import _alembic_config, init_db, make_engine
from geo.records import import_records, list_records, submit_records
from geo.settings import Settings
from tests.districts import store_areas

# One micro-grid, a 100 m square, under its three ancestors (EPSG:4547, near Zhengzhou).
ORIGIN = tuple(float(v) for v in to_target(113.684, 34.772, parse_crs("EPSG:4326"), 4547))


def _square() -> str:
    x, y = ORIGIN
    return f"MULTIPOLYGON((({x} {y},{x + 100} {y},{x + 100} {y + 100},{x} {y + 100},{x} {y})))"


AREAS = [
    ("S", "subdistrict", None, [], _square()),
    ("G", "grid2", "S", ["S"], _square()),
    ("T", "grid3", "G", ["S", "G"], _square()),
    ("M", "micro", "T", ["S", "G", "T"], _square()),
]


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = to_wgs84(ORIGIN[0] + dx, ORIGIN[1] + dy, parse_crs("EPSG:4547"))
    return float(lon), float(lat)


def _paths(engine: Engine, table: str = "incidents") -> dict[str, tuple[str | None, list[str]]]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT source_id, area_code, area_path FROM {table}")).all()
    return {str(ident): (code, list(path)) for ident, code, path in rows}


def test_a_point_outside_every_area_is_stored_with_an_empty_path(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    with db.begin() as conn:
        store_areas(conn, db_settings.region, AREAS)
    (in_lon, in_lat), (out_lon, out_lat) = _lonlat(50, 50), _lonlat(1000, 50)
    csv = tmp_path / "incidents.csv"
    csv.write_text(
        "source,source_id,type,occurred_at,lon,lat\n"
        f"110,in,fire,2025-03-01 08:30,{in_lon:.7f},{in_lat:.7f}\n"
        f"110,out,fire,2025-03-01 08:30,{out_lon:.7f},{out_lat:.7f}\n",
        encoding="utf-8",
    )
    first = import_records(db, db_settings, csv, kind="incidents")
    assert (first.inserted, first.updated) == (2, 0)
    assert _paths(db) == {"in": ("M", ["S", "G", "T", "M"]), "out": (None, [])}
    listed = json.loads(list_records(db, db_settings, kind="incidents", outside=True))
    assert [f["properties"]["area_path"] for f in listed["features"]] == [[]]

    # Again: the path compares equal to what is stored, so nothing is written.
    again = import_records(db, db_settings, csv, kind="incidents")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert _paths(db) == {"in": ("M", ["S", "G", "T", "M"]), "out": (None, [])}

    # The JSON endpoints' answer and what they store say the same.
    record = {"source_id": "api-out", "type": "fire", "occurred_at": "2025-03-02 09:00"}
    _, placed = submit_records(
        db, db_settings, [{**record, "lon": out_lon, "lat": out_lat}], kind="incidents"
    )
    assert (placed[0].rejected, placed[0].area_code, placed[0].area_path) == (None, None, [])
    assert _paths(db)["api-out"] == (None, [])


def _versions(engine: Engine) -> dict[str, tuple[str, list[str | None]]]:
    """Each record's row version (xmin: a rewrite changes it) and path, by table and id."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT 'incidents:' || source_id, xmin::text, area_path FROM incidents "
                "UNION ALL SELECT 'hazards:' || source_id, xmin::text, area_path FROM hazards"
            )
        ).all()
    return {str(key): (str(xmin), list(path)) for key, xmin, path in rows}


def test_the_migration_empties_the_null_paths_once(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    _, settings = make_db("outside_path", revision="o0017")
    owner = make_engine(settings.db, owner=True)
    try:
        with owner.begin() as conn:
            store_areas(conn, settings.region, AREAS)
            # What the import stored before: {NULL} outside, the whole path inside.
            conn.execute(
                text(
                    "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                    "reported_at, geom, area_code, area_path) VALUES "
                    "(:r, '110', 'out', 'fire', now(), now(), "
                    " ST_SetSRID(ST_Point(:x + 1000, :y), 4547), NULL, '{NULL}'), "
                    "(:r, '110', 'in', 'fire', now(), now(), "
                    " ST_SetSRID(ST_Point(:x + 50, :y + 50), 4547), 'M', '{S,G,T,M}')"
                ),
                {"r": settings.region, "x": ORIGIN[0], "y": ORIGIN[1]},
            )
            conn.execute(
                text(
                    "INSERT INTO hazards (region, source, source_id, category, name, method, "
                    "ls_l, ls_s, status, identified_at, geom, area_code, area_path) VALUES "
                    "(:r, 'ledger', 'out', '消防', '隐患', 'LS', 3, 3, 'open', now(), "
                    " ST_SetSRID(ST_Point(:x - 500, :y), 4547), NULL, '{NULL}')"
                ),
                {"r": settings.region, "x": ORIGIN[0], "y": ORIGIN[1]},
            )
        before = _versions(owner)
        assert init_db(owner, settings, revision="p0018") == "p0018"
        fixed = _versions(owner)
        assert {key: path for key, (_, path) in fixed.items()} == {
            "incidents:out": [],
            "incidents:in": ["S", "G", "T", "M"],
            "hazards:out": [],
        }
        assert fixed["incidents:in"] == before["incidents:in"]  # not rewritten

        # Down and up again: the second run finds nothing to rewrite.
        with owner.begin() as conn:
            command.downgrade(_alembic_config(conn, settings), "o0017")
        assert init_db(owner, settings, revision="p0018") == "p0018"
        assert _versions(owner) == fixed
    finally:
        owner.dispose()
