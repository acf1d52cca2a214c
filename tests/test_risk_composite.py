"""The composite view's bands (geo/risk/composite.py) on tiny hand-made cases with known
answers: quartiles part distinct scores into the four colours; ties at a quartile stay below
it, so a level of zeros is blue; under four areas the score's own bands hold."""

from __future__ import annotations

from geo.assessment import Colour
from geo.risk.composite import SCORE_BANDS, Banding, band, bands_for


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
