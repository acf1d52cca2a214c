"""Boundary import: every validation rule on small hand-made cases, against a real PostGIS."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS
from shapely import MultiPolygon, Polygon, box
from sqlalchemy import Engine, text

from geo.boundaries import import_boundaries, repair_geometry
from geo.coverage import tracks
from geo.crs import gcj02_from_wgs84
from geo.errors import CRSError, ImportRejectedError, InputError
from geo.levels import Level
from geo.records import import_records
from geo.settings import Settings
from tests.clients import api_client, gridsafe

# A 1 km square in EPSG:4547 near Weilai Road, Zhengzhou.
X0, Y0 = 472_000.0, 3_848_000.0
TOP = box(X0, Y0, X0 + 1000, Y0 + 1000)


def write(
    path: Path, rows: list[dict[str, Any]], crs: object = "EPSG:4547", driver: str | None = None
) -> Path:
    """Write features (each a dict with a ``geometry``) to a vector file."""
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def load(engine: Engine, settings: Settings, path: Path, level: Level, **kw: Any) -> dict[str, Any]:
    return import_boundaries(engine, settings, path, level=level, **kw).as_dict()


def reasons(exc: pytest.ExceptionInfo[ImportRejectedError]) -> list[str]:
    return [f"{p.ident}: {p.reason}" for p in exc.value.problems]


def count(engine: Engine, level: str | None = None) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM areas WHERE CAST(:lv AS text) IS NULL OR level = :lv"),
                {"lv": level},
            ).scalar_one()
        )


@pytest.fixture
def top(db: Engine, db_settings: Settings, tmp_path: Path) -> Engine:
    """The database with one sub-district, the 1 km square."""
    path = write(tmp_path / "top.geojson", [{"code": "S", "name": "街道", "geometry": TOP}])
    load(db, db_settings, path, Level.SUBDISTRICT)
    return db


def halves(split: float = 500.0) -> list[dict[str, Any]]:
    return [
        {
            "code": "A",
            "name": "甲",
            "parent_code": "S",
            "geometry": box(X0, Y0, X0 + split, Y0 + 1000),
        },
        {
            "code": "B",
            "name": "乙",
            "parent_code": "S",
            "geometry": box(X0 + split, Y0, X0 + 1000, Y0 + 1000),
        },
    ]


def test_import_then_repeat_then_change(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "g2.geojson", halves())
    first = load(top, db_settings, path, Level.GRID2)
    assert (first["inserted"], first["updated"], first["unchanged"]) == (2, 0, 0)
    with top.connect() as conn:
        before = conn.execute(
            text("SELECT code, updated_at, xmin::text FROM areas ORDER BY code")
        ).all()
        anc: dict[str, Any] = dict(conn.execute(text("SELECT code, ancestors FROM areas")).all())
        areas: dict[str, Any] = dict(conn.execute(text("SELECT code, area_m2 FROM areas")).all())
    assert anc == {"S": [], "A": ["S"], "B": ["S"]}
    assert areas["A"] == pytest.approx(500_000.0)

    again = load(top, db_settings, path, Level.GRID2)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    with top.connect() as conn:
        after = conn.execute(
            text("SELECT code, updated_at, xmin::text FROM areas ORDER BY code")
        ).all()
    assert after == before  # not even rewritten

    moved = write(tmp_path / "g2b.geojson", halves(split=600.0))
    third = load(top, db_settings, moved, Level.GRID2)
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 2, 0)
    with top.connect() as conn:
        assert conn.execute(
            text("SELECT area_m2 FROM areas WHERE code='A'")
        ).scalar() == pytest.approx(600_000.0)


def test_hole_and_multipolygon_accepted(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    core = box(X0 + 400, Y0 + 400, X0 + 600, Y0 + 600)
    ring = Polygon(TOP.exterior.coords, [core.exterior.coords])
    # The ring is cut in two pieces: a multipolygon with a hole in one piece.
    left = shapely.intersection(ring, box(X0, Y0, X0 + 500, Y0 + 1000))
    right = shapely.intersection(ring, box(X0 + 500, Y0, X0 + 1000, Y0 + 1000))
    rows = [
        {
            "code": "R",
            "name": "环",
            "geometry": MultiPolygon([*shapely.get_parts(left), *shapely.get_parts(right)]),
        },
        {"code": "C", "name": "核", "geometry": core},
    ]
    report = load(top, db_settings, write(tmp_path / "g.gpkg", rows), Level.GRID2)
    assert report["inserted"] == 2
    with top.connect() as conn:
        got: dict[str, Any] = dict(
            conn.execute(text("SELECT code, area_m2 FROM areas WHERE level='grid2'")).all()
        )
        parents = set(
            conn.execute(text("SELECT parent_code FROM areas WHERE level='grid2'")).scalars()
        )
    assert got["R"] == pytest.approx(1_000_000 - 40_000)
    assert got["C"] == pytest.approx(40_000)
    assert parents == {"S"}  # linked by overlap: the file has no parent field


def test_sliver_overlap_rejected_and_nothing_written(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    rows = halves()
    rows[0]["geometry"] = box(X0, Y0, X0 + 500.5, Y0 + 1000)  # 0.5 m x 1000 m = 500 m²
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert any("A: overlaps sibling 'B'" in r and "500.0 m²" in r for r in reasons(exc))
    assert count(top, "grid2") == 0


def test_overlap_within_tolerance_accepted(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    rows = halves()
    rows[0]["geometry"] = box(X0, Y0, X0 + 500.0005, Y0 + 1000)  # 0.5 m²: digitising noise
    assert load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)["inserted"] == 2


def test_gap_rejected_with_location(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    rows = halves()
    rows[0]["geometry"] = box(X0, Y0, X0 + 490, Y0 + 1000)  # a 10 m x 1000 m strip uncovered
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert any("S: children leave 10000.0 m² of parent 'S' uncovered" in r for r in reasons(exc))
    assert count(top, "grid2") == 0
    # The same file split over several deliveries: gaps become warnings.
    report = load(top, db_settings, tmp_path / "g.geojson", Level.GRID2, allow_gaps=True)
    assert report["inserted"] == 2
    assert any("uncovered" in w["reason"] for w in report["warnings"])


def test_child_outside_parent_rejected(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    rows = halves()
    rows[1]["geometry"] = box(X0 + 500, Y0, X0 + 1020, Y0 + 1000)  # 20 m past the border
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert any("B: sticks out of its parent 'S' by 20000.0 m²" in r for r in reasons(exc))


def test_point_sized_polygon_rejected(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    rows = [
        *halves(),
        {
            "code": "P",
            "name": "点",
            "parent_code": "S",
            "geometry": box(X0 + 10, Y0 + 10, X0 + 10.01, Y0 + 10.01),
        },
    ]
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert any(
        r.startswith("P: polygon of 0.0001 m² is below the minimum area") for r in reasons(exc)
    )


def test_bowtie_rejected_spike_repaired() -> None:
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    geom, message = repair_geometry(bowtie, min_area=1.0)
    assert geom is None
    assert "Self-intersection" in message
    assert "cannot be repaired safely" in message
    spike = Polygon([(0, 0), (10, 0), (10, 5), (20, 5), (10, 5), (10, 10), (0, 10), (0, 0)])
    assert not spike.is_valid
    geom, message = repair_geometry(spike, min_area=1.0)
    assert geom is not None
    assert geom.is_valid
    assert geom.area == pytest.approx(100.0)
    assert "repaired" in message


def test_repaired_geometry_reported_as_warning(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    rows = halves()
    # A's ring runs out along its east edge and back (a spike into B's side of nothing: zero area).
    rows[0]["geometry"] = Polygon(
        [
            (X0, Y0),
            (X0 + 500, Y0),
            (X0 + 500, Y0 + 500),
            (X0 + 500, Y0 + 1000),
            (X0 + 500, Y0 + 500),
            (X0 + 500, Y0 + 1000),
            (X0, Y0 + 1000),
            (X0, Y0),
        ]
    )
    report = load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert report["inserted"] == 2
    assert [w["ident"] for w in report["warnings"]] == ["A"]


def test_bowtie_rejected_in_import(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    rows = halves()
    rows[0]["geometry"] = Polygon(
        [(X0, Y0), (X0 + 500, Y0 + 1000), (X0 + 500, Y0), (X0, Y0 + 1000), (X0, Y0)]
    )
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    assert any(r.startswith("A: invalid geometry (Self-intersection") for r in reasons(exc))


def test_codes_duplicate_missing_orphan_and_taken(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    rows = [
        *halves(),
        {
            "code": "A",
            "name": "重复",
            "parent_code": "S",
            "geometry": box(X0, Y0, X0 + 10, Y0 + 10),
        },
        {
            "code": None,
            "name": "无码",
            "parent_code": "S",
            "geometry": box(X0, Y0, X0 + 10, Y0 + 10),
        },
        {
            "code": "O",
            "name": "孤儿",
            "parent_code": "NOPE",
            "geometry": box(X0, Y0, X0 + 10, Y0 + 10),
        },
        {
            "code": "S",
            "name": "同码",
            "parent_code": "S",
            "geometry": box(X0, Y0, X0 + 10, Y0 + 10),
        },
    ]
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, write(tmp_path / "g.geojson", rows), Level.GRID2)
    found = reasons(exc)
    rows_named = {p.row for p in exc.value.problems}
    assert "A: duplicate code 'A' (first seen at row 1)" in found
    assert any(r.startswith("None: missing code") for r in found)
    assert any(
        r.startswith("O: orphan: parent 'NOPE' is not a grid2 area") is False
        and r.startswith("O: orphan: parent 'NOPE' is not a subdistrict area")
        for r in found
    )
    assert "S: code 'S' is already used by a subdistrict area" in found
    assert {3, 4, 5, 6} <= rows_named
    assert count(top, "grid2") == 0


def test_orphan_by_location(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    far = box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)
    path = write(tmp_path / "g.geojson", [{"code": "F", "name": "远", "geometry": far}])
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, path, Level.GRID2)
    assert reasons(exc) == ["F: orphan: lies in no subdistrict area and names no parent"]


def test_changed_parent_must_hold_stored_children(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    load(top, db_settings, write(tmp_path / "g.geojson", halves()), Level.GRID2)
    shrunk = write(
        tmp_path / "s.geojson",
        [{"code": "S", "name": "街道", "geometry": box(X0, Y0, X0 + 900, Y0 + 1000)}],
    )
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, shrunk, Level.SUBDISTRICT)
    assert reasons(exc) == [
        "S: the new boundary leaves 100000.0 m² of its stored child 'B' outside"
    ]


def test_no_crs_refused_unless_given(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    rows = [
        {"code": r["code"], "name": r["name"], "parent": "S", "geometry": r["geometry"]}
        for r in halves()
    ]
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        path = write(tmp_path / "g.shp", rows, crs=None)
    assert not (tmp_path / "g.prj").exists()
    with pytest.raises(CRSError, match="declares no CRS and no --crs"):
        load(top, db_settings, path, Level.GRID2)
    assert count(top, "grid2") == 0
    assert load(top, db_settings, path, Level.GRID2, crs="EPSG:4547")["inserted"] == 2


def test_degrees_labelled_metric_refused(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    wgs = gpd.GeoDataFrame(halves(), crs="EPSG:4547").to_crs(4326)
    path = write(
        tmp_path / "g.gpkg", wgs.to_dict("records"), crs="EPSG:4547"
    )  # lon/lat labelled 4547
    with pytest.raises(CRSError, match="do not fit EPSG:4547"):
        load(top, db_settings, path, Level.GRID2)


def test_foot_based_crs(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    feet = CRS.from_proj4(
        "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=1640416.67 +y_0=0 +ellps=GRS80 "
        "+units=us-ft +no_defs"
    )
    frame = gpd.GeoDataFrame(halves(), crs="EPSG:4547").to_crs(feet)
    assert frame.area.iloc[0] == pytest.approx(500_000 / 0.3048006096**2, rel=1e-6)  # really in ft²
    report = load(
        top,
        db_settings,
        write(tmp_path / "g.gpkg", frame.to_dict("records"), crs=feet),
        Level.GRID2,
    )
    assert report["inserted"] == 2
    with top.connect() as conn:
        got: dict[str, Any] = dict(
            conn.execute(text("SELECT code, area_m2 FROM areas WHERE level='grid2'")).all()
        )
    assert got["A"] == pytest.approx(500_000, rel=1e-6)


def test_gcj02_polygons(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    wgs = gpd.GeoDataFrame(halves(), crs="EPSG:4547").to_crs(4326)

    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(gcj02_from_wgs84(xy[:, 0], xy[:, 1]))

    gcj = wgs.set_geometry(shapely.transform(wgs.geometry.to_numpy(), shift), crs=None)
    path = write(tmp_path / "g.geojson", gcj.to_dict("records"), crs="EPSG:4326")
    with pytest.raises(ImportRejectedError):
        # Read as WGS84, the GCJ-02 offset (hundreds of metres) pushes A and B out of S.
        load(top, db_settings, path, Level.GRID2)
    report = load(top, db_settings, path, Level.GRID2, crs="gcj02")
    assert report["inserted"] == 2
    assert report["crs"] == "gcj02"
    with top.connect() as conn:
        sym: float = conn.execute(
            text(
                "SELECT ST_Area(ST_SymDifference(geom, ST_GeomFromWKB(:wkb, 4547))) "
                "FROM areas WHERE code = 'A'"
            ),
            {"wkb": shapely.to_wkb(halves()[0]["geometry"])},
        ).scalar_one()
    assert sym < 1.0  # within a square metre of the original 0.5 km²


def test_unreadable_and_unknown_field(top: Engine, db_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read"):
        load(top, db_settings, bad, Level.GRID2)
    path = write(tmp_path / "g.geojson", halves())
    with pytest.raises(InputError, match="no field 'grid_id'"):
        load(top, db_settings, path, Level.GRID2, code_field="grid_id")


def test_shapefile_parent_field_cut_to_ten_bytes(
    top: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    """A Shapefile keeps ``parent_cod`` of ``parent_code``: still read as the parent field."""
    rows = [{**row, "parent_code": "X"} for row in halves()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning that the name is cut: the cut is the test
        path = write(tmp_path / "g2.shp", rows)
    with pytest.raises(ImportRejectedError) as exc:
        load(top, db_settings, path, Level.GRID2)
    assert reasons(exc) == [
        "A: orphan: parent 'X' is not a subdistrict area (import the subdistrict level first)",
        "B: orphan: parent 'X' is not a subdistrict area (import the subdistrict level first)",
    ]


def test_bubenec_tessellation_matches_geopandas(
    make_db: Callable[..., tuple[Engine, Settings]], tmp_path: Path
) -> None:
    """A real layer nobody here drew: momepy's tessellation of Bubeneč, Prague."""
    momepy = pytest.importorskip("momepy")
    cells = gpd.read_file(momepy.datasets.get_path("bubenec"), layer="tessellation")
    cells = cells[["uID", "geometry"]].rename(columns={"uID": "code"})
    cells["code"] = "T" + cells["code"].astype(str)
    cells["name"] = "镶嵌" + cells["code"]
    top = gpd.GeoDataFrame(
        {"code": ["BUB"], "name": ["布贝内奇"]}, geometry=[cells.union_all()], crs=cells.crs
    )
    # Prague is far outside the demo's zone: a deployment there stores in UTM 33N.
    db, settings = make_db("utm", srid=32633)
    load(
        db,
        settings,
        write(tmp_path / "top.gpkg", top.to_dict("records"), crs=cells.crs),
        Level.SUBDISTRICT,
    )
    report = load(
        db,
        settings,
        write(tmp_path / "cells.gpkg", cells.to_dict("records"), crs=cells.crs),
        Level.GRID2,
    )
    assert report["inserted"] == len(cells)
    expected = cells.to_crs(32633).set_index("code").area
    with db.connect() as conn:
        got: dict[str, Any] = dict(
            conn.execute(text("SELECT code, area_m2 FROM areas WHERE level = 'grid2'")).all()
        )
        inside = conn.execute(
            text(
                "SELECT count(*) FROM areas c JOIN areas p ON p.code = c.parent_code "
                "WHERE c.level = 'grid2' AND ST_Area(ST_Difference(c.geom, p.geom)) < 1"
            )
        ).scalar()
        total = conn.execute(text("SELECT sum(area_m2) FROM areas WHERE level='grid2'")).scalar()
        top_area = conn.execute(
            text("SELECT area_m2 FROM areas WHERE level='subdistrict'")
        ).scalar()
    assert set(got) == set(expected.index)
    for code, area in expected.items():
        assert got[code] == pytest.approx(area, rel=1e-4)
    assert inside == len(cells)
    assert total == pytest.approx(top_area, rel=1e-4)


