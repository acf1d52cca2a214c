"""Vector tiles, decoded: hand-made areas, risk colours, incidents and hazards with known answers.

The district: one 400 m × 400 m sub-district at (468000, 3846800) in EPSG:4547 near Zhengzhou, cut
into two level-2 grids, west (red in the risk run) and east (blue). A point on their shared
border, incidents of two types in two months, and three hazards (one closed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import Engine, event, text

from api.app import create_app
from geo.access import Role
from geo.crs import gcj02_from_wgs84
from geo.errors import InputError, NotFoundError
from geo.levels import Level
from geo.records.imports import import_records
from geo.settings import Settings
from geo.tiles import TileFilter, check_tile, tile
from tests.clients import api_client

X0, Y0, SIDE = 468_000.0, 3_846_800.0, 400.0
TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)


def _square(x0: float, y0: float, w: float, h: float, *, mid: bool = False) -> str:
    xm = x0 + w / 2
    bottom = f"{x0} {y0},{xm} {y0}," if mid else f"{x0} {y0},"
    top = f"{x0 + w} {y0 + h},{xm} {y0 + h}," if mid else f"{x0 + w} {y0 + h},"
    return f"MULTIPOLYGON((({bottom}{x0 + w} {y0},{top}{x0} {y0 + h},{x0} {y0})))"


def tile_of(x: float, y: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding an EPSG:4547 point (the slippy-map formula, OSM wiki)."""
    lon, lat = TO_WGS84.transform(x, y)
    n = 2**z
    tx = int((lon + 180.0) / 360.0 * n)
    ty = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return tx, ty


@pytest.fixture
def district(db: Engine, db_settings: Settings) -> Engine:
    """The hand-made district, its risk run, incidents and hazards."""
    region = db_settings.region
    areas = [
        # Edge-matched with its children (their corners on its edges are its vertices too), as
        # the boundary import requires: a T-junction would snap off the straight edge.
        ("S1", "测试街道", "subdistrict", None, _square(X0, Y0, SIDE, SIDE, mid=True)),
        ("G1", "西网格", "grid2", "S1", _square(X0, Y0, SIDE / 2, SIDE)),
        ("G2", "东网格", "grid2", "S1", _square(X0 + SIDE / 2, Y0, SIDE / 2, SIDE)),
    ]
    with db.begin() as conn:
        for code, name, level, parent, wkt in areas:
            conn.execute(
                text(
                    "INSERT INTO areas (region, code, name, level, parent_code, geom) "
                    "VALUES (:r, :c, :n, :l, :p, ST_GeomFromText(:w, 4547))"
                ),
                {"r": region, "c": code, "n": name, "l": level, "p": parent, "w": wkt},
            )
        run = conn.execute(
            text(
                "INSERT INTO risk_runs (region, as_of, params) "
                "VALUES (:r, '2025-06-30 23:59:59+08', '{}') RETURNING id"
            ),
            {"r": region},
        ).scalar_one()
        for code, level, colour, score in [
            ("S1", "subdistrict", "red", 50.0),
            ("G1", "grid2", "red", 80.0),
            ("G2", "grid2", "blue", 20.0),
        ]:
            conn.execute(
                text(
                    "INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, "
                    "hazard_colour, incident_colour, reasons) "
                    "VALUES (:run, :r, :c, :l, :col, :s, 'blue', :col, '{}')"
                ),
                {"run": run, "r": region, "c": code, "l": level, "col": colour, "s": score},
            )
        # The db fixture empties every table after a test, the type vocabulary too.
        conn.execute(
            text(
                "INSERT INTO incident_types (code, name_zh, name_en) VALUES "
                "('fire', '火灾', 'fire'), ('theft', '盗窃', 'theft') ON CONFLICT DO NOTHING"
            )
        )
        incidents = [
            ("i1", "fire", "2025-05-10 10:00+08", X0 + 50, Y0 + 50),
            ("i2", "theft", "2025-05-20 10:00+08", X0 + 300, Y0 + 300),
            ("i3", "theft", "2025-06-02 10:00+08", X0 + 200, Y0 + 200),  # on the shared border
        ]
        for sid, typ, at, x, y in incidents:
            conn.execute(
                text(
                    "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                    "reported_at, geom) VALUES (:r, 'test', :s, :t, :at, :at, "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4547))"
                ),
                {"r": region, "s": sid, "t": typ, "at": at, "x": x, "y": y},
            )
        hazards = [
            # LEC D = 10·6·7 = 420 ≥ 320: red.  LS R = 3·3 = 9 ≥ 9: yellow (the band's edge).
            ("h1", "液化气瓶", "LEC", (10, 6, 7), None, "open", None),
            ("h2", "电动车充电", "LS", None, (3, 3), "open", None),
            ("h3", "已整改", "LS", None, (5, 5), "closed", "2025-06-01 00:00+08"),
        ]
        for sid, name, method, lec, ls, status, closed in hazards:
            conn.execute(
                text(
                    "INSERT INTO hazards (region, source, source_id, category, name, method, "
                    "lec_l, lec_e, lec_c, ls_l, ls_s, status, identified_at, closed_at, geom) "
                    "VALUES (:r, 'test', :s, 'fire', :n, :m, :l1, :e1, :c1, :l2, :s2, :st, "
                    "'2025-01-01 00:00+08', :closed, ST_SetSRID(ST_MakePoint(:x, :y), 4547))"
                ),
                {
                    "r": region,
                    "s": sid,
                    "n": name,
                    "m": method,
                    "l1": lec[0] if lec else None,
                    "e1": lec[1] if lec else None,
                    "c1": lec[2] if lec else None,
                    "l2": ls[0] if ls else None,
                    "s2": ls[1] if ls else None,
                    "st": status,
                    "closed": closed,
                    "x": X0 + 100,
                    "y": Y0 + 100,
                },
            )
    return db


