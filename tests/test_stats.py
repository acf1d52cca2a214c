"""Statistics on hand-made cases whose answers are worked out by hand, and an empty period.

The period is March 2026 (local days 1-31), judged on 1 June 2026; a year earlier is March 2025.

Current period (hours after receipt)::

    c1 dispute      M1/T1 one_code    03-02 08:00  resolved +24 h            (deadline 30 d)
    c2 police_call  M1/T1 patrol      03-05 10:00  resolved +48 h            late: deadline 1 d
    c3 dispute      M2/T2 three_zero  03-10 09:00  unresolved +48 h
    c4 noise        M2/T2 hotline     03-20 12:00  dispatched only           late: deadline 3 d
    c5 dispute      M2/T2 one_code    03-31 23:30  resolved +72 h, verified  (last minute counts)
    outside:        02-28 23:59 and 04-01 00:00 (local) are not in March

    received 5, resolved 3 (c1, c2, c5): 60 %; median of 24, 48, 72 h = 48 h; overdue 2.
    T1: 2 received, 2 resolved (100 %), median (24 + 48) / 2 = 36 h, overdue 1.
    T2: 3 received, 1 resolved (33.33 %), median 72 h, overdue 1.

A year earlier: p1, p2 disputes in M1 resolved; p3 police call in M2 resolved; p4 dispute in
M2 unresolved: received 4, resolved 3 (75 %), median 20 h, p3 overdue (30 h > 1 d). Change:
received +25 %, resolved 0 %, overdue +100 %, rate -15 points. Two fires in M2 in March 2025
and one in March 2026: fires -50 %.

Three zeros in March 2026 (incident types' goals: dispute -> petition, fire -> accident,
theft -> case; police calls and noise count against none): T1 has c1 (petition) only; a theft in
T1 on 04-02 is outside the period, so T1 meets zero accidents and zero cases (2 of 3). T2 has
c3 and c5 (petitions) and a fire (accident): it meets zero cases only (1 of 3).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from api.app import create_app
from api.auth import SESSION_COOKIE
from geo.access import Role, set_language
from geo.errors import InputError, NotFoundError
from geo.settings import Settings
from geo.stats import case_stats, change_pct, year_earlier
from tests.clients import api_client, make_user, session_for
from tests.conftest import travel
from tests.frozen import at as instant
from tests.test_cases import CST, PATHS, Step, add_incident, place_grid, run_case

NOW = datetime(2026, 6, 1, tzinfo=CST)
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}

HANDLED: dict[str, list[Step]] = {
    "resolved": PATHS["resolved"],  # type: ignore[index]
    "unresolved": PATHS["unresolved"],  # type: ignore[index]
}


def _steps(outcome: str, hours: float) -> list[Step]:
    """dispatched +1 h, handling +2 h, then the outcome after ``hours``."""
    return [*HANDLED[outcome][:2], (outcome, hours, {})]


CASES: list[tuple[str, str, str | None, datetime, list[Step]]] = [
    ("M1", "dispute", "one_code", datetime(2026, 3, 2, 8, 0, tzinfo=CST), _steps("resolved", 24)),
    ("M1", "police_call", "patrol", datetime(2026, 3, 5, 10, tzinfo=CST), _steps("resolved", 48)),
    ("M2", "dispute", "three_zero", datetime(2026, 3, 10, 9, tzinfo=CST), _steps("unresolved", 48)),
    ("M2", "noise", "hotline", datetime(2026, 3, 20, 12, tzinfo=CST), HANDLED["resolved"][:1]),
    (
        "M2",
        "dispute",
        "one_code",
        datetime(2026, 3, 31, 23, 30, tzinfo=CST),
        [*_steps("resolved", 72), ("verified", 96, {})],
    ),
    ("M1", "dispute", "one_code", datetime(2026, 2, 28, 23, 59, tzinfo=CST), _steps("resolved", 5)),
    ("M2", "dispute", "one_code", datetime(2026, 4, 1, 0, 0, tzinfo=CST), []),
    ("M1", "dispute", "one_code", datetime(2025, 3, 3, 9, tzinfo=CST), _steps("resolved", 10)),
    ("M1", "dispute", "one_code", datetime(2025, 3, 4, 9, tzinfo=CST), _steps("resolved", 20)),
    ("M2", "police_call", "patrol", datetime(2025, 3, 5, 9, tzinfo=CST), _steps("resolved", 30)),
    ("M2", "dispute", "one_code", datetime(2025, 3, 6, 9, tzinfo=CST), _steps("unresolved", 40)),
]
OTHER_INCIDENTS = [
    ("M2", "fire", datetime(2026, 3, 15, 3, tzinfo=CST)),
    ("M2", "fire", datetime(2025, 3, 15, 3, tzinfo=CST)),
    ("M2", "fire", datetime(2025, 3, 16, 3, tzinfo=CST)),
    ("M1", "theft", datetime(2026, 4, 2, 3, tzinfo=CST)),
]


@pytest.fixture
def cases(db: Engine, db_settings: Settings) -> Engine:
    """The hand-made grid with the cases and incidents of the module docstring."""
    place_grid(db, db_settings)
    for micro, kind, platform, received, steps in CASES:
        incident = add_incident(db, db_settings, micro=micro, kind=kind, at=received)
        run_case(db, db_settings, incident, received, steps, platform=platform)
    for micro, kind, at in OTHER_INCIDENTS:
        add_incident(db, db_settings, micro=micro, kind=kind, at=at, source="119")
    return db


def _by(rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def test_totals_year_on_year(cases: Engine, db_settings: Settings) -> None:
    stats = case_stats(cases, db_settings, area=None, now=NOW, **MARCH)
    total = stats["cases"]
    assert (total["received"], total["resolved"], total["overdue"]) == (5, 3, 2)
    assert total["resolution_rate_pct"] == 60.0
    assert total["rate_applicable"] is True
    assert total["median_hours_to_resolve"] == 48.0
    before = total["previous"]
    assert (before["received"], before["resolved"], before["resolution_rate_pct"]) == (4, 3, 75.0)
    assert before["median_hours_to_resolve"] == 20.0
    assert before["overdue"] == 1  # p3, a police call handled after 30 h
    assert total["change_pct"] == {"received": 25.0, "resolved": 0.0, "overdue": 100.0}
    assert total["resolution_rate_change_points"] == -15.0
    assert stats["previous_period"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert stats["by_month"] == {
        "current": {"2026-03": {"received": 5, "resolved": 3}},
        "previous": {"2025-03": {"received": 4, "resolved": 3}},
    }


def test_by_type_platform_and_grid(cases: Engine, db_settings: Settings) -> None:
    stats = case_stats(cases, db_settings, area="S", now=NOW, **MARCH)
    types = _by(stats["by_type"])
    assert set(types) == {"dispute", "police_call", "noise"}
    dispute = types["dispute"]
    assert (dispute["received"], dispute["resolved"], dispute["overdue"]) == (3, 2, 0)
    assert dispute["median_hours_to_resolve"] == 48.0  # (24 + 72) / 2
    assert dispute["resolution_rate_pct"] == 66.67
    assert dispute["previous"]["received"] == 3
    assert dispute["change_pct"]["received"] == 0.0
    assert (types["noise"]["received"], types["noise"]["overdue"]) == (1, 1)
    assert types["noise"]["previous"]["rate_applicable"] is False
    assert types["noise"]["change_pct"]["received"] is None
    assert types["police_call"]["overdue"] == 1
    assert dispute["name_zh"] == "矛盾纠纷"

    platforms = _by(stats["by_platform"])
    assert {k: (v["received"], v["resolved"]) for k, v in platforms.items()} == {
        "one_code": (2, 2),
        "patrol": (1, 1),
        "three_zero": (1, 0),
        "hotline": (1, 0),
    }
    assert platforms["three_zero"]["name_zh"] == "三零平台"
    assert platforms["one_code"]["previous"]["received"] == 3

    grids = _by(stats["by_grid"])
    t1, t2 = grids["T1"], grids["T2"]
    assert (t1["received"], t1["resolved"], t1["resolution_rate_pct"], t1["overdue"]) == (
        2, 2, 100.0, 1,
    )  # fmt: skip
    assert t1["median_hours_to_resolve"] == 36.0
    assert (t2["received"], t2["resolved"], t2["resolution_rate_pct"], t2["overdue"]) == (
        3, 1, 33.33, 1,
    )  # fmt: skip
    assert t2["median_hours_to_resolve"] == 72.0
    assert t1["name"] == "网格T1"


def test_area_takes_its_descendants_only(cases: Engine, db_settings: Settings) -> None:
    t1 = case_stats(cases, db_settings, area="T1", now=NOW, **MARCH)
    assert (t1["cases"]["received"], t1["cases"]["resolved"]) == (2, 2)
    assert t1["cases"]["previous"]["received"] == 2
    assert t1["cases"]["change_pct"]["received"] == 0.0
    micro = case_stats(cases, db_settings, area="M2", now=NOW, **MARCH)
    assert micro["cases"]["received"] == 3
    assert micro["area"] == {"code": "M2", "name": "网格M2", "level": "micro"}
    assert [g["code"] for g in micro["three_zero"]["grids"]] == ["T2"]  # its own grid


def test_incidents_year_on_year(cases: Engine, db_settings: Settings) -> None:
    stats = case_stats(cases, db_settings, area=None, now=NOW, **MARCH)
    rows = {r["type"]: (r["count"], r["previous"], r["change_pct"]) for r in stats["incidents"]}
    assert rows == {
        "dispute": (3, 3, 0.0),
        "police_call": (1, 1, 0.0),
        "noise": (1, 0, None),
        "fire": (1, 2, -50.0),
    }


def test_three_zero_per_grid(cases: Engine, db_settings: Settings) -> None:
    zero = case_stats(cases, db_settings, area="G", now=NOW, **MARCH)["three_zero"]
    grids = {g["code"]: g for g in zero["grids"]}
    assert {
        k: (g["petitions"], g["accidents"], g["cases"], g["met"]) for k, g in grids.items()
    } == {
        "T1": (1, 0, 0, 2),
        "T2": (2, 1, 0, 1),
    }
    assert (grids["T1"]["zero_petitions"], grids["T1"]["zero_accidents"]) == (False, True)
    assert zero["summary"] == {
        "grids": 2,
        "all_three": 0,
        "zero_petitions": 0,
        "zero_accidents": 1,
        "zero_cases": 2,
    }
    april = case_stats(
        cases, db_settings, area=None, start=date(2026, 4, 1), end=date(2026, 4, 30), now=NOW
    )["three_zero"]["grids"]
    # T1: the theft on 04-02; T2: the dispute received at 04-01 00:00
    assert {g["code"]: (g["cases"], g["petitions"], g["met"]) for g in april} == {
        "T1": (1, 0, 2),
        "T2": (0, 1, 2),
    }


def test_empty_period_is_not_applicable(cases: Engine, db_settings: Settings) -> None:
    stats = case_stats(
        cases, db_settings, area=None, start=date(2024, 3, 1), end=date(2024, 3, 31), now=NOW
    )
    total = stats["cases"]
    assert (total["received"], total["resolved"], total["overdue"]) == (0, 0, 0)
    assert total["resolution_rate_pct"] is None
    assert total["rate_applicable"] is False
    assert total["median_hours_to_resolve"] is None
    assert total["change_pct"] == {"received": None, "resolved": None, "overdue": None}
    assert total["resolution_rate_change_points"] is None
    assert stats["by_type"] == stats["by_platform"] == stats["by_grid"] == []
    assert stats["incidents"] == []
    assert stats["by_month"]["current"] == {"2024-03": {"received": 0, "resolved": 0}}
    assert all(g["met"] == 3 for g in stats["three_zero"]["grids"])


def test_api(cases: Engine, db_settings: Settings) -> None:
    with api_client(db_settings) as client:
        got = client.get(
            "/api/stats", params={"area": "T2", "from": "2026-03-01", "to": "2026-03-31"}
        )
        assert got.status_code == 200
        body = got.json()
        assert (body["cases"]["received"], body["cases"]["resolved"]) == (3, 1)
        empty = client.get("/api/stats", params={"from": "2024-03-01", "to": "2024-03-31"}).json()
        assert empty["cases"]["resolution_rate_pct"] is None
        assert empty["cases"]["rate_applicable"] is False
        assert client.get("/api/stats", params={"area": "nowhere"}).status_code == 404
        reversed_period = client.get(
            "/api/stats", params={"from": "2026-04-01", "to": "2026-03-01"}
        )
        assert reversed_period.status_code == 400


def test_helpers() -> None:
    assert year_earlier(date(2024, 2, 29)) == date(2023, 2, 28)
    assert year_earlier(date(2026, 3, 31)) == date(2025, 3, 31)
    assert change_pct(25, 41) == -39.02  # fires down 39.02 %, the reference figure
    assert change_pct(87, 100) == -13.0
    assert change_pct(3, 0) is None
    assert date(2026, 3, 1) + timedelta(days=30) == MARCH["end"]


def test_unknown_area_and_bad_period(db: Engine, db_settings: Settings) -> None:
    with pytest.raises(NotFoundError):
        case_stats(db, db_settings, area="X", now=NOW, **MARCH)
    with pytest.raises(InputError):
        case_stats(db, db_settings, area=None, start=date(2026, 4, 1), end=date(2026, 3, 1))


def test_stats_page(cases: Engine, db_settings: Settings) -> None:
    with api_client(db_settings) as client:
        page = client.get("/stats", params={"from": "2026-03-01", "to": "2026-03-31"})
        assert page.status_code == 200
        html = page.text
        assert "60.00%" in html  # the resolution rate
        assert "+25.00%" in html  # received year on year
        assert "-15.00 个百分点" in html
        assert html.count("<rect") == 2 + 2 * 4  # March vs March; four incident types
        assert "网格T1" in html
        assert "/api/cases/export?format=xlsx" in html
        empty = client.get("/stats", params={"from": "2024-03-01", "to": "2024-03-31"}).text
        assert "不适用" in empty
        assert "本期无案件" in empty
        assert client.get("/stats", params={"area": "nowhere"}).status_code == 404


# ------------------------------------------------------------------ the page's export links

ZONE = "(Asia/Shanghai)"
CHINESE_HEADERS = [
    "案件编号", "事件编号", "数据来源", "来源记录编号", "受理渠道", "类型代码", "类型名称", "状态",
    "办理结果", "二级网格编码", "二级网格", "三级网格编码", "三级网格", "微网格编码", "微网格",
    "区域路径", "承办队伍", "承办部门", f"发生时间 {ZONE}", f"受理时间 {ZONE}",
    f"派遣时间 {ZONE}", f"处置时间 {ZONE}", f"办结时间 {ZONE}", f"办理期限 {ZONE}", "超期", "地址",
    "描述",
]  # fmt: skip
JUNE = "2026-06-01T12:00"
"""The page is opened on 1 June 2026: its default period is 1 January to 1 June 2026."""


def _page_client(settings: Settings, role: Role, scope: str | None = None) -> TestClient:
    """A browser's client: a page session (cookie) of a new user of ``role``."""
    cookie, _csrf = session_for(settings, make_user(settings, role, scope))
    client = TestClient(create_app(settings))
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def _export_links(html: str) -> dict[str, str]:
    """The page's export links by format, as the page wrote them."""
    links = [unescape(href) for href in re.findall(r'href="(/api/cases/export\?[^"]*)"', html)]
    return {parse_qs(urlsplit(link).query)["format"][0]: link for link in links}


