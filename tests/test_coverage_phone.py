"""A grid head's coverage page leaves their area in view: on a desk the side panel stands
beside it, on a phone the panel goes below the map (the demo district)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo.access import Role
from geo.settings import Settings
from tests.browser import Tab, serve, sign_in, tap_area

# Reads (never changes) where the panel's area lies on screen, and the map's and panel's boxes.
BOXES = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const panel = document.querySelector('.gs-coverage-panel');
  const [[s, w], [n, e]] = JSON.parse(panel.dataset.bounds);
  const box = map.getContainer().getBoundingClientRect();
  const sw = map.latLngToContainerPoint([s, w]), ne = map.latLngToContainerPoint([n, e]);
  const p = panel.getBoundingClientRect();
  return {area: [box.left + sw.x, box.top + ne.y, box.left + ne.x, box.top + sw.y],
          map: [box.left, box.top, box.right, box.bottom],
          panel: [p.left, p.top, p.right, p.bottom]};
}"""


def _grid_head_area(demo: Engine) -> tuple[str, list[str]]:
    with demo.connect() as conn:
        grid3, micro = conn.execute(
            text(
                "SELECT parent_code, array_agg(code ORDER BY code) FROM areas "
                "WHERE level = 'micro' GROUP BY parent_code "
                "ORDER BY count(*) DESC, parent_code LIMIT 1"
            )
        ).one()
    return str(grid3), list(micro)


def _open(context: BrowserContext, settings: Settings, base: str, grid3: str) -> Tab:
    tab = Tab.open(context, base)
    sign_in(tab, settings, Role.GRID_HEAD, scope=grid3)
    tab.goto("/maps/coverage", ready=".gs-coverage-panel", timeout=180)
    tab.page.wait_for_timeout(500)  # the refit after load
    return tab


def test_the_panel_stands_beside_the_area_on_a_desk(
    demo: Engine, demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    grid3, _micro = _grid_head_area(demo)
    with serve(demo_settings) as base:
        tab = _open(desktop, demo_settings, base, grid3)
        boxes = tab.page.evaluate(BOXES)
        tab.shot(artifacts / "coverage_head_desk.png")
        tab.assert_offline()
    left, top, right, bottom = boxes["area"]
    assert right <= boxes["panel"][0]  # the area ends where the panel begins
    assert boxes["map"][0] <= left
    assert boxes["map"][1] <= top
    assert bottom <= boxes["map"][3]


def test_the_panel_goes_below_the_map_on_a_phone(
    demo: Engine, demo_settings: Settings, phone: BrowserContext, artifacts: Path
) -> None:
    grid3, micro = _grid_head_area(demo)
    with serve(demo_settings) as base:
        tab = _open(phone, demo_settings, base, grid3)
        boxes = tab.page.evaluate(BOXES)
        tab.shot(artifacts / "coverage_head_phone.png")
        # Every micro-grid of theirs is drawn where a finger reaches it.
        for code in micro:
            tap_area(tab, code)
        tab.assert_offline()
    assert boxes["panel"][1] >= boxes["map"][3]  # below the map, not over it
    left, top, right, bottom = boxes["area"]
    assert boxes["map"][0] <= left
    assert right <= boxes["map"][2]
    assert boxes["map"][1] <= top
    assert bottom <= boxes["map"][3]
