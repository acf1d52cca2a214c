"""The composite view's bands (geo/risk/composite.py) on tiny hand-made cases with known
answers: quartiles part distinct scores into the four colours; ties at a quartile stay below
it, so a level of zeros is blue; under four areas the score's own bands hold. On the demo
district, the page's composite view takes its weighting from GRIDSAFE_RISK_COMPOSITE_WEIGHT
unless the page's weight= says otherwise, and its printed table follows the colours shown."""

from __future__ import annotations

import json
import re
from typing import Any

from geo.assessment import Colour
from geo.risk.composite import SCORE_BANDS, Banding, band, bands_for
from geo.settings import Settings
from maps.pages import TABLE_ROWS
from tests.clients import api_client


def test_quartiles_part_distinct_scores_into_four_colours() -> None:
    scores = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
    banding, bands = bands_for(scores)
    assert banding is Banding.QUARTILES
    assert bands == (62.5, 45.0, 27.5)
    colours = [band(s, bands, banding) for s in scores]
    assert (
        colours == [Colour.BLUE] * 2 + [Colour.YELLOW] * 2 + [Colour.ORANGE] * 2 + [Colour.RED] * 2
    )


def test_ties_at_a_quartile_stay_below_it() -> None:
    scores = [0.0, 0.0, 6.25, 31.25]
    banding, bands = bands_for(scores)
    assert [band(s, bands, banding) for s in scores] == [
        Colour.BLUE,
        Colour.BLUE,
        Colour.ORANGE,
        Colour.RED,
    ]
    zeros = [0.0] * 6
    banding, bands = bands_for(zeros)
    assert {band(s, bands, banding) for s in zeros} == {Colour.BLUE}


def test_few_areas_take_the_scores_own_bands() -> None:
    banding, bands = bands_for([80.0, 10.0])
    assert banding is Banding.SCORE
    assert bands == SCORE_BANDS
    assert band(75.0, bands, banding) is Colour.RED
    assert band(74.9, bands, banding) is Colour.ORANGE
    assert band(25.0, bands, banding) is Colour.YELLOW
    assert band(None, bands, banding) is Colour.BLUE


def _risk_map(settings: Settings, **params: str) -> dict[str, Any]:
    """The configuration the risk page hands its script, for ``params``, with the colours of
    the rows of its printed table (``printed``)."""
    with api_client(settings) as client:
        r = client.get("/maps/risk", params={"level": "grid3", **params})
    assert r.status_code == 200, r.text
    config: dict[str, Any] = json.loads(
        r.text.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
    )
    config["printed"] = re.findall(r'<tr class="gs-(red|orange)">', r.text)
    return config


def test_the_weight_setting_is_the_composite_views_default(demo_settings: Settings) -> None:
    by_area = _risk_map(demo_settings, rule="composite")
    assert (by_area["weight"], by_area["rule_name"]) == ("area", "综合（面积加权）")
    people = demo_settings.replace(risk_composite_weight="population")
    by_people = _risk_map(people, rule="composite")
    assert (by_people["weight"], by_people["rule_name"]) == ("population", "综合（人口加权）")
    # The weights change the scores, so the view itself follows the setting.
    assert by_people["composite"] != by_area["composite"]
    # The printed table lists the red and orange areas of the view shown, red first.
    for view in (by_area, by_people):
        shown = [c for c, _ in view["composite"].values() if c in ("red", "orange")]
        assert view["printed"] == sorted(shown, key=lambda c: c != "red")[:TABLE_ROWS]
    # The page's own choice wins over the setting; the worst-child rule weighs nothing.
    assert _risk_map(people, rule="composite", weight="area")["composite"] == by_area["composite"]
    worst = _risk_map(people, rule="worst")
    assert (worst["rule"], worst["weight"], worst["rule_name"]) == (
        "worst",
        "area",
        "就高（取最差下级）",
    )
