"""End to end in real headless Chromium: every page loads from the running app alone, logs no
error, paints the four colours and renders its Chinese labels; on the risk map a mouse, or a
finger on a tablet, at the place where an area or a hazard is drawn shows and opens what it
should, at every level, with the hazard and incident layers on and off. Screenshots go to the
artifacts.

Pixels: an area is filled with its colour at FILL_OPACITY over the map's BACKGROUND, so the
painted colour is ``a·colour + (1 - a)·background``; a colour counts as painted when enough
screenshot pixels are within a small distance of that blend.

Chinese labels: a missing CJK font draws every character as the same .notdef box, so the check
draws each distinct character of a label in the label's own computed font and requires distinct,
inked bitmaps; and the label's box in the screenshot must hold dark text pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import Engine

from geo.settings import Settings
from maps.i18n import translator
from maps.pages import BACKGROUND, COLOURS, FILL_OPACITY
from tests.browser import (
    Tab,
    area_point,
    click_area,
    click_marker,
    hover_area,
    serve,
    shown_tooltip,
    sign_in,
    tap_area,
    tap_marker,
)
from tests.frozen import DEMO_LOADED
from tests.test_maps import AS_OF, build_district

MIN_PIXELS = 400
"""Pixels of a colour that make it 'painted' (a 100 m micro-grid is ~ 10,000 px here)."""

GLYPHS_JS = """(() => {
  const el = document.querySelector('.gs-label');
  if (!el) { return null; }
  const font = getComputedStyle(el).font;
  const chars = [...new Set([...el.textContent].filter(c => /[\\u4e00-\\u9fff]/.test(c)))];
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const g = c.getContext('2d');
  const sigs = chars.map(ch => {
    g.clearRect(0, 0, 48, 48); g.font = font; g.fillStyle = '#000'; g.textBaseline = 'top';
    g.fillText(ch, 4, 4);
    const d = g.getImageData(0, 0, 48, 48).data;
    let sig = 0, ink = 0;
    for (let i = 3; i < d.length; i += 4) {
      if (d[i] > 0) { ink++; sig = (sig * 31 + i * d[i]) % 1000000007; }
    }
    return [sig, ink];
  });
  return {chars: chars, sigs: sigs, rect: el.getBoundingClientRect().toJSON(), font: font};
})()"""


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def painted(png: Path) -> dict[str, int]:
    """Pixels of each of the four blended colours in a screenshot."""
    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    bg = _rgb(BACKGROUND)
    out = {}
    for name, hex_colour in COLOURS.items():
        expect = FILL_OPACITY * _rgb(hex_colour) + (1 - FILL_OPACITY) * bg
        out[name] = int((np.abs(img - expect).max(axis=2) <= 10).sum())
    return out


def assert_cjk_label(tab: Tab, png: Path) -> None:
    """A label's Chinese characters are drawn with a real CJK font, and painted."""
    info = tab.page.evaluate(GLYPHS_JS)
    assert info is not None, "no label on the page"
    sigs = [tuple(s) for s in info["sigs"]]
    assert len(info["chars"]) >= 2
    assert all(ink > 20 for _sig, ink in sigs), info
    assert len(set(sigs)) == len(sigs), f"characters drawn alike (tofu?): {info}"
    r = info["rect"]
    crop = (
        Image.open(png)
        .convert("L")
        .crop((int(r["left"]), int(r["top"]), int(r["right"]) + 1, int(r["bottom"]) + 1))
    )
    dark = int((np.asarray(crop) < 90).sum())
    assert dark >= 30, f"label box holds {dark} dark pixels"


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]]) -> Settings:
    engine, settings = make_db("mapsbrowser")
    build_district(engine, settings)
    return settings


@pytest.fixture(scope="module")
def site(district: Settings) -> Iterator[str]:
    """The hand-made district's app, served for the module."""
    with serve(district) as base:
        yield base


READY_EMBED = ".gs-label"
READY_TILES = ".leaflet-tile-loaded, .leaflet-tile canvas"