def _read(fmt: str, content: bytes) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str)
    return pd.read_excel(io.BytesIO(content), engine="openpyxl", dtype=str)


def _received_in_2026(engine: Engine, micro: str | None = None) -> set[str]:
    """The ids of the cases received from 1 January to 1 June 2026 (local days), optionally in
    one micro-grid: what the page's default period holds."""
    with engine.connect() as conn:
        ids = conn.execute(
            text(
                "SELECT c.id FROM cases c JOIN incidents i ON i.id = c.incident_id "
                "WHERE c.received_at >= :lo AND c.received_at < :hi "
                "AND (CAST(:micro AS text) IS NULL OR i.area_code = :micro)"
            ),
            {
                "lo": datetime(2026, 1, 1, tzinfo=CST),
                "hi": datetime(2026, 6, 2, tzinfo=CST),
                "micro": micro,
            },
        ).scalars()
        return {str(i) for i in ids}


def test_a_leaders_page_exports_the_whole_district(cases: Engine, db_settings: Settings) -> None:
    """The page opened with no area chosen: both links answer with the district's cases of the
    period shown, under the catalogue's Chinese headers, each case with its areas' names."""
    expected = _received_in_2026(cases)
    assert len(expected) == 7  # c1-c5, 28 February and 1 April
    with travel(instant("june", JUNE)), _page_client(db_settings, Role.LEADER) as client:
        page = client.get("/stats")
        assert page.status_code == 200
        links = _export_links(page.text)
        assert set(links) == {"csv", "xlsx"}
        for fmt, link in links.items():
            assert parse_qs(urlsplit(link).query, keep_blank_values=True) == {
                "format": [fmt], "from": ["2026-01-01"], "to": ["2026-06-01"],
            }  # fmt: skip
            got = client.get(link)
            assert got.status_code == 200, (link, got.text)
            frame = _read(fmt, got.content)
            assert list(frame.columns) == CHINESE_HEADERS
            assert set(frame["案件编号"]) == expected
            assert len(frame) == len(expected)
            rows = set(zip(frame["二级网格"], frame["三级网格"], frame["微网格"], strict=True))
            assert rows == {("网格G", "网格T1", "网格M1"), ("网格G", "网格T2", "网格M2")}
            assert set(frame["二级网格编码"]) == {"G"}
            assert set(zip(frame["三级网格编码"], frame["微网格编码"], strict=True)) == {
                ("T1", "M1"), ("T2", "M2"),
            }  # fmt: skip
            if fmt == "xlsx":
                book = load_workbook(io.BytesIO(got.content))
                assert book.sheetnames == ["案件"]
        # A form's empty area field chooses no area, on the page and in the export.
        blank = client.get(links["csv"] + "&area=")
        assert blank.status_code == 200
        assert blank.content == client.get(links["csv"]).content
        assert client.get("/stats", params={"area": ""}).status_code == 200


