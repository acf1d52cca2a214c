"""The patrol coverage page in real headless Chromium, on the demo district's month of patrols:
offline, tracks painted in their units' colours, the ranked gaps outlined and listed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine, text

from geo.settings import Settings
from maps.pages import unit_colour
from tests.browser import CHROMIUM, Chromium, serve
from tests.clients import api_client
from tests.test_maps_browser import assert_offline

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="chromium not installed")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_coverage_page_draws_tracks_and_ranked_gaps(
    demo: Engine, demo_settings: Settings, artifacts: Path
) -> None:
    with serve(demo_settings) as base, Chromium() as browser:
        browser.sign_in(base, demo_settings)
        png = artifacts / "coverage_day.png"
        load = browser.load(
            f"{base}/maps/coverage?period=day",
            ready="document.querySelectorAll('.gs-gap-rank').length > 0",
            screenshot=png,
            timeout=120,
        )
        assert_offline(load, base)
        panel = browser.evaluate("document.querySelector('.gs-coverage-panel').innerText")
        ranks = browser.evaluate(
            "[...document.querySelectorAll('.gs-gap-rank')].map(e => +e.textContent)"
        )
    assert "巡逻覆盖 Patrol coverage" in panel
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
