"""The web pages: offline by construction, the risk page's data, the dashboard's counts, assets,
coverage-preserving simplification and the basemap setting.

The district ``mapdist`` is made by hand: a 400 m × 400 m sub-district near Zhengzhou (EPSG:4547)
cut into 2 level-2 grids, 4 level-3 grids and 16 micro-grids of 100 m. One hazard per colour band
sits in four micro-grids, and the real risk engine (geo/risk) colours the map from them, so the
micro level shows all four colours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import shapely
from sqlalchemy import Engine, text

from api.app import create_app
from geo.errors import InputError
from geo.risk import run_risk
from geo.settings import Settings
from geo.simplify import simplify_coverage
from maps.assets import ASSETS, external_urls, missing_assets
from maps.basemap import basemap, shift_points
from maps.pages import OfflineViolationError, check_offline
from tests.clients import api_client

X0, Y0, CELL = 468_000.0, 3_846_800.0, 100.0
AS_OF = date(2025, 6, 30)
TODAY = date(2025, 7, 1)

# (micro-grid row, column) → hazard: LEC 10·6·7 = 420 red, 6·6·7 = 252 orange, 3·6·7 = 126
# yellow; LS 2·2 = 4 blue (a hazard that keeps its micro-grid blue).
HAZARDS = [
    ((0, 0), "LEC", (10, 6, 7), "red"),
    ((1, 1), "LEC", (6, 6, 7), "orange"),
    ((2, 2), "LEC", (3, 6, 7), "yellow"),
    ((3, 3), "LS", (2, 2), "blue"),
]


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(x, y, x + w, y + h)


def _grid_geom(x: float, y: float, w: float, h: float) -> str:
    """A rectangle with a vertex every CELL metres, so it is edge-matched with its children."""
    cells = [
        _box(x + i * CELL, y + j * CELL, CELL, CELL)
        for i in range(int(w // CELL))
        for j in range(int(h // CELL))
    ]
    return str(shapely.to_wkt(shapely.multipolygons([shapely.coverage_union_all(cells)])))


def build_district(engine: Engine, settings: Settings) -> None:
    """Insert the hand-made hierarchy and hazards, then compute and keep the risk map."""
    region = settings.region
    rows: list[tuple[str, str, str, str | None, str]] = [
        ("S", "测试街道", "subdistrict", None, _grid_geom(X0, Y0, 400, 400))
    ]
    for g in range(2):
        rows.append(
            (f"S-{g}", f"第{g + 1}网格", "grid2", "S", _grid_geom(X0 + g * 200, Y0, 200, 400))
        )
        for h in range(2):
            code = f"S-{g}-{h}"
            rows.append(
                (
                    code,
                    f"第{g + 1}-{h + 1}格",
                    "grid3",
                    f"S-{g}",
                    _grid_geom(X0 + g * 200, Y0 + h * 200, 200, 200),
                )
            )
            for i in range(2):
                for j in range(2):
                    col, row = g * 2 + i, h * 2 + j
                    rows.append(
                        (
                            f"M{row}{col}",
                            f"微{row}{col}号",
                            "micro",
                            code,
                            _grid_geom(X0 + col * CELL, Y0 + row * CELL, CELL, CELL),
                        )
                    )
    with engine.begin() as conn:
        for code, name, level, parent, wkt in rows:
            conn.execute(
                text(
                    "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
                    "VALUES (:r, :c, :n, :l, :p, '{}', ST_Multi(ST_GeomFromText(:w, 4547)))"
                ),
                {"r": region, "c": code, "n": name, "l": level, "p": parent, "w": wkt},
            )
        conn.execute(
            text(
                "WITH RECURSIVE t AS (SELECT code, ARRAY[]::text[] AS anc FROM areas "
                "WHERE parent_code IS NULL UNION ALL SELECT a.code, t.anc || t.code FROM areas a "
                "JOIN t ON a.parent_code = t.code) "
                "UPDATE areas a SET ancestors = t.anc FROM t WHERE a.code = t.code"
            )
        )
        for n, ((row, col), method, values, _colour) in enumerate(HAZARDS):
            lec = values if method == "LEC" else (None, None, None)
            ls = values if method == "LS" else (None, None)
            code = f"M{row}{col}"
            conn.execute(
                text(
                    "INSERT INTO hazards (region, source, source_id, category, name, method, "
                    "lec_l, lec_e, lec_c, ls_l, ls_s, status, identified_at, geom, area_code, "
                    "area_path) "
                    "SELECT :r, 'test', :s, '消防', :n, :m, :l1, :e1, :c1, :l2, :s2, 'open', "
                    "'2025-01-01 00:00+08', ST_PointOnSurface(a.geom), a.code, "
                    "a.ancestors || a.code FROM areas a WHERE a.code = :code"
                ),
                {
                    "r": region,
                    "s": f"h{n}",
                    "n": f"隐患{n}",
                    "m": method,
                    "l1": lec[0],
                    "e1": lec[1],
                    "c1": lec[2],
                    "l2": ls[0],
                    "s2": ls[1],
                    "code": code,
                },
            )
    run_risk(
        engine,
        settings,
        as_of=datetime(
            AS_OF.year, AS_OF.month, AS_OF.day, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai")
        ),
    )


@pytest.fixture(scope="module")
def mapdist(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    """The hand-made district with its risk map, in a database of its own."""
    engine, settings = make_db("maps")
    build_district(engine, settings)
    return engine, settings


def test_risk_engine_gives_four_colours(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    with api_client(settings) as client:
        fc = client.get("/api/risk", params={"level": "micro", "as_of": AS_OF.isoformat()}).json()
    colours = {f["properties"]["code"]: f["properties"]["colour"] for f in fc["features"]}
    for (row, col), _m, _v, colour in HAZARDS:
        assert colours[f"M{row}{col}"] == colour
    assert set(colours.values()) == {"red", "orange", "yellow", "blue"}


def test_risk_page_embeds_simplified_areas_offline(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    with api_client(settings) as client:
        r = client.get("/maps/risk", params={"level": "micro", "as_of": AS_OF.isoformat()})
    assert r.status_code == 200
    html = r.text
    assert external_urls(html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "cdn" not in html.lower()
    config = json.loads(html.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0])
    assert config["mode"] == "embed"
    feats = config["areas"]["features"]
    assert len(feats) == 16
    assert {f["properties"]["colour"] for f in feats} == {"red", "orange", "yellow", "blue"}
    assert all(len(f["properties"]["label"]) == 2 for f in feats)


def test_risk_page_switches_to_tiles_above_the_threshold(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    app = create_app(settings.replace(map_embed_max_features=15))
    with api_client(settings, app=app) as client:
        micro = client.get("/maps/risk", params={"level": "micro", "as_of": AS_OF.isoformat()}).text
        grid3 = client.get("/maps/risk", params={"level": "grid3", "as_of": AS_OF.isoformat()}).text
    assert '"mode":"tiles"' in micro
    assert '"areas":null' in micro
    assert '"mode":"embed"' in grid3


def test_dashboard_counts(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    with api_client(settings) as client:
        html = client.get("/").text
    assert external_urls(html) == []
    # 1/2/4/16 areas; micro colours 1 red, 1 orange, 1 yellow, 13 blue; 4 open hazards.
    compact = re.sub(r">\s+<", "><", html)
    assert "".join(f'<td class="n">{n}</td>' for n in (16, 1, 1, 1, 13)) in compact
    assert '<section id="hazards"><h2>未整改隐患</h2><div class="big">4</div>' in compact
    # The other pages the app serves are linked.
    assert '<li><a href="/stats">案件统计</a></li>' in compact
    assert '<li><a href="/maps/coverage">巡逻覆盖</a></li>' in compact


def test_map_data_endpoints(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    with api_client(settings) as client:
        hazards = client.get("/maps/data/hazards", params={"as_of": "2025-06-30"}).json()["hazards"]
        before = client.get("/maps/data/hazards", params={"as_of": "2024-12-31"}).json()["hazards"]
        heat = client.get("/maps/data/incidents").json()
    assert sorted(h["colour"] for h in hazards) == ["blue", "orange", "red", "yellow"]
    assert before == []
    assert heat == {"count": 0, "points": [], "details": []}


def test_assets_are_served_with_caching(db_settings: Settings) -> None:
    assert missing_assets(db_settings) == []
    with api_client(db_settings) as client:
        for name in ASSETS:
            r = client.get(f"/static/{name}")
            assert r.status_code == 200, name
            assert "max-age" in r.headers["cache-control"]
            again = client.get(f"/static/{name}", headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304
        assert client.get("/static/../geo/settings.py").status_code == 404
        assert client.get("/static/vendor/leaflet/leaflet.js.map").status_code == 404
    broken = db_settings.replace(vendor_dir=db_settings.maps.vendor_dir / "nowhere")
    with api_client(broken) as client:
        r = client.get("/static/vendor/leaflet/leaflet.js")
    assert r.status_code == 503
    assert "scripts/setup.sh" in r.json()["detail"]


def test_offline_check_finds_every_kind_of_external_reference() -> None:
    html = (
        '<script src="https://cdn.jsdelivr.net/npm/leaflet.js"></script>'
        "<link href='//cdnjs.cloudflare.com/x.css'>"
        "<style>a { background: url(http://example.com/i.png) }</style>"
        "<div style=\"background-image: url('https://tiles.example.com/1.png')\"></div>"
        '<img srcset="https://img.example.com/a.png 1x, /static/b.png 2x">'
        '<script src="/static/vendor/leaflet/leaflet.js"></script>'
    )
    assert external_urls(html) == [
        "https://cdn.jsdelivr.net/npm/leaflet.js",
        "//cdnjs.cloudflare.com/x.css",
        "http://example.com/i.png",
        "https://tiles.example.com/1.png",
        "https://img.example.com/a.png",
    ]
    with pytest.raises(OfflineViolationError, match="5 URL"):
        check_offline(html)
    assert check_offline("<p>/static/x</p>") == "<p>/static/x</p>"


def test_text_and_script_data_are_not_references() -> None:
    """Names users typed (in text or in data a script embeds) never count as a page's URLs."""
    html = (
        "<p>网格 http://example.com/x</p>"
        '<script>var config = {"name": "https://evil.example/x"};</script>'
        "<td>src=http://evil</td>"
    )
    assert external_urls(html) == []
    assert check_offline(html) == html


