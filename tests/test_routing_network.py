"""The pgRouting network, plans on it and the routes API, on a hand-drawn 3 x 3 street grid."""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import Engine, text

from geo.errors import InputError
from geo.routing.model import Stop
from geo.routing.network import build_network
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes, prepare
from geo.settings import Settings
from tests.clients import api_client

# Intersections every 100 m in EPSG:4547 (near Weilai Road, Zhengzhou): three east-west roads
# and three north-south roads, each one line through its three intersections, so the build has
# to cut them: 12 edges, 9 vertices. The southern road (y = 0) is one-way eastbound.
X0, Y0 = 472_000.0, 3_848_000.0
WALK_100M = 72  # seconds: 100 m at 5 km/h


def xy(i: int, j: int) -> tuple[float, float]:
    return X0 + 100 * i, Y0 + 100 * j


def line(points: list[tuple[float, float]]) -> str:
    return "LINESTRING(" + ", ".join(f"{x} {y}" for x, y in points) + ")"


@pytest.fixture
def grid(db: Engine, db_settings: Settings) -> Engine:
    roads = [(f"ew{j}", line([xy(i, j) for i in range(3)]), j == 0) for j in range(3)]
    roads += [(f"ns{i}", line([xy(i, j) for j in range(3)]), False) for i in range(3)]
    with db.begin() as conn:
        for road_id, wkt, oneway in roads:
            conn.execute(
                text(
                    "INSERT INTO roads (region, road_id, road_class, oneway, geom) "
                    "VALUES (:r, :id, 'residential', :ow, ST_GeomFromText(:wkt, 4547))"
                ),
                {"r": db_settings.region, "id": road_id, "ow": oneway, "wkt": wkt},
            )
        pois = [("S1", "station", "警务站", xy(0, 0), "{}")]
        pois.append(("G1", "school_gate", "小学", xy(1, 1), '{"window_am": "08:20-08:30"}'))
        for poi_id, kind, name, (x, y), props in pois:
            conn.execute(
                text(
                    "INSERT INTO pois (region, poi_id, kind, name, props, geom) VALUES "
                    "(:r, :id, :kind, :name, CAST(:props AS jsonb), ST_Point(:x, :y, 4547))"
                ),
                {"r": db_settings.region, "id": poi_id, "kind": kind, "name": name,
                 "props": props, "x": x, "y": y},
            )  # fmt: skip
    build_network(db, db_settings)
    return db


def test_build_cuts_roads_at_shared_vertices_and_prices_each_kind(
    grid: Engine, db_settings: Settings
) -> None:
    stats = build_network(grid, db_settings)  # rebuilding is safe: same network
    assert (stats.roads, stats.edges, stats.vertices) == (6, 12, 9)
    assert stats.length_m == pytest.approx(1200.0)
    assert stats.main == {"foot": 9, "bicycle": 9, "vehicle": 9}
    with grid.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT road_id, cost_foot, reverse_cost_foot, cost_vehicle, reverse_cost_vehicle "
                "FROM routing_edges ORDER BY road_id, id"
            )
        ).all()
        ends = conn.execute(
            text("SELECT count(*) FROM routing_edges WHERE source IS NULL OR target IS NULL")
        ).scalar_one()
    assert ends == 0
    for road_id, foot, foot_back, car, car_back in rows:
        assert foot == pytest.approx(WALK_100M)
        assert foot_back == pytest.approx(WALK_100M)
        assert car == pytest.approx(100 / (30 / 3.6))  # the town cap, 30 km/h
        # One-way road: vehicles may not go west; walkers may.
        assert car_back == (-1 if road_id == "ew0" else pytest.approx(car))


def request(**kw: Any) -> PlanRequest:
    base: dict[str, Any] = {
        "units": [UnitInput("步巡1", "S1")],
        "shift_start": datetime(2026, 11, 24, 8, 0),
        "shift_end": datetime(2026, 11, 24, 8, 30),
        "school_gates": False,
        "time_limit_s": 0.3,
    }
    return PlanRequest(**{**base, **kw})


