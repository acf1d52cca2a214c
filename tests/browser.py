"""Real headless Chromium for end-to-end page tests, driven with Playwright as a person would.

``serve(settings)`` runs the app with uvicorn on a free loopback port in a thread. ``launch()``
starts the system's /usr/bin/chromium (Playwright never downloads a browser of its own here);
the tests share one per session (the ``browser`` fixture) and open a context per test
(``desktop``, ``tablet``, ``phone``). A ``Tab`` is one page of a context that records every
request and every console or network error while a person uses it.

Input is real: ``sign_in`` types a name and password into the login form and clicks; the
``*_area`` and ``*_marker`` helpers read from the page *where* an area or a marker is drawn (its
outline projected by the Leaflet map, minus the markers, controls and panels over it) and then
move, click or tap the mouse or finger at that screen point. Nothing opens a panel by calling
the page's JavaScript.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from shapely.geometry import Point, box, shape

from api.app import create_app
from geo.access import Role, User
from geo.settings import Settings
from tests.clients import free_port, make_user

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]
"""Chromium's flags besides ``--headless`` (which Playwright adds)."""

DESKTOP: dict[str, Any] = {"viewport": {"width": 1600, "height": 1000}}
TABLET: dict[str, Any] = {
    "viewport": {"width": 1024, "height": 768},
    "has_touch": True,
    "is_mobile": True,
}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
}
"""Keyword arguments of ``Browser.new_context`` for a wall-screen desk, a tablet and a phone."""

PASSWORD = "a test account's long password"  # noqa: S105 - typed into the login form by tests
EDGE_PX = 4
"""How far inside an area's outline (and away from anything drawn over it) input lands."""


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run the app on a free loopback port; yield its base URL (no trailing slash)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "the app did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def launch() -> Iterator[Browser]:
    """Start the system's headless Chromium; close it at the end."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """One page of a browser context, on the app at ``base``, with what it asked and logged."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, context: BrowserContext, base: str) -> Tab:
        """A new page in ``context`` that records every request and every error."""
        tab = cls(context.new_page(), base)

        def console(message: ConsoleMessage) -> None:
            if message.type in ("error", "assert"):
                tab.errors.append(f"{message.text} {message.location.get('url', '')}")

        def failed(request: Request) -> None:
            if request.failure not in (None, "net::ERR_ABORTED"):  # aborted: left the page
                tab.errors.append(f"request failed: {request.failure} {request.url}")

        def answered(response: Response) -> None:
            if response.status >= 400:
                tab.errors.append(f"HTTP {response.status} {response.url}")

        tab.page.on("request", lambda r: tab.requests.append(r.url))
        tab.page.on("pageerror", lambda e: tab.errors.append(f"{e.name}: {e.message}"))
        tab.page.on("console", console)
        tab.page.on("requestfailed", failed)
        tab.page.on("response", answered)
        return tab

    def goto(self, path: str, *, ready: str | None = None, timeout: float = 60) -> Response | None:
        """Load ``base + path``; wait for the load event, network quiet (0.5 s) and, when given,
        the ``ready`` CSS selector."""
        ms = timeout * 1000
        response = self.page.goto(self.base + path, wait_until="load", timeout=ms)
        self.page.wait_for_load_state("networkidle", timeout=ms)
        if ready is not None:
            self.page.wait_for_selector(ready, state="attached", timeout=ms)
        return response

    def shot(self, png: Path) -> Path:
        """Save what the screen shows as a PNG."""
        self.page.screenshot(path=png)
        return png

    def text(self, selector: str = "body") -> str:
        """The text a person reads in the first element matching ``selector``."""
        return self.page.locator(selector).first.inner_text()

    def texts(self, selector: str) -> list[str]:
        """The text of every element matching ``selector``."""
        return self.page.locator(selector).all_inner_texts()

    def assert_offline(self) -> None:
        """Every request went to the app (or was inline data), and nothing logged an error."""
        outside = [u for u in self.requests if not u.startswith((self.base, "data:", "blob:"))]
        assert outside == [], f"requests leaving the app: {outside}"
        assert self.errors == [], f"console/network errors: {self.errors}"


def sign_in(
    tab: Tab, settings: Settings, role: Role = Role.LEADER, scope: str | None = None
) -> User:
    """Make a user of ``role`` (with ``scope``) and sign in through the login form: type the
    name and password, click the button, wait to leave the login page."""
    user = make_user(settings, role, scope, password=PASSWORD)
    tab.goto("/login")
    tab.page.locator("#username").fill(user.username)
    tab.page.locator("#password").fill(PASSWORD)
    with tab.page.expect_navigation():
        tab.page.get_by_role("button").click()
    return user


