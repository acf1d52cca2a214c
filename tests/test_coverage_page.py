"""The patrol coverage page in real headless Chromium, on the demo district's month of patrols:
offline, tracks painted in their units' colours, the ranked gaps outlined and listed.

The demo was loaded at 00:30 of the district's day and the clock stands there (tests/conftest.py),
so today holds half an hour of patrols; the tests draw the last whole day, yesterday.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo import clock
from geo.access import Role
from geo.settings import Settings
from maps.coverage import COVER_COLOUR, COVER_OPACITY
from maps.pages import COLOURS, UNDERLAY_OPACITY, unit_colour
from tests.browser import Tab, serve, sign_in
from tests.clients import api_client


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_coverage_page_draws_tracks_and_ranked_gaps(
    demo: Engine, demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        day = _yesterday(demo_settings)
        tab.goto(f"/maps/coverage?period=day&at={day}", ready=".gs-gap-rank", timeout=120)
        png = tab.shot(artifacts / "coverage_day.png")
        tab.assert_offline()
        panel = tab.text(".gs-coverage-panel")
        ranks = [int(r) for r in tab.texts(".gs-gap-rank")]
    assert "巡逻覆盖" in panel
    assert "7天未巡" in panel
    assert sorted(ranks) == list(range(1, len(ranks) + 1))  # the top gaps, numbered in order
    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    first_unit = int((np.abs(img - _rgb(unit_colour(0))).max(axis=2) <= 12).sum())
    assert first_unit > 200  # the first unit's tracks are painted


def test_a_grid_heads_view_holds_only_their_area(demo: Engine, demo_settings: Settings) -> None:
    with demo.connect() as conn:
        grid3, inside = conn.execute(
            text(
                "SELECT parent_code, array_agg(name) FROM areas WHERE level = 'micro' "
                "GROUP BY parent_code ORDER BY parent_code LIMIT 1"
            )
        ).one()
        outside = conn.execute(
            text("SELECT name FROM areas WHERE level = 'micro' AND parent_code <> :g LIMIT 1"),
            {"g": grid3},
        ).scalar_one()
    with api_client(demo_settings) as client:
        page = client.get("/maps/coverage", params={"period": "week", "area": grid3})
        assert client.get("/maps/coverage", params={"area": "NOPE"}).status_code == 404
    assert page.status_code == 200
    assert any(name in page.text for name in inside)
    assert outside not in page.text


DRAWN = """(() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const out = {tracks: [], cover: [], risk: [], points: 0, bounds: []};
  map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p) return;
    if (p.shift) {
      out.tracks.push([p.unit, p.shift]);
      if (l.getLatLng) { out.points += 1; } else { out.bounds.push(l.getBounds().toBBoxString()); }
    } else if (p.covered_m2 !== undefined) out.cover.push(p.code);
    else if (p.colour !== undefined) out.risk.push(p.code);
  });
  return out;
})()"""
"""What the page's Leaflet map holds: track pieces (unit, shift), covered-area and risk codes."""

FORM = ".gs-coverage-panel form"


def _yesterday(settings: Settings) -> str:
    return (clock.today(settings.timezone) - timedelta(days=1)).isoformat()


def _drawn(tab: Tab, png: Path, query: str | None = None) -> dict[str, Any]:
    """Load the coverage page for ``query`` (or wait for the one the form asked for), save
    what it shows, and return what its map holds."""
    if query is not None:
        tab.goto(f"/maps/coverage?{query}", timeout=180)
    tab.page.wait_for_load_state("networkidle", timeout=180_000)
    tab.shot(png)
    tab.assert_offline()
    return dict(tab.page.evaluate(DRAWN))


def _form(tab: Tab) -> tuple[str, ...]:
    """The period, day and shift the page's form holds."""
    return tuple(
        tab.page.locator(f"{FORM} [name={n}]").input_value() for n in ("period", "at", "shift")
    )


