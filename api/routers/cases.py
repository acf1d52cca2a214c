"""Cases in a closed loop and the statistics leaders report: list, open, move, export, stats."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, BeforeValidator, Field

from api.auth import CASE_WORKERS, READERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.cases import Case, CaseCollection, Stats
from api.models.common import GeoJSONResponse
from api.params import Day, Moment
from api.shell import page, request_translator
from geo import clock
from geo.access import User
from geo.cases import (
    PLATFORMS,
    SQUADS,
    State,
    export_cases,
    get_case,
    list_cases,
    open_case,
    transition,
)
from geo.errors import InputError
from geo.settings import Settings
from geo.stats import case_stats
from maps.stats_page import EXPORT_SHEET, export_headers, stats_page

router = APIRouter(prefix="/api", tags=["cases"], dependencies=[permit(*READERS)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*READERS)])

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _blank_is_none(value: object) -> object:
    # A form's empty field (``area=``) chooses no area, as leaving the parameter out does.
    return value or None


AreaQuery = Annotated[
    str | None,
    BeforeValidator(_blank_is_none),
    Query(
        description=(
            "only cases in this area (any level) or under it; absent or empty: every area "
            "the caller may see"
        )
    ),
]
FromQuery = Annotated[
    Day | None, Query(alias="from", description="received on or after this local day")
]
ToQuery = Annotated[Day | None, Query(alias="to", description="received on or before this day")]


class CaseOpen(BaseModel):
    """Open the case of an incident."""

    incident_id: int = Field(description="the incident (one case per incident)")
    actor: str | None = Field(
        default=None,
        description="ignored: the case history records the signed-in caller (kept for scripts)",
    )
    platform: str | None = Field(
        default=None,
        description=(
            f"intake platform: {', '.join(PLATFORMS)} (or its Chinese name, e.g. 一码解纠纷); "
            "default: the incident's source when that names one"
        ),
    )
    received_at: Moment | None = Field(
        default=None, description="when received (default: the incident's reported_at)"
    )
    note: str | None = None


class CaseStep(BaseModel):
    """One step of the workflow."""

    to: State = Field(description="the next state")
    actor: str | None = Field(
        default=None,
        description="ignored: the case history records the signed-in caller (kept for scripts)",
    )
    version: int = Field(description="the case's version as read: the optimistic lock")
    squad: str | None = Field(
        default=None,
        description=f"when dispatching to a squad of the grid: {', '.join(SQUADS)}",
    )
    department: str | None = Field(default=None, description="or when dispatching to a department")
    note: str | None = None
    reason: str | None = Field(
        default=None, description="why it is reopened (required when reopening)"
    )


@router.get("/cases", response_class=GeoJSONResponse, responses={200: {"model": CaseCollection}})
def get_cases(
    engine: EngineDep,
    settings: SettingsDep,
    area: AreaQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
    state: Annotated[State | None, Query(description="only cases in this state")] = None,
    platform: Annotated[str | None, Query(description="only from this intake platform")] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (or on-time) cases")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="page size")] = 1000,
    offset: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="cases to skip (a PostgreSQL integer)")
    ] = 0,
) -> Response:
    """Cases as GeoJSON (the incident's point, EPSG:4326), newest first, with ``total``."""
    body = list_cases(
        engine,
        settings,
        area=area,
        start=start,
        end=end,
        state=state.value if state is not None else None,
        platform=platform,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    return GeoJSONResponse(body)


@router.post("/cases", status_code=201, response_model=Case)
def post_case(
    engine: EngineDep,
    settings: SettingsDep,
    body: CaseOpen,
    user: Annotated[User, permit(*CASE_WORKERS)],
) -> dict[str, Any]:
    """Open a case on an incident (state ``received``); 409 when the incident has one."""
    return open_case(
        engine,
        settings,
        incident_id=body.incident_id,
        actor=user.label,
        platform=body.platform,
        received_at=body.received_at,
        note=body.note,
    )


@router.get(
    "/cases/export",
    response_class=Response,
    responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}},
)
def get_cases_export(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    area: AreaQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """Cases received in the period with every timestamp and their areas (codes and names), as
    CSV or Excel; the headers are in the caller's language (a person reads the file)."""
    t = request_translator(request)
    body = export_cases(
        engine,
        settings,
        fmt=fmt,
        headers=export_headers(t),
        sheet=t._(EXPORT_SHEET),
        area=area,
        start=start,
        end=end,
    )
    name = f"cases_{area or 'all'}_{start or ''}_{end or ''}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/cases/{case_id}", response_model=Case)
def get_one_case(engine: EngineDep, settings: SettingsDep, case_id: int) -> dict[str, Any]:
    """One case with its history (who, when, why) and the states allowed next."""
    return get_case(engine, settings, case_id)


@router.post("/cases/{case_id}/transitions", response_model=Case)
def post_transition(
    engine: EngineDep,
    settings: SettingsDep,
    case_id: int,
    body: CaseStep,
    user: Annotated[User, permit(*CASE_WORKERS)],
) -> dict[str, Any]:
    """Move a case one step: 409 with the allowed states when refused or when ``version`` is
    stale (someone else moved it), 400 when a squad/department or a reopening reason is missing.
    """
    return transition(
        engine,
        settings,
        case_id,
        to=body.to,
        actor=user.label,
        expected_version=body.version,
        squad=body.squad,
        department=body.department,
        note=body.note,
        reason=body.reason,
    )


@router.get("/stats", response_model=Stats, response_model_exclude_unset=True)
def get_stats(
    engine: EngineDep,
    settings: SettingsDep,
    area: AreaQuery = None,
    start: Annotated[
        Day | None, Query(alias="from", description="first day (default: 1 January of `to`)")
    ] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day (default: today)")] = None,
) -> dict[str, Any]:
    """Cases received, resolved, resolution rate, median time, overdue, by type, platform, grid
    and month, against the same period a year earlier; incidents year on year; three zeros."""
    first, last = _period(settings, start, end)
    return case_stats(engine, settings, area=area, start=first, end=last)


MAX_PERIOD_DAYS = 3660
"""The longest period the statistics cover in one request (ten years)."""


def _period(settings: Settings, start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default from 1 January to the district's today (this year to
    date).

    Raises
    ------
    InputError
        The period ends before it starts, or spans more than :data:`MAX_PERIOD_DAYS`.
    """
    last = end or clock.today(settings.timezone)
    first = start or last.replace(month=1, day=1)
    if first > last:
        msg = f"the period ends ({last}) before it starts ({first})"
        raise InputError(msg, code="period_reversed", params={"start": first, "end": last})
    if (last - first).days >= MAX_PERIOD_DAYS:
        msg = f"the period {first} to {last} is longer than {MAX_PERIOD_DAYS} days"
        raise InputError(
            msg,
            code="period_too_long",
            params={"start": first, "end": last, "days": MAX_PERIOD_DAYS},
        )
    return first, last


@pages.get("/stats", response_class=HTMLResponse)
def stats_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*READERS)],
    area: AreaQuery = None,
    start: Annotated[Day | None, Query(alias="from", description="first day")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day")] = None,
) -> HTMLResponse:
    """The case statistics page: figures, monthly and year-on-year charts, three zeros. A grid
    head's or member's page with no area chosen is of their area, and names it."""
    area = area or user.scope
    first, last = _period(settings, start, end)
    t = request_translator(request)
    html = stats_page(engine, settings, t, area=area, start=first, end=last)
    return page(request, html)