# Reads (never changes) the page's Leaflet map: the outline of the layers drawn for an area
# (or of ``geometry``, lon/lat GeoJSON) in page pixels, the circles of circle markers, the boxes
# of icon markers, controls and open panels, and the map's box on screen.
# Reads (never moves) the map's view until it stays the same for two reads 100 ms apart and no
# zoom animation runs: a page fits its map to the area after load, animated, and on a busy
# machine the animation can still run when the test looks. Gives up after 5 s.
_SETTLED_JS = """() => new Promise(done => {
  const map = Object.values(window).find(v => window.L && v instanceof L.Map);
  if (!map) { done(true); return; }
  const view = () => JSON.stringify([map.getPixelOrigin(), map.getZoom(), map.getCenter()]);
  let last = view(), calm = 0, ticks = 0;
  const tick = () => {
    const now = view();
    calm = now === last && !map._animatingZoom ? calm + 1 : 0;
    last = now;
    ticks += 1;
    if (calm >= 2 || ticks >= 50) { done(calm >= 2); } else { setTimeout(tick, 100); }
  };
  setTimeout(tick, 100);
})"""

_DRAWN_JS = """([code, geometry]) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const box = map.getContainer().getBoundingClientRect();
  const project = c => typeof c[0] === 'number'
    ? (p => [p.x + box.left, p.y + box.top])(map.latLngToContainerPoint([c[1], c[0]]))
    : c.map(project);
  const outlines = [];
  if (geometry) {
    outlines.push({type: geometry.type, coordinates: project(geometry.coordinates)});
  }
  const circles = [], boxes = [];
  map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!geometry && p && p.code === code && l.getLatLngs) {
      const g = l.toGeoJSON().geometry;
      outlines.push({type: g.type, coordinates: project(g.coordinates)});
    }
    if (l instanceof L.CircleMarker && map.hasLayer(l)) {
      const c = map.latLngToContainerPoint(l.getLatLng());
      circles.push([c.x + box.left, c.y + box.top, l.getRadius() + (l.options.weight || 0)]);
    }
  });
  const covers = '.leaflet-marker-icon, .leaflet-control, .gs-detail:not([hidden])';
  document.querySelectorAll(covers).forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width && r.height) boxes.push([r.left, r.top, r.right, r.bottom]);
  });
  return {outlines, circles, boxes,
          map: [Math.max(box.left, 0), Math.max(box.top, 0),
                Math.min(box.right, innerWidth), Math.min(box.bottom, innerHeight)]};
}"""

# Where a marker whose tooltip, popup or icon reads ``text`` is drawn, in page pixels.
_MARKER_JS = """(text) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const box = map.getContainer().getBoundingClientRect();
  const read = html => typeof html === 'string'
    ? new DOMParser().parseFromString(html, 'text/html').body.textContent : '';
  const found = [];
  map.eachLayer(l => {
    if (!l.getLatLng || !map.hasLayer(l)) return;
    const said = [l.getTooltip && l.getTooltip(), l.getPopup && l.getPopup()]
      .filter(Boolean).map(t => read(t.getContent())).join(' ')
      + (l._icon ? ' ' + l._icon.textContent : '');
    if (said.includes(text)) {
      const c = map.latLngToContainerPoint(l.getLatLng());
      found.push([c.x + box.left, c.y + box.top]);
    }
  });
  return found;
}"""


_HIT_JS = """([x, y]) => {
  const e = document.elementFromPoint(x, y);
  return e ? e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '') : '';
}"""


def _what_is_at(tab: Tab, x: float, y: float) -> str:
    """The element a pointer at (x, y) would hit, as ``tag.class class``."""
    return str(tab.page.evaluate(_HIT_JS, [x, y]))


