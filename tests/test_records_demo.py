"""Records located in the demo district: obfuscated coordinates and door-plate addresses.

GCJ-02 and BD-09 points land in the same demo micro-grids as their WGS84 originals: the demo
district is read (never written), its areas are copied into a database of this test's own, and
points well inside 80 micro-grids (on the surface of each grid shrunk by 3 m) are imported three
times, as WGS84, as GCJ-02 and as BD-09 made with the forward transforms.

Address-only rows of a GBK CSV are geocoded against the demo district's own gazetteer: its
boundary and building files (demo/data) are imported into the test's empty database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from demo import DATA
from geo.boundaries import import_boundaries
from geo.crs import bd09_from_wgs84, gcj02_from_wgs84
from geo.layers import import_layer
from geo.levels import Level
from geo.records import import_records
from geo.settings import Settings

PREFIX = "郑州市金水区未来路街道"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_obfuscated_points_land_with_their_originals(
    demo: Engine,
    demo_settings: Settings,
    make_db: Callable[..., tuple[Engine, Settings]],
    tmp_path: Path,
) -> None:
    with demo.connect() as conn:
        areas = conn.execute(
            text(
                "SELECT region, code, name, level, parent_code, ancestors, ST_AsBinary(geom) "
                "FROM areas WHERE region = :r ORDER BY array_length(ancestors, 1) NULLS FIRST"
            ),
            {"r": demo_settings.region},
        ).all()
        points = conn.execute(
            text(
                "SELECT code, ST_X(p), ST_Y(p) FROM ("
                " SELECT code, ST_Transform(ST_PointOnSurface(ST_Buffer(geom, -3)), 4326) AS p"
                " FROM areas WHERE region = :r AND level = 'micro'"
                " AND NOT ST_IsEmpty(ST_Buffer(geom, -3)) ORDER BY code) q"
            ),
            {"r": demo_settings.region},
        ).all()[::8]
    engine, settings = make_db("records_demo")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
                "VALUES (:region, :code, :name, :level, :parent_code, :ancestors, "
                "ST_Multi(ST_GeomFromWKB(:wkb, 4547)))"
            ),
            [
                dict(
                    zip(
                        ("region", "code", "name", "level", "parent_code", "ancestors", "wkb"),
                        row,
                        strict=True,
                    )
                )
                for row in areas
            ],
        )
    codes = [p[0] for p in points]
    lon = np.array([p[1] for p in points])
    lat = np.array([p[2] for p in points])
    variants = {
        "wgs84": (lon, lat),
        "gcj02": gcj02_from_wgs84(lon, lat),
        "bd09": bd09_from_wgs84(lon, lat),
    }
    for crs, (x, y) in variants.items():
        path = tmp_path / f"{crs}.csv"
        pd.DataFrame(
            {
                "source": crs,
                # Ids of their own: the same ids and content under another source are refused.
                "source_id": [f"{crs}:{code}" for code in codes],
                "type": "fire",
                "occurred_at": "2025-03-01 08:00",
                "lon": x,
                "lat": y,
            }
        ).to_csv(path, index=False, float_format="%.9f")
        report = import_records(
            engine, settings, path, kind="incidents", crs=None if crs == "wgs84" else crs
        )
        assert report.inserted == len(codes)
        assert report.rejected == []
    with engine.connect() as conn:
        placed = conn.execute(
            text("SELECT source, source_id, area_code, area_path FROM incidents")
        ).all()
    assert len(placed) == 3 * len(codes) >= 80
    for source, ident, code, path in placed:
        expected = ident.split(":", 1)[1]
        assert code == expected, (source, expected, code)
        assert path[-1] == code
        assert len(path) == 4


def test_gbk_csv_of_addresses_geocoded_against_the_demo_gazetteer(
    db: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    for level in Level:
        import_boundaries(db, db_settings, DATA / f"{level.value}.geojson", level=level)
    assert import_layer(db, db_settings, DATA / "buildings.geojson", kind="buildings").loaded
    buildings = gpd.read_file(DATA / "buildings.geojson", engine="pyogrio")
    # Door plates of three shapes (a road number, a courtyard building, a compound's 栋 and
    # 单元), written as people write them: without the city prefix, full-width digits, 栋 for 号楼.
    written: dict[str, str] = {}  # building id -> the address as the file gives it
    for pattern, variant in (
        (r"路\d+号$", lambda a: a.translate(FULL_WIDTH)),
        (r"号院\d+号楼$", lambda a: a.replace("号楼", "栋")),
        (r"\d+栋\d+单元$", lambda a: a.translate(FULL_WIDTH)),
    ):
        picked = buildings[buildings["address"].str.contains(pattern, na=False)][:4]
        pairs = zip(picked["building_id"], picked["address"], strict=True)
        for k, (ident, address) in enumerate(pairs):
            short = address.removeprefix(PREFIX)
            written[ident] = variant(short) if k % 2 else short
    assert len(written) == 12
    assert sum("号院" in a and a.endswith("栋") for a in written.values()) == 2
    assert sum(any("０" <= c <= "９" for c in a) for a in written.values()) == 4
    lines = ["来源,编号,类型,发生时间,地址"] + [
        f"网格巡查,{ident},矛盾纠纷,2025-05-01 14:00,{address}"
        for ident, address in written.items()
    ] + ["网格巡查,NOWHERE,矛盾纠纷,2025-05-01 14:00,未来路99999号"]  # fmt: skip
    path = tmp_path / "addresses.csv"
    path.write_bytes("\n".join(lines).encode("gbk") + b"\n")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    report = import_records(db, db_settings, path, kind="incidents")
    assert (report.inserted, [p.ident for p in report.rejected]) == (12, ["NOWHERE"])
    assert "not found" in report.rejected[0].reason
    with db.connect() as conn:
        placed = conn.execute(
            text(
                "SELECT i.source_id, i.area_code, m.area_code, i.located_by, i.geocode_score "
                "FROM incidents i JOIN buildings b ON b.building_id = i.source_id "
                "CROSS JOIN LATERAL locate_micro(b.region, ST_PointOnSurface(b.geom)) m"
            )
        ).all()
    assert {row[0] for row in placed} == set(written)
    for ident, code, building_micro, located_by, score in placed:
        # In the micro-grid of the building the door plate names, found by its address.
        assert (code, located_by) == (building_micro, "address"), (ident, written[ident])
        assert score >= db_settings.intake.geocode_min_score
    expected = dict(zip(buildings["building_id"], buildings["micro_code"], strict=True))
    assert {row[0]: row[1] for row in placed} == {i: expected[i] for i in written}