# --------------------------------------------------------------------------- re-assignment
#
# S, one grid2 G and one grid3 T over the whole square, cut into micro-grids M1 | M2 at x = 500;
# incident I1 and hazard H1 lie 10 and 5 m west of the cut (in M1), I2 far inside M1. Moving the
# cut 20 m west puts I1 and H1 in M2.


def micro(split: float) -> list[dict[str, Any]]:
    west, east = box(X0, Y0, X0 + split, Y0 + 1000), box(X0 + split, Y0, X0 + 1000, Y0 + 1000)
    return [
        {"code": "M1", "name": "一", "parent_code": "T", "geometry": west},
        {"code": "M2", "name": "二", "parent_code": "T", "geometry": east},
    ]


@pytest.fixture
def split(top: Engine, db_settings: Settings, tmp_path: Path) -> Engine:
    """The M1 | M2 district with two incidents and a hazard stored."""
    for code, level, parent in (("G", Level.GRID2, "S"), ("T", Level.GRID3, "G")):
        row = {"code": code, "name": code, "parent_code": parent, "geometry": TOP}
        load(top, db_settings, write(tmp_path / f"{code}.geojson", [row]), level)
    load(top, db_settings, write(tmp_path / "m500.geojson", micro(500)), Level.MICRO)
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "source,source_id,type,occurred_at,x,y\n"
        f"110,I1,fire,2025-03-01 08:30,{X0 + 490},{Y0 + 500}\n"
        f"110,I2,fire,2025-03-01 08:30,{X0 + 200},{Y0 + 500}\n",
        encoding="utf-8",
    )
    hazards = tmp_path / "hazards.csv"
    hazards.write_text(
        "source,source_id,category,identified_at,method,l,e,c,x,y\n"
        f"inspect,H1,消防,2025-04-01,LEC,6,6,15,{X0 + 495},{Y0 + 300}\n",
        encoding="utf-8",
    )
    for path, kind in ((incidents, "incidents"), (hazards, "hazards")):
        report = import_records(top, db_settings, path, kind=kind, crs="EPSG:4547")
        assert report.rejected == []
    assert placed(top) == {"I1": "M1", "I2": "M1", "H1": "M1"}
    return top