Z = 14


def _decode(body: bytes, layer: str) -> list[dict[str, Any]]:
    decoded = mapbox_vector_tile.decode(body)
    return list(decoded[layer]["features"]) if layer in decoded else []


def _get(engine: Engine, settings: Settings, layer: str, flt: TileFilter) -> list[dict[str, Any]]:
    x, y = tile_of(X0 + SIDE / 2, Y0 + SIDE / 2, Z)
    return _decode(tile(engine, settings, layer=layer, z=Z, x=x, y=y, flt=flt), layer)


def test_area_tiles_carry_colours_and_names(district: Engine, db_settings: Settings) -> None:
    feats = _get(
        district, db_settings, "areas", TileFilter(level=Level.GRID2, as_of=date(2025, 7, 1))
    )
    props = {f["properties"]["code"]: f["properties"] for f in feats}
    assert set(props) == {"G1", "G2"}
    assert (props["G1"]["colour"], props["G1"]["score"]) == ("red", 80.0)
    assert (props["G2"]["colour"], props["G2"]["name"]) == ("blue", "东网格")


def test_area_tiles_before_any_run_have_no_colour(district: Engine, db_settings: Settings) -> None:
    feats = _get(
        district, db_settings, "areas", TileFilter(level=Level.GRID2, as_of=date(2025, 6, 29))
    )
    assert len(feats) == 2
    assert all("colour" not in f["properties"] for f in feats)