def test_a_grid_heads_page_exports_only_their_area(cases: Engine, db_settings: Settings) -> None:
    """A grid head of T1 follows their page's links: only T1's cases, named; the level-2 grid
    above their scope is not theirs to read, so its name and code are left blank."""
    expected = _received_in_2026(cases, micro="M1")
    assert len(expected) == 3  # c1, c2 and 28 February
    with travel(instant("june", JUNE)), _page_client(db_settings, Role.GRID_HEAD, "T1") as client:
        links = _export_links(client.get("/stats").text)
        assert set(links) == {"csv", "xlsx"}
        for fmt, link in links.items():
            got = client.get(link)
            assert got.status_code == 200
            frame = _read(fmt, got.content)
            assert set(frame["案件编号"]) == expected
            assert set(frame["三级网格"]) == {"网格T1"}
            assert set(frame["微网格"]) == {"网格M1"}
            assert frame["二级网格"].isna().all()
            assert frame["二级网格编码"].isna().all()
            assert "网格T2" not in got.content.decode("utf-8-sig", errors="replace")


def test_an_english_users_export_has_english_headers(cases: Engine, db_settings: Settings) -> None:
    user = make_user(db_settings, Role.LEADER)
    set_language(cases, user.username, "en")
    cookie, _csrf = session_for(db_settings, user)
    with travel(instant("june", JUNE)), TestClient(create_app(db_settings)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        links = _export_links(client.get("/stats").text)
        for fmt, link in links.items():
            got = client.get(link)
            frame = _read(fmt, got.content)
            assert list(frame.columns)[:3] == ["Case number", "Incident number", "Source"]
            assert "Received at (Asia/Shanghai)" in frame.columns
            assert {"Level-2 grid", "Level-3 grid", "Micro-grid"} <= set(frame.columns)
            assert not [c for c in frame.columns if re.search(r"[\u4e00-\u9fff]", c)]
            assert len(frame) == 7
            if fmt == "xlsx":
                assert load_workbook(io.BytesIO(got.content)).sheetnames == ["Cases"]