def at(i: int, j: int, ident: str, risk: float) -> CandidateInput:
    x, y = xy(i, j)
    return CandidateInput(id=ident, kind="red", risk=risk, lon=x, lat=y, crs="EPSG:4547")


CANDIDATES = [at(2, 0, "A", 5.0), at(0, 2, "B", 4.0), at(2, 2, "C", 1.0)]


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def check_times(plan: dict[str, Any]) -> None:
    """Arrival = previous departure + leg travel; windows and the shift end respected."""
    for unit in plan["units"]:
        clock = seconds(unit["depart"])
        for stop, leg in zip(unit["stops"], unit["legs"], strict=False):
            assert seconds(stop["arrival"]) == clock + leg["travel_s"]
            assert seconds(stop["start"]) == seconds(stop["arrival"]) + stop["wait_s"]
            assert seconds(stop["departure"]) == seconds(stop["start"]) + stop["dwell_s"]
            if stop["window"]:
                opens, closes = (time.fromisoformat(t) for t in stop["window"].split("-"))
                assert datetime.fromisoformat(stop["start"]).time() >= opens
                assert datetime.fromisoformat(stop["departure"]).time() <= closes
            clock = seconds(stop["departure"])
        assert seconds(unit["return"]) == clock + unit["legs"][-1]["travel_s"]
        assert unit["return"] <= plan["shift"]["end"]


@pytest.mark.parametrize("solver", ["pyvrp", "best", "ortools", "exact"])
def test_plan_takes_the_two_riskiest_stops_in_half_an_hour(
    grid: Engine, db_settings: Settings, solver: str
) -> None:
    # 10 min at each stop. A (5) and B (4) are two blocks from the station and four from each
    # other: 144 + 600 + 288 + 600 + 144 = 1776 s <= 1800. All three would need 2376 s.
    plan = plan_routes(grid, db_settings, request(candidates=CANDIDATES, solver=solver))
    (unit,) = plan["units"]
    assert sorted(s["candidate_id"] for s in unit["stops"]) == ["A", "B"]
    assert [leg["travel_s"] for leg in unit["legs"]] == [
        2 * WALK_100M,
        4 * WALK_100M,
        2 * WALK_100M,
    ]
    assert unit["duration_s"] == 1776
    assert unit["distance_m"] == pytest.approx(800.0)
    assert unit["risk_covered"] == 9.0
    check_times(plan)
    (left,) = plan["left_out"]
    assert left["candidate_id"] == "C"
    assert left["reason"].startswith("not chosen")
    assert plan["summary"]["share_covered"] == pytest.approx(0.9)


def check_paths(engine: Engine, plan: dict[str, Any]) -> None:
    """Every leg is a chain of network edges, each walked in a direction its unit may use, whose
    costs add up to the leg's travel time; legs join end to end, from the station back to it."""
    with engine.connect() as conn:
        edges = {r.id: r for r in conn.execute(text("SELECT * FROM routing_edges"))}
    for unit in plan["units"]:
        cost_column = f"cost_{unit['kind']}"
        nodes: list[int] = []
        for leg in unit["legs"]:
            ids = leg["edge_ids"]
            if not ids:
                assert leg["travel_s"] == 0
                continue
            first, second = edges[ids[0]], edges[ids[1]] if len(ids) > 1 else None
            if second is None:
                node = first.source if getattr(first, cost_column) >= 0 else first.target
            else:
                node = (
                    first.source if first.target in {second.source, second.target} else first.target
                )
            if nodes:
                assert node == nodes[-1], "legs join end to end"
            nodes.append(node)
            travelled = 0.0
            for edge_id in ids:
                e = edges[edge_id]
                assert node in {e.source, e.target}, "consecutive edges share a vertex"
                forward = node == e.source
                cost = getattr(e, cost_column if forward else f"reverse_{cost_column}")
                assert cost >= 0, "edge walked in a barred direction"
                travelled += cost
                node = e.target if forward else e.source
            nodes.append(node)
            assert math.ceil(travelled - 1e-9) == leg["travel_s"]
        if nodes:
            assert nodes[0] == nodes[-1], "back at the station"


