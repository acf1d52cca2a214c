"""A grid head's or member's area at a glance: micro-grids, visits this week, gaps, open work.

The weekly visit rule and the gap list are the coverage engine's (:func:`geo.coverage.gaps
.gaps_geojson`): a micro-grid counts as visited this week when it is not a ``weekly`` gap
there (a check-in or a patrol fix in the last ``settings.weekly_visit_days`` days). Everything
is read under the caller's scope, so it holds their area only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from geo.coverage.gaps import gaps_geojson
from geo.database import sql
from geo.settings import Settings

OPEN_CASE_STATES = ("received", "dispatched", "handling")
"""States of a case not yet handled: the grid's open work."""


def micro_grids(
    engine: Engine, settings: Settings, *, area: str | None, at: datetime
) -> dict[str, Any]:
    """The micro-grids at or under ``area`` (None: all the caller sees) with their colour in the
    latest risk computation as of ``at``, as a GeoJSON FeatureCollection (EPSG:4326)."""
    with engine.connect() as conn:
        body = conn.execute(
            sql("field_micro", "geo.field"), {"region": settings.region, "area": area, "at": at}
        ).scalar_one()
    return dict(json.loads(body) if isinstance(body, str) else body)


def area_summary(
    engine: Engine, settings: Settings, *, area: str | None, at: datetime
) -> dict[str, Any]:
    """The summary of ``area`` (None: every area the caller sees) as of ``at``.

    Returns
    -------
    dict
        ``micro``: a GeoJSON FeatureCollection (EPSG:4326) of the micro-grids, each with
        ``code``, ``name``, ``colour`` and ``visited`` (this week); ``visited`` and ``to_visit``
        counts; ``gaps``: the ranked gap list's features' properties; ``open_cases``,
        ``overdue_cases`` and ``open_hazards``.

    Raises
    ------
    NotFoundError
        ``area`` names no area the caller may see.
    """
    gaps = json.loads(gaps_geojson(engine, settings, at=at, area=area))
    weekly = {
        f["properties"]["code"] for f in gaps["features"] if "weekly" in f["properties"]["gaps"]
    }
    micro = micro_grids(engine, settings, area=area, at=at)
    with engine.connect() as conn:
        counts = (
            conn.execute(
                sql("field_counts", "geo.field"),
                {
                    "region": settings.region,
                    "area": area,
                    "now": at,
                    "open": list(OPEN_CASE_STATES),
                },
            )
            .mappings()
            .one()
        )
    for feature in micro["features"]:
        feature["properties"]["visited"] = feature["properties"]["code"] not in weekly
    visited = sum(f["properties"]["visited"] for f in micro["features"])
    return {
        "micro": micro,
        "visited": visited,
        "to_visit": len(micro["features"]) - visited,
        "week": gaps["week"],
        "gaps": [f["properties"] for f in gaps["features"]],
        **dict(counts),
    }