def test_coverage_simplification_keeps_the_coverage() -> None:
    """Two neighbours sharing a wiggly edge: simplified, they still meet with no gap or overlap."""
    # A zigzag along x = 0 of 0.1 m amplitude (1e-6°) every 0.01° (≈ 1.1 km): each of its
    # triangles has about 2.2 km × 0.1 m / 2 ≈ 110 m², i.e. ≈ 10 m by the tolerance's measure.
    edge = [(1e-6 if i % 2 else 0.0, i / 100) for i in range(101)]
    left = shapely.Polygon([(-0.01, 0.0), *edge, (-0.01, 1.0)])
    right = shapely.Polygon([*edge, (0.01, 1.0), (0.01, 0.0)])
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": k,
                "geometry": json.loads(shapely.to_geojson(g)),
                "properties": {"code": k},
            }
            for k, g in (("L", left), ("R", right))
        ],
    }
    out, simplified = simplify_coverage(fc, tolerance_m=50.0)
    assert simplified
    a, b = (shapely.from_geojson(json.dumps(f["geometry"])) for f in out["features"])
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(left) / 5
    assert shapely.intersection(a, b).area == pytest.approx(0.0, abs=1e-12)
    assert shapely.union_all([a, b]).area == pytest.approx(
        shapely.union_all([left, right]).area, rel=1e-6
    )
    # The shared edge is one line in both: their boundaries meet along its whole length (~1°).
    assert shapely.intersection(a.boundary, b.boundary).length == pytest.approx(1.0, rel=1e-3)
    # Labels are inside their original polygons.
    for f, g in zip(out["features"], (left, right), strict=True):
        lat, lon = f["properties"]["label"]
        assert g.contains(shapely.Point(lon, lat))