def test_paths_follow_edges_in_allowed_directions(grid: Engine, db_settings: Settings) -> None:
    plan = plan_routes(grid, db_settings, request(candidates=CANDIDATES))
    assert all(leg["edge_ids"] for leg in plan["units"][0]["legs"])
    check_paths(grid, plan)


def test_school_gate_is_held_for_its_whole_window(grid: Engine, db_settings: Settings) -> None:
    # Gate G1 at the centre (two blocks, 144 s away) is held 08:20-08:30: the unit waits there.
    plan = plan_routes(
        grid, db_settings, request(school_gates=True, shift_end=datetime(2026, 11, 24, 9, 0))
    )
    (unit,) = plan["units"]
    (stop,) = unit["stops"]
    assert (stop["candidate_id"], stop["window"]) == ("G1", "08:20-08:30")
    assert stop["arrival"].endswith("08:02:24+08:00")
    assert stop["start"].endswith("08:20:00+08:00")
    assert stop["departure"].endswith("08:30:00+08:00")
    check_times(plan)


def gate(i: int, j: int, ident: str, window: str) -> CandidateInput:
    x, y = xy(i, j)
    return CandidateInput(
        id=ident, kind="school_gate", risk=4.0, lon=x, lat=y, crs="EPSG:4547", windows=(window,)
    )


def test_gate_window_across_the_shift_change_is_clipped_to_the_shift(
    grid: Engine, db_settings: Settings
) -> None:
    # 07:50-08:30 in a shift from 08:00: the 30 of its 40 minutes inside the shift are worth 0.75
    # of the risk; the stop starts at 08:30 (1800 s) with no dwell, the wait before it the hold.
    shift = {"shift_start": datetime(2026, 11, 24, 8), "shift_end": datetime(2026, 11, 24, 16)}
    with grid.connect() as conn:
        built = prepare(
            conn, db_settings, request(**shift, candidates=[gate(1, 1, "K", "07:50-08:30")])
        )
    assert built.instance.stops == [Stop(0, 3.0, 0, 1800, 1800)]
    assert (built.refs[0].window, built.refs[0].from_arrival) == ("07:50-08:30", True)
    assert built.total == 3.0


@pytest.mark.parametrize("solver", ["pyvrp", "best", "ortools", "exact"])
def test_gate_across_the_shift_change_is_held_from_arrival_until_it_closes(
    grid: Engine, db_settings: Settings, solver: str
) -> None:
    # The kindergarten gate K at the centre (144 s away), open 07:50-08:30, in a shift from 08:00:
    # the unit arrives 08:02:24 and holds it until 08:30.
    plan = plan_routes(
        grid,
        db_settings,
        request(
            candidates=[gate(1, 1, "K", "07:50-08:30")],
            shift_end=datetime(2026, 11, 24, 9, 0),
            solver=solver,
        ),
    )
    (unit,) = plan["units"]
    (stop,) = unit["stops"]
    assert (stop["candidate_id"], stop["window"], stop["risk"]) == ("K", "07:50-08:30", 3.0)
    assert stop["arrival"].endswith("08:02:24+08:00")
    assert stop["start"].endswith("08:02:24+08:00")
    assert stop["departure"].endswith("08:30:00+08:00")
    assert (stop["wait_s"], stop["dwell_s"]) == (0, 1656)
    assert plan["left_out"] == []
    check_times(plan)


def test_gate_reached_only_after_its_window_closes_is_left_out_saying_so(
    grid: Engine, db_settings: Settings
) -> None:
    # Four blocks (288 s) from the station, the gate open until 08:04 cannot be reached in time.
    late = gate(2, 2, "L", "07:50-08:04")
    plan = plan_routes(
        grid, db_settings, request(candidates=[late], shift_end=datetime(2026, 11, 24, 9, 0))
    )
    (left,) = plan["left_out"]
    assert left["candidate_id"] == "L"
    assert left["reason"] == (
        "no unit can reach it in time for its window (07:50-08:04): "
        "the earliest arrival is 08:04:48, the latest it allows 08:04:00"
    )
    assert plan["units"][0]["stops"] == []