def test_area_tiles_have_no_gaps_between_neighbours(
    district: Engine, db_settings: Settings
) -> None:
    """The two halves, snapped to the tile grid, cover exactly what the whole does."""
    for z in (12, 15, 18):
        x, y = tile_of(X0 + SIDE / 2, Y0 + SIDE / 2, z)
        halves = _decode(
            tile(
                district,
                db_settings,
                layer="areas",
                z=z,
                x=x,
                y=y,
                flt=TileFilter(level=Level.GRID2),
            ),
            "areas",
        )
        whole = _decode(
            tile(
                district,
                db_settings,
                layer="areas",
                z=z,
                x=x,
                y=y,
                flt=TileFilter(level=Level.SUBDISTRICT),
            ),
            "areas",
        )
        parts = [shape(f["geometry"]) for f in halves]
        outline = shape(whole[0]["geometry"])
        union = shapely.union_all(parts)
        assert len(parts) == 2
        assert shapely.intersection(parts[0], parts[1]).area == pytest.approx(0.0, abs=1e-9)
        assert union.symmetric_difference(outline).area == pytest.approx(0.0, abs=1e-9)


def test_incident_tiles_filter_by_type_and_period(district: Engine, db_settings: Settings) -> None:
    def ids(flt: TileFilter) -> set[str]:
        return {
            str(f["properties"]["type"]) + "@" + str(f["properties"]["occurred"])
            for f in _get(district, db_settings, "incidents", flt)
        }

    assert len(ids(TileFilter())) == 3
    assert ids(TileFilter(types=("theft",))) == {"theft@2025-05-20", "theft@2025-06-02"}
    # Both ends inclusive: 20 May .. 2 June holds i2 and i3.
    assert ids(TileFilter(date_from=date(2025, 5, 20), date_to=date(2025, 6, 2))) == {
        "theft@2025-05-20",
        "theft@2025-06-02",
    }
    assert ids(TileFilter(types=("fire",), date_from=date(2025, 6, 1))) == set()


def test_hazard_tiles_colour_by_the_configured_bands(
    district: Engine, db_settings: Settings
) -> None:
    feats = _get(district, db_settings, "hazards", TileFilter(as_of=date(2025, 7, 1)))
    got = {
        f["properties"]["name"]: (f["properties"]["colour"], f["properties"]["score"])
        for f in feats
    }
    assert got == {"液化气瓶": ("red", 420.0), "电动车充电": ("yellow", 9.0)}
    # Before it was closed, the LS 5·5 = 25 hazard was open and red.
    before = _get(district, db_settings, "hazards", TileFilter(as_of=date(2025, 5, 1)))
    assert {f["properties"]["name"] for f in before} == {"液化气瓶", "电动车充电", "已整改"}
    # Bands are settings: with LS yellow from 10, R = 9 is blue.
    strict = db_settings.replace(ls_yellow_min=10.0)
    feats = _get(district, strict, "hazards", TileFilter(as_of=date(2025, 7, 1)))
    assert {f["properties"]["name"]: f["properties"]["colour"] for f in feats}[
        "电动车充电"
    ] == "blue"


def test_tile_addresses_and_layers_are_checked() -> None:
    with pytest.raises(NotFoundError, match="no tile layer 'areas; DROP'"):
        check_tile("areas; DROP", 1, 0, 0)
    with pytest.raises(InputError, match="outside the zoom-2 grid"):
        check_tile("areas", 2, 4, 0)
    with pytest.raises(InputError, match="zoom 23"):
        check_tile("roads", 23, 0, 0)


