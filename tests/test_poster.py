"""The four-colour map on paper (issue 16 item 5): ``GET /maps/risk.pdf`` gives an A3 or A1
PDF drawn offline for the demo district; rendered to PNG with poppler's pdftoppm, the poster
has the page size asked for, paints the four colours and Chinese text. The PNGs go to the
artifacts to be looked at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geo.settings import Settings
from maps.pages import COLOURS
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