def test_gate_outside_the_shift_and_far_points_are_left_out_with_reasons(
    grid: Engine, db_settings: Settings
) -> None:
    far = CandidateInput(id="far", risk=3.0, lon=X0 + 5000, lat=Y0, crs="EPSG:4547")
    plan = plan_routes(
        grid,
        db_settings,
        request(
            school_gates=True,
            shift_start=datetime(2026, 11, 24, 9, 0),
            shift_end=datetime(2026, 11, 24, 10, 0),
            candidates=[far],
        ),
    )
    reasons = {x["candidate_id"]: x["reason"] for x in plan["left_out"]}
    assert reasons["G1"] == "its time windows (08:20-08:30) are outside the shift"
    assert reasons["far"].startswith("off the road network: 4800 m")
    assert plan["units"][0]["stops"] == []


def test_bad_requests_name_the_bad_value(grid: Engine, db_settings: Settings) -> None:
    with pytest.raises(InputError, match="no station 'S9'"):
        plan_routes(grid, db_settings, request(units=[UnitInput("u", "S9")]))
    gate = CandidateInput(id="x", risk=1, lon=X0, lat=Y0, crs="EPSG:4547", windows=("8h",))
    with pytest.raises(InputError, match="'8h' is not HH:MM-HH:MM"):
        plan_routes(grid, db_settings, request(candidates=[gate]))
    metres_as_degrees = CandidateInput(id="y", risk=1, lon=X0, lat=Y0)  # no crs: WGS84
    with pytest.raises(InputError, match=r"\(472000.0, 3848000.0\) cannot be converted"):
        plan_routes(grid, db_settings, request(candidates=[metres_as_degrees]))


def test_routes_api_plans_stores_and_exports(grid: Engine, db_settings: Settings) -> None:
    body = {
        "units": [{"name": "步巡1", "station": "S1", "kind": "foot"}],
        "shift_start": "2026-11-24T08:00:00+08:00",
        "budget_min": 30,
        "school_gates": False,
        "time_limit_s": 0.3,
        "candidates": [
            {"id": c.id, "kind": "red", "risk": c.risk, "lon": c.lon, "lat": c.lat,
             "crs": "EPSG:4547"}
            for c in CANDIDATES
        ],
    }  # fmt: skip
    with api_client(db_settings) as client:
        made = client.post("/api/routes", json=body)
        assert made.status_code == 201, made.text
        plan = made.json()
        again = client.get(f"/api/routes/{plan['id']}").json()
        assert again == plan
        gj = client.get(f"/api/routes/{plan['id']}.geojson")
        assert gj.headers["content-type"].startswith("application/geo+json")
        features = gj.json()["features"]
        kinds = [f["properties"]["feature"] for f in features]
        assert kinds == ["path", "station", "stop", "stop", "station"]
        path = features[0]["geometry"]
        assert path["type"] == "LineString"
        lon, lat = path["coordinates"][0]
        assert 113.6 < lon < 113.8  # Zhengzhou, EPSG:4326
        assert 34.7 < lat < 34.8
        assert path["coordinates"][0] == path["coordinates"][-1]  # back at the station
        gpx = client.get(f"/api/routes/{plan['id']}.gpx")
        root = ET.fromstring(gpx.text)  # noqa: S314 - our own output
        ns = {"g": "http://www.topografix.com/GPX/1/1"}
        assert len(root.findall("g:wpt", ns)) == 3  # the station and two stops
        assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) == len(path["coordinates"])
        assert client.get("/api/routes/999999").status_code == 404
        assert client.get("/api/routes/999999.geojson").status_code == 404
        bad = client.post("/api/routes", json={**body, "shift_end": "2026-11-24T09:00:00"})
        assert bad.status_code == 422
