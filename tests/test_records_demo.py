"""GCJ-02 and BD-09 points land in the same demo micro-grids as their WGS84 originals.

The demo district is read (never written): its areas are copied into a database of this test's
own, and points well inside 80 micro-grids (on the surface of each grid shrunk by 3 m) are imported
three times, as WGS84, as GCJ-02 and as BD-09 made with the forward transforms.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from geo.crs import bd09_from_wgs84, gcj02_from_wgs84
from geo.records import import_records
from geo.settings import Settings


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
                "source_id": codes,
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
    for source, expected, code, path in placed:
        assert code == expected, (source, expected, code)
        assert path[-1] == code
        assert len(path) == 4
