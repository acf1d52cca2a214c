"""Signing in: the login page in real Chromium, sessions, CSRF, rate limiting, safe defaults."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from api.app import create_app
from api.auth import SESSION_COOKIE
from demo.users import add_demo_users
from geo.access import (
    DEMO_PASSWORD,
    Role,
    add_user,
    demo_passwords_left,
    login,
)
from geo.errors import AuthenticationError, InputError, LoginThrottledError
from geo.settings import Settings
from tests.browser import Tab, serve
from tests.clients import gridsafe, make_user, session_for
from tests.conftest import travel
from tests.frozen import Instant
from tests.test_maps import build_district
from tests.test_maps_browser import READY_EMBED

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test account's


@pytest.fixture(scope="module")
def site(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    """The hand-made district in demo mode, with the demo accounts and one real user."""
    engine, settings = make_db("login", mode="demo", login_max_failures=3)
    build_district(engine, settings)
    add_demo_users(engine, settings, grid3="S-0-0", micro="M00")
    add_user(engine, settings, "wang", Role.LEADER, password=PASSWORD)
    return engine, settings


def _form(client: TestClient, username: str, password: str, next_: str = "/") -> int:
    response = client.post(
        "/login", data={"username": username, "password": password, "next": next_}
    )
    return response.status_code


def test_sign_in_through_the_page_then_out(
    site: tuple[Engine, Settings], desktop: BrowserContext, artifacts: Path
) -> None:
    _engine, settings = site
    with serve(settings) as base:
        tab = Tab.open(desktop, base)
        tab.goto("/maps/risk?level=micro", ready="#username")
        tab.shot(artifacts / "login.png")
        tab.assert_offline()
        assert urlsplit(tab.page.url).path == "/login"
        text_ = tab.text()
        assert "演示模式" in text_
        assert "head" in text_  # the demo accounts are listed
        tab.page.locator("#username").click()
        tab.page.keyboard.type("head")
        tab.page.locator("#password").click()
        tab.page.keyboard.type(DEMO_PASSWORD)
        with tab.page.expect_navigation(timeout=30_000):
            tab.page.get_by_role("button", name="登录").click()
        assert urlsplit(tab.page.url).path == "/maps/risk"  # back to the map asked for
        tab.goto("/maps/risk?level=micro", ready=READY_EMBED)
        tab.shot(artifacts / "risk_grid_head.png")
        tab.assert_offline()  # nothing refused by the content security policy either
        bar = tab.text("#gs-user")
        assert "head" in bar
        assert "网格长" in bar  # the role in Chinese
        assert "第1-1格" in bar  # the name of the grid head's area, S-0-0
        labels = tab.texts(".gs-label")
        assert len(labels) == 4, labels  # the grid head's four micro-grids, no others
        with tab.page.expect_navigation(timeout=30_000):
            tab.page.locator("#gs-user button").click()
        assert urlsplit(tab.page.url).path == "/login"
        response = tab.goto("/", ready="#username")
        assert response is not None
        asked = response.request.redirected_from
        assert asked is not None
        assert asked.url == f"{base}/"  # asked for the dashboard, got the login page
        assert urlsplit(tab.page.url).path == "/login"


def test_every_page_says_demo_mode(site: tuple[Engine, Settings]) -> None:
    """In demo mode every page carries the banner (and the user bar), not only the login."""
    _engine, settings = site
    user = make_user(settings, Role.LEADER)
    cookie, _csrf = session_for(settings, user)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        for page in ("/", "/maps/risk", "/maps/coverage", "/stats"):
            r = client.get(page)
            assert r.status_code == 200, page
            assert 'id="gs-demo-banner"' in r.text, page
            assert "演示模式" in r.text, page
            assert 'id="gs-user"' in r.text, page


def test_wrong_passwords_are_limited_per_user(site: tuple[Engine, Settings]) -> None:
    engine, settings = site
    right = "another long password"
    user = add_user(engine, settings, "limited", Role.LEADER, password=right)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        assert _form(client, user.username, "guess 1") == 401
        assert _form(client, user.username, "guess 2") == 401
        assert _form(client, user.username, "guess 3") == 401
        # The limit is reached: even the right password waits now.
        throttled = client.post(
            "/login",
            data={"username": user.username, "password": right},
        )
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        token = client.post(
            "/api/auth/token",
            json={"username": user.username, "password": right},
        )
        assert token.status_code == 429


def test_the_failed_login_window_is_the_districts_clock(
    site: tuple[Engine, Settings], frozen: Instant
) -> None:
    """The window of failed logins is read on the app's clock, as the attempts are stamped:
    at each shared instant three failures lock the name, and the lock lifts once the window
    has passed on that clock (the database's own clock stays where it is)."""
    engine, settings = site
    right = "yet another long password"
    user = add_user(engine, settings, f"window-{frozen.name}", Role.LEADER, password=right)
    for guess in ("guess 1", "guess 2", "guess 3"):
        with pytest.raises(AuthenticationError):
            login(engine, settings.access, user.username, guess, client=f"window-{frozen.name}")
    with pytest.raises(LoginThrottledError) as throttled:
        login(engine, settings.access, user.username, right, client=f"window-{frozen.name}")
    window_s = settings.access.login_window_min * 60
    assert 0 < throttled.value.retry_after_s <= window_s
    later = Instant(frozen.name, frozen.local + timedelta(seconds=window_s + 5))
    with travel(later):
        assert login(engine, settings.access, user.username, right, client=f"window-{frozen.name}")


def test_parallel_guesses_cannot_beat_the_limit(site: tuple[Engine, Settings]) -> None:
    """Twelve wrong guesses at once on one user (limit 3): three are told the password is
    wrong, the other nine are throttled, whatever the interleaving."""
    engine, settings = site
    user = add_user(engine, settings, "raced", Role.LEADER, password=PASSWORD)

    def guess(i: int) -> str:
        try:
            login(engine, settings.access, user.username, f"guess {i}", client=f"c{i}")
        except LoginThrottledError:
            return "throttled"
        except AuthenticationError:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = sorted(pool.map(guess, range(12)))
    assert answers == ["throttled"] * 9 + ["wrong"] * 3


def test_one_client_guessing_many_names_is_limited_too(site: tuple[Engine, Settings]) -> None:
    """Per client the limit is four times the per-user one (12 here), across user names."""
    engine, settings = site
    for i in range(4 * settings.access.login_max_failures):
        with pytest.raises(AuthenticationError):
            login(engine, settings.access, f"nobody-{i}", "guess", client="203.0.113.9")
    with pytest.raises(LoginThrottledError):
        login(engine, settings.access, "nobody-else", "guess", client="203.0.113.9")
    with pytest.raises(AuthenticationError):  # another client is not held back
        login(engine, settings.access, "nobody-else", "guess", client="203.0.113.10")


def test_old_sign_in_attempts_are_deleted(site: tuple[Engine, Settings]) -> None:
    """A sign-in deletes its user name's and its client's attempts older than the retention
    (GRIDSAFE_LOGIN_LOG_DAYS), and no one else's."""
    engine, settings = site
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO login_attempts (username, client, ok, at) VALUES "
                "('aged', 'x', false, now() - interval '100 days'), "
                "('other', '198.51.100.7', true, now() - interval '100 days'), "
                "('other', 'y', true, now() - interval '100 days'), "
                "('aged', 'x', false, now() - interval '10 days')"
            )
        )
    with pytest.raises(AuthenticationError):
        login(engine, settings.access, "aged", "guess", client="198.51.100.7")
    with engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT username, client, now() - at > interval '50 days' FROM login_attempts "
                "WHERE username IN ('aged', 'other') ORDER BY at"
            )
        ).all()
    assert [tuple(r) for r in left] == [
        ("other", "y", True),  # neither this name nor this client: kept
        ("aged", "x", False),
        ("aged", "198.51.100.7", False),
    ]