def test_tile_endpoint_caches_and_maps_errors(district: Engine, db_settings: Settings) -> None:
    x, y = tile_of(X0 + SIDE / 2, Y0 + SIDE / 2, Z)
    with api_client(db_settings) as client:
        r = client.get(
            f"/tiles/areas/{Z}/{x}/{y}.mvt", params={"level": "grid2", "as_of": "2025-07-01"}
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        # A tile is cut to the caller's scope: cacheable by the caller's browser only.
        assert r.headers["cache-control"] == f"private, max-age={db_settings.maps.tile_max_age_s}"
        assert {"Authorization", "Cookie"} <= {v.strip() for v in r.headers["vary"].split(",")}
        assert len(_decode(r.content, "areas")) == 2
        again = client.get(
            f"/tiles/areas/{Z}/{x}/{y}.mvt",
            params={"level": "grid2", "as_of": "2025-07-01"},
            headers={"If-None-Match": r.headers["etag"]},
        )
        assert again.status_code == 304
        r = client.get(
            f"/tiles/incidents/{Z}/{x}/{y}.mvt",
            params={"type": ["fire", "theft"], "from": "2025-05-15"},
        )
        assert len(_decode(r.content, "incidents")) == 2
        assert client.get(f"/tiles/nope/{Z}/{x}/{y}.mvt").status_code == 404
        assert client.get("/tiles/roads/3/9/0.mvt").status_code == 400
        # A tile far from the district is empty, not an error.
        empty = client.get("/tiles/areas/14/0/0.mvt")
        assert empty.status_code == 200
        assert empty.content == b""


def _statements(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def listen(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


def _colours(body: bytes) -> dict[str, str]:
    return {f["properties"]["code"]: f["properties"]["colour"] for f in _decode(body, "areas")}


AREAS = f"/tiles/areas/{Z}/{{x}}/{{y}}.mvt"
GRID2 = {"level": "grid2", "as_of": "2025-07-01"}


def _middle(path: str) -> str:
    x, y = tile_of(X0 + SIDE / 2, Y0 + SIDE / 2, Z)
    return path.format(x=x, y=y)


def test_a_kept_tile_costs_one_version_read_and_no_tile_sql(
    district: Engine, db_settings: Settings
) -> None:
    areas = _middle(AREAS)
    app = create_app(db_settings)
    with api_client(db_settings, Role.LEADER, app=app) as leader:
        first = leader.get(areas, params=GRID2)
        assert first.headers["content-encoding"] == "gzip"  # kept compressed, sent as kept
        assert _colours(first.content) == {"G1": "red", "G2": "blue"}
        etag = first.headers["etag"]
        seen, stop = _statements(app.state.engine)
        try:
            again = leader.get(areas, params=GRID2)
            current = leader.get(areas, params=GRID2, headers={"If-None-Match": etag})
        finally:
            stop()
        assert (again.status_code, again.headers["etag"]) == (200, etag)
        assert again.content == first.content
        assert current.status_code == 304
        # Each of the two: the version read, and no tile built.
        assert len([s for s in seen if "audit_log" in s]) == 2
        assert not any("ST_AsMVT" in s for s in seen)
        plain = leader.get(areas, params=GRID2, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == first.content

        # A grid head of G1 sees G1 only, under another ETag, whichever of the two is kept;
        # the leader still gets both halves. (Not entered: the app's lifespan, and its pool,
        # are the leader's client's.)
        head = api_client(db_settings, Role.GRID_HEAD, "G1", app=app)
        theirs = head.get(areas, params=GRID2, headers={"If-None-Match": etag})
        assert theirs.status_code == 200
        assert theirs.headers["etag"] != etag
        assert _colours(theirs.content) == {"G1": "red"}
        assert _colours(head.get(areas, params=GRID2).content) == {"G1": "red"}
        assert _colours(leader.get(areas, params=GRID2).content) == {"G1": "red", "G2": "blue"}


def test_a_new_risk_run_or_an_import_is_in_the_next_tile(
    district: Engine, db_settings: Settings, tmp_path: Path
) -> None:
    areas, incidents = _middle(AREAS), _middle(f"/tiles/incidents/{Z}/{{x}}/{{y}}.mvt")
    app = create_app(db_settings)
    with api_client(db_settings, Role.LEADER, app=app) as leader:
        etag = leader.get(areas, params=GRID2).headers["etag"]
        head = api_client(db_settings, Role.GRID_HEAD, "G1", app=app)
        assert _colours(head.get(areas, params=GRID2).content) == {"G1": "red"}
        with district.begin() as conn:
            run = conn.execute(
                text(
                    "INSERT INTO risk_runs (region, as_of, params) "
                    "VALUES (:r, '2025-06-30 23:59:59+08', '{}') RETURNING id"
                ),
                {"r": db_settings.region},
            ).scalar_one()
            for code, colour in (("G1", "blue"), ("G2", "orange")):
                conn.execute(
                    text(
                        "INSERT INTO risk_scores (run_id, region, area_code, level, colour, "
                        "score, hazard_colour, incident_colour, reasons) "
                        "VALUES (:run, :r, :c, 'grid2', :col, 1, 'blue', :col, '{}')"
                    ),
                    {"run": run, "r": db_settings.region, "c": code, "col": colour},
                )
        after = leader.get(areas, params=GRID2, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert _colours(after.content) == {"G1": "blue", "G2": "orange"}
        assert _colours(head.get(areas, params=GRID2).content) == {"G1": "blue"}

        # An import of incidents: the incident tile has it at once; the area tile is unchanged.
        kept = leader.get(incidents)
        assert len(_decode(kept.content, "incidents")) == 3
        csv = tmp_path / "more.csv"
        csv.write_text(
            f"source,source_id,type,occurred_at,x,y\ntest,i4,fire,2025-06-20 10:00,"
            f"{X0 + 60},{Y0 + 60}\n",
            encoding="utf-8",
        )
        report = import_records(district, db_settings, csv, kind="incidents", crs="EPSG:4547")
        assert report.inserted == 1, report
        now = leader.get(incidents, headers={"If-None-Match": kept.headers["etag"]})
        assert now.status_code == 200
        assert len(_decode(now.content, "incidents")) == 4
        same = leader.get(areas, params=GRID2, headers={"If-None-Match": after.headers["etag"]})
        assert same.status_code == 304


def test_sql_gcj02_offset_matches_the_python_transform(db: Engine) -> None:
    """The tiles' in-database GCJ-02 offset is geo.crs's formula (and zero outside China)."""
    lons = [73.0, 100.5, 113.7, 113.70123, 121.47, 137.8, 2.35]
    lats = [39.0, 25.2, 34.77, 34.7654, 31.23, 45.1, 48.85]  # the last: Paris
    with db.connect() as conn:
        got = [
            conn.execute(text("SELECT gcj02_offset(:x, :y)"), {"x": x, "y": y}).scalar_one()
            for x, y in zip(lons, lats, strict=True)
        ]
    glon, glat = gcj02_from_wgs84(lons, lats)
    for (dx, dy), x, y, gx, gy in zip(got, lons, lats, glon, glat, strict=True):
        assert dx == pytest.approx(gx - x, abs=1e-12)
        assert dy == pytest.approx(gy - y, abs=1e-12)
    assert got[-1] == [0.0, 0.0]


def test_tiles_under_an_amap_basemap_are_drawn_in_gcj02(
    district: Engine, db_settings: Settings
) -> None:
    """Under Amap (GCJ-02 tiles) an incident is drawn where GCJ-02 puts it, as embedded
    overlays are: at the tile and pixel of its shifted position, about 560 m from the truth."""
    amap = db_settings.replace(basemap="amap")
    lon, lat = TO_WGS84.transform(X0 + 50, Y0 + 50)  # incident i1 (a fire)
    glon, glat = (float(v) for v in gcj02_from_wgs84(lon, lat))
    z = 16
    n = 2**z
    fx = (glon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(glat))) / math.pi) / 2.0 * n
    tx, ty = int(fx), int(fy)
    body = tile(district, amap, layer="incidents", z=z, x=tx, y=ty, flt=TileFilter(types=("fire",)))
    (fire,) = _decode(body, "incidents")
    px, py = fire["geometry"]["coordinates"]
    assert px == pytest.approx((fx - tx) * 4096, abs=1.0)
    assert py == pytest.approx(4096 - (fy - ty) * 4096, abs=1.0)  # decoded y runs up
    # Without the GCJ-02 basemap that tile, half a kilometre from the fire, holds nothing.
    plain = tile(district, db_settings, layer="incidents", z=z, x=tx, y=ty)
    assert _decode(plain, "incidents") == []
