"""End to end in real headless Chromium: every page loads from the running app alone, logs no
error, paints the four colours and renders its Chinese labels. Screenshots go to the artifacts.

Pixels: an area is filled with its colour at FILL_OPACITY over the map's BACKGROUND, so the
painted colour is ``a·colour + (1 - a)·background``; a colour counts as painted when enough
screenshot pixels are within a small distance of that blend.

Chinese labels: a missing CJK font draws every character as the same .notdef box, so the check
draws each distinct character of a label in the label's own computed font and requires distinct,
inked bitmaps; and the label's box in the screenshot must hold dark text pixels.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine

from geo.settings import Settings
from maps.i18n import translator
from maps.pages import BACKGROUND, COLOURS, FILL_OPACITY
from tests.browser import CHROMIUM, Chromium, serve
from tests.frozen import DEMO_LOADED
from tests.test_maps import AS_OF, build_district

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="chromium not installed")

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


def assert_offline(load: Any, base: str) -> None:
    """Every request went to the app (or was inline data), and nothing logged an error."""
    outside = [u for u in load.requests if not u.startswith((base, "data:", "blob:"))]
    assert outside == [], f"requests leaving the app: {outside}"
    assert load.errors == [], f"console/network errors: {load.errors}"


def assert_cjk_label(browser: Chromium, png: Path) -> None:
    """A label's Chinese characters are drawn with a real CJK font, and painted."""
    info = browser.evaluate(GLYPHS_JS)
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
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        yield b


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]]) -> Settings:
    engine, settings = make_db("mapsbrowser")
    build_district(engine, settings)
    return settings


READY_EMBED = "!!(window.gridsafe && document.querySelector('.gs-label'))"
READY_TILES = "!!(window.gridsafe && document.querySelector('.leaflet-tile-loaded canvas, canvas'))"


def test_risk_map_paints_four_colours_and_chinese_labels(
    district: Settings, browser: Chromium, artifacts: Path
) -> None:
    with serve(district) as base:
        browser.sign_in(base, district)
        png = artifacts / "risk_micro_embed.png"
        load = browser.load(
            f"{base}/maps/risk?level=micro&as_of={AS_OF}", ready=READY_EMBED, screenshot=png
        )
        assert_offline(load, base)
        counts = painted(png)
        assert all(n >= MIN_PIXELS for n in counts.values()), counts
        assert_cjk_label(browser, png)
        # The click-through detail: children, hazards, trend, from the API.
        browser.evaluate("gridsafe.openDetail('S-0-0')")
        for _ in range(100):  # the panel fills from two API calls
            text = browser.evaluate("document.getElementById('gs-detail').innerText")
            if "隐患0" in text:
                break
            browser.evaluate("new Promise(r => setTimeout(r, 100))")
        assert "下级区域（4）" in text
        assert "隐患0" in text
        assert "趋势" in text
        shot = browser.send("Page.captureScreenshot", format="png")
        (artifacts / "risk_detail.png").write_bytes(base64.b64decode(shot["data"]))


def test_risk_map_from_tiles_paints_four_colours(
    district: Settings, browser: Chromium, artifacts: Path
) -> None:
    with serve(district.model_copy(update={"map_embed_max_features": 0})) as base:
        browser.sign_in(base, district)
        png = artifacts / "risk_micro_tiles.png"
        load = browser.load(
            f"{base}/maps/risk?level=micro&as_of={AS_OF}", ready=READY_TILES, screenshot=png
        )
        assert_offline(load, base)
        assert any("/tiles/areas/" in u for u in load.requests)
        counts = painted(png)
        assert all(n >= MIN_PIXELS for n in counts.values()), counts


def test_dashboard_loads_offline(district: Settings, browser: Chromium, artifacts: Path) -> None:
    with serve(district) as base:
        browser.sign_in(base, district)
        png = artifacts / "dashboard.png"
        load = browser.load(f"{base}/", screenshot=png)
        assert_offline(load, base)
        text = browser.evaluate("document.body.innerText")
        assert "微网格" in text


def test_api_docs_load_offline(district: Settings, browser: Chromium, artifacts: Path) -> None:
    """Swagger UI from the app's own copy, under the pages' content security policy."""
    with serve(district) as base:
        load = browser.load(
            f"{base}/docs",
            ready="!!document.querySelector('.swagger-ui .opblock')",
            screenshot=artifacts / "api_docs.png",
        )
        assert_offline(load, base)
        text = browser.evaluate("document.body.innerText")
        assert "/api/risk" in text


def test_demo_district_pages(demo_settings: Settings, browser: Chromium, artifacts: Path) -> None:
    """The demo district (read-only), opened by a leader right after loading at 00:30 of the
    district's day (tests/conftest.py): the dashboard of today, complete, and its 652
    micro-grids drawn from tiles over its roads and buildings (tiles read stored colours; they
    never compute risk)."""
    with serve(demo_settings.model_copy(update={"map_embed_max_features": 0})) as base:
        browser.sign_in(base, demo_settings)
        load = browser.load(f"{base}/", screenshot=artifacts / "demo_dashboard.png")
        assert_offline(load, base)
        shown = browser.evaluate("document.body.innerText")
        assert "652" in shown
        assert translator("zh_CN").date(DEMO_LOADED.local.date()) in shown
        assert "尚未计算风险" not in shown
        load = browser.load(f"{base}/maps/risk", screenshot=artifacts / "demo_risk_today.png")
        assert_offline(load, base)
        load = browser.load(
            f"{base}/maps/risk?level=micro",
            ready=READY_TILES,
            screenshot=artifacts / "demo_risk_micro_tiles.png",
        )
        assert_offline(load, base)
        assert any("/tiles/roads/" in u for u in load.requests)
        assert any("/tiles/buildings/" in u for u in load.requests)
