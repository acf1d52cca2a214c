"""The planning page in real Chromium, as a dispatcher uses it: a unit registered on the
register page, units picked from the list, a plan run with its progress shown, a stop dropped
and a unit removed, re-planned, saved, found in the day's list, and a unit's route sheet opened;
a long plan cancelled."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

from playwright.sync_api import BrowserContext, expect
from pyproj import Transformer
from sqlalchemy import Engine

from geo.access import Role
from geo.routing.network import UnitKind
from geo.routing.units import PatrolUnit, save_unit
from geo.settings import Settings
from maps.i18n import translator
from maps.plan import PLAN_TEXT
from tests.browser import Tab, serve, sign_in
from tests.test_maps import X0, Y0, build_district
from tests.test_routes_page import _plan, _xy

DAY = "2026-11-24"


def _district(make_db: Callable[..., tuple[Engine, Settings]], name: str) -> Settings:
    """The hand-made district with roads, station S1 and two registered foot units."""
    engine, settings = make_db(name)
    build_district(engine, settings)
    _plan(engine, settings)  # the roads, the station and a first plan of the day
    with engine.begin() as conn:
        for unit in ("步巡1", "步巡2"):
            save_unit(conn, settings, PatrolUnit(unit, UnitKind.FOOT, "S1", ()))
    engine.dispose()
    return settings


def _pick_shift(tab: Tab) -> None:
    tab.page.locator("#gs-day").fill(DAY)
    tab.page.locator("#gs-shift").select_option(value="2")


def _assert_stops_apart(tab: Tab) -> None:
    """Numbered stops stay readable: no two markers' boxes overlap on the screen."""
    markers = tab.page.locator(".gs-stop").all()
    boxes = [b for b in (m.bounding_box() for m in markers) if b is not None]
    overlaps = [
        (a, b)
        for a, b in combinations(boxes, 2)
        if abs(a["x"] - b["x"]) < a["width"] - 2 and abs(a["y"] - b["y"]) < a["height"] - 2
    ]
    assert overlaps == [], overlaps


def _set_limit(tab: Tab, seconds: int) -> None:
    limit = tab.page.locator("#gs-limit")
    limit.click()
    limit.press("Control+A")
    tab.page.keyboard.type(str(seconds))


