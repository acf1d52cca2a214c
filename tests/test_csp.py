"""The pages' content security policy admits only the app's script files and the inline scripts
that carry the response's nonce (issue 22, item 7): every page still works under it in a real
headless Chromium, with no violation reported, and a script injected without the nonce is
refused. Screenshots go to the artifacts."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from geo.access import Role
from geo.levels import Level
from geo.settings import Settings
from tests.browser import CHROMIUM, Chromium, PageLoad, serve
from tests.clients import api_client
from tests.test_maps import AS_OF, build_district
from tests.test_maps_browser import MIN_PIXELS, painted
from tests.test_routes_page import _plan

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="chromium not installed")

# Every violation the page reports, kept on the window (installed before any page script runs).
WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', e => "
    "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));"
)
MAP_READY = "!!(window.gridsafe && document.querySelector('.gs-label'))"
LEAFLET_READY = "!!document.querySelector('.leaflet-container .leaflet-interactive')"


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Settings, int]:
    engine, settings = make_db("csp")
    build_district(engine, settings)
    plan = _plan(engine, settings)
    return settings, int(plan["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        b.send("Page.addScriptToEvaluateOnNewDocument", source=WATCH)
        yield b


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


def _clean(load: PageLoad, browser: Chromium, *, status: int | None = None) -> None:
    """No console error, network error or CSP violation; ``status``: the page's own, expected."""
    own = (f"HTTP {status} {load.url}", f"status of {status} (Not Found) {load.url}")
    errors = [e for e in load.errors if not (status and e.endswith(own))]
    assert errors == [], f"{load.url}: {errors}"
    assert browser.evaluate("window.__csp") == [], load.url


@pytest.fixture
def base(district: tuple[Settings, int], browser: Chromium) -> Iterator[str]:
    """The app served on the district, the browser signed out; yields the base URL."""
    with serve(district[0]) as url:
        browser.send("Network.clearBrowserCookies")
        yield url


def test_pages_work_under_the_policy(
    district: tuple[Settings, int], base: str, browser: Chromium, artifacts: Path
) -> None:
    settings, plan_id = district
    load = browser.load(f"{base}/login", screenshot=artifacts / "csp_login.png")
    _clean(load, browser)
    browser.sign_in(base, settings)
    load = browser.load(f"{base}/", screenshot=artifacts / "csp_dashboard.png")
    _clean(load, browser)
    assert "微网格" in browser.evaluate("document.body.innerText")
    # The control: an inline script without the nonce is refused and reported.
    refused = browser.evaluate(
        "new Promise(r => { const s = document.createElement('script');"
        "s.textContent = 'window.__ran = true'; document.body.append(s);"
        "setTimeout(() => r([window.__ran === undefined, window.__csp.length]), 200); })"
    )
    assert refused == [True, 1]
    for level in Level:
        png = artifacts / f"csp_risk_{level}.png"
        url = f"{base}/maps/risk?level={level}&as_of={AS_OF}"
        load = browser.load(url, ready=MAP_READY, screenshot=png)
        _clean(load, browser)
        counts = painted(png)
        if level == Level.MICRO:
            assert all(n >= MIN_PIXELS for n in counts.values()), counts
        else:
            assert max(counts.values()) >= MIN_PIXELS, (level, counts)
    for url, name in (("/maps/coverage", "coverage"), (f"/maps/routes/{plan_id}", "route")):
        load = browser.load(
            f"{base}{url}", ready=LEAFLET_READY, screenshot=artifacts / f"csp_{name}.png"
        )
        _clean(load, browser)
    load = browser.load(f"{base}/stats", screenshot=artifacts / "csp_stats.png")
    _clean(load, browser)
    load = browser.load(f"{base}/maps/routes/999999", screenshot=artifacts / "csp_404.png")
    _clean(load, browser, status=404)
    assert "404" in browser.evaluate("document.body.innerText")


def _click(browser: Chromium, selector: str) -> None:
    """A real mouse click at the middle of the element's drawn box."""
    box = browser.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().toJSON()")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def _wait_for(browser: Chromium, expression: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not browser.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def test_language_switch_and_sign_out_work_under_the_policy(
    district: tuple[Settings, int], base: str, browser: Chromium, artifacts: Path
) -> None:
    browser.sign_in(base, district[0])
    load = browser.load(f"{base}/")
    _clean(load, browser)
    # The language switch: focus the select with a click (Escape closes its list), choose
    # the next language with the arrow key; its change listener keeps the choice and
    # reloads the page (a new document: no __old on its window).
    before = browser.evaluate("window.__old = true; document.getElementById('gs-language').value")
    _click(browser, "#gs-language")
    _key(browser, "Escape", 27)
    _key(browser, *(("ArrowDown", 40) if before == "zh_CN" else ("ArrowUp", 38)))
    _wait_for(browser, "window.__old === undefined && document.readyState === 'complete'")
    after = browser.evaluate("document.getElementById('gs-language').value")
    assert after != before
    assert browser.evaluate("window.__csp") == []
    # Sign-out: the form's submit listener posts with the CSRF token, then opens /login.
    _click(browser, "#gs-logout button")
    _wait_for(browser, "location.pathname === '/login' && document.readyState === 'complete'")
    assert browser.evaluate("window.__csp") == []
    load = browser.load(f"{base}/", screenshot=artifacts / "csp_signed_out.png")
    assert browser.evaluate("location.pathname") == "/login"
    _clean(load, browser)


def _key(browser: Chromium, key: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", type=kind, key=key, code=key,
                     windowsVirtualKeyCode=code)  # fmt: skip