def test_risk_map_paints_four_colours_and_chinese_labels(
    district: Settings, site: str, desktop: BrowserContext, artifacts: Path
) -> None:
    tab = Tab.open(desktop, site)
    sign_in(tab, district)
    tab.requests.clear()
    tab.goto(f"/maps/risk?level=micro&as_of={AS_OF}", ready=READY_EMBED)
    png = tab.shot(artifacts / "risk_micro_embed.png")
    tab.assert_offline()
    counts = painted(png)
    assert all(n >= MIN_PIXELS for n in counts.values()), counts
    assert_cjk_label(tab, png)
    # The click-through detail (children, hazards, trend, from the API): click a grid.
    tab.goto(f"/maps/risk?level=grid3&as_of={AS_OF}", ready=READY_EMBED)
    click_area(tab, "S-0-0")
    detail = tab.page.locator("#gs-detail")
    expect(detail).to_contain_text("隐患0")  # the panel fills from two API calls
    text = detail.inner_text()
    assert "下级区域（4）" in text
    assert "趋势" in text
    tab.shot(artifacts / "risk_detail.png")
    tab.assert_offline()


def test_risk_map_from_tiles_paints_four_colours(
    district: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    with serve(district.replace(map_embed_max_features=0)) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, district)
        tab.goto(f"/maps/risk?level=micro&as_of={AS_OF}", ready=READY_TILES)
        png = tab.shot(artifacts / "risk_micro_tiles.png")
        tab.assert_offline()
        assert any("/tiles/areas/" in u for u in tab.requests)
        counts = painted(png)
        assert all(n >= MIN_PIXELS for n in counts.values()), counts
        # Areas drawn from tiles answer the pointer too.
        tip = hover_area(tab, "M01")
        assert "微01号" in tip
        click_area(tab, "M01")
        expect(tab.page.locator("#gs-detail")).to_contain_text("原因")
        tab.assert_offline()


def test_dashboard_loads_offline(district: Settings, site: str, desktop: BrowserContext) -> None:
    tab = Tab.open(desktop, site)
    sign_in(tab, district)
    tab.goto("/")
    tab.assert_offline()
    assert "微网格" in tab.text()


def test_api_docs_load_offline(site: str, desktop: BrowserContext, artifacts: Path) -> None:
    """Swagger UI from the app's own copy, under the pages' content security policy."""
    tab = Tab.open(desktop, site)
    tab.goto("/docs", ready=".swagger-ui .opblock")
    tab.shot(artifacts / "api_docs.png")
    tab.assert_offline()
    assert "/api/risk" in tab.text()


