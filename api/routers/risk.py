"""The four-colour risk map and the reasons behind a colour."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.auth import READERS, permit
from api.cache import answer
from api.deps import EngineDep, SettingsDep
from api.models.common import GeoJSONResponse
from api.models.risk import RiskCollection, RiskDetail
from api.params import Day, DayOrMoment
from geo.levels import Level
from geo.risk import Changes, risk_changes, risk_detail, risk_geojson

router = APIRouter(prefix="/api/risk", tags=["risk"], dependencies=[permit(*READERS)])

RISK_SOURCES = ("areas", "risk_runs")
"""What the risk map's answers are drawn from (the scores are written only with their run): they
are kept between changes to these (api/cache.py)."""


AsOf = Annotated[
    DayOrMoment | None,
    Query(
        description=(
            "the latest computation at or before this date (its end, local time) or instant "
            "answers; computed on demand when there is none; default: the newest"
        )
    ),
]


@router.get("", response_class=GeoJSONResponse, responses={200: {"model": RiskCollection}})
def risk_map(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[Level | None, Query(description="only areas of this level")] = None,
    as_of: AsOf = None,
) -> Response:
    """Areas with ``code``, ``name``, ``level``, ``colour``, ``score``, ``reasons``,
    ``previous_colour`` (EPSG:4326)."""
    return answer(
        request,
        sources=RISK_SOURCES,
        build=lambda: risk_geojson(
            engine, region=settings.region, level=level, as_of=as_of, settings=settings
        ),
        media_type=GeoJSONResponse.media_type,
    )


@router.get("/changes", response_model=Changes)
def risk_map_changes(
    engine: EngineDep,
    settings: SettingsDep,
    since: Annotated[Day, Query(alias="from", description="the earlier date")],
    until: Annotated[Day, Query(alias="to", description="the later date")],
    level: Annotated[Level, Query(description="the level compared")] = Level.GRID3,
) -> Changes:
    """The areas of one level whose colour went up or down between the stored computations
    answering two dates, worst rise first, with the reasons that changed (hazards new or
    gone, incident counts by type, red and orange children); 404 when no computation answers
    a past date."""
    return risk_changes(engine, settings, level=level, since=since, until=until)


@router.get("/{code}", response_model=RiskDetail)
def risk_area(code: str, engine: EngineDep, settings: SettingsDep, as_of: AsOf = None) -> Any:
    """Why an area has its colour: hazards, incidents by type, Gi* z/p, thresholds, history,
    and its direct children (``children``: code, name, colour, score; worst first)."""
    return risk_detail(engine, region=settings.region, code=code, as_of=as_of, settings=settings)
