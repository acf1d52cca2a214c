"""The phone pages of grid heads and members, used with a finger on a 360 × 740 screen: my
area, cases and their moves (with the optimistic lock's conflict), a report made offline that
arrives once, a report placed by a tap on the map, a hazard's rectification, check-ins inside
and outside the area, and the grid's people. Positions come from Playwright's geolocation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine, text

from geo import clock
from geo.access import Role
from geo.cases import open_case, transition
from geo.field import street
from geo.field.people import replace_roster
from geo.records import submit_records
from geo.settings import Settings
from tests.browser import PHONE, Tab, serve, sign_in, tap_area
from tests.fieldwork import ROSTER, gps_of, lonlat, photo_with_gps, place

pytestmark = pytest.mark.browser

# Reads (never changes) the codes of the areas the page's map draws.
DRAWN_CODES = """() => {
  const codes = [];
  fdMap.eachLayer(l => { if (l.feature) codes.push(l.feature.properties.code); });
  return codes.sort();
}"""


@pytest.fixture
def grid(db: Engine, db_settings: Settings) -> Engine:
    place(db, db_settings, as_of=clock.utcnow() - timedelta(days=1))
    return db


def _phone_at(browser: Browser, micro: str, accuracy: float = 12) -> Iterator[BrowserContext]:
    lon, lat = lonlat(micro)
    context = browser.new_context(
        **PHONE,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": accuracy},
        permissions=["geolocation"],
    )
    yield context
    context.close()


@pytest.fixture
def phone_m1(browser: Browser) -> Iterator[BrowserContext]:
    """The phone of a person standing in micro-grid M1, sharing its position."""
    yield from _phone_at(browser, "M1")


@pytest.fixture
def phone_m3(browser: Browser) -> Iterator[BrowserContext]:
    """The phone of a person standing in micro-grid M3, sharing its position."""
    yield from _phone_at(browser, "M3")


def _incident(engine: Engine, settings: Settings, micro: str, *, days_ago: float) -> int:
    """An incident in ``micro`` reported ``days_ago``, with its case opened then; the case id."""
    lon, lat = lonlat(micro)
    at = clock.utcnow() - timedelta(days=days_ago)
    source_id = str(uuid.uuid4())
    submit_records(
        engine,
        settings,
        [
            {
                "source": street.FIELD_SOURCE,
                "source_id": source_id,
                "type": "dispute",
                "occurred_at": at.isoformat(),
                "lon": lon,
                "lat": lat,
                "description": f"纠纷 {days_ago} 天前",
            }
        ],
        kind="incidents",
    )
    with engine.connect() as conn:
        incident = conn.execute(
            text("SELECT id FROM incidents WHERE source_id = :s"), {"s": source_id}
        ).scalar_one()
    return int(
        open_case(engine, settings, incident_id=incident, actor="test", received_at=at)["id"]
    )


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_my_area_on_a_phone(
    grid: Engine, db_settings: Settings, phone: BrowserContext, artifacts: Path
) -> None:
    engine = grid
    _incident(engine, db_settings, "M1", days_ago=40)  # overdue: a dispute has 30 days
    _incident(engine, db_settings, "M2", days_ago=1)  # another grid's
    lon, lat = lonlat("M1")
    street.check_in(engine, db_settings, person="someone", lon=lon, lat=lat, at=clock.utcnow())
    with serve(db_settings) as base:
        tab = Tab.open(phone, base)
        sign_in(tab, db_settings, Role.GRID_HEAD, scope="T1")
        tab.goto("/")
        tab.page.get_by_role("link", name="我的网格").first.tap()
        tab.page.wait_for_selector("#fd-map .leaflet-interactive")
        assert tab.page.url.endswith("/field")
        assert tab.text("#fd-open-cases").split()[0] == "1"
        assert "超期 1 件" in tab.text("#fd-open-cases")
        assert tab.text("#fd-open-hazards").split()[0] == "0"
        assert "已走访 1 / 2 个微网格，还有 1 个待走访" in tab.text("#fd-visits")
        micro = tab.texts(".fd-micro li")
        assert len(micro) == 2
        assert "网格M1" in micro[0]
        assert "已走访" in micro[0]
        assert "网格M3" in micro[1]
        assert "待走访" in micro[1]
        gaps = tab.text("#fd-gaps")
        assert "网格M3" in gaps
        assert "本周未走访" in gaps
        assert "网格M2" not in tab.text("body")
        # The micro-grids are drawn where a finger reaches them; another grid's is not drawn.
        tap_area(tab, "M3")
        assert tab.page.evaluate(DRAWN_CODES) == ["M1", "M3"]
        png = tab.shot(artifacts / "field_home_phone.png")
        assert png.stat().st_size > 0
        # Light: the page and everything it loaded weigh under 300 kB, assets are cacheable.
        weight = tab.page.evaluate(
            "performance.getEntriesByType('resource').concat(performance.getEntriesByType("
            "'navigation')).reduce((n, e) => n + (e.encodedBodySize || 0), 0)"
        )
        assert weight < 300_000
        asset = tab.page.request.get(base + "/static/gridsafe/field.js")
        assert "max-age" in asset.headers["cache-control"]
        tab.assert_offline()


def test_cases_list_and_moves_on_a_phone(
    grid: Engine, db_settings: Settings, phone: BrowserContext, artifacts: Path
) -> None:
    engine = grid
    replace_roster(engine, db_settings, "T1", people=ROSTER["people"], squads=ROSTER["squads"])
    newest = _incident(engine, db_settings, "M1", days_ago=0.5)
    older = _incident(engine, db_settings, "M3", days_ago=3)
    overdue = _incident(engine, db_settings, "M1", days_ago=40)
    with serve(db_settings) as base:
        tab = Tab.open(phone, base)
        sign_in(tab, db_settings, Role.GRID_HEAD, scope="T1")
        tab.goto("/field")
        tab.page.locator(".fd-tabs a", has_text="案件").tap()
        tab.page.wait_for_selector("#fd-case-list")
        links = tab.page.locator("#fd-case-list a")
        order = [int(str(links.nth(i).get_attribute("href")).rsplit("/", 1)[1]) for i in range(3)]
        assert order == [overdue, newest, older]
        assert "超期" in tab.text("#fd-case-list li")
        tab.shot(artifacts / "field_cases_phone.png")
        links.nth(1).tap()
        tab.page.wait_for_selector("#fd-moves")
        assert tab.text("#fd-case-state") == "受理"
        tab.page.select_option("#fd-squad", label="T1调解队 · 钱调解")
        with tab.page.expect_navigation():
            tab.page.locator(".fd-move", has_text="派遣给队伍").tap()
        tab.page.wait_for_selector("#fd-history")
        assert tab.text("#fd-case-state") == "已派遣"
        assert "派往 T1调解队" in tab.text("#fd-history")
        # Someone else starts handling it meanwhile: the page's move meets the lock.
        case = transition(
            engine, db_settings, newest, to="handling", actor="another", expected_version=2
        )
        assert case["state"] == "handling"
        tab.page.locator(".fd-move", has_text="开始处置").tap()
        message = tab.page.locator("#fd-message")
        expect(message).to_contain_text("此案件已被他人更新，现为“处置中”")
        tab.shot(artifacts / "field_case_conflict_phone.png")
        assert tab.page.url.endswith(f"/field/cases/{newest}")
        tab.goto(f"/field/cases/{newest}")
        with tab.page.expect_navigation():
            tab.page.locator(".fd-move", has_text="标记为已解决").tap()
        tab.page.wait_for_selector("#fd-history")
        assert tab.text("#fd-case-state") == "办结"
        # Reopening asks for the reason, then keeps it in the history.
        tab.page.locator(".fd-move", has_text="重新处置").tap()
        expect(message).to_contain_text("请填写重新处置的原因")
        tab.page.locator("#fd-reason").tap()
        tab.page.keyboard.type("居民回访不满意")
        with tab.page.expect_navigation():
            tab.page.locator(".fd-move", has_text="重新处置").tap()
        tab.page.wait_for_selector("#fd-history")
        assert tab.text("#fd-case-state") == "处置中"
        assert "原因：居民回访不满意" in tab.text("#fd-history")
        tab.shot(artifacts / "field_case_phone.png")
        tab.errors = [e for e in tab.errors if "409" not in e]
        tab.assert_offline()


def test_a_report_made_offline_arrives_once(
    grid: Engine, db_settings: Settings, phone_m1: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    engine = grid
    photo = tmp_path / "street.jpg"
    photo.write_bytes(photo_with_gps())
    with serve(db_settings) as base:
        tab = Tab.open(phone_m1, base)
        sign_in(tab, db_settings, Role.GRID_MEMBER, scope="M1")
        tab.goto("/field/report", ready="#fd-map .leaflet-interactive")
        tab.page.locator("#fd-locate").tap()
        expect(tab.page.locator("#fd-where")).to_contain_text("手机定位，精度约 12 米")
        tab.page.select_option("#fd-type", label="矛盾纠纷")
        tab.page.locator("#fd-description").tap()
        tab.page.keyboard.type("楼道堆物引发争吵")
        tab.page.set_input_files("#fd-photos", str(photo))
        phone_m1.set_offline(True)
        tab.page.locator("#fd-send").tap()
        outbox = tab.page.locator("#fd-outbox")
        expect(outbox).to_contain_text("等待发送：1 条")
        expect(tab.page.locator("#fd-message")).to_contain_text("无网络：已保存在本机")
        tab.shot(artifacts / "field_report_offline_phone.png")
        assert _count(engine, "SELECT count(*) FROM incidents") == 0
        phone_m1.set_offline(False)
        expect(outbox).to_be_hidden(timeout=20_000)
        expect(tab.page.locator("#fd-message")).to_contain_text("已发送")
        tab.shot(artifacts / "field_report_sent_phone.png")
        # Another page load (which sends whatever waits) sends nothing again.
        tab.goto("/field/report")
        tab.page.wait_for_timeout(1500)
        assert _count(engine, "SELECT count(*) FROM incidents") == 1
        assert _count(engine, "SELECT count(*) FROM field_photos") == 1
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT area_code, description, type, source FROM incidents")
            ).one()
            stored = conn.execute(text("SELECT content FROM field_photos")).scalar_one()
        assert tuple(row) == ("M1", "楼道堆物引发争吵", "dispute", street.FIELD_SOURCE)
        assert gps_of(bytes(stored)) == {}
        tab.errors = [e for e in tab.errors if "ERR_INTERNET_DISCONNECTED" not in e]
        tab.assert_offline()


def test_a_hazard_placed_by_a_tap_and_its_rectification(
    grid: Engine, db_settings: Settings, phone: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    engine = grid
    before = tmp_path / "before.jpg"
    before.write_bytes(photo_with_gps("orange"))
    after = tmp_path / "after.jpg"
    after.write_bytes(photo_with_gps("green"))
    with serve(db_settings) as base:
        tab = Tab.open(phone, base)
        sign_in(tab, db_settings, Role.GRID_HEAD, scope="T1")
        tab.goto("/field/report", ready="#fd-map .leaflet-interactive")
        tab.page.locator("label", has_text="隐患").first.tap()
        tap_area(tab, "M3")
        expect(tab.page.locator("#fd-where")).to_contain_text("地图选点位置")
        tab.page.select_option("#fd-category", label="电动车充电")
        tab.page.select_option("#fd-l", "4")
        tab.page.select_option("#fd-s", "4")
        tab.page.set_input_files("#fd-photos", str(before))
        tab.page.locator("#fd-send").tap()
        expect(tab.page.locator("#fd-message")).to_contain_text("已发送")
        tab.shot(artifacts / "field_hazard_report_phone.png")
        with engine.connect() as conn:
            hazard_id, area, category = conn.execute(
                text("SELECT id, area_code, category FROM hazards")
            ).one()
            photo_id = conn.execute(text("SELECT id FROM field_photos")).scalar_one()
        assert (area, category) == ("M3", "电动车充电")
        tab.goto("/field")
        tab.page.locator("#fd-open-hazards").tap()
        tab.page.wait_for_selector(".fd-cards")
        tab.page.locator(".fd-card a", has_text="电动车充电").tap()
        tab.page.wait_for_selector("#fd-rectify")
        assert tab.page.locator("#fd-hazard img").count() == 1
        tab.page.select_option("#fd-status", "done")
        tab.page.set_input_files("#fd-rectify input[type=file]", str(after))
        with tab.page.expect_navigation(timeout=20_000):
            tab.page.locator("#fd-rectify button").tap()
        tab.page.wait_for_selector("#fd-steps")
        assert "已整改" in tab.text("#fd-steps")
        assert "已销号" in tab.text("#fd-hazard")
        assert tab.page.locator("#fd-steps img").count() == 1
        tab.shot(artifacts / "field_rectification_phone.png")
        assert _count(engine, "SELECT count(*) FROM hazards WHERE status = 'closed'") == 1
        tab.assert_offline()
        # A member of the other grid may not fetch the photo.
        other = Tab.open(phone.browser.new_context(**PHONE), base)  # type: ignore[union-attr]
        sign_in(other, db_settings, Role.GRID_MEMBER, scope="M2")
        assert other.page.request.get(f"{base}/api/field/photos/{photo_id}").status == 404
        assert tab.page.request.get(f"{base}/api/field/photos/{photo_id}").status == 200
        other.page.context.close()
        assert hazard_id


def test_check_in_here_and_refused_outside(
    grid: Engine, db_settings: Settings, phone_m3: BrowserContext, artifacts: Path
) -> None:
    engine = grid
    with serve(db_settings) as base:
        tab = Tab.open(phone_m3, base)
        user = sign_in(tab, db_settings, Role.GRID_HEAD, scope="T1")
        tab.goto("/field")
        tab.page.locator(".fd-tabs a", has_text="签到").tap()
        tab.page.wait_for_selector("#fd-checkin")
        tab.page.locator("#fd-checkin").tap()
        expect(tab.page.locator("#fd-message")).to_contain_text("已在 网格M3 签到")
        tab.shot(artifacts / "field_checkin_phone.png")
        assert (
            _count(
                engine,
                "SELECT count(*) FROM checkins WHERE person = :p AND area_code = 'M3'",
                p=user.username,
            )
            == 1
        )
        lon, lat = lonlat("M2")
        phone_m3.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 10})
        tab.page.locator("#fd-checkin").tap()
        expect(tab.page.locator("#fd-message")).to_contain_text(
            "该位置在网格 网格T2 的微网格 网格M2 内，不在您的区域。"
        )
        tab.shot(artifacts / "field_checkin_refused_phone.png")
        assert _count(engine, "SELECT count(*) FROM checkins") == 1
        tab.errors = [e for e in tab.errors if "400" not in e]
        tab.assert_offline()


def test_the_grids_people_and_squads(
    grid: Engine, db_settings: Settings, phone: BrowserContext, artifacts: Path
) -> None:
    replace_roster(grid, db_settings, "T1", people=ROSTER["people"], squads=ROSTER["squads"])
    with serve(db_settings) as base:
        tab = Tab.open(phone, base)
        sign_in(tab, db_settings, Role.GRID_MEMBER, scope="M1")
        tab.goto("/field")
        tab.page.locator("#fd-people a").tap()
        tab.page.wait_for_selector("#fd-roster")
        roster = tab.text("#fd-roster")
        for word in ("网格长", "张网格", "楼栋长", "李楼长", "路段长", "王路长", "书记", "孙书记"):
            assert word in roster
        assert "治安员 · 赵治安" in roster
        squads = tab.text("#fd-squads")
        for word in ("T1调解队", "矛盾调解队", "钱调解 (队长)", "T1排查队", "T1巡逻队"):
            assert word in squads
        tab.shot(artifacts / "field_grid_phone.png")
        tab.assert_offline()
        tab.errors.clear()
        # Another grid's people: not found, as every area outside the scope.
        response = tab.goto("/field/grid/T2")
        assert response is not None
        assert response.status == 404
        assert tab.page.locator("#fd-roster").count() == 0


def test_my_area_on_a_desk(
    grid: Engine, db_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    _incident(grid, db_settings, "M3", days_ago=2)
    with serve(db_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, db_settings, Role.GRID_HEAD, scope="T1")
        tab.goto("/")
        with tab.page.expect_navigation():
            tab.page.locator("#gs-shell nav a", has_text="我的网格").click()
        tab.page.wait_for_selector("#fd-map .leaflet-interactive")
        main = tab.page.locator(".fd-main").bounding_box()
        assert main is not None
        assert main["width"] <= 800  # one readable column, centred on a wide screen
        assert main["x"] > 300
        assert tab.text("#fd-open-cases").split()[0] == "1"
        tab.page.locator("#fd-open-cases").click()
        tab.page.wait_for_selector("#fd-case-list")
        assert len(tab.texts("#fd-case-list li")) == 1
        tab.shot(artifacts / "field_cases_desk.png")
        tab.assert_offline()


def _pick_photo(tab: Tab, photo: Path) -> None:
    """Tap the photo picker (the translated label; the browser's own English control is not
    shown), choose ``photo`` in the file chooser, and read the choice in Chinese."""
    pick = tab.page.locator("label.fd-pick")
    expect(pick).to_have_text("拍照或选择照片")
    expect(tab.page.locator("#fd-chosen")).to_have_text("未选择照片")
    box = tab.page.locator("#fd-photos").bounding_box()
    assert box is not None
    assert box["width"] <= 1
    assert box["height"] <= 1
    label_box = pick.bounding_box()
    assert label_box is not None
    assert label_box["height"] >= 44
    with tab.page.expect_file_chooser() as chooser:
        pick.tap()
    chooser.value.set_files(str(photo))
    expect(tab.page.locator("#fd-chosen")).to_have_text(f"已选 1 张照片：{photo.name}")
    hint = tab.text("#fd-photos-hint")
    assert hint == "照片：最多 4 张，每张不超过 6 MB、40 百万像素（JPEG、PNG 或 WebP）"
    # No English word on the form but the names of units and formats (and the file's name).
    words = set(re.findall(r"[A-Za-z]{2,}", tab.text("#fd-report")))
    assert words <= {"MB", "JPEG", "PNG", "WebP", "jpg"}, words


def test_pages_open_with_no_connection_and_the_report_arrives_once(
    grid: Engine, db_settings: Settings, phone_m1: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    engine = grid
    photo = tmp_path / "楼道.jpg"
    photo.write_bytes(photo_with_gps())
    with serve(db_settings) as base:
        tab = Tab.open(phone_m1, base)
        sign_in(tab, db_settings, Role.GRID_MEMBER, scope="M1")
        tab.goto("/field/report", ready="#fd-map .leaflet-interactive")
        # The service worker has fetched the tab pages and their assets and answers for them.
        tab.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=20_000
        )
        phone_m1.set_offline(True)
        response = tab.page.reload(wait_until="load")
        assert response is not None
        assert response.from_service_worker
        tab.page.wait_for_selector("#fd-map .leaflet-interactive")
        expect(tab.page.locator("h1")).to_have_text("上报")
        # Meanwhile someone checks in at M1: the page kept offline cannot know it (which shows
        # it comes from the phone's cache, not the network).
        lon, lat = lonlat("M1")
        street.check_in(engine, db_settings, person="someone", lon=lon, lat=lat, at=clock.utcnow())
        # A page not opened before opens too: tap its tab.
        with tab.page.expect_navigation():
            tab.page.locator(".fd-tabs a", has_text="签到").tap()
        expect(tab.page.locator("#fd-checkin")).to_be_visible()
        tab.page.wait_for_selector("#fd-map .leaflet-interactive")
        tab.shot(artifacts / "field_checkin_offline_phone.png")
        kept = tab.text(".fd-progress-text")
        with tab.page.expect_navigation():
            tab.page.locator(".fd-tabs a", has_text="上报").tap()
        tab.page.wait_for_selector("#fd-map .leaflet-interactive")
        tap_area(tab, "M1")
        expect(tab.page.locator("#fd-where")).to_contain_text("地图选点位置")
        tab.page.select_option("#fd-type", label="矛盾纠纷")
        _pick_photo(tab, photo)
        tab.page.locator("#fd-send").scroll_into_view_if_needed()
        tab.shot(artifacts / "field_report_picker_offline_phone.png")
        tab.page.locator("#fd-send").tap()
        expect(tab.page.locator("#fd-outbox")).to_contain_text("等待发送：1 条")
        expect(tab.page.locator("#fd-chosen")).to_have_text("未选择照片")
        tab.shot(artifacts / "field_report_queued_offline_phone.png")
        assert _count(engine, "SELECT count(*) FROM incidents") == 0
        phone_m1.set_offline(False)
        expect(tab.page.locator("#fd-outbox")).to_be_hidden(timeout=20_000)
        expect(tab.page.locator("#fd-message")).to_contain_text("已发送")
        tab.goto("/field/checkin")
        tab.page.wait_for_timeout(1500)
        assert _count(engine, "SELECT count(*) FROM incidents") == 1
        assert _count(engine, "SELECT count(*) FROM field_photos") == 1
        # Online again, the page comes from the network: it knows the check-in.
        assert kept.startswith("已走访 0 / 1 ")
        assert tab.text(".fd-progress-text").startswith("已走访 1 / 1 ")
        tab.errors = [e for e in tab.errors if "ERR_INTERNET_DISCONNECTED" not in e]
        tab.assert_offline()


def test_signed_out_the_pages_are_not_kept_on_the_phone(
    grid: Engine, db_settings: Settings, phone_m1: BrowserContext
) -> None:
    with serve(db_settings) as base:
        tab = Tab.open(phone_m1, base)
        sign_in(tab, db_settings, Role.GRID_MEMBER, scope="M1")
        tab.goto("/field/report", ready="#fd-map .leaflet-interactive")
        tab.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=20_000
        )
        with tab.page.expect_navigation(timeout=30_000):
            tab.page.locator("#gs-logout button").tap()
        tab.page.wait_for_load_state("load")
        assert urlsplit(tab.page.url).path == "/login"
        # A page of /field now leads to the login page, and the service worker forgets the
        # pages it kept: with no connection, none opens for the next person.
        tab.goto("/field/report")
        assert urlsplit(tab.page.url).path == "/login"
        phone_m1.set_offline(True)
        with pytest.raises(PlaywrightError, match=r"net::ERR_"):
            tab.page.goto(base + "/field/checkin")
        phone_m1.set_offline(False)