def test_a_session_needs_its_csrf_token_to_change_anything(site: tuple[Engine, Settings]) -> None:
    _engine, settings = site
    head = make_user(settings, Role.GRID_HEAD, "S-0-0")
    cookie, csrf = session_for(settings, head)
    body = {"crs": "EPSG:4547", "checkins": [{"person": "p", "time": "2026-11-24T09:00",
                                               "x": 468_050.0, "y": 3_846_850.0}]}  # fmt: skip
    with TestClient(create_app(settings), follow_redirects=False) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        assert client.get("/api/auth/me").json()["username"] == head.username
        assert client.post("/api/visits", json=body).status_code == 403
        wrong = {"X-CSRF-Token": "not-it"}
        assert client.post("/api/visits", json=body, headers=wrong).status_code == 403
        other_site = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
        assert client.post("/api/visits", json=body, headers=other_site).status_code == 403
        ok = client.post("/api/visits", json=body, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200, ok.text


def test_login_sets_a_safe_cookie_and_refuses_open_redirects(
    site: tuple[Engine, Settings],
) -> None:
    _engine, settings = site
    with TestClient(create_app(settings), follow_redirects=False) as client:
        response = client.post(
            "/login",
            data={"username": "wang", "password": PASSWORD, "next": "//evil.example/x"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        page = client.get("/")
        assert page.status_code == 200
        assert "wang" in page.text
        assert '<meta name="csrf-token"' in page.text
        headers = page.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
    with TestClient(create_app(settings), follow_redirects=False) as anonymous:
        redirect = anonymous.get("/maps/risk?level=micro")
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/login?next=%2Fmaps%2Frisk%3Flevel%3Dmicro"
        api = anonymous.get("/api/areas")
        assert api.status_code == 401
        assert api.headers["www-authenticate"] == "Bearer"


def test_an_api_token_from_a_password_works_until_revoked(site: tuple[Engine, Settings]) -> None:
    _engine, settings = site
    with TestClient(create_app(settings)) as client:
        issued = client.post("/api/auth/token", json={"username": "wang", "password": PASSWORD})
        assert issued.status_code == 200
        token = issued.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/auth/me", headers=bearer).json()["role"] == "leader"
        assert client.delete("/api/auth/token", headers=bearer).status_code == 204
        assert client.get("/api/auth/me", headers=bearer).status_code == 401
        garbled = {"Authorization": "Basic d2FuZzp4"}
        assert client.get("/api/auth/me", headers=garbled).status_code == 401


def test_production_mode_has_no_default_account_and_refuses_weak_passwords(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("production")
    assert settings.access.mode == "production"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0
    for weak in ("demo", "short", "aaaaaaaaaaaaaaaa", "password"):
        with pytest.raises(InputError, match="password"):
            add_user(engine, settings, "admin", Role.ADMIN, password=weak)
    with pytest.raises(InputError, match="demo mode"):
        add_demo_users(engine, settings, grid3="S-0-0", micro="M00")
    add_user(engine, settings, "admin", Role.ADMIN, password=PASSWORD)
    with engine.connect() as conn:
        stored = str(conn.execute(text("SELECT password_hash FROM users")).scalar())
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert login(engine, settings.access, "admin", PASSWORD, client="test").role == Role.ADMIN
    with TestClient(create_app(settings)) as client:
        page = client.get("/login")
        assert "DEMO" not in page.text
        assert "demo accounts" not in page.text.lower()


def test_demo_accounts_cannot_sign_in_or_serve_in_production_mode(
    make_db: Callable[..., tuple[Engine, Settings]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database prepared in demo mode and then run in production mode: the demo password
    signs nobody in (page, token or function), and ``gridsafe serve`` refuses to start until
    the demo accounts are disabled or given real passwords."""
    engine, demo = make_db("demo_to_production", mode="demo")
    build_district(engine, demo)
    add_demo_users(engine, demo, grid3="S-0-0", micro="M00")
    weak = "abc"  # demo mode takes any password
    add_user(engine, demo, "zhou", Role.LEADER, password=weak)
    production = demo.replace(mode="production")
    for name, password in (("admin", DEMO_PASSWORD), ("zhou", weak)):
        with pytest.raises(AuthenticationError, match="not allowed in production mode"):
            login(engine, production.access, name, password, client="test")
    with TestClient(create_app(production)) as client:
        form = {"username": "leader", "password": DEMO_PASSWORD, "next": "/"}
        assert client.post("/login", data=form).status_code != 303
        assert SESSION_COOKIE not in client.cookies
        token = client.post("/api/auth/token", json={"username": "leader", "password": "demo"})
        assert token.status_code == 401
        assert "gridsafe user password leader" in token.text
    with engine.connect() as conn:  # counted as failures: the login limit applies to them
        failed = conn.execute(text("SELECT count(*) FROM login_attempts WHERE NOT ok")).scalar()
    assert failed == 4
    monkeypatch.setenv("GRIDSAFE_MODE", "production")
    refused = gridsafe(production, "serve", "--port", "1")
    assert refused.returncode == 1
    assert "demo accounts admin, dispatcher, head, leader, member, officer still have the demo" in (
        " ".join(refused.stderr.split())
    )
    for name in ("admin", "dispatcher", "head", "leader", "officer"):
        assert gridsafe(production, "user", "disable", name).returncode == 0
    changed = gridsafe(production, "user", "password", "member", "--password-stdin",
                        stdin=PASSWORD + "\n")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert (
        login(engine, production.access, "member", PASSWORD, client="test").role == Role.GRID_MEMBER
    )
    assert demo_passwords_left(engine) == []


def test_user_commands_add_list_token_disable(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("usercli")
    build_district(engine, settings)
    added = gridsafe(
        settings, "user", "add", "li", "--role", "grid_head", "--scope", "S-1-0",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "grid_head in S-1-0" in added.stdout
    weak = gridsafe(settings, "user", "add", "zhao", "--role", "leader", "--password-stdin",
                     stdin="demo\n")  # fmt: skip
    assert weak.returncode == 1
    assert "password" in weak.stderr
    unscoped = gridsafe(settings, "user", "add", "qian", "--role", "grid_head",
                         "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert unscoped.returncode == 1
    assert "needs an area scope" in unscoped.stderr
    listed = gridsafe(settings, "user", "list")
    assert "li\tgrid_head\tS-1-0\tenabled" in listed.stdout
    token = gridsafe(settings, "user", "token", "li", "--hours", "2").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        codes = {
            f["properties"]["code"]
            for f in client.get("/api/areas", headers=bearer).json()["features"]
        }
        assert codes == {"S-1-0", "M02", "M03", "M12", "M13"}
        disabled = gridsafe(settings, "user", "disable", "li")
        assert disabled.returncode == 0, disabled.stderr
        # Disabled in another process: a server refuses the token within the time it keeps
        # checked credentials (GRIDSAFE_CREDENTIAL_CACHE_S, 2 s by default), never later.
        deadline = time.monotonic() + settings.access.credential_cache_s + 1.0
        status = client.get("/api/areas", headers=bearer).status_code
        while status != 401 and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.get("/api/areas", headers=bearer).status_code
        assert status == 401
    assert "li\tgrid_head\tS-1-0\tdisabled" in gridsafe(settings, "user", "list").stdout
    with engine.connect() as conn:
        actors = (
            conn.execute(text("SELECT DISTINCT actor FROM audit_log WHERE entity = 'users'"))
            .scalars()
            .all()
        )
    assert all(a.startswith("cli:") for a in actors), actors
