"""The four-colour map on paper (issue 16 item 5): ``GET /maps/risk.pdf`` gives an A3 or A1
PDF drawn offline for the demo district; rendered to PNG with poppler's pdftoppm, the poster
has the page size asked for, paints the four colours and Chinese text. The PNGs go to the
artifacts to be looked at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext

from geo.settings import Settings
from maps.pages import COLOURS, TABLE_ROWS
from maps.poster import _clip
from tests.browser import Tab, serve, sign_in
from tests.clients import api_client
from tests.frozen import DEMO_LOADED

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils")

A3_MM = (420, 297)


@pytest.mark.parametrize(("size", "scale"), [("A3", 1), ("A1", 2)])
def test_the_poster_renders(
    demo_settings: Settings, artifacts: Path, tmp_path: Path, size: str, scale: int
) -> None:
    day = DEMO_LOADED.local.date().isoformat()
    with api_client(demo_settings) as client:
        r = client.get("/maps/risk.pdf", params={"level": "grid3", "as_of": day, "size": size})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(r.content)
    dpi = 50 // scale
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    png = artifacts / f"poster_{size}.png"
    shutil.copy(tmp_path / "p.png", png)
    shutil.copy(pdf, artifacts / f"poster_{size}.pdf")  # to look at closer
    img = Image.open(png).convert("RGB")
    w_in, h_in = (A3_MM[0] * scale / 25.4, A3_MM[1] * scale / 25.4)
    assert abs(img.width - w_in * dpi) <= 2
    assert abs(img.height - h_in * dpi) <= 2
    pixels = np.asarray(img, dtype=float)
    for name, hex_colour in COLOURS.items():
        rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
        blended = 0.72 * rgb + 0.28 * 255
        near = (np.abs(pixels - blended).max(axis=2) <= 24).sum()
        assert near > 200, (name, near)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "四色安全图谱" in text
    assert "经七路" in text


def test_printing_the_page_gives_the_posters_layout(
    demo_settings: Settings, desktop: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    """Printed from Chromium, the risk page shows what the poster shows: the title with the
    district's name and the date, the legend with its counts and the table of the red and
    orange areas (hidden on screen), on an A3 landscape sheet."""
    day = DEMO_LOADED.local.date().isoformat()
    with serve(demo_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, demo_settings)
        tab.goto(f"/maps/risk?level=grid3&as_of={day}", ready=".gs-legend")
        page = tab.page
        head, table = page.locator(".gs-print-head"), page.locator(".gs-print-table")
        assert not head.is_visible()
        assert not table.is_visible()
        areas = page.request.get(f"{base}/api/risk?level=grid3&as_of={day}").json()["features"]
        top = page.request.get(f"{base}/api/risk?level=subdistrict&as_of={day}").json()
        district = top["features"][0]["properties"]["name"]
        red = {f["properties"]["name"] for f in areas if f["properties"]["colour"] == "red"}
        orange = {f["properties"]["name"] for f in areas if f["properties"]["colour"] == "orange"}
        assert red, "the demo district has red level-3 grids"

        page.emulate_media(media="print")
        page.wait_for_timeout(300)  # the map fits itself to its printed box
        tab.shot(artifacts / "risk_print_media.png")
        assert head.is_visible()
        assert district in head.inner_text()
        assert DEMO_LOADED.local.strftime("%Y") in head.inner_text()
        legend = page.locator(".gs-legend")
        assert legend.is_visible()
        assert len(re.findall(r"\((\d+)\)", legend.inner_text())) == 4
        rows = table.locator("tbody tr")
        assert rows.count() == min(len(red) + len(orange), TABLE_ROWS)
        names = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
        colours = ["red" if name in red else "orange" for name in names]
        assert set(names) <= red | orange
        assert colours == sorted(colours, key=lambda c: c != "red")  # red first
        for i in range(rows.count()):
            row = rows.nth(i)
            assert row.is_visible(), names[i]
            assert row.locator("td").nth(2).inner_text(), names[i]  # its reasons
        # Nothing of the table lies under the map or the legend.
        table_box, map_box = table.bounding_box(), page.locator(".folium-map").bounding_box()
        legend_box = legend.bounding_box()
        assert table_box
        assert map_box
        assert legend_box
        assert table_box["x"] >= map_box["x"] + map_box["width"]
        assert table_box["y"] >= legend_box["y"] + legend_box["height"]

        pdf = tmp_path / "printed.pdf"
        page.pdf(path=str(pdf), format="A3", landscape=True, print_background=True)
        tab.assert_offline()
    text = _printed_a3(pdf, artifacts / "risk_printed_A3.png")
    assert "四色安全图谱" in text
    assert names[0] in text


def _printed_a3(pdf: Path, png: Path) -> str:
    """The text of ``pdf``, checked to be one A3 landscape sheet and rendered to ``png``."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE), info.stdout  # one sheet
    dpi = 50
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(png.with_suffix(""))],
        check=True,
    )
    with Image.open(png) as img:
        assert abs(img.width - A3_MM[0] / 25.4 * dpi) <= 2
        assert abs(img.height - A3_MM[1] / 25.4 * dpi) <= 2
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_posters_reasons_are_cut_between_reasons() -> None:
    assert _clip("外墙空鼓、燃气软管老化、110警情×186", 15) == "外墙空鼓、燃气软管老化…"
    assert _clip("交通事故×34、110警情×1", 15) == "交通事故×34、110警情×1"
    assert _clip("一二三四五六七八九十一二三四五六", 15) == "一二三四五六七八九十一二三四…"
