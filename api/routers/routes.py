"""Patrol route plans: plan a shift, read a stored plan, export it as GeoJSON or GPX."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, model_validator

from api.auth import NOT_GRID, PLANNERS, page, permit, request_translator
from api.deps import EngineDep, SettingsDep
from api.params import Moment
from geo import clock
from geo.routing.export import plan_gpx
from geo.routing.network import UnitKind
from geo.routing.plan import (
    CandidateInput,
    PlanRequest,
    UnitInput,
    get_plan,
    plan_geojson,
    plan_routes,
)
from geo.routing.review import review_plan
from maps.routes import routes_page

router = APIRouter(prefix="/api/routes", tags=["routes"], dependencies=[permit(*NOT_GRID)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*NOT_GRID)])

GEOJSON = "application/geo+json"
GPX = "application/gpx+xml"


class UnitBody(BaseModel):
    """A patrol unit: its name, its station's ``poi_id`` and how it moves."""

    name: str = Field(min_length=1)
    station: str = Field(min_length=1, description="poi_id of a POI of kind 'station'")
    kind: UnitKind = UnitKind.FOOT


class CandidateBody(BaseModel):
    """A stop to consider besides the risk map's and the school gates."""

    id: str = Field(min_length=1)
    kind: Literal["hotspot", "red", "orange", "gap", "school_gate", "point"] = "point"
    risk: float | None = Field(default=None, ge=0, description="what visiting it is worth")
    lon: float | None = None
    lat: float | None = None
    crs: str | None = Field(default=None, description="of lon/lat: EPSG code, gcj02, bd09")
    area_code: str | None = Field(default=None, description="stop inside this area instead")
    dwell_s: int | None = Field(default=None, ge=0, description="default: Koper 10-15 min")
    windows: list[str] = Field(default_factory=list, description="'HH:MM-HH:MM' local times")
    label: str | None = None


class RouteRequest(BaseModel):
    """Units, the shift (an end or a budget), candidates and options."""

    units: list[UnitBody] = Field(min_length=1)
    shift_start: Moment = Field(description="local time unless an offset is given")
    shift_end: Moment | None = None
    budget_min: float | None = Field(default=None, gt=0, le=24 * 60)
    candidates: list[CandidateBody] = Field(default_factory=list)
    risk_areas: bool = Field(default=True, description="the latest red/orange micro-grids")
    school_gates: bool = Field(default=True, description="school gates in their windows")
    gaps: bool = Field(default=True, description="the coverage gap list's micro-grids")
    solver: Literal["pyvrp", "best", "ortools", "greedy", "exact"] = "pyvrp"
    time_limit_s: float | None = Field(default=None, gt=0, le=120)

    @model_validator(mode="after")
    def _one_end(self) -> RouteRequest:
        if (self.shift_end is None) == (self.budget_min is None):
            msg = "give exactly one of shift_end and budget_min"
            raise ValueError(msg)
        return self

    def to_domain(self) -> PlanRequest:
        """The planner's request."""
        end = self.shift_end or self.shift_start + timedelta(minutes=float(self.budget_min or 0))
        return PlanRequest(
            units=[UnitInput(u.name, u.station, u.kind) for u in self.units],
            shift_start=self.shift_start,
            shift_end=end,
            candidates=[
                CandidateInput(**{**c.model_dump(), "windows": tuple(c.windows)})
                for c in self.candidates
            ],
            risk_areas=self.risk_areas,
            school_gates=self.school_gates,
            gaps=self.gaps,
            solver=self.solver,
            time_limit_s=self.time_limit_s,
        )


@router.post("", status_code=201, dependencies=[permit(*PLANNERS)])
def create_plan(body: RouteRequest, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Plan the shift; per unit the ordered stops with times, the road path, distance, duration
    and risk covered, plus every candidate left out and why. The plan is stored."""
    return plan_routes(engine, settings, body.to_domain())


@router.get(
    "/{plan_id}.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}}
)
def plan_as_geojson(plan_id: int, engine: EngineDep, settings: SettingsDep) -> Response:
    """A stored plan as GeoJSON (EPSG:4326): a path per unit, a point per station and stop."""
    return Response(plan_geojson(engine, settings, plan_id), media_type=GEOJSON)


@router.get("/{plan_id}.gpx", response_class=Response, responses={200: {"content": {GPX: {}}}})
def plan_as_gpx(plan_id: int, engine: EngineDep, settings: SettingsDep) -> Response:
    """A stored plan as GPX 1.1: a track per unit, a waypoint per station and stop."""
    body = plan_gpx(get_plan(engine, settings, plan_id))
    headers = {"Content-Disposition": f'attachment; filename="route-plan-{plan_id}.gpx"'}
    return Response(body, media_type=GPX, headers=headers)


@router.get("/{plan_id}/review")
def plan_review(plan_id: int, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """The plan against the tracks so far: each planned stop reached, late, missed or still
    pending, and the share of the planned risk covered (geo/routing/review.py)."""
    return review_plan(engine, settings, plan_id, now=clock.utcnow())


@router.get("/{plan_id}")
def read_plan(plan_id: int, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """A stored plan, as ``POST /api/routes`` returned it."""
    return get_plan(engine, settings, plan_id)


@pages.get("/maps/routes/{plan_id}", response_class=HTMLResponse)
def route_map(
    request: Request, plan_id: int, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """A stored plan on the map: each unit's path in its colour, numbered stops, risk beneath."""
    t = request_translator(request)
    today = clock.today(settings.timezone)
    return page(request, routes_page(engine, settings, t, plan_id, today=today))
