"""Patrol tracks and check-ins in; coverage and gaps out (GeoJSON, EPSG:4326)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import PLANNERS, READERS, REPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.common import GeoJSONResponse, ImportReport
from api.models.coverage import CoverageCollection, GapCollection, TrackReport
from api.params import InstantText
from api.shell import page, request_translator
from geo import clock
from geo.coverage.checkins import import_checkin_records
from geo.coverage.compute import coverage_geojson
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import (
    PeriodKind,
    parse_instant,
    period_of,
    requested,
    shift_number,
    shift_on,
)
from geo.coverage.tracks import import_track_records
from geo.errors import InputError
from geo.levels import Level
from maps.coverage import coverage_page

router = APIRouter(prefix="/api", tags=["coverage"], dependencies=[permit(*READERS)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*READERS)])

MAX_BATCH = 100_000


class TrackBatch(BaseModel):
    """Fixes from a device: each has ``time`` and ``lon``/``lat`` (or ``x``/``y``)."""

    unit: str | None = Field(default=None, description="unit of fixes that name none")
    kind: str | None = Field(default=None, description="foot, bicycle or vehicle (or 步巡, 车巡…)")
    crs: str | None = Field(default=None, description="EPSG code, gcj02 or bd09 (default WGS84)")
    fixes: list[dict[str, str | float | int | None]] = Field(min_length=1, max_length=MAX_BATCH)


class CheckinBatch(BaseModel):
    """Grid-head check-ins: each has ``person``, ``time`` and ``lon``/``lat`` (or ``x``/``y``)."""

    person: str | None = Field(default=None, description="grid head of records that name none")
    crs: str | None = Field(default=None, description="EPSG code, gcj02 or bd09 (default WGS84)")
    checkins: list[dict[str, str | float | int | None]] = Field(min_length=1, max_length=MAX_BATCH)


@router.post(
    "/tracks",
    dependencies=[permit(*PLANNERS)],
    response_model=TrackReport,
    response_model_exclude_unset=True,
)
def post_tracks(batch: TrackBatch, engine: EngineDep, settings: SettingsDep) -> dict[str, object]:
    """Store a batch of GPS fixes, cleaned (duplicates, impossible speeds) with counts reported."""
    report = import_track_records(
        engine,
        settings,
        batch.fixes,
        crs=batch.crs,
        unit=batch.unit,
        kind=batch.kind,
    )
    return report.as_dict()


@router.post(
    "/visits",
    dependencies=[permit(*REPORTERS)],
    response_model=ImportReport,
    response_model_exclude_unset=True,
)
def post_visits(batch: CheckinBatch, engine: EngineDep, settings: SettingsDep) -> dict[str, object]:
    """Store grid-head check-ins, each located in its micro-grid by the spatial join."""
    report = import_checkin_records(
        engine, settings, batch.checkins, crs=batch.crs, person=batch.person
    )
    return report.as_dict()


@router.get(
    "/coverage", response_class=GeoJSONResponse, responses={200: {"model": CoverageCollection}}
)
def get_coverage(
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[Level, Query(description="the level reported")] = Level.MICRO,
    area: Annotated[str | None, Query(description="only this area and its descendants")] = None,
    date_from: Annotated[
        InstantText | None, Query(alias="from", description="start, ISO date or date-time (local)")
    ] = None,
    date_to: Annotated[
        InstantText | None, Query(alias="to", description="end (exclusive), ISO date or date-time")
    ] = None,
    period: Annotated[
        PeriodKind | None, Query(description="the shift, day or week holding `at`")
    ] = None,
    at: Annotated[
        InstantText | None, Query(description="instant for `period` (default now)")
    ] = None,
    unit: Annotated[list[str] | None, Query(description="only these patrol units")] = None,
) -> Response:
    """Covered share, visits, dwell, deterrent visits and last visit per area.

    Give either ``from`` and ``to`` or ``period`` (``shift``, ``day``, ``week``; with ``at``).
    """
    if period is not None:
        if date_from or date_to:
            raise InputError("give either period or from/to, not both")
        moment = parse_instant(at, settings) if at else clock.now(settings.timezone)
        chosen = period_of(period, moment, settings)
    elif date_from and date_to:
        chosen = requested(parse_instant(date_from, settings), parse_instant(date_to, settings))
    else:
        raise InputError("give from and to, or period (shift, day or week)")
    body = coverage_geojson(engine, settings, period=chosen, level=level, area=area, units=unit)
    return GeoJSONResponse(body)


@router.get("/gaps", response_class=GeoJSONResponse, responses={200: {"model": GapCollection}})
def get_gaps(
    engine: EngineDep,
    settings: SettingsDep,
    area: Annotated[str | None, Query(description="only this area and its descendants")] = None,
    at: Annotated[
        InstantText | None, Query(description="as of this instant (default and at the latest: now)")
    ] = None,
    level: Annotated[
        Level,
        Query(description="micro: all gap kinds; a level above: its areas under the coverage bar"),
    ] = Level.MICRO,
) -> Response:
    """Micro-grids needing a visit (weekly rule, red/orange this shift, low coverage), or the
    areas of a higher ``level`` whose covered share is under the bar, ranked."""
    moment = parse_instant(at, settings) if at else clock.now(settings.timezone)
    body = gaps_geojson(engine, settings, at=moment, area=area, level=level)
    return GeoJSONResponse(body)


@pages.get("/maps/coverage", response_class=HTMLResponse)
def coverage_map(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    period: Annotated[PeriodKind, Query(description="the shift, day or week holding `at`")] = (
        PeriodKind.DAY
    ),
    at: Annotated[InstantText | None, Query(description="a day or instant (default now)")] = None,
    shift: Annotated[
        int | None, Query(ge=1, description="with a day in `at`: that day's shift (1 the first)")
    ] = None,
    area: Annotated[str | None, Query(description="only this area (a grid head's own)")] = None,
    unit: Annotated[str | None, Query(description="only this patrol unit")] = None,
) -> HTMLResponse:
    """Tracks by unit and shift, the covered area, coverage per micro-grid and the ranked gaps,
    over the risk colours. The gaps are those as of the period's end, or now if that is earlier.
    """
    now = clock.now(settings.timezone)
    moment = parse_instant(at, settings) if at else now
    zone = clock.zone(settings.timezone)
    if shift is not None:
        moment = shift_on(moment.astimezone(zone).date(), shift, settings).start
    elif at and len(at) == 10:  # a bare day: as of its end (or now), so the whole day counts
        moment = min(period_of(PeriodKind.DAY, moment, settings).end - timedelta(seconds=1), now)
    # A grid head's view opens on their own area.
    area = area or request.state.credential.user.scope
    form = {
        "period": period.value,
        "at": moment.astimezone(zone).date().isoformat(),
        "shift": str(shift_number(moment, settings)),
        "area": area or "",
        "unit": unit or "",
    }
    html = coverage_page(
        engine,
        settings,
        request_translator(request),
        period=period_of(period, moment, settings),
        area=area or None,
        units=[unit] if unit else None,
        form=form,
    )
    return page(request, html)
