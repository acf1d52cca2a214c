"""Patrol route plans: plan a shift, read a stored plan, export it as GeoJSON or GPX."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, model_validator

from api.auth import NOT_GRID, PLANNERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.common import GeoJSONResponse
from api.models.routes import Plan, PlanCollection, PlanReview, PlanSaved
from api.params import Day, Moment
from api.shell import page, request_translator
from geo import clock
from geo.access import User
from geo.coverage.periods import shift_number
from geo.errors import NotFoundError
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
from geo.routing.plans import list_plans, save_plan
from geo.routing.progress import PlanJobs
from geo.routing.review import review_plan
from geo.routing.units import unit_register
from maps.plan import planning_page, sheet_page
from maps.routes import routes_page

router = APIRouter(prefix="/api/routes", tags=["routes"], dependencies=[permit(*NOT_GRID)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*NOT_GRID)])

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
    exclude: list[str] = Field(
        default_factory=list, description="candidate ids dropped from the plan"
    )
    pinned: list[str] = Field(
        default_factory=list, description="candidate ids to plan before any other"
    )
    based_on: int | None = Field(default=None, description="the plan this one adjusts")

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
            exclude=tuple(self.exclude),
            pinned=tuple(self.pinned),
            based_on=self.based_on,
        )


@router.post("", status_code=201, dependencies=[permit(*PLANNERS)], response_model=Plan)
def create_plan(body: RouteRequest, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Plan the shift; per unit the ordered stops with times, the road path, distance, duration
    and risk covered, plus every candidate left out and why. The plan is stored."""
    return plan_routes(engine, settings, body.to_domain())


class JobOut(BaseModel):
    """A plan being made in the background, as the planning page polls it."""

    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str = Field(description="queue, gather, solve or store")
    progress: float = Field(ge=0, le=1)
    elapsed_s: float
    plan_id: int | None = Field(description="the stored plan, once done")
    error: str | None


def _jobs(request: Request) -> PlanJobs:
    jobs: PlanJobs = request.app.state.plan_jobs
    return jobs


@router.post("/jobs", status_code=202, dependencies=[permit(*PLANNERS)])
def start_plan(
    request: Request, body: RouteRequest, engine: EngineDep, settings: SettingsDep
) -> JobOut:
    """Plan the shift in the background; poll ``GET /api/routes/jobs/{id}`` for its progress
    and the stored plan's id, ``DELETE`` it to cancel."""
    plan = body.to_domain()
    job = _jobs(request).start(
        lambda progress: plan_routes(engine, settings, plan, progress=progress)
    )
    return JobOut(**job.as_dict())


@router.get("/jobs/{job_id}")
def poll_plan(request: Request, job_id: str) -> JobOut:
    """A planning job's state and progress."""
    return JobOut(**_jobs(request).get(job_id).as_dict())


@router.delete("/jobs/{job_id}", dependencies=[permit(*PLANNERS)])
def cancel_plan(request: Request, job_id: str) -> JobOut:
    """Cancel a planning job: its search ends at once and nothing is stored."""
    job = _jobs(request).get(job_id)
    job.cancel()
    return JobOut(**job.as_dict())


class PlanListed(BaseModel):
    """A stored plan in the list of plans."""

    id: int
    created_at: str
    saved_at: str | None
    based_on: int | None
    shift: dict[str, Any]
    units: list[str]
    summary: dict[str, Any]


@router.get("")
def plans_of(
    engine: EngineDep,
    settings: SettingsDep,
    day: Annotated[Day | None, Query(description="local day (default: today)")] = None,
    shift: Annotated[int | None, Query(ge=1, description="shift number of the day")] = None,
    saved: Annotated[bool, Query(description="only the plans kept")] = False,
) -> list[PlanListed]:
    """Plans of a day (or of one of its shifts), newest shift first."""
    found = list_plans(
        engine,
        settings,
        day=day or clock.today(settings.timezone),
        shift=shift,
        saved_only=saved,
    )
    return [PlanListed(**p) for p in found]


@router.post("/{plan_id}/save", dependencies=[permit(*PLANNERS)], response_model=PlanSaved)
def keep_plan(plan_id: int, engine: EngineDep, settings: SettingsDep) -> dict[str, str]:
    """Keep a plan (the planning page's plans are drafts until kept)."""
    return {"saved_at": save_plan(engine, settings, plan_id)}


@router.get(
    "/{plan_id}.geojson",
    response_class=GeoJSONResponse,
    responses={200: {"model": PlanCollection}},
)
def plan_as_geojson(plan_id: int, engine: EngineDep, settings: SettingsDep) -> Response:
    """A stored plan as GeoJSON (EPSG:4326): a path per unit, a point per station and stop."""
    return GeoJSONResponse(plan_geojson(engine, settings, plan_id))


@router.get("/{plan_id}.gpx", response_class=Response, responses={200: {"content": {GPX: {}}}})
def plan_as_gpx(plan_id: int, engine: EngineDep, settings: SettingsDep) -> Response:
    """A stored plan as GPX 1.1: a track per unit, a waypoint per station and stop."""
    body = plan_gpx(get_plan(engine, settings, plan_id))
    headers = {"Content-Disposition": f'attachment; filename="route-plan-{plan_id}.gpx"'}
    return Response(body, media_type=GPX, headers=headers)


@router.get("/{plan_id}/review", response_model=PlanReview)
def plan_review(plan_id: int, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """The plan against the tracks so far: each planned stop reached, late, missed or still
    pending, and the share of the planned risk covered (geo/routing/review.py)."""
    return review_plan(engine, settings, plan_id, now=clock.utcnow())


@router.get("/{plan_id}", response_model=Plan)
def read_plan(plan_id: int, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """A stored plan, as ``POST /api/routes`` returned it."""
    return get_plan(engine, settings, plan_id)


@pages.get("/maps/routes", response_class=HTMLResponse)
def planning(
    request: Request,
    user: Annotated[User, permit(*NOT_GRID)],
    engine: EngineDep,
    settings: SettingsDep,
    plan: Annotated[int | None, Query(description="open this stored plan")] = None,
) -> HTMLResponse:
    """Plan a shift: pick the day, shift, units, candidate sources and time limit; watch it
    run, adjust, re-plan, save; the day's plans listed."""
    with engine.connect() as conn:
        register = unit_register(conn, settings)
    now = clock.now(settings.timezone)
    html = planning_page(
        settings,
        request_translator(request),
        register=register,
        today=now.date(),
        current_shift=shift_number(now, settings),
        plan_id=plan,
        can_edit=user.role in PLANNERS,
    )
    return page(request, html)


@pages.get("/maps/routes/{plan_id}/sheet/{unit_index}", response_class=HTMLResponse)
def route_sheet(
    request: Request, plan_id: int, unit_index: int, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """One unit's route sheet to hand out: its map and timetable, printable on A4."""
    plan = get_plan(engine, settings, plan_id)
    if not 0 <= unit_index < len(plan["units"]):
        msg = f"plan {plan_id} has no unit {unit_index}"
        raise NotFoundError(msg, code="plan_not_found", params={"id": plan_id})
    return page(request, sheet_page(settings, request_translator(request), plan, unit_index))


@pages.get("/maps/routes/{plan_id}", response_class=HTMLResponse)
def route_map(
    request: Request, plan_id: int, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """A stored plan on the map: each unit's path in its colour, numbered stops, risk beneath."""
    t = request_translator(request)
    today = clock.today(settings.timezone)
    return page(request, routes_page(engine, settings, t, plan_id, today=today))
