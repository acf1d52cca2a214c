"""Accounts and the audit log as the admin's API and pages (issue 19, item 5), without a
browser: adding, re-scoping, disabling and enabling users with the rules of geo/access.py, the
last enabled admin kept, CSRF on page changes, every change in the audit log under the admin's
name, and the audit log filtered and paged by id."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.auth import SESSION_COOKIE
from geo import clock
from geo.access import Role, User, login, update_user
from geo.audit import AuditFilter, audit_entries, row_changes
from geo.database import acting_as
from geo.errors import InputError
from geo.settings import Settings
from maps.admin_pages import AUDIT_PAGE
from tests.clients import api_client, make_user, session_for, token_for
from tests.test_maps import build_district

PASSWORD = "a long enough password 19"  # noqa: S105 - a test account's


@dataclass
class Desk:
    engine: Engine
    settings: Settings


@pytest.fixture(scope="module")
def desk(make_db: Callable[..., tuple[Engine, Settings]]) -> Desk:
    """The hand-made district (tests/test_maps.py), in production mode."""
    engine, settings = make_db("admin_users")
    build_district(engine, settings)
    return Desk(engine, settings)


def _micros(settings: Settings, user: User) -> set[str]:
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {token_for(settings, user)}"
        body = client.get("/api/areas", params={"level": "micro"}).json()
    return {f["properties"]["code"] for f in body["features"]}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_an_admin_adds_rescopes_disables_and_enables_a_grid_head(desk: Desk) -> None:
    name = _name("head")
    with api_client(desk.settings, Role.ADMIN) as admin:
        r = admin.post(
            "/api/admin/users",
            json={
                "username": name,
                "display_name": "王网格长",
                "role": "grid_head",
                "password": PASSWORD,
                "scope": "S-0-0",
            },
        )
        assert r.status_code == 201, r.text
        made = r.json()
        assert (made["role"], made["scope"], made["scope_name"]) == (
            "grid_head",
            "S-0-0",
            "第1-1格",
        )
        assert (made["display_name"], made["disabled"], made["last_sign_in"]) == (
            "王网格长",
            False,
            None,
        )
        user = login(desk.engine, desk.settings.access, name, PASSWORD, client="test")
        assert _micros(desk.settings, user) == {"M00", "M01", "M10", "M11"}
        listed = {a["username"]: a for a in admin.get("/api/admin/users").json()}
        assert listed[name]["last_sign_in"] is not None

        r = admin.patch(f"/api/admin/users/{made['id']}", json={"scope": "S-1-0"})
        assert r.status_code == 200, r.text
        assert (r.json()["scope"], r.json()["scope_name"]) == ("S-1-0", "第2-1格")
        assert _micros(desk.settings, user) == {"M02", "M03", "M12", "M13"}

        token = token_for(desk.settings, user)
        r = admin.patch(f"/api/admin/users/{made['id']}", json={"disabled": True})
        assert r.json()["disabled"] is True
        with TestClient(create_app(desk.settings)) as client:
            refused = client.get("/api/areas", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        with pytest.raises(Exception, match="wrong user name or password"):
            login(desk.engine, desk.settings.access, name, PASSWORD, client="test")

        r = admin.patch(f"/api/admin/users/{made['id']}", json={"disabled": False})
        assert r.json()["disabled"] is False
        again = login(desk.engine, desk.settings.access, name, PASSWORD, client="test")
        assert again.scope == "S-1-0"

        # A role that sees everything drops the area; a scoped role needs one again.
        r = admin.patch(f"/api/admin/users/{made['id']}", json={"role": "leader"})
        assert (r.json()["role"], r.json()["scope"]) == ("leader", None)
        r = admin.patch(f"/api/admin/users/{made['id']}", json={"role": "grid_member"})
        assert r.status_code == 400
        assert r.json()["message"] == "网格员 只在一个区域工作：请在区域树中选择。"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role": "grid_head"}, "网格长 只在一个区域工作：请在区域树中选择。"),
        ({"role": "leader", "scope": "S-0"}, "领导 查看全辖区，不设管辖区域。"),
        ({"role": "grid_member", "scope": "NOPE"}, "没有编码为 NOPE 的区域。"),
        ({"role": "leader", "password": "short"}, "密码太短：5 个字符，至少需要 12 个。"),
        ({"role": "leader", "password": "password"}, "密码太短：8 个字符，至少需要 12 个。"),
        ({"role": "leader", "password": "aaaaaaaaaaaaaaaa"}, "密码过于常见或过于简单。"),
        (
            {"role": "leader", "username": "two words"},
            "用户名 two words 不可用：须为 1 至 64 个字符，不含空格。",
        ),
    ],
    ids=["no-area", "area-for-leader", "unknown-area", "short", "short-known", "trivial", "space"],
)
def test_a_refused_user_names_the_problem_in_chinese_and_writes_nothing(
    desk: Desk, body: dict[str, Any], message: str
) -> None:
    with api_client(desk.settings, Role.ADMIN) as admin:
        before = len(admin.get("/api/admin/users").json())
        r = admin.post(
            "/api/admin/users", json={"username": _name("x"), "password": PASSWORD, **body}
        )
        assert r.status_code == 400, r.text
        assert r.json()["message"] == message
        assert len(admin.get("/api/admin/users").json()) == before


def test_a_taken_name_and_an_unknown_user_are_refused(desk: Desk) -> None:
    with api_client(desk.settings, Role.ADMIN) as admin:
        taken = admin.get("/api/admin/users").json()[0]["username"]
        r = admin.post(
            "/api/admin/users", json={"username": taken, "role": "leader", "password": PASSWORD}
        )
        assert (r.status_code, r.json()["message"]) == (400, f"用户名 {taken} 已存在。")
        r = admin.patch("/api/admin/users/999999", json={"disabled": True})
        assert (r.status_code, r.json()["message"]) == (404, "没有编号为 999999 的用户。")
        r = admin.patch("/api/admin/users/1", json={"password": "x"})
        assert r.status_code == 422


def test_the_last_enabled_admin_stays(make_db: Callable[..., tuple[Engine, Settings]]) -> None:
    engine, settings = make_db("last_admin")
    only = make_user(settings, Role.ADMIN)
    for change in ({"disabled": True}, {"role": Role.LEADER}):
        with pytest.raises(InputError, match="last enabled admin"):
            update_user(engine, settings, only.id, **change)
    # A disabled admin does not count; a second enabled one lets the first go.
    second = make_user(settings, Role.ADMIN)
    update_user(engine, settings, second.id, disabled=True)
    with pytest.raises(InputError, match="last enabled admin"):
        update_user(engine, settings, only.id, disabled=True)
    update_user(engine, settings, second.id, disabled=False)
    assert update_user(engine, settings, only.id, disabled=True).disabled
    # Through the page's API: the admin cannot disable themselves into a lockout.
    cookie, csrf = session_for(settings, second)
    with TestClient(create_app(settings)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        r = client.patch(
            f"/api/admin/users/{second.id}",
            json={"disabled": True},
            headers={"X-CSRF-Token": csrf},
        )
    assert r.status_code == 400
    assert r.json()["message"] == (
        f"{second.username} 是最后一个启用的管理员：请先添加或启用另一个管理员。"
    )


def test_non_admins_get_403_on_the_pages_and_routes(desk: Desk) -> None:
    for role in (Role.LEADER, Role.DISPATCHER, Role.GRID_HEAD):
        scope = "S-0-0" if role == Role.GRID_HEAD else None
        with api_client(desk.settings, role, scope) as client:
            for method, path in (
                ("GET", "/admin/users"),
                ("GET", "/admin/audit"),
                ("GET", "/api/admin/users"),
                ("GET", "/api/admin/audit"),
            ):
                assert client.request(method, path).status_code == 403, (role, path)
            r = client.post(
                "/api/admin/users",
                json={"username": _name("sneak"), "role": "admin", "password": PASSWORD},
            )
            assert r.status_code == 403
            assert client.patch("/api/admin/users/1", json={"role": "admin"}).status_code == 403


def test_a_page_change_needs_the_sessions_csrf_token(desk: Desk) -> None:
    admin = make_user(desk.settings, Role.ADMIN)
    target = make_user(desk.settings, Role.LEADER)
    cookie, csrf = session_for(desk.settings, admin)
    with TestClient(create_app(desk.settings)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        r = client.patch(f"/api/admin/users/{target.id}", json={"display_name": "李四"})
        assert r.status_code == 403
        r = client.patch(
            f"/api/admin/users/{target.id}",
            json={"display_name": "李四"},
            headers={"X-CSRF-Token": csrf},
        )
        assert (r.status_code, r.json()["display_name"]) == (200, "李四")


def _audit_mark(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one())


def test_each_change_is_logged_under_the_admins_name_with_before_and_after(desk: Desk) -> None:
    admin = make_user(desk.settings, Role.ADMIN)
    target = make_user(desk.settings, Role.GRID_MEMBER, "M00")
    mark = _audit_mark(desk.engine)
    with TestClient(create_app(desk.settings)) as client:
        client.headers["Authorization"] = f"Bearer {token_for(desk.settings, admin)}"
        r = client.patch(f"/api/admin/users/{target.id}", json={"scope": "M33"})
        assert r.status_code == 200
        # Nothing changed, nothing logged.
        client.patch(f"/api/admin/users/{target.id}", json={"scope": "M33"})
        entries = client.get(
            "/api/admin/audit", params={"entity": "users", "user": admin.username}
        ).json()
    mine = [e for e in entries if e["id"] > mark]
    assert len(mine) == 1
    (entry,) = mine
    assert (entry["actor"], entry["action"]) == (admin.label, "UPDATE")
    (row,) = row_changes(entry["action"], entry["before"], entry["after"])
    changed = {f.name: (f.before, f.after) for f in row.fields if f.changed}
    assert changed == {"scope_code": ("M00", "M33")}
    assert row.key == str(target.id)


def test_the_audit_log_filters_by_table_user_time_and_record_and_pages_by_id(
    desk: Desk,
) -> None:
    admin = make_user(desk.settings, Role.ADMIN)
    target = make_user(desk.settings, Role.LEADER)
    mark = _audit_mark(desk.engine)
    with acting_as(admin.label):
        for k in range(7):
            update_user(desk.engine, desk.settings, target.id, display_name=f"名{k}")
    where = AuditFilter(entity="users", user=admin.username, record=str(target.id))
    every = [e["id"] for e in audit_entries(desk.engine, where=where, limit=100)]
    assert len(every) == 7
    assert every == sorted(every, reverse=True)
    assert min(every) > mark
    # Keyset pages of three, older and back newer.
    pages, before = [], None
    while True:
        page = audit_entries(desk.engine, where=where, before_id=before, limit=3)
        if not page:
            break
        pages.append([e["id"] for e in page])
        before = page[-1]["id"]
    assert [i for p in pages for i in p] == every
    assert [len(p) for p in pages] == [3, 3, 1]
    newer = audit_entries(desk.engine, where=where, after_id=pages[1][0], limit=3)
    assert [e["id"] for e in newer] == pages[0]
    # Another record, another user, another table: none of these.
    for other in (
        AuditFilter(entity="users", user=admin.username, record="999999"),
        AuditFilter(entity="users", user="somebody-else", record=str(target.id)),
        AuditFilter(entity="areas", user=admin.username),
    ):
        assert audit_entries(desk.engine, where=other) == []
    # A time range around now holds them; one that ended yesterday does not.
    now = clock.utcnow()
    around = AuditFilter(
        entity="users",
        user=admin.username,
        since=now - timedelta(hours=1),
        until=now + timedelta(minutes=5),
    )
    assert len(audit_entries(desk.engine, where=around)) == 7
    gone = AuditFilter(entity="users", user=admin.username, until=now - timedelta(days=1))
    assert audit_entries(desk.engine, where=gone) == []


def test_an_insert_an_update_a_delete_and_a_bulk_statement_read_field_by_field() -> None:
    (added,) = row_changes("INSERT", None, [{"id": 1, "name": "甲"}])
    assert [(f.name, f.before, f.after, f.changed) for f in added.fields] == [
        ("id", None, 1, True),
        ("name", None, "甲", True),
    ]
    a, b = row_changes(
        "UPDATE",
        [{"id": 1, "role": "leader"}, {"id": 2, "scope_code": "M00"}],
        [{"id": 2, "scope_code": "M33"}, {"id": 1, "role": "admin"}],
    )
    assert (a.key, b.key) == ("2", "1")
    assert [(f.name, f.before, f.after, f.changed) for f in a.fields] == [
        ("id", 2, 2, False),
        ("scope_code", "M00", "M33", True),
    ]
    (gone,) = row_changes("DELETE", [{"code": "M00", "name": "微"}], None)
    assert gone.key == "M00"
    assert all(f.after is None and f.changed for f in gone.fields)
    assert row_changes("INSERT", None, {"rows": 120, "keys": {"id": {"min": 1, "max": 120}}}) == []


def _page(settings: Settings, admin: User, path: str, **params: str) -> str:
    cookie, _csrf = session_for(settings, admin)
    with TestClient(create_app(settings)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        r = client.get(path, params=params, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    return r.text


def test_the_audit_page_shows_the_change_in_district_time_and_pages(desk: Desk) -> None:
    admin = make_user(desk.settings, Role.ADMIN)
    target = make_user(desk.settings, Role.GRID_HEAD, "S-0-0")
    with acting_as(admin.label):
        update_user(desk.engine, desk.settings, target.id, scope="S-1-1")
        for k in range(AUDIT_PAGE + 2):
            update_user(desk.engine, desk.settings, target.id, display_name=f"名{k}")
    (entry,) = audit_entries(
        desk.engine,
        where=AuditFilter(entity="users", user=admin.username, record=str(target.id)),
        before_id=None,
        limit=AUDIT_PAGE + 3,
    )[-1:]
    local = datetime.fromisoformat(entry["at"]).astimezone(clock.zone(desk.settings.timezone))
    day = local.date().isoformat()
    html = _page(desk.settings, admin, "/admin/audit", table="users", user=admin.username, to=day)
    assert html.count('class="gs-card gs-audit-entry') == AUDIT_PAGE
    assert 'id="gs-audit-older"' in html
    assert 'id="gs-audit-newer"' not in html
    older = re.search(
        r'id="gs-audit-older" href="([^"]+)"|href="([^"]+)" id="gs-audit-older"', html
    )
    assert older
    link = (older.group(1) or older.group(2)).replace("&amp;", "&")
    html = _page(
        desk.settings,
        admin,
        link.split("?")[0],
        **dict(p.split("=") for p in link.split("?")[1].split("&")),
    )
    assert 'id="gs-audit-newer"' in html
    assert f'data-id="{entry["id"]}"' in html
    block = html.split(f'data-id="{entry["id"]}"', 1)[1].split("</article>", 1)[0]
    assert local.strftime("%Y-%m-%d %H:%M:%S") in block
    assert re.search(
        r'<tr class="gs-changed" data-field="scope_code"><th>区域 <code>scope_code</code></th>'
        r'<td class="gs-before">S-0-0</td><td class="gs-after">S-1-1</td></tr>',
        block,
    )
    assert '<tr data-field="id">' in block  # the key: shown, not marked
    # A day written wrong is said, in Chinese, and nothing is listed.
    bad = _page(desk.settings, admin, "/admin/audit", **{"from": "2026-13-01"})
    assert "日期须写作" in bad
    assert "gs-audit-entry" not in bad


def test_the_users_page_lists_areas_by_name_and_code_and_the_roles(desk: Desk) -> None:
    admin = make_user(desk.settings, Role.ADMIN)
    head = make_user(desk.settings, Role.GRID_HEAD, "S-0-1")
    html = _page(desk.settings, admin, "/admin/users")
    row = html.split(f'data-username="{head.username}"', 1)[1].split("</tr>", 1)[0]
    assert "第1-2格 <code>S-0-1</code>" in row
    assert "网格长" in row
    assert "从未" in row
    for role in Role:
        assert f'<option value="{role}">' in html
    assert '"code":"M33"' in html  # the picker's tree holds the whole hierarchy