def area_point(tab: Tab, code: str) -> tuple[float, float]:
    """The screen point deepest inside where the area ``code`` is drawn and nothing lies over
    it (no marker, control or open panel; ``EDGE_PX`` away from all of them and its border).

    The outline comes from the map's layers for that area; when the areas are drawn from
    vector tiles (no layer per area) it is the area's geometry from ``/api/areas/{code}``.

    Raises
    ------
    AssertionError
        The area is not drawn, or not where a pointer can reach it.
    """
    tab.page.evaluate(_SETTLED_JS)
    drawn = tab.page.evaluate(_DRAWN_JS, [code, None])
    if not drawn["outlines"]:
        feature = tab.page.request.get(f"{tab.base}/api/areas/{code}").json()
        drawn = tab.page.evaluate(_DRAWN_JS, [code, feature["geometry"]])
    over = [Point(x, y).buffer(r + EDGE_PX) for x, y, r in drawn["circles"]]
    over += [box(*rect).buffer(EDGE_PX) for rect in drawn["boxes"]]
    free = shapely.difference(
        shapely.intersection(
            shapely.union_all([shape(g) for g in drawn["outlines"]]).buffer(-EDGE_PX),
            box(*drawn["map"]).buffer(-EDGE_PX),
        ),
        shapely.union_all(over),
    )
    pieces = [g for g in shapely.get_parts(free) if g.geom_type == "Polygon" and g.area > 0]
    assert pieces, f"area {code} is not drawn where a pointer can reach it"
    centre = shapely.maximum_inscribed_circle(max(pieces, key=lambda g: g.area), 0.5)
    x, y = centre.coords[0]
    hit = _what_is_at(tab, x, y)
    assert hit.startswith(("canvas", "path", "svg", "img.leaflet-tile")), (
        f"area {code} at ({x:.0f}, {y:.0f}) lies under {hit!r}"
    )
    return x, y


def marker_points(tab: Tab, text: str) -> list[tuple[float, float]]:
    """The screen points where the markers whose tooltip, popup or icon reads ``text`` are
    drawn (their centres)."""
    return [(x, y) for x, y in tab.page.evaluate(_MARKER_JS, text)]


def marker_point(tab: Tab, text: str) -> tuple[float, float]:
    """The screen point where the one marker reading ``text`` is drawn."""
    found = marker_points(tab, text)
    assert len(found) == 1, f"{len(found)} markers read {text!r}"
    return found[0]


def shown_tooltip(tab: Tab, *, timeout: float = 3) -> str:
    """The text of the tooltips a pointer opened (not the permanent name labels), after waiting
    up to ``timeout`` seconds for one to show; "" when none did."""
    tips = tab.page.locator(
        ".leaflet-tooltip:not(.gs-label):not(.leaflet-tooltip-permanent)"
        # Leaflet fades a closed tooltip out (opacity 0) for 200 ms before removing it.
        ':not([style*="opacity: 0;"])'
    )
    with contextlib.suppress(PlaywrightTimeoutError):
        tips.first.wait_for(state="visible", timeout=timeout * 1000)
    return "\n".join(t.inner_text() for t in tips.all() if t.is_visible())


def _move(tab: Tab, point: tuple[float, float]) -> None:
    """Move the mouse to ``point`` in a few steps and come to rest there, as a hand does (a
    hand at rest still stirs by a pixel; Leaflet's canvas skips moves closer than 32 ms)."""
    x, y = point
    tab.page.mouse.move(x, y, steps=5)
    for dx in (1, 0):
        tab.page.wait_for_timeout(50)
        tab.page.mouse.move(x + dx, y)


def hover(tab: Tab, point: tuple[float, float]) -> str:
    """Move the mouse to ``point``; return the tooltip shown."""
    _move(tab, point)
    return shown_tooltip(tab)


def click(tab: Tab, point: tuple[float, float]) -> None:
    """Move the mouse to ``point`` and click."""
    _move(tab, point)
    tab.page.mouse.click(*point)


def tap(tab: Tab, point: tuple[float, float]) -> None:
    """Tap ``point`` with a finger (the tab's context must have ``has_touch``)."""
    tab.page.touchscreen.tap(*point)


def hover_area(tab: Tab, code: str) -> str:
    """Hover the mouse over where area ``code`` is drawn; return the tooltip shown."""
    return hover(tab, area_point(tab, code))


def click_area(tab: Tab, code: str) -> None:
    """Click where area ``code`` is drawn."""
    click(tab, area_point(tab, code))


def tap_area(tab: Tab, code: str) -> None:
    """Tap where area ``code`` is drawn."""
    tap(tab, area_point(tab, code))


def hover_marker(tab: Tab, text: str) -> str:
    """Hover the mouse over the marker reading ``text``; return the tooltip shown."""
    return hover(tab, marker_point(tab, text))


def click_marker(tab: Tab, text: str) -> None:
    """Click the marker reading ``text``."""
    click(tab, marker_point(tab, text))


def tap_marker(tab: Tab, text: str) -> None:
    """Tap the marker reading ``text``."""
    tap(tab, marker_point(tab, text))