def test_plan_a_shift_through_the_page(  # noqa: PLR0915 - one dispatcher's session, in order
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    settings = _district(make_db, "planpage")
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        page = tab.page

        # A vehicle registered on the register page, working the second shift.
        tab.goto("/maps/units", ready="#gs-units")
        new = page.locator("#gs-units tr.gs-new")
        new.locator("[name=name]").click()
        page.keyboard.type("车巡1")
        new.locator("[name=kind]").select_option(label="车巡")
        new.locator("[name=station]").select_option(label="警务站")
        new.locator("label.gs-shift", has_text="2 (08-16)").click()
        with page.expect_navigation():
            new.get_by_role("button", name="登记").click()
        expect(page.locator("#gs-units tr[data-unit='车巡1']")).to_be_visible()
        tab.shot(artifacts / "units_register.png")

        tab.goto("/maps/routes", ready="#gs-units-pick")
        _pick_shift(tab)
        # The vehicle works shift 2: it is on duty and picked already; add one foot unit.
        assert page.locator("#gs-units-pick input[value='车巡1']").is_checked()
        assert not page.locator("#gs-units-pick input[value='步巡2']").is_checked()
        page.locator("label.gs-unit-pick", has_text="步巡1").click()
        _set_limit(tab, 1)
        page.get_by_role("button", name="规划", exact=True).click()
        expect(page.locator("#gs-progress")).to_be_visible()
        expect(page.locator(".gs-timetable")).to_have_count(2, timeout=60_000)
        first_id = page.locator("#gs-plan-title").inner_text()
        tab.shot(artifacts / "plan_page.png")
        summary = page.locator("#gs-plan-summary").inner_text()
        assert "覆盖风险" in summary
        assert "2026-11-24 08:00–16:00" in summary
        heads = " ".join(tab.texts(".gs-timetable h3"))
        assert "车巡1" in heads
        assert "步巡1" in heads
        assert page.locator(".gs-timetable tbody tr").count() >= 2
        _assert_stops_apart(tab)

        # Adjust: drop the foot unit's first stop, remove the vehicle, re-plan.
        foot = page.locator(".gs-timetable[data-unit='步巡1']")
        first_stop = foot.locator("tbody tr").first
        dropped = first_stop.get_attribute("data-candidate")
        first_stop.get_by_role("button", name="去掉").click()
        vehicle = page.locator(".gs-timetable[data-unit='车巡1']")
        kept = vehicle.locator("tbody tr").first
        pin = kept.get_attribute("data-candidate")
        kept.get_by_role("button", name="固定").click()
        vehicle.get_by_role("button", name="撤下力量").click()
        page.get_by_role("button", name="按调整重新规划").click()
        expect(page.locator("#gs-plan-title")).not_to_have_text(first_id, timeout=60_000)
        expect(page.locator(".gs-timetable")).to_have_count(1)
        assert page.locator(".gs-timetable").get_attribute("data-unit") == "步巡1"
        planned = page.locator(".gs-timetable tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.candidate)"
        )
        assert dropped not in planned
        # The pinned stop went to the unit left, and stays pinned for the next change.
        assert pin in planned
        again = page.locator(f".gs-timetable tr[data-candidate='{pin}'] .gs-pin")
        assert again.get_attribute("aria-pressed") == "true"
        # Every candidate left out says why, in the reader's language.
        reasons = tab.texts("#gs-left-out td:nth-child(3)")
        assert [r for r in reasons if re.search("[A-Za-z]", r) or not r.strip()] == []

        # Save it, find it in the day's list, open the sheet of its unit.
        page.get_by_role("button", name="保存方案").click()
        expect(page.locator("#gs-plan-status")).to_contain_text("已于")
        plan_id = page.locator("#gs-plan-title").inner_text().split("#")[1].strip()
        row = page.locator("#gs-plans tr", has_text=f"#{plan_id} ")
        expect(row).to_contain_text("已于")
        tab.shot(artifacts / "plan_replanned.png")
        with page.expect_navigation():
            page.get_by_role("link", name="路线单").click()
        expect(page.locator(".gs-sheet-table")).to_be_visible()
        sheet = tab.text(".gs-sheet-page")
        assert "步巡1" in sheet
        assert "2026-11-24 08:00–16:00" in sheet
        assert page.locator(".gs-sheet-stop").count() == len(planned)
        tab.shot(artifacts / "route_sheet.png")
        page.emulate_media(media="print")
        assert not page.locator("#gs-shell").is_visible()
        tab.shot(artifacts / "route_sheet_print.png")
        gpx = page.request.get(base + f"/api/routes/{plan_id}.gpx")
        assert gpx.ok
        assert "<trk>" in gpx.text()
        tab.assert_offline()


def test_a_long_plan_shows_progress_and_is_cancelled(
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    settings = _district(make_db, "plancancel")
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        page = tab.page
        tab.goto("/maps/routes", ready="#gs-units-pick")
        _pick_shift(tab)
        page.locator("label.gs-unit-pick", has_text="步巡2").click()
        _set_limit(tab, 60)
        page.get_by_role("button", name="规划", exact=True).click()
        expect(page.locator("#gs-plan-status")).to_contain_text("正在搜索", timeout=30_000)
        tab.shot(artifacts / "plan_progress.png")
        page.get_by_role("button", name="取消").click()
        expect(page.locator("#gs-plan-status")).to_have_text(
            "已取消：未保存任何内容。", timeout=15_000
        )
        assert page.locator(".gs-timetable").count() == 0
        tab.assert_offline()


_own = Transformer.from_crs(4547, 4326, always_xy=True).transform(*_xy(2, 3))
"""An own point: a road crossing of the hand-made district, in WGS84."""


def test_a_time_span_instead_of_a_shift(
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    settings = _district(make_db, "planspan")
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        page = tab.page
        tab.goto("/maps/routes", ready="#gs-units-pick")
        page.locator("#gs-day").fill(DAY)
        page.locator("#gs-shift").select_option(value="span")
        page.locator("#gs-from").fill("09:30")
        page.locator("#gs-to").fill("11:00")
        page.locator("label.gs-unit-pick", has_text="步巡2").click()
        _set_limit(tab, 1)
        # An own point: a line with a word for the risk is refused, naming the line.
        points = page.locator("#gs-points")
        points.click()
        page.keyboard.type("路口哨点, 113.65, 34.75, 很高")
        page.get_by_role("button", name="规划", exact=True).click()
        expect(page.locator("#gs-plan-status")).to_contain_text("第 1 行")
        points.press("Control+A")
        page.keyboard.type(f"路口哨点, {_own[0]:.6f}, {_own[1]:.6f}, 500")
        page.get_by_role("button", name="规划", exact=True).click()
        expect(page.locator(".gs-timetable")).to_have_count(1, timeout=60_000)
        assert "路口哨点" in tab.text(".gs-timetable")
        assert "2026-11-24 09:30–11:00" in page.locator("#gs-plan-summary").inner_text()
        departs = tab.texts(".gs-timetable tbody tr td:nth-child(4)")
        assert departs
        assert all("09:30" <= d <= "11:00" for d in departs)
        tab.shot(artifacts / "plan_span.png")
        tab.assert_offline()


def _catalogue_reasons() -> list[re.Pattern[str]]:
    """Every left-out reason the page may write, in Chinese, as patterns of its parameters."""
    zh = translator("zh_CN")
    return [
        re.compile(re.sub(r"%\\\(\w+\\\)s", ".+", re.escape(zh._(v))))
        for k, v in PLAN_TEXT.items()
        if k.startswith("reason_")
    ]


def test_a_short_span_lists_every_candidate_left_out_in_chinese(
    make_db: Callable[..., tuple[Engine, Settings]], desktop: BrowserContext, artifacts: Path
) -> None:
    settings = _district(make_db, "planleft")
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, settings, Role.DISPATCHER)
        page = tab.page
        tab.goto("/maps/routes", ready="#gs-units-pick")
        # One foot unit for ten minutes: it cannot walk to most candidates and back.
        page.locator("#gs-day").fill(DAY)
        page.locator("#gs-shift").select_option(value="span")
        page.locator("#gs-from").fill("09:30")
        page.locator("#gs-to").fill("09:40")
        page.locator("label.gs-unit-pick", has_text="步巡2").click()
        _set_limit(tab, 1)
        # Own points on road crossings, and one far off the roads.
        lines = [f"哨点{i}{j}, {_lonlat(i, j)}, {10 + i + j}" for i, j in ((1, 1), (3, 2), (2, 3))]
        far = Transformer.from_crs(4547, 4326, always_xy=True).transform(X0 - 5000, Y0 - 5000)
        lines.append(f"远点, {far[0]:.6f}, {far[1]:.6f}, 50")
        page.locator("#gs-points").click()
        page.keyboard.type("\n".join(lines))
        page.get_by_role("button", name="规划", exact=True).click()
        expect(page.locator(".gs-timetable")).to_have_count(1, timeout=60_000)
        plan_id = page.locator("#gs-plan-title").inner_text().split("#")[1].strip()
        tab.shot(artifacts / "plan_left_out.png")

        stored = page.request.get(base + f"/api/routes/{plan_id}").json()
        left = stored["left_out"]
        codes = {c["reason_code"] for c in left}
        assert {"off_network", "unreachable"} <= codes, codes
        expect(page.locator("#gs-left-title")).to_contain_text(str(len(left)))
        shown = [row.split("\t") for row in _rows(tab)]
        assert sorted(r[0] for r in shown) == sorted(
            c["label"] + (f" ({c['window']})" if c["window"] else "") for c in left
        )
        patterns = _catalogue_reasons()
        for label, _kind, reason in shown:
            assert not re.search("[A-Za-z_]", reason), (label, reason)
            assert any(p.fullmatch(reason) for p in patterns), (label, reason)
        assert {r[0]: r[2] for r in shown}["远点"].startswith("不在路网上")
        page.locator("#gs-left-out tr").last.scroll_into_view_if_needed()
        tab.shot(artifacts / "plan_left_out_list.png")
        tab.assert_offline()


def _lonlat(i: int, j: int) -> str:
    lon, lat = Transformer.from_crs(4547, 4326, always_xy=True).transform(*_xy(i, j))
    return f"{lon:.6f}, {lat:.6f}"


def _rows(tab: Tab) -> list[str]:
    """The left-out table's rows, cells joined by tabs."""
    return tab.page.locator("#gs-left-out tr:has(td)").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()).join('\\t'))"
    )
