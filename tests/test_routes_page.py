"""The route plan page in real headless Chromium: offline, each unit's path painted in its own
colour over the risk colours, numbered stops in order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo.access import Role
from geo.routing.network import build_network
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes
from geo.settings import Settings
from maps.pages import COLOURS, UNDERLAY_OPACITY, UNIT_COLOURS
from tests.browser import Tab, hover_area, serve, sign_in
from tests.clients import api_client
from tests.test_maps import CELL, X0, Y0, build_district


def _xy(i: int, j: int) -> tuple[float, float]:
    return X0 + 50 + CELL * i, Y0 + 50 + CELL * j


def _plan(engine: Engine, settings: Settings, *, gaps: bool = False, hours: int = 1) -> dict:
    """Roads through the micro-grid centres of the hand-made district, a station, a plan of a
    shift from 08:00 lasting ``hours``."""
    with engine.begin() as conn:
        for k in range(4):
            for road_id, pts in (
                (f"ew{k}", [_xy(i, k) for i in range(4)]),
                (f"ns{k}", [_xy(k, j) for j in range(4)]),
            ):
                wkt = "LINESTRING(" + ", ".join(f"{x} {y}" for x, y in pts) + ")"
                conn.execute(
                    text(
                        "INSERT INTO roads (region, road_id, road_class, geom) "
                        "VALUES (:r, :id, 'residential', ST_GeomFromText(:wkt, 4547))"
                    ),
                    {"r": settings.region, "id": road_id, "wkt": wkt},
                )
        x, y = _xy(0, 0)
        conn.execute(
            text(
                "INSERT INTO pois (region, poi_id, kind, name, geom) "
                "VALUES (:r, 'S1', 'station', '警务站', ST_Point(:x, :y, 4547))"
            ),
            {"r": settings.region, "x": x, "y": y},
        )
    build_network(engine, settings)
    stops = [
        CandidateInput(id=f"P{i}{j}", kind="red", risk=r, lon=_xy(i, j)[0], lat=_xy(i, j)[1],
                       crs="EPSG:4547")
        for i, j, r in ((3, 0, 5.0), (3, 3, 4.0), (0, 3, 3.0))
    ]  # fmt: skip
    request = PlanRequest(
        units=[UnitInput("步巡1", "S1")],
        shift_start=datetime(2026, 11, 24, 8, 0),
        shift_end=datetime(2026, 11, 24, 8 + hours, 0),
        candidates=stops,
        risk_areas=False,
        school_gates=False,
        gaps=gaps,
        time_limit_s=0.3,
    )
    return plan_routes(engine, settings, request)


def test_route_page_draws_paths_and_numbered_stops_over_risk(
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    engine, settings = make_db("routespage")
    build_district(engine, settings)
    plan = _plan(engine, settings)
    assert len(plan["units"][0]["stops"]) == 3
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        tab.goto(f"/maps/routes/{plan['id']}", ready=".gs-stop")
        png = tab.shot(artifacts / "route_plan.png")
        tab.assert_offline()
        numbers = tab.texts(".gs-stop")
        legend = tab.text(".gs-route-legend")
        # The risk colours beneath answer the mouse: a micro-grid's name and colour.
        tip = hover_area(tab, "M12")
        assert "微12号" in tip
        assert "blue" in tip or "蓝" in tip
        tab.shot(artifacts / "route_hover.png")
    assert sorted(numbers) == ["1", "2", "3", "站"]
    assert "步巡1" in legend
    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)

    def pixels(colour: np.ndarray) -> int:
        return int((np.abs(img - colour).max(axis=2) <= 12).sum())

    assert pixels(_rgb(UNIT_COLOURS[0])) > 500  # the path is painted
    background = img[img.shape[0] // 2, 5]  # left of the district
    underlay = {
        name: pixels(UNDERLAY_OPACITY * _rgb(hex_) + (1 - UNDERLAY_OPACITY) * background)
        for name, hex_ in COLOURS.items()
    }
    assert all(n > 2000 for n in underlay.values()), underlay  # all four risk colours beneath


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_unknown_plan_is_404(db: Engine, db_settings: Settings) -> None:
    with api_client(db_settings) as client:
        assert client.get("/maps/routes/424242").status_code == 404


def test_unvisited_micro_grids_become_stops(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    """With no patrol in 7 days every micro-grid is a gap (the weekly visit rule): each is a
    candidate worth half the riskiest stop (route_gap_weight), and the plan visits some."""
    engine, settings = make_db("routegaps")
    build_district(engine, settings)
    plan = _plan(engine, settings, gaps=True)
    stops = plan["units"][0]["stops"]
    gap_stops = [s for s in stops if s["kind"] == "gap"]
    assert gap_stops, stops
    assert all(s["risk"] == pytest.approx(0.5 * 5.0) for s in gap_stops)
    considered = {s["candidate_id"] for s in stops} | {c["candidate_id"] for c in plan["left_out"]}
    assert {"M00", "M33"} <= considered  # micro-grids of the district, by code