def test_overlapping_input_is_not_simplified() -> None:
    a, b = shapely.box(0, 0, 1e-3, 1e-3), shapely.box(5e-4, 0, 2e-3, 1e-3)
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "x",
                "geometry": json.loads(shapely.to_geojson(g)),
                "properties": {},
            }
            for g in (a, b)
        ],
    }
    out, simplified = simplify_coverage(fc, tolerance_m=50.0)
    assert not simplified
    assert shapely.from_geojson(json.dumps(out["features"][0]["geometry"])).equals(a)


def test_basemap_setting() -> None:
    s = Settings()
    assert basemap(s.maps).background
    amap = basemap(s.replace(basemap="amap").maps)
    assert amap.gcj02
    assert not amap.background
    local = basemap(s.replace(basemap="/tiles-local/{z}/{x}/{y}.png").maps)
    assert local.allowed == ()
    with pytest.raises(InputError, match="GRIDSAFE_BASEMAP_KEY"):
        basemap(s.replace(basemap="tianditu").maps)
    with pytest.raises(InputError, match="neither"):
        basemap(s.replace(basemap="osm").maps)
    # GCJ-02 moves a point in Zhengzhou by a few hundred metres (geo/crs.py's forward formula).
    ((lon, lat),) = shift_points([(113.65, 34.75)])
    assert 1e-3 < abs(lon - 113.65) + abs(lat - 34.75) < 1e-2


def test_amap_page_shifts_overlays(mapdist: tuple[Engine, Settings]) -> None:
    _engine, settings = mapdist
    pages = {}
    for name in ("none", "amap"):
        app = create_app(settings.replace(basemap=name))
        with api_client(settings, app=app) as client:
            html = client.get(
                "/maps/risk", params={"level": "micro", "as_of": AS_OF.isoformat()}
            ).text
        pages[name] = json.loads(
            html.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
        )
    plain = pages["none"]["areas"]["features"][0]["properties"]["label"]
    shifted = pages["amap"]["areas"]["features"][0]["properties"]["label"]
    ((lon, lat),) = shift_points([(plain[1], plain[0])])
    assert shifted == pytest.approx([lat, lon], abs=1e-6)
    assert not pages["amap"]["background"]
