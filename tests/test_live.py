"""The live picture: units on duty (registered for the shift or sending fixes), their latest
fix's age, on or off the plan followed, and the red/orange micro-grids not patrolled this
shift; the page shows it and refreshes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from playwright.sync_api import BrowserContext, expect
from pyproj import Transformer
from sqlalchemy import Engine

from geo.access import Role
from geo.routing.live import live_view
from geo.routing.network import UnitKind
from geo.routing.units import PatrolUnit, save_unit
from geo.settings import Settings
from tests.browser import Tab, click, hover, serve, sign_in
from tests.test_maps import X0, Y0, build_district
from tests.test_routes_page import _plan
from tests.test_routing_review import _stay

NOW = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 08:30 in Zhengzhou: shift 2 (08-16)


def _scene(engine: Engine, settings: Settings) -> dict:
    build_district(engine, settings)
    plan = _plan(engine, settings)
    with engine.begin() as conn:
        for name in ("步巡1", "步巡2"):
            save_unit(conn, settings, PatrolUnit(name, UnitKind.FOOT, "S1", (2,)))
        save_unit(conn, settings, PatrolUnit("夜巡", UnitKind.FOOT, "S1", (1,)))
    stop = plan["units"][0]["stops"][0]["geometry"]["coordinates"]
    _stay(engine, settings, "步巡1", stop, NOW - timedelta(minutes=12), 2)
    # A unit nobody registered, sending fixes this shift.
    _stay(engine, settings, "X9", stop, NOW - timedelta(minutes=4), 1)
    return plan


def test_units_on_duty_and_what_is_left_to_patrol(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("live")
    plan = _scene(engine, settings)
    live = live_view(engine, settings, now=NOW)
    assert live["plan_id"] == plan["id"]
    assert live["shift"]["number"] == 2
    units = {u["name"]: u for u in live["units"]}
    assert set(units) == {"步巡1", "步巡2", "X9"}  # 夜巡 works the night shift
    assert units["步巡1"]["fix"]["age_s"] == 10 * 60
    assert units["步巡1"]["on_plan"] is True
    assert units["步巡2"]["fix"] is None
    assert units["X9"]["registered"] is False
    assert units["X9"]["on_plan"] is None  # the plan does not name it
    colours = {f["properties"]["colour"] for f in live["unpatrolled"]["features"]}
    assert colours
    assert colours <= {"red", "orange"}

    # Far from every road of its plan, it is off the plan.
    lon, lat = Transformer.from_crs(4547, 4326, always_xy=True).transform(X0 - 600, Y0 - 600)
    _stay(engine, settings, "步巡1", [lon, lat], NOW - timedelta(minutes=1), 1)
    later = live_view(engine, settings, now=NOW + timedelta(seconds=30))
    moved = {u["name"]: u for u in later["units"]}["步巡1"]
    assert moved["on_plan"] is False
    assert moved["off_plan_m"] > 500


def test_the_live_page_shows_and_refreshes(
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    engine, settings = make_db("livepage")
    _scene(engine, settings)
    with time_machine.travel(NOW, tick=True), serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        tab.goto("/maps/live", ready=".gs-live-unit")
        rows = tab.texts(".gs-live-unit")
        tab.shot(artifacts / "live.png")
        assert len(rows) == 3
        first = next(r for r in rows if "步巡1" in r)
        assert "10 分钟前" in first
        assert "按方案" in first
        assert "未登记" in next(r for r in rows if "X9" in r)
        assert "本班次无定位" in next(r for r in rows if "步巡2" in r)
        # 步巡1 and X9 stand at the same stop: both are drawn apart, each hovered and clicked.
        centres = {name: _centre(tab, name) for name in ("步巡1", "X9")}
        (x1, y1), (x2, y2) = centres.values()
        assert abs(x1 - x2) >= 16 or abs(y1 - y2) >= 16, centres
        for name, point in centres.items():
            tip = hover(tab, point)
            assert name in tip
            assert "分钟前" in tip
            click(tab, point)
            picked = tab.page.locator(".gs-live-unit.gs-picked")
            expect(picked).to_have_count(1)
            expect(picked).to_have_attribute("data-unit", name)
        tab.shot(artifacts / "live_same_spot.png")
        # A new fix arrives: the page shows it at its next refresh, unasked.
        _stay(engine, settings, "步巡2", [113.7, 34.78], NOW, 0)
        expect(tab.page.locator(".gs-live-unit[data-unit='步巡2']")).not_to_contain_text(
            "本班次无定位", timeout=40_000
        )
        # The plan followed, against the tracks so far: its first stop was passed, not kept.
        with tab.page.expect_navigation():
            tab.page.locator("#gs-live-plan a").click()
        review = tab.page.locator("#gs-review-table tr").first
        expect(review).to_contain_text("未到")
        expect(tab.page.locator("#gs-review-summary")).to_contain_text("截至 08:3")
        tab.shot(artifacts / "plan_review.png")
        tab.assert_offline()


def _centre(tab: Tab, unit: str) -> tuple[float, float]:
    """Where the unit's marker is drawn on the screen."""
    box = tab.page.locator(f".gs-live-marker[data-unit='{unit}']").bounding_box()
    assert box is not None, unit
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
