"""The risk map names its areas (issue 16 item 2), in real Chromium on the demo district (1,
12, 73 and 652 areas): at the first view of every level the names that fit are shown, each
inside its area, no two overlapping and none under a control; clicks on the zoom button show
names that did not fit before. Screenshots of every level's first view go to the artifacts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext
from shapely.geometry import Point, box, shape

from geo.settings import Settings
from tests.browser import Tab, serve, sign_in

# What a leader reads at the first view of each level on a wall screen: every name down to the
# level-2 grids, three in four of the 73 level-3 grids; no micro-grid (about 25 px across at
# that scale) holds its name before a zoom.
AT_LEAST = {"subdistrict": 1, "grid2": 12, "grid3": 55, "micro": 0}
ZOOMS = {"grid3": 1, "micro": 2}
"""Clicks on the zoom button after which more names show."""

LABELS_JS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const origin = map.getContainer().getBoundingClientRect();
  const out = [];
  document.querySelectorAll('.gs-label').forEach(e => {
    const r = e.getBoundingClientRect();
    const c = map.containerPointToLatLng([(r.left + r.right) / 2 - origin.left,
                                          (r.top + r.bottom) / 2 - origin.top]);
    out.push({text: e.innerText.replace(/\\n/g, ''), rect: [r.left, r.top, r.right, r.bottom],
              lon: c.lng, lat: c.lat});
  });
  const controls = [...document.querySelectorAll('.leaflet-control')].map(e => {
    const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];
  });
  return {labels: out, controls: controls};
}"""


def shown_labels(tab: Tab) -> tuple[list[dict[str, Any]], list[list[float]]]:
    """The names on screen (text, box in page pixels, where the box's centre is in lon/lat)
    and the boxes of the map's controls."""
    found = tab.page.evaluate(LABELS_JS)
    return found["labels"], found["controls"]


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_readable(tab: Tab, level: str) -> list[str]:
    """Names on screen do not overlap each other or a control, and each stands inside the
    area it names; return the names."""
    labels, controls = shown_labels(tab)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a["rect"], b["rect"]), (level, a, b)
        for c in controls:
            assert not _overlap(a["rect"], c), (level, a, c)
    areas = tab.page.request.get(f"{tab.base}/api/areas?level={level}").json()["features"]
    by_name = {f["properties"]["name"]: shape(f["geometry"]) for f in areas}
    for a in labels:
        assert by_name[a["text"]].contains(Point(a["lon"], a["lat"])), (level, a["text"])
    assert all(box(*a["rect"]).area > 0 for a in labels)
    return [a["text"] for a in labels]


@pytest.mark.parametrize("level", list(AT_LEAST))
def test_names_at_the_first_view_of_every_level_and_more_on_zoom(
    demo_settings: Settings, desktop: BrowserContext, artifacts: Path, level: str
) -> None:
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        tab.goto(f"/maps/risk?level={level}", ready=".gs-legend")
        tab.shot(artifacts / f"risk_labels_{level}.png")
        first = assert_readable(tab, level)
        assert len(first) >= AT_LEAST[level], (level, len(first))
        assert len(set(first)) == len(first)
        if level not in ZOOMS:
            assert len(first) == AT_LEAST[level]  # every area of the level is named
            return
        for _ in range(ZOOMS[level]):
            tab.page.get_by_role("button", name="Zoom in").click()
            tab.page.wait_for_timeout(600)  # Leaflet's zoom animation; then names are placed
        tab.shot(artifacts / f"risk_labels_{level}_zoomed.png")
        after = assert_readable(tab, level)
        assert set(after) - set(first), f"zooming in shows no new name at level {level}"
        tab.assert_offline()


@pytest.mark.parametrize("level", ["grid2", "grid3"])
def test_the_composite_view_spreads_every_parent_level(
    demo_settings: Settings, desktop: BrowserContext, artifacts: Path, level: str
) -> None:
    """On the demo district, where the worst-child rule paints most parents red, a click on the
    composite rule colours the level in at least three colours, a quarter or so of the areas
    each, and the legend's counts say so."""
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        tab.goto(f"/maps/risk?level={level}", ready=".gs-legend")
        with tab.page.expect_navigation():
            tab.page.locator("#gs-rule label", has_text="综合（面积加权）").click()
        tab.page.wait_for_load_state("networkidle")
        tab.shot(artifacts / f"risk_composite_{level}_demo.png")
        counts = [
            int(n) for n in re.findall(r"\((\d+)\)", tab.page.locator(".gs-legend").inner_text())
        ]
        assert len(counts) == 4, counts
        assert sum(1 for n in counts if n) >= 3, counts
        assert max(counts) <= sum(counts) / 2, counts
        tab.assert_offline()
