"""The demo district's synthetic activity through the engine: all four colours, and a map that
beats last period's raw counts at pointing to the next period's incidents (higher PAI).

Uses the shared, read-only ``demo`` database: computing and evaluating write nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from geo.assessment import Colour
from geo.levels import Level
from geo.risk import evaluate
from geo.settings import Settings


def test_demo_year_gives_four_colours_and_beats_raw_counts(
    demo: Engine, demo_settings: Settings
) -> None:
    with demo.connect() as conn:
        last = conn.execute(
            text("SELECT max(occurred_at) FROM incidents WHERE region = :r"),
            {"r": demo_settings.region},
        ).scalar()
    if last is None:
        pytest.skip("the demo database has no synthetic activity (incidents) loaded")
    split = (last - timedelta(days=90)).date()
    ev = evaluate(demo, demo_settings, split=split, period_days=90)
    colours = {a.colour for a in ev.result.level(Level.MICRO)}
    assert colours == set(Colour)
    engine_row, raw, uniform = ev.scores
    assert ev.incidents_next > 1000
    assert engine_row.pai is not None
    assert raw.pai is not None
    assert engine_row.pai > raw.pai
    assert engine_row.pai > 1.5
    assert uniform.pai == pytest.approx(1.0)
