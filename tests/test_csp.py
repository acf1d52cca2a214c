"""The pages' content security policy admits only the app's script files and the inline scripts
that carry the response's nonce (issue 22, item 7): every page still works under it in a real
headless Chromium, with no violation reported, and a script injected without the nonce is
refused. Screenshots go to the artifacts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import Engine

from geo.access import Role
from geo.levels import Level
from geo.settings import Settings
from tests.browser import Tab, serve, sign_in
from tests.clients import api_client
from tests.test_maps import AS_OF, build_district
from tests.test_maps_browser import MIN_PIXELS, painted
from tests.test_routes_page import _plan

# Every violation the page reports, kept on the window (installed before any page script runs).
WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', e => "
    "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));"
)
MAP_READY = ".gs-label"
LEAFLET_READY = ".leaflet-container .leaflet-interactive"


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Settings, int]:
    engine, settings = make_db("csp")
    build_district(engine, settings)
    plan = _plan(engine, settings)
    return settings, int(plan["id"])


def _script_tags(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)


def test_every_inline_script_carries_the_responses_nonce(district: tuple[Settings, int]) -> None:
    settings, plan_id = district
    pages = ["/", f"/maps/risk?as_of={AS_OF}", "/maps/coverage", f"/maps/routes/{plan_id}",
             "/stats", "/maps/routes/999999", "/docs"]  # fmt: skip
    nonces = set()
    with api_client(settings, Role.LEADER) as client:
        for url in pages:
            response = client.get(url, headers={"Accept": "text/html"})
            policy = response.headers["content-security-policy"]
            script_src = re.search(r"script-src ([^;]*)", policy)
            assert script_src is not None, policy
            sources = script_src.group(1).split()
            assert "'unsafe-inline'" not in sources, (url, policy)
            nonce = next(s[len("'nonce-") : -1] for s in sources if s.startswith("'nonce-"))
            nonces.add(nonce)
            tags = _script_tags(response.text)
            assert tags, url
            assert [t for t in tags if f'nonce="{nonce}"' not in t] == [], url
            assert re.search(r"\son[a-z]+=", response.text.split("<script", 1)[0]) is None, url
    assert len(nonces) == len(pages), "a nonce was used twice"


def test_the_field_service_worker_is_admitted_and_served(district: tuple[Settings, int]) -> None:
    settings, _ = district
    with api_client(settings, Role.LEADER) as client:
        policy = client.get("/", headers={"Accept": "text/html"}).headers["content-security-policy"]
        assert "worker-src 'self';" in policy
        script = client.get("/field/sw.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    # Served from /field/ yet answering for /field (the home page) too.
    assert script.headers["service-worker-allowed"] == "/field"
    assert script.headers["cache-control"] == "no-store"
    assert '"/field/report"' in script.text
    assert '"/static/gridsafe/field.js"' in script.text


def _clean(tab: Tab, *, status: int | None = None) -> None:
    """No console error, network error or CSP violation; ``status``: the page's own, expected."""
    url = tab.page.url
    own = (f"HTTP {status} {url}", f"status of {status} (Not Found) {url}")
    errors = [e for e in tab.errors if not (status and e.endswith(own))]
    assert errors == [], f"{url}: {errors}"
    assert tab.page.evaluate("window.__csp") == [], url
    tab.errors.clear()


@pytest.fixture
def tab(district: tuple[Settings, int], desktop: BrowserContext) -> Iterator[Tab]:
    """The app served on the district, a fresh signed-out page watching for CSP violations."""
    desktop.add_init_script(WATCH)
    with serve(district[0]) as url:
        yield Tab.open(desktop, url)


def test_pages_work_under_the_policy(
    district: tuple[Settings, int], tab: Tab, artifacts: Path
) -> None:
    settings, plan_id = district
    tab.goto("/login")
    tab.shot(artifacts / "csp_login.png")
    _clean(tab)
    sign_in(tab, settings)
    tab.goto("/")
    tab.shot(artifacts / "csp_dashboard.png")
    _clean(tab)
    assert "微网格" in tab.text()
    # The control: an inline script without the nonce is refused and reported.
    refused = tab.page.evaluate(
        "new Promise(r => { const s = document.createElement('script');"
        "s.textContent = 'window.__ran = true'; document.body.append(s);"
        "setTimeout(() => r([window.__ran === undefined, window.__csp.length]), 200); })"
    )
    assert refused == [True, 1]
    tab.errors.clear()  # the refusal itself is reported on the console
    for level in Level:
        tab.goto(f"/maps/risk?level={level}&as_of={AS_OF}", ready=MAP_READY)
        png = tab.shot(artifacts / f"csp_risk_{level}.png")
        _clean(tab)
        counts = painted(png)
        if level == Level.MICRO:
            assert all(n >= MIN_PIXELS for n in counts.values()), counts
        else:
            assert max(counts.values()) >= MIN_PIXELS, (level, counts)
    for url, name in (("/maps/coverage", "coverage"), (f"/maps/routes/{plan_id}", "route")):
        tab.goto(url, ready=LEAFLET_READY)
        tab.shot(artifacts / f"csp_{name}.png")
        _clean(tab)
    tab.goto("/stats")
    tab.shot(artifacts / "csp_stats.png")
    _clean(tab)
    tab.goto("/maps/routes/999999")
    tab.shot(artifacts / "csp_404.png")
    _clean(tab, status=404)
    assert "404" in tab.text()


def test_language_switch_and_sign_out_work_under_the_policy(
    district: tuple[Settings, int], tab: Tab, artifacts: Path
) -> None:
    sign_in(tab, district[0])
    tab.goto("/")
    _clean(tab)
    # The language switch: focus the select with a click, choose the next language with the
    # keyboard; its change listener keeps the choice and reloads the page.
    language = tab.page.locator("#gs-language")
    before = language.input_value()
    language.focus()
    with tab.page.expect_navigation(timeout=30_000):
        tab.page.keyboard.press("ArrowDown" if before == "zh_CN" else "ArrowUp")
    tab.page.wait_for_load_state("load")
    expect(tab.page.locator("#gs-language")).not_to_have_value(before)
    assert tab.page.evaluate("window.__csp") == []
    # Sign-out: the form's submit listener posts with the CSRF token, then opens /login.
    with tab.page.expect_navigation(timeout=30_000):
        tab.page.locator("#gs-logout button").click()
    tab.page.wait_for_load_state("load")
    assert urlsplit(tab.page.url).path == "/login"
    assert tab.page.evaluate("window.__csp") == []
    tab.goto("/")
    tab.shot(artifacts / "csp_signed_out.png")
    assert urlsplit(tab.page.url).path == "/login"
    _clean(tab)
