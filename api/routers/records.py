"""Incidents and hazards: submit one or many (JSON), list them as GeoJSON (EPSG:4326)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response

from api.auth import READERS, REPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.common import GeoJSONResponse
from api.models.records import HazardCollection, IncidentCollection, SubmitReport
from api.params import InstantText
from geo.records import list_records, submit_records

router = APIRouter(prefix="/api", tags=["records"], dependencies=[permit(*READERS)])


RecordBody = Annotated[
    dict[str, Any] | list[dict[str, Any]],
    Body(
        description=(
            "One record or a list. Location: lon/lat with an optional crs (EPSG code, gcj02 or "
            "bd09; default WGS84), or an address. Incidents: source, source_id, type (code or "
            "Chinese/English name), occurred_at, reported_at, description. Hazards: source, "
            "source_id, category, name, method (LEC or LS), l, e, c / l, s, status, "
            "identified_at, closed_at. Chinese keys (经度, 纬度, 地址, 类型, 发生时间, ...) "
            "work too."
        ),
        examples=[
            {
                "source": "110",
                "source_id": "JQ-2025-0001",
                "type": "火灾",
                "occurred_at": "2025-03-01 08:30",
                "lon": 113.6843,
                "lat": 34.7723,
                "crs": "gcj02",
            }
        ],
    ),
]


def _submit(
    kind: Literal["incidents", "hazards"], engine: EngineDep, settings: SettingsDep, body: Any
) -> dict[str, object]:
    records = body if isinstance(body, list) else [body]
    report, placements = submit_records(engine, settings, records, kind=kind)
    return {**report.as_dict(), "records": [asdict(p) for p in placements]}


def _list(
    kind: Literal["incidents", "hazards"],
    engine: EngineDep,
    settings: SettingsDep,
    **filters: Any,
) -> Response:
    body = list_records(engine, settings, kind=kind, **filters)
    return GeoJSONResponse(body)


AreaQuery = Annotated[
    str | None, Query(description="only records in this area or any area under it")
]
FromQuery = Annotated[
    InstantText | None, Query(alias="from", description="from this time on (ISO 8601; local time)")
]
ToQuery = Annotated[
    InstantText | None, Query(alias="to", description="before this time (ISO 8601)")
]
OutsideQuery = Annotated[bool, Query(description="only records outside every area")]
LimitQuery = Annotated[int, Query(ge=1, le=10_000, description="page size")]
# The list queries echo the offset as a PostgreSQL integer.
OffsetQuery = Annotated[int, Query(ge=0, le=2**31 - 1, description="records to skip")]


@router.post(
    "/incidents",
    dependencies=[permit(*REPORTERS)],
    response_model=SubmitReport,
    response_model_exclude_unset=True,
)
def post_incidents(engine: EngineDep, settings: SettingsDep, body: RecordBody) -> dict[str, object]:
    """Store incidents; per record: its micro-grid and ancestors, or why it was rejected."""
    return _submit("incidents", engine, settings, body)


@router.post(
    "/hazards",
    dependencies=[permit(*REPORTERS)],
    response_model=SubmitReport,
    response_model_exclude_unset=True,
)
def post_hazards(engine: EngineDep, settings: SettingsDep, body: RecordBody) -> dict[str, object]:
    """Store hazards with their LEC/LS assessment; per record: its area or why it was rejected."""
    return _submit("hazards", engine, settings, body)


@router.get(
    "/incidents", response_class=GeoJSONResponse, responses={200: {"model": IncidentCollection}}
)
def get_incidents(
    engine: EngineDep,
    settings: SettingsDep,
    area: AreaQuery = None,
    types: Annotated[
        list[str] | None, Query(alias="type", description="type codes or names (repeatable)")
    ] = None,
    start: FromQuery = None,
    end: ToQuery = None,
    outside: OutsideQuery = False,
    limit: LimitQuery = 1000,
    offset: OffsetQuery = 0,
) -> Response:
    """Incidents as a FeatureCollection (newest first) with ``total``; 404 for an unknown area."""
    return _list(
        "incidents",
        engine,
        settings,
        area=area,
        types=types or [],
        start=start,
        end=end,
        outside=outside,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/hazards", response_class=GeoJSONResponse, responses={200: {"model": HazardCollection}}
)
def get_hazards(
    engine: EngineDep,
    settings: SettingsDep,
    area: AreaQuery = None,
    category: Annotated[list[str] | None, Query(description="categories (repeatable)")] = None,
    start: FromQuery = None,
    end: ToQuery = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    outside: OutsideQuery = False,
    limit: LimitQuery = 1000,
    offset: OffsetQuery = 0,
) -> Response:
    """Hazards as a FeatureCollection with score and colour; 404 for an unknown area."""
    return _list(
        "hazards",
        engine,
        settings,
        area=area,
        types=category or [],
        start=start,
        end=end,
        status=status,
        outside=outside,
        limit=limit,
        offset=offset,
    )
