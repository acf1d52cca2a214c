"""The composite view of the four-colour map: every level coloured from its own score.

Under the usual rule of safety risk maps (就高, "take the higher"), a parent takes its worst
child's colour: a single red micro-grid makes its level-3 grid, level-2 grid and sub-district
red, so above the micro-grids most areas share one colour. The composite view answers the
leader's other question, "which of these grids is worst overall": each area's own score is
the mean of its micro-grids' 0-100 scores (geo/risk/colours.py), weighted by area or by
residents, and each level is banded on its own:

- with at least :data:`QUARTILE_MIN` areas, by the quartiles of that level's scores: above the
  upper quartile red, above the median orange, above the lower quartile yellow, else blue, so
  every level shows a spread (the quantile classification of choropleth maps, as in PySAL's
  mapclassify ``Quantiles``: a score equal to a quartile stays in the class below, so tied
  areas share a colour and a level of zeros stays blue);
- with fewer (a sub-district alone), by the score's own bands: 75 red, 50 orange, 25 yellow.

Micro-grids have no children; the view is for the levels above them. The bands are relative: a blue
level-2 grid in this view is among the least risky of its level, not free of risk, which is
why the worst-child view stays the default and the legend says which rule is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import Engine

from geo.assessment import Colour
from geo.database import sql
from geo.levels import Level
from geo.risk.store import resolve_run
from geo.settings import Settings

QUARTILE_MIN = 4
"""Fewest areas of a level banded by quartiles; fewer take the score's own bands."""

SCORE_BANDS = (75.0, 50.0, 25.0)
"""The score's own (red, orange, yellow) lower bounds: 25 points per colour (colours.py)."""

QUANTILES = (0.75, 0.5, 0.25)
"""The (red, orange, yellow) lower bounds as quantiles of a level's scores: its quartiles."""


class Rule(StrEnum):
    """How a map colours the areas above the micro-grids."""

    WORST = "worst"
    """就高: a parent takes its worst child's colour (the stored colours)."""
    COMPOSITE = "composite"
    """Each level from its own score (this module)."""


class Weight(StrEnum):
    """What a parent's score is averaged over."""

    AREA = "area"
    POPULATION = "population"


class Banding(StrEnum):
    """How a level's bands were chosen."""

    QUARTILES = "quartiles"
    SCORE = "score"


@dataclass(frozen=True)
class CompositeView:
    """One level's areas in the composite view."""

    weight: Weight
    banding: Banding
    bands: tuple[float, float, float]
    """The (red, orange, yellow) bounds of the score (see :func:`band`)."""
    areas: dict[str, tuple[Colour, float | None]]
    """Code -> (colour, own score); an area with no score (no known residents) is blue."""

    def counts(self) -> dict[str, int]:
        """How many areas each colour holds."""
        return {c.value: sum(1 for k, _ in self.areas.values() if k is c) for c in Colour}


def bands_for(scores: list[float]) -> tuple[Banding, tuple[float, float, float]]:
    """The (red, orange, yellow) lower bounds for one level's scores (see the module)."""
    if len(scores) < QUARTILE_MIN:
        return Banding.SCORE, SCORE_BANDS
    red, orange, yellow = (float(q) for q in np.quantile(np.asarray(scores), QUANTILES))
    return Banding.QUARTILES, (red, orange, yellow)


def band(score: float | None, bands: tuple[float, float, float], banding: Banding) -> Colour:
    """The colour of ``score`` under ``bands``: above a quartile, or at or above a fixed score
    bound (see the module); blue when there is no score."""
    if score is None:
        return Colour.BLUE
    for colour, bound in zip((Colour.RED, Colour.ORANGE, Colour.YELLOW), bands, strict=True):
        if score > bound or (banding is Banding.SCORE and score == bound):
            return colour
    return Colour.BLUE


def composite_view(
    engine: Engine,
    settings: Settings,
    *,
    level: Level,
    as_of: date | datetime | None,
    weight: Weight,
) -> CompositeView:
    """The areas of ``level`` the caller sees, coloured from their own ``weight``-ed score in
    the computation answering ``as_of`` (as :func:`geo.risk.store.risk_geojson` chooses it).

    Raises
    ------
    NotFoundError
        No computation answers a past ``as_of``.
    """
    run = resolve_run(engine, settings, settings.region, as_of)
    with engine.connect() as conn:
        rows = conn.execute(
            sql("risk_composite", "geo.risk"),
            {"run_id": run.id, "level": level.value, "weight": weight.value},
        ).all()
    scores = [float(r.score) for r in rows if r.score is not None]
    banding, bands = bands_for(scores)
    areas = {r.code: (band(_num(r.score), bands, banding), _num(r.score)) for r in rows}
    return CompositeView(weight, banding, bands, areas)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