def placed(engine: Engine) -> dict[str, str | None]:
    """Record id → micro-grid, incidents and hazards; each path checked against its area."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_id, area_code, area_path FROM incidents "
                "UNION ALL SELECT source_id, area_code, area_path FROM hazards"
            )
        ).all()
    for ident, code, path in rows:
        assert path == ["S", "G", "T", code], ident
    return {str(ident): code for ident, code, _ in rows}


def lookups(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM area_cell_grids")).scalar_one())


MOVED = {"incidents": 1, "hazards": 1, "fixes": 0, "checkins": 0}


def test_boundary_change_reassigns_records_in_the_same_import(
    split: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    assert lookups(split) == 1  # built by the record imports
    report = load(split, db_settings, write(tmp_path / "m480.geojson", micro(480)), Level.MICRO)
    assert (report["updated"], report["relocated"]) == (2, MOVED)
    assert placed(split) == {"I1": "M2", "I2": "M1", "H1": "M2"}
    # The import invalidated the cell lookup; the next record import rebuilds it and places a
    # point of the strip that changed hands by the new cut.
    assert lookups(split) == 0
    late = tmp_path / "late.csv"
    late.write_text(
        f"source,source_id,type,occurred_at,x,y\n110,I3,fire,2025-03-02,{X0 + 485},{Y0 + 700}\n",
        encoding="utf-8",
    )
    import_records(split, db_settings, late, kind="incidents", crs="EPSG:4547")
    assert placed(split)["I3"] == "M2"
    assert lookups(split) == 1
    # The same file again changes no area, so nothing is re-assigned or reported as such.
    again = load(split, db_settings, write(tmp_path / "m480b.geojson", micro(480)), Level.MICRO)
    assert again["unchanged"] == 2
    assert "relocated" not in again
    assert lookups(split) == 1


def test_only_what_a_change_can_move_is_read_again(
    split: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    """A re-assignment reads the records filed under the reshaped micro-grids and those lying
    in their new shapes, nothing else: M1 alone shrunk to x < 480 leaves I1 and H1 in the gap
    (filed under M1 before); grown back, it takes them again from the gap (no area: found by
    its new shape); a name alone moves nothing."""
    west = [micro(500)[0] | {"geometry": box(X0, Y0, X0 + 480, Y0 + 1000)}]
    shrunk = load(split, db_settings, write(tmp_path / "w480.geojson", west), Level.MICRO,
                  allow_gaps=True)  # fmt: skip
    assert (shrunk["updated"], shrunk["relocated"]) == (1, MOVED)
    with split.connect() as conn:
        gap = conn.execute(
            text("SELECT source_id FROM incidents WHERE area_code IS NULL "
                 "UNION ALL SELECT source_id FROM hazards WHERE area_code IS NULL ORDER BY 1")
        ).scalars().all()  # fmt: skip
    assert gap == ["H1", "I1"]
    grown = load(split, db_settings, write(tmp_path / "w500.geojson", [micro(500)[0]]),
                 Level.MICRO)  # fmt: skip
    assert (grown["updated"], grown["relocated"]) == (1, MOVED)
    assert placed(split) == {"I1": "M1", "I2": "M1", "H1": "M1"}
    renamed = [micro(500)[0] | {"name": "一号"}]
    named = load(split, db_settings, write(tmp_path / "n.geojson", renamed), Level.MICRO)
    assert named["updated"] == 1
    assert "relocated" not in named


def test_a_boundary_change_waits_for_the_imports_under_way(
    split: Engine, db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A track import has placed its fix in M1 (x = 490) and not yet committed when the cut
    moves to x = 480: the boundary import waits for it (imports hold the boundary lock shared)
    and its re-assignment then moves the fix to M2. Without the wait the boundary import would
    commit first, not seeing the fix, and the fix would stay filed under M1."""
    placed_fix, release = threading.Event(), threading.Event()
    real_record_run = tracks.record_run

    def paused(*args: Any, **kwargs: Any) -> None:  # the import's last step before commit
        placed_fix.set()
        assert release.wait(30)
        real_record_run(*args, **kwargs)

    # An earlier fix of the month, far from the cut: its partition exists, so the paused
    # import below holds no lock on the fixes table that would make the boundary import wait.
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(
        f"unit,kind,time,x,y\nP0,foot,2026-11-23 09:00,{X0 + 200},{Y0 + 600}\n", encoding="utf-8"
    )
    tracks.import_tracks(split, db_settings, earlier, crs="EPSG:4547")
    monkeypatch.setattr(tracks, "record_run", paused)
    fixes = tmp_path / "fixes.csv"
    fixes.write_text(
        f"unit,kind,time,x,y\nP1,foot,2026-11-24 09:00,{X0 + 490},{Y0 + 600}\n", encoding="utf-8"
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        track = pool.submit(tracks.import_tracks, split, db_settings, fixes, crs="EPSG:4547")
        assert placed_fix.wait(30)
        moved = write(tmp_path / "m480.geojson", micro(480))
        boundary = pool.submit(load, split, db_settings, moved, Level.MICRO)
        time.sleep(1.0)
        assert not boundary.done()  # waiting for the track import to commit
        release.set()
        track.result(timeout=60)
        report = boundary.result(timeout=60)
    assert report["relocated"]["fixes"] == 1
    with split.connect() as conn:
        rows = conn.execute(text("SELECT unit, area_code FROM fixes ORDER BY unit")).all()
    assert [tuple(r) for r in rows] == [("P0", "M1"), ("P1", "M2")]


def test_boundary_change_through_the_command_line(
    split: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path / "m480.geojson", micro(480))
    done = gridsafe(db_settings, "import", "boundaries", str(path), "--level", "micro")
    assert done.returncode == 0, done.stderr
    assert "re-located records: 1 incident(s), 1 hazard(s), 0 patrol fix(es)" in done.stdout
    assert placed(split) == {"I1": "M2", "I2": "M1", "H1": "M2"}
    # `gridsafe locate` still works: nothing left to move, and it rebuilds the lookup.
    located = gridsafe(db_settings, "locate")
    assert located.returncode == 0, located.stderr
    assert "re-located records: 0 incident(s), 0 hazard(s)" in located.stdout
    assert lookups(split) == 1


def test_boundary_change_through_the_api(
    split: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path / "m480.geojson", micro(480))
    with api_client(db_settings) as client, path.open("rb") as fh:
        answer = client.post(
            "/api/admin/boundaries",
            files={"file": (path.name, fh, "application/geo+json")},
            data={"level": "micro"},
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["updated"], answer.json()["relocated"]) == (2, MOVED)
        listed = client.get("/api/incidents", params={"area": "M2"}).json()
    assert [f["properties"]["source_id"] for f in listed["features"]] == ["I1"]
    assert listed["features"][0]["properties"]["ancestors"] == ["S", "G", "T"]
    assert placed(split) == {"I1": "M2", "I2": "M1", "H1": "M2"}