def test_shift_day_week_and_unit_change_what_is_drawn(
    demo: Engine, demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    day = _yesterday(demo_settings)
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        shifts = {}
        for n in (1, 2, 3):
            shifts[n] = _drawn(
                tab, artifacts / f"coverage_s{n}.png", f"period=shift&at={day}&shift={n}"
            )
            # The form keeps the choice: submitting it asks for the same shift again.
            assert _form(tab) == ("shift", day, str(n))
        with tab.page.expect_navigation():
            tab.page.locator(f"{FORM} button[type=submit]").click()
        resubmitted = _drawn(tab, artifacts / "coverage_resubmitted.png")
        assert "shift=3" in tab.page.url
        whole_day = _drawn(tab, artifacts / "coverage_d.png", f"period=day&at={day}")
        # A day and a unit chosen in the form, as a person would.
        tab.page.locator(f"{FORM} [name=period]").select_option("week")
        with tab.page.expect_navigation():
            tab.page.locator(f"{FORM} button[type=submit]").click()
        week = _drawn(tab, artifacts / "coverage_w.png")
        unit = whole_day["tracks"][0][0]
        tab.page.locator(f"{FORM} [name=period]").select_option("day")
        tab.page.locator(f"{FORM} [name=unit]").select_option(label=unit)
        with tab.page.expect_navigation():
            tab.page.locator(f"{FORM} button[type=submit]").click()
        one = _drawn(tab, artifacts / "coverage_unit.png")
    labels = {n: {s for _u, s in d["tracks"]} for n, d in shifts.items()}
    names = ("1 (00-08)", "2 (08-16)", "3 (16-24)")
    for n, name in enumerate(names, 1):
        assert labels[n] == {f"{day} shift {name}"}, labels[n]  # shift 1 and 2 are reachable
    assert resubmitted["tracks"] == shifts[3]["tracks"]
    assert {s for _u, s in whole_day["tracks"]} == {f"{day} shift {name}" for name in names}
    assert len(whole_day["tracks"]) == sum(len(d["tracks"]) for d in shifts.values())
    assert len({s for _u, s in week["tracks"]}) > 3
    assert len(week["tracks"]) > len(whole_day["tracks"])
    assert {u for u, _s in one["tracks"]} == {unit}
    assert 0 < len(one["tracks"]) < len(whole_day["tracks"])
    # The covered area follows the period and the unit too.
    assert 0 < len(shifts[1]["cover"]) <= len(whole_day["cover"]) <= len(week["cover"])
    assert len(one["cover"]) < len(whole_day["cover"])


def _blend(top: str, alpha: float, under: np.ndarray) -> np.ndarray:
    return alpha * _rgb(top) + (1 - alpha) * under


def test_covered_area_is_painted_over_the_risk_colours(
    demo: Engine, demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    day = _yesterday(demo_settings)
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        on = artifacts / "coverage_cover_on.png"
        drawn = _drawn(tab, on, f"period=day&at={day}")
        overlays = ".leaflet-control-layers-overlays label"
        layers = [name.strip() for name in tab.texts(overlays)]
        # Switch the covered area off in the layer control, as a person would.
        tab.page.locator(overlays, has_text="已覆盖区域").locator("input").uncheck()
        off = tab.shot(artifacts / "coverage_cover_off.png")
    assert drawn["cover"]
    assert drawn["risk"]
    assert any("已覆盖区域" in name for name in layers)
    assert any("班次 1" in name for name in layers)
    with_cover = np.asarray(Image.open(on).convert("RGB"), dtype=float)
    without = np.asarray(Image.open(off).convert("RGB"), dtype=float)
    background = with_cover[with_cover.shape[0] // 2, 5]  # left of the district

    def pixels(img: np.ndarray, colour: np.ndarray) -> int:
        return int((np.abs(img - colour).max(axis=2) <= 10).sum())

    for name, hex_colour in COLOURS.items():
        risk = _blend(hex_colour, UNDERLAY_OPACITY, background)
        covered = _blend(COVER_COLOUR, COVER_OPACITY, risk)
        # The cover is painted over this risk colour, which shows through it and around it;
        # with the cover switched off only the risk colour is left.
        assert pixels(with_cover, covered) > 100, name  # red micro-grids are few and small
        assert pixels(with_cover, risk) > 100, name
        assert pixels(without, covered) < pixels(with_cover, covered) / 20, name
        assert pixels(without, risk) > pixels(with_cover, risk), name


def test_a_grid_heads_signed_in_page_shows_only_their_area(
    demo: Engine, demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    with demo.connect() as conn:
        grid3, mine = conn.execute(
            text(
                "SELECT parent_code, array_agg(code) FROM areas WHERE level = 'micro' "
                "GROUP BY parent_code ORDER BY count(*) DESC, parent_code LIMIT 1"
            )
        ).one()
        parent, *box = conn.execute(
            text(
                "SELECT parent_code, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                "(SELECT parent_code, ST_Transform(geom, 4326) AS b FROM areas WHERE code = :g) g"
            ),
            {"g": grid3},
        ).one()
    day = _yesterday(demo_settings)
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings, Role.GRID_HEAD, scope=grid3)
        drawn = _drawn(tab, artifacts / "coverage_head.png", f"period=day&at={day}")
        panel = tab.text(".gs-coverage-panel")
        # The grid above theirs, asked for by address.
        other = tab.page.request.get(f"{base}/maps/coverage?area={parent}").status
    assert grid3 in panel
    assert set(drawn["risk"]) == set(mine)
    assert drawn["cover"]
    assert set(drawn["cover"]) <= set(mine)
    assert drawn["tracks"]
    west, south, east, north = box
    for bbox in drawn["bounds"]:
        w, s, e, n = map(float, bbox.split(","))
        assert west - 1e-6 <= w
        assert south - 1e-6 <= s
        assert e <= east + 1e-6
        assert n <= north + 1e-6
    assert other == 404  # the grid above theirs does not exist for them (row-level security)
