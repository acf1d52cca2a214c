"""The admin's pages in Chromium, used as a person uses them (issue 19, item 5): an admin adds
a grid head with the area picked in the hierarchy's tree, the new user signs in and sees only
that area; the admin moves them to another area, then disables them and their sign-in is
refused; the audit page filtered by table and user shows that change's before and after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import Engine

from geo.access import Role
from geo.settings import Settings
from tests.browser import DESKTOP, Tab, serve, sign_in
from tests.test_maps import build_district

PASSWORD = "the new head's long password"  # noqa: S105 - typed into the forms by the test
NEW = "wang-head"


@dataclass
class Site:
    settings: Settings
    base: str


@pytest.fixture(scope="module")
def site(make_db: Callable[..., tuple[Engine, Settings]]) -> Iterator[Site]:
    """The hand-made district (tests/test_maps.py) served on a free port, production mode."""
    _engine, settings = make_db("admin_pages")
    build_district(_engine, settings)
    with serve(settings) as base:
        yield Site(settings, base)


def _type(tab: Tab, selector: str, value: str) -> None:
    field = tab.page.locator(selector)
    field.click()
    field.press_sequentially(value)


def _sign_in_as(tab: Tab, username: str, password: str) -> None:
    tab.goto("/login")
    _type(tab, "#username", username)
    _type(tab, "#password", password)
    with tab.page.expect_navigation():
        tab.page.get_by_role("button").click()


def _micros(tab: Tab) -> set[str]:
    body = tab.page.request.get(f"{tab.base}/api/areas?level=micro").json()
    return {f["properties"]["code"] for f in body["features"]}


def _row(tab: Tab, username: str) -> str:
    return f'#gs-users tr[data-username="{username}"]'


def _add_head(admin_tab: Tab, artifacts: Path) -> None:
    """Add the grid head: type the fields, pick the role, open the tree down to the grid."""
    page = admin_tab.page
    _type(admin_tab, "#gs-new-username", NEW)
    _type(admin_tab, "#gs-new-display", "王网格长")
    page.locator("#gs-new-role").select_option(label="网格长")
    _type(admin_tab, "#gs-new-password", PASSWORD)
    area = page.locator("#gs-new-area")
    area.get_by_role("button", name="展开下级区域 测试街道").click()
    area.get_by_role("button", name="展开下级区域 第1网格").click()
    area.locator('.gs-node[data-code="S-0-0"]').click()
    assert area.locator(".gs-picker-chosen").inner_text() == "区域： 第1-1格 S-0-0"
    admin_tab.shot(artifacts / "admin_users_add.png")
    page.get_by_role("button", name="添加用户").click()
    page.wait_for_selector(_row(admin_tab, NEW))
    assert admin_tab.text("#gs-users-status") == f"已添加用户 {NEW}。"
    row = page.locator(_row(admin_tab, NEW))
    assert "第1-1格 S-0-0" in row.locator(".gs-scope").inner_text()
    assert row.locator(".gs-role").inner_text() == "网格长"
    # The list's search finds them alone.
    _type(admin_tab, "#gs-user-search", "王网格")
    shown = page.locator("#gs-users tbody tr:visible").all()
    assert [r.get_attribute("data-username") for r in shown] == [NEW]
    admin_tab.shot(artifacts / "admin_users_list.png")


def _move_head(admin_tab: Tab, artifacts: Path) -> None:
    """Move the grid head to grid 2-1, found by its code in the picker's search."""
    page = admin_tab.page
    page.locator(_row(admin_tab, NEW)).get_by_role("button", name="修改").click()
    dialog = page.locator("#gs-edit-user")
    dialog.wait_for(state="visible")
    assert dialog.locator(".gs-picker-chosen").inner_text() == "区域： 第1-1格 S-0-0"
    dialog.locator(".gs-picker-search").press_sequentially("S-1-0")
    dialog.locator('.gs-found .gs-node[data-code="S-1-0"]').click()
    admin_tab.shot(artifacts / "admin_users_rescope.png")
    dialog.get_by_role("button", name="保存").click()
    page.wait_for_selector(f'{_row(admin_tab, NEW)}[data-scope="S-1-0"]')


def _disable_head(admin_tab: Tab) -> None:
    """Disable the grid head, confirming the question the page asks."""
    page = admin_tab.page
    page.once("dialog", lambda d: d.accept())
    page.locator(_row(admin_tab, NEW)).get_by_role("button", name="停用").click()
    page.wait_for_selector(f'{_row(admin_tab, NEW)}[data-state="disabled"]')
    assert page.locator(_row(admin_tab, NEW)).locator(".gs-state").inner_text() == "已停用"


def _audit_shows_the_move(admin_tab: Tab, admin: str, artifacts: Path) -> None:
    """The audit log, filtered by table and user, shows the move field by field."""
    page = admin_tab.page
    admin_tab.goto("/admin/audit", ready="#gs-audit-filter")
    page.locator("#gs-audit-table").select_option(label="用户")
    _type(admin_tab, "#gs-audit-user", admin)
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    entries = page.locator(".gs-audit-entry")
    assert entries.count() >= 3  # added, moved, disabled
    assert {e.get_attribute("data-entity") for e in entries.all()} == {"users"}
    moved = page.locator('.gs-audit-entry:has(tr.gs-changed[data-field="scope_code"])').first
    scope = moved.locator('tr[data-field="scope_code"]')
    assert scope.locator(".gs-before").inner_text() == "S-0-0"
    assert scope.locator(".gs-after").inner_text() == "S-1-0"
    assert moved.locator(".gs-badge").inner_text() == "修改"
    assert admin in moved.locator(".gs-audit-actor").inner_text()
    disabled = page.locator('.gs-audit-entry:has(tr.gs-changed[data-field="disabled_at"])').first
    assert disabled.locator('tr[data-field="disabled_at"] .gs-before').inner_text() == "—"
    admin_tab.shot(artifacts / "admin_audit.png")


def test_an_admin_adds_moves_and_disables_a_grid_head_and_the_audit_shows_it(
    site: Site, desktop: BrowserContext, browser: Browser, artifacts: Path
) -> None:
    admin_tab = Tab.open(desktop, site.base)
    admin = sign_in(admin_tab, site.settings, Role.ADMIN)
    admin_tab.goto("/admin/users", ready="#gs-users")
    assert admin_tab.text("h1") == "用户与权限"
    _add_head(admin_tab, artifacts)

    head_context = browser.new_context(**DESKTOP)
    try:
        # The new grid head signs in and sees their grid only.
        head_tab = Tab.open(head_context, site.base)
        _sign_in_as(head_tab, NEW, PASSWORD)
        head_tab.page.wait_for_selector("#gs-area")
        assert head_tab.text("#gs-area") == "第1-1格"
        assert _micros(head_tab) == {"M00", "M01", "M10", "M11"}
        _move_head(admin_tab, artifacts)
        assert _micros(head_tab) == {"M02", "M03", "M12", "M13"}
        # Disabled: their session ends and the password no longer signs in.
        _disable_head(admin_tab)
        assert head_tab.page.request.get(f"{site.base}/api/areas").status == 401
        _sign_in_as(head_tab, NEW, PASSWORD)
        assert head_tab.page.locator("p.error").inner_text() == "用户名或密码错误，或账号已停用。"
    finally:
        head_context.close()

    _audit_shows_the_move(admin_tab, admin.username, artifacts)
    admin_tab.assert_offline()
