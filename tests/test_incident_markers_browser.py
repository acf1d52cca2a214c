"""Incidents are not only heat (issue 16): on the demo district's map a leader ticks the heat
layer, zooms in with the zoom button, and the incidents under the heat show as markers; a click
on one shows its type and time, and opens no area's explanation."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from geo.settings import Settings
from maps.pages import INCIDENT_MARKER_ZOOM
from tests.browser import Tab, click, marker_points, serve, shown_tooltip, sign_in


def test_a_click_on_an_incident_under_the_heat_says_what_and_when(
    demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        tab.goto("/maps/risk?level=micro", ready=".gs-legend")
        tab.page.locator("#gs-heat").check()
        expect(tab.page.locator("#gs-heat-count")).not_to_be_empty()
        assert marker_points(tab, ":") == []  # no incident marker at the district's scale
        zoom = tab.page.get_by_role("button", name="Zoom in")
        while (
            tab.page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()")
            < INCIDENT_MARKER_ZOOM
        ):
            zoom.click()
            tab.page.wait_for_timeout(400)
        box = tab.page.locator(".leaflet-container").bounding_box()
        assert box is not None
        # Incident tooltips read "type / YYYY-MM-DD HH:MM"; hazards' never hold a time.
        inside = [
            (x, y)
            for x, y in marker_points(tab, ":")
            if box["x"] + box["width"] * 0.3 < x < box["x"] + box["width"] * 0.7
            and box["y"] + box["height"] * 0.3 < y < box["y"] + box["height"] * 0.7
        ]
        assert inside, "no incident marker near the middle of the map"
        click(tab, inside[0])
        tip = shown_tooltip(tab)
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", tip), tip
        expect(tab.page.locator("#gs-detail")).to_be_hidden()
        tab.shot(artifacts / "risk_incident_marker.png")
        tab.assert_offline()