def test_demo_district_pages(
    demo_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    """The demo district (read-only), opened by a leader right after loading at 00:30 of the
    district's day (tests/conftest.py): the dashboard of today, complete, and its 652
    micro-grids drawn from tiles over its roads and buildings (tiles read stored colours; they
    never compute risk)."""
    with serve(demo_settings.replace(map_embed_max_features=0)) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        tab.goto("/")
        tab.shot(artifacts / "demo_dashboard.png")
        tab.assert_offline()
        shown = tab.text()
        assert "652" in shown
        assert translator("zh_CN").date(DEMO_LOADED.local.date()) in shown
        assert "尚未计算风险" not in shown
        tab.goto("/maps/risk")
        tab.shot(artifacts / "demo_risk_today.png")
        tab.assert_offline()
        tab.goto("/maps/risk?level=micro", ready=READY_TILES)
        tab.shot(artifacts / "demo_risk_micro_tiles.png")
        tab.assert_offline()
        assert any("/tiles/roads/" in u for u in tab.requests)
        assert any("/tiles/buildings/" in u for u in tab.requests)


# One area of the hand-made district per level, each holding the red hazard 隐患0 (in M00).
AREA_AT = {"subdistrict": "S", "grid2": "S-0", "grid3": "S-0-0", "micro": "M00"}
LAYERS = [(True, False), (False, False), (True, True), (False, True)]
"""(hazards, incident heat) switched on in the panel, in the order the tests switch them."""


def _explained(tab: Tab, code: str) -> tuple[str, str, list[str]]:
    """The area's name, colour and top reasons, as the risk API tells them."""
    detail = tab.page.request.get(f"{tab.base}/api/risk/{code}?as_of={AS_OF}").json()
    reasons = [h["name"] for h in detail["reasons"]["hazards"][:3]]
    return detail["name"], translator("zh_CN").colour(detail["colour"]), reasons


def _switch_layers(tab: Tab, hazards: bool, heat: bool) -> None:
    """Tick or clear the panel's layer boxes with the mouse, as a person would."""
    tab.page.locator("#gs-hazards").set_checked(hazards)
    tab.page.locator("#gs-heat").set_checked(heat)
    tab.page.wait_for_load_state("networkidle")


def _close_detail(tab: Tab) -> None:
    tab.page.locator("#gs-detail .gs-close").click()
    expect(tab.page.locator("#gs-detail")).to_be_hidden()


@pytest.mark.parametrize("level", list(AREA_AT))
def test_mouse_over_an_area_shows_it_and_a_click_explains_it(
    district: Settings, site: str, desktop: BrowserContext, artifacts: Path, level: str
) -> None:
    """At every level and with the hazard and heat layers on and off: hovering an area shows
    its name, colour and top reasons; clicking it opens its explanation; a hazard marker, when
    shown, answers a click on its own (its details, and no area's explanation)."""
    code = AREA_AT[level]
    tab = Tab.open(desktop, site)
    sign_in(tab, district)
    tab.goto(f"/maps/risk?level={level}&as_of={AS_OF}")
    name, colour, reasons = _explained(tab, code)
    assert reasons  # every chosen area holds 隐患0, the first reason of its colour
    detail = tab.page.locator("#gs-detail")
    for hazards, heat in LAYERS:
        _switch_layers(tab, hazards, heat)
        state = f"hazards {'on' if hazards else 'off'}, heat {'on' if heat else 'off'}"
        tip = hover_area(tab, code)
        for shown in (name, code, colour, reasons[0]):
            assert shown in tip, (state, shown, tip)
        if (hazards, heat) == LAYERS[0]:
            tab.shot(artifacts / f"risk_hover_{level}.png")
        click_area(tab, code)
        expect(detail).to_contain_text("原因")
        expect(detail.locator("h2")).to_contain_text(name)
        expect(detail).to_contain_text(reasons[0])
        if (hazards, heat) == LAYERS[0]:
            tab.shot(artifacts / f"risk_explain_{level}.png")
        _close_detail(tab)
        if hazards:
            click_marker(tab, "隐患0")
            tip = shown_tooltip(tab)
            assert "隐患0" in tip, (state, tip)
            assert "消防" in tip, (state, tip)
            expect(detail).to_be_hidden()  # the click was the marker's, not the area's
    tab.assert_offline()


@pytest.mark.parametrize("level", list(AREA_AT))
def test_a_tap_on_a_tablet_does_what_a_click_does(
    district: Settings, site: str, tablet: BrowserContext, artifacts: Path, level: str
) -> None:
    code = AREA_AT[level]
    tab = Tab.open(tablet, site)
    sign_in(tab, district)
    tab.goto(f"/maps/risk?level={level}&as_of={AS_OF}")
    name, _colour, reasons = _explained(tab, code)
    detail = tab.page.locator("#gs-detail")
    for hazards, heat in LAYERS[:2]:
        _switch_layers(tab, hazards, heat)
        tap_area(tab, code)
        expect(detail.locator("h2")).to_contain_text(name)
        expect(detail).to_contain_text(reasons[0])
        if hazards:
            tab.shot(artifacts / f"risk_tap_{level}.png")
        tab.page.locator("#gs-detail .gs-close").tap()
        expect(detail).to_be_hidden()
        if hazards:
            tap_marker(tab, "隐患0")
            assert "隐患0" in shown_tooltip(tab)
            expect(detail).to_be_hidden()
    tab.assert_offline()


def _choose_rule(tab: Tab, name: str) -> None:
    """Click the colour rule ``name`` in the panel and wait for the page it loads."""
    with tab.page.expect_navigation():
        tab.page.locator("#gs-rule label", has_text=name).click()
    tab.page.wait_for_load_state("networkidle")


def test_the_composite_view_tells_parents_apart_and_the_panel_names_red_children(
    district: Settings, site: str, desktop: BrowserContext, artifacts: Path
) -> None:
    """The worst-child view (default) and the composite view, switched on the page: in the
    composite view the four level-3 grids of the hand-made district (equal cells, so their own
    score is the plain mean of their micro-grids') take their colour by the quartiles of those
    means (above the upper quartile red, the median orange, the lower yellow), the legend says
    so, and the explanation names the red and orange children."""
    tab = Tab.open(desktop, site)
    sign_in(tab, district)
    tab.goto(f"/maps/risk?level=grid3&as_of={AS_OF}", ready=READY_EMBED)
    legend = tab.page.locator(".gs-legend")
    expect(legend).to_contain_text("就高")
    expect(legend).to_contain_text("上级区域取其最差下级区域的颜色")
    micro = tab.page.request.get(f"{tab.base}/api/risk?level=micro&as_of={AS_OF}").json()
    own: dict[str, list[float]] = {}
    kids: dict[str, list[tuple[str, str]]] = {}
    for f in micro["features"]:
        p = f["properties"]
        own.setdefault(p["parent_code"], []).append(p["score"])
        kids.setdefault(p["parent_code"], []).append((p["name"], p["colour"]))
    means = {code: sum(s) / len(s) for code, s in own.items()}
    quartiles = np.quantile(list(means.values()), [0.25, 0.5, 0.75])
    scale = ["blue", "yellow", "orange", "red"]
    expected = {c: scale[int((m > quartiles).sum())] for c, m in means.items()}
    assert len(set(expected.values())) >= 3, (means, expected)  # the level shows a spread
    ranked = sorted(means, key=lambda c: means[c])
    zh = translator("zh_CN")

    _choose_rule(tab, "综合（面积加权）")
    assert "rule=composite" in tab.page.url
    expect(legend).to_contain_text("综合（面积加权）")
    expect(legend).to_contain_text("四分位")
    tab.shot(artifacts / "risk_composite_grid3.png")
    for code, colour in expected.items():
        tip = hover_area(tab, code)
        assert zh.colour(colour) in tip.split("\n")[1], (code, colour, tip)
        assert "就高颜色" in tip
    worst = ranked[-1]
    click_area(tab, worst)
    detail = tab.page.locator("#gs-detail")
    expect(detail).to_contain_text("综合（面积加权）")
    red = [name for name, colour in kids[worst] if colour == "red"]
    orange = [name for name, colour in kids[worst] if colour == "orange"]
    for colour, names in (("红色", red), ("橙色", orange)):
        if names:
            expect(detail).to_contain_text(f"{colour}下级区域（{len(names)}）")
            for name in names:
                expect(detail).to_contain_text(name)
        else:
            expect(detail).not_to_contain_text(f"{colour}下级区域")
    assert red or orange, kids[worst]
    tab.shot(artifacts / "risk_composite_explain.png")

    _choose_rule(tab, "就高（取最差下级）")
    expect(legend).to_contain_text("上级区域取其最差下级区域的颜色")
    tab.assert_offline()


@pytest.mark.parametrize("level", ["grid3", "micro"])
def test_on_a_tablet_the_explanation_leaves_the_tapped_area_in_view(
    district: Settings, site: str, tablet: BrowserContext, artifacts: Path, level: str
) -> None:
    """The explanation opens as a bottom sheet across the tablet's screen, and the area tapped
    is moved above it: a finger reaches it again and a second tap opens it again."""
    code = AREA_AT[level]
    tab = Tab.open(tablet, site)
    sign_in(tab, district)
    tab.goto(f"/maps/risk?level={level}&as_of={AS_OF}")
    name, _colour, _reasons = _explained(tab, code)
    detail = tab.page.locator("#gs-detail")
    tap_area(tab, code)
    expect(detail.locator("h2")).to_contain_text(name)
    sheet = detail.bounding_box()
    viewport = tab.page.viewport_size
    assert sheet is not None
    assert viewport is not None
    assert sheet["x"] <= 1, sheet
    assert sheet["width"] >= viewport["width"] - 2, sheet
    assert abs(sheet["y"] + sheet["height"] - viewport["height"]) <= 2, sheet
    tab.shot(artifacts / f"risk_tablet_sheet_{level}.png")
    x, y = area_point(tab, code)  # reachable beside the open sheet
    assert y < sheet["y"], (x, y, sheet)
    tap_area(tab, code)
    expect(detail.locator("h2")).to_contain_text(name)
    tab.assert_offline()
