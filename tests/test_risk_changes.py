"""What changed on the four-colour map between two dates (issue 16 item 4), from stored
computations: the hand-made district is computed on 30 June 2025; in the week after, its red
hazard 隐患0 (micro-grid M00) is closed and a new red hazard 新隐患 opens in the blue M33; the
map of 7 July is stored. The comparison names the areas that rose and fell, and why; a past
date no computation answers is not found; the dashboard of 7 July shows the last week."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import Engine, text

from geo.risk import as_of_instant, run_risk
from geo.settings import Settings
from tests.browser import Tab, hover_area, serve, sign_in
from tests.clients import api_client
from tests.conftest import travel
from tests.frozen import at
from tests.test_maps import AS_OF, build_district

LATER = AS_OF + timedelta(days=7)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def week(make_db: Callable[..., tuple[Engine, Settings]]) -> Settings:
    """The district computed on AS_OF, changed during the week, computed again on LATER."""
    engine, settings = make_db("changes")
    build_district(engine, settings)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE hazards SET status = 'closed', closed_at = :t "
                "WHERE region = :r AND name = '隐患0'"
            ),
            {"r": settings.region, "t": datetime(2025, 7, 2, 10, tzinfo=SHANGHAI)},
        )
        conn.execute(
            text(
                "INSERT INTO hazards (region, source, source_id, category, name, method, "
                "lec_l, lec_e, lec_c, status, identified_at, geom, area_code, area_path) "
                "SELECT :r, 'test', 'new', '消防', '新隐患', 'LEC', 10, 6, 7, 'open', :t, "
                "ST_PointOnSurface(a.geom), a.code, a.ancestors || a.code "
                "FROM areas a WHERE a.code = 'M33'"
            ),
            {"r": settings.region, "t": datetime(2025, 7, 3, 9, tzinfo=SHANGHAI)},
        )
    run_risk(engine, settings, as_of=as_of_instant(LATER, settings.timezone))
    return settings


def test_the_areas_that_rose_and_fell_and_why(week: Settings) -> None:
    with api_client(week) as client:
        r = client.get(
            "/api/risk/changes",
            params={"level": "micro", "from": AS_OF.isoformat(), "to": LATER.isoformat()},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["since"].startswith(AS_OF.isoformat())
    assert body["until"].startswith(LATER.isoformat())
    changed = {a["code"]: a for a in body["areas"]}
    assert set(changed) == {"M00", "M33"}
    assert [a["code"] for a in body["areas"]] == ["M33", "M00"]  # the rise first
    up, down = changed["M33"], changed["M00"]
    assert (up["before"], up["after"]) == ("blue", "red")
    assert [h["name"] for h in up["hazards_new"]] == ["新隐患"]
    assert up["hazards_gone"] == []
    assert (down["before"], down["after"]) == ("red", "blue")
    assert [h["name"] for h in down["hazards_gone"]] == ["隐患0"]
    assert down["hazards_new"] == []


def test_a_parent_names_the_children_that_changed(week: Settings) -> None:
    with api_client(week) as client:
        body = client.get(
            "/api/risk/changes",
            params={"level": "grid3", "from": AS_OF.isoformat(), "to": LATER.isoformat()},
        ).json()
    changed = {a["code"]: a for a in body["areas"]}
    # S-1-1 holds M33 (blue to red): it rises to red with M33 among its red children.
    assert changed["S-1-1"]["after"] == "red"
    assert "M33" in [k["code"] for k in changed["S-1-1"]["children_new"]]


def test_a_past_date_with_no_computation_is_not_found(week: Settings) -> None:
    with api_client(week) as client:
        r = client.get(
            "/api/risk/changes",
            params={"level": "micro", "from": "2025-06-01", "to": LATER.isoformat()},
        )
        assert r.status_code == 404, r.text
        r = client.get(
            "/api/risk/changes",
            params={"level": "micro", "from": LATER.isoformat(), "to": AS_OF.isoformat()},
        )
        assert r.status_code == 400, r.text


@pytest.mark.parametrize("wall", ["00:30", "23:30"])
def test_the_dashboard_shows_the_last_week(week: Settings, wall: str) -> None:
    """On 7 July (just after midnight and just before the next) the dashboard compares the
    map of a week ago with today's."""
    with travel(at(f"later-{wall}", f"{LATER.isoformat()}T{wall}")), api_client(week) as client:
        page = client.get("/").text
    assert "新隐患" in page
    assert "隐患0" in page
    assert "微33号" in page
    assert "微00号" in page
    assert date(2025, 6, 30).isoformat() in page


@pytest.mark.browser
def test_a_leader_picks_two_dates_and_sees_the_changes_on_the_map(
    week: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    """On the dashboard a leader types the two dates, compares, and follows the link to the
    map: the areas that changed are drawn in their new colour with a ranked list, and hovering
    the one that rose says what it was and why."""
    with serve(week) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, week)
        tab.goto("/")
        section = tab.page.locator("#changes")
        section.locator('input[name="change_from"]').fill(AS_OF.isoformat())
        section.locator('input[name="change_to"]').fill(LATER.isoformat())
        with tab.page.expect_navigation():
            section.get_by_role("button", name="比较").click()
        expect(section).to_contain_text("新增隐患 新隐患")
        expect(section).to_contain_text("隐患已销号：隐患0")
        tab.shot(artifacts / "dashboard_changes.png")
        with tab.page.expect_navigation():
            section.locator("#changes-map").click()
        tab.page.wait_for_load_state("networkidle")
        listed = tab.page.locator(".gs-changes li")
        expect(listed).to_have_count(2)
        assert "第2-2格" in listed.nth(0).inner_text()  # S-1-1 rose: first
        assert "▲" in listed.nth(0).inner_text()
        assert "▼" in listed.nth(1).inner_text()
        tip = hover_area(tab, "S-1-1")
        assert "▲" in tip
        assert "新隐患" in tip
        tab.shot(artifacts / "risk_changes_map.png")
        tab.assert_offline()
