"""Work on foot: reports, rectifications and check-ins from a phone, photos, grid rosters, and
the phone pages (my area, cases, a case, report, check in, hazards, the grid's people).

Every write a phone makes carries an id the phone made (``client_id``, a UUID) or a key of its
own (a check-in's person and time), so a phone that sends again after a lost connection stores
nothing twice (``geo.field.street``). A refusal the person must act on (a position outside
their area) comes back with ``message`` in the caller's language beside ``detail``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import ADMINS, CASE_WORKERS, READERS, REPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.params import Moment
from api.shell import page, request_translator
from geo import clock
from geo.access import User
from geo.errors import GridsafeError, InputError
from geo.field import photos as photo_store
from geo.field import street
from geo.field.people import replace_roster, roster
from geo.settings import Settings
from maps import field as field_pages

router = APIRouter(prefix="/api", tags=["field"], dependencies=[permit(*READERS)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*REPORTERS)])
worker = APIRouter(tags=["maps"])
"""The phone pages' service worker: a script without anything of the caller's, served to all."""

JPEG = "image/jpeg"


class Written(BaseModel):
    """Where a report went: the record, its micro-grid and its photos."""

    kind: str
    id: int
    client_id: str
    area_code: str | None
    area_path: list[str]
    new: bool = Field(description="false when the same report (client_id) was stored before")
    photos: list[int]


class CheckIn(BaseModel):
    """A visit at the phone's position."""

    lon: float = Field(description="WGS84 longitude")
    lat: float = Field(description="WGS84 latitude")
    accuracy_m: float | None = Field(default=None, ge=0, description="the fix's accuracy")
    at: Moment = Field(description="when the person tapped (the phone's clock)")


class CheckedIn(BaseModel):
    """The visit as stored."""

    id: int
    person: str
    at: str
    area_code: str
    area_name: str | None
    new: bool


class Rectified(BaseModel):
    """A rectification step as stored."""

    hazard_id: int
    id: int
    status: str
    new: bool


def _refusal(request: Request, exc: GridsafeError, status: int = 400) -> JSONResponse:
    t = request_translator(request)
    return JSONResponse(
        {"detail": str(exc), "message": field_pages.refusal(t, exc)}, status_code=status
    )


async def _files(photos: list[UploadFile] | None, settings: Settings) -> list[tuple[str, bytes]]:
    out = []
    for upload in photos or []:
        # Read at most one byte over the limit: prepare() refuses it with its size.
        data = await upload.read(settings.intake.photo_max_bytes + 1)
        out.append((upload.filename or "photo", data))
    return out


@router.post("/field/reports", response_model=Written, dependencies=[permit(*REPORTERS)])
async def post_report(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
    client_id: Annotated[UUID, Form(description="the report's id, made on the phone")],
    kind: Annotated[Literal["incident", "hazard"], Form()],
    lon: Annotated[float, Form()],
    lat: Annotated[float, Form()],
    at: Annotated[Moment, Form(description="when it was reported on the phone")],
    what: Annotated[str, Form(description="incident type or hazard category")],
    accuracy_m: Annotated[float | None, Form(ge=0)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    likelihood: Annotated[int | None, Form(ge=1, le=5)] = None,
    severity: Annotated[int | None, Form(ge=1, le=5)] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Any:
    """An incident or hazard reported on the street, with photos (at most
    ``GRIDSAFE_PHOTO_MAX_COUNT``); idempotent on ``client_id``. 400 with ``message`` when the
    position is outside the caller's area."""
    files = await _files(photos, settings)
    try:
        return await run_in_threadpool(
            street.report,
            engine,
            settings,
            kind=kind,
            client_id=client_id,
            actor=user.username,
            lon=lon,
            lat=lat,
            accuracy_m=accuracy_m,
            at=at,
            what=what,
            description=description,
            likelihood=likelihood,
            severity=severity,
            photos=files,
        )
    except InputError as exc:
        return _refusal(request, exc)


@router.post(
    "/field/hazards/{hazard_id}/rectifications",
    response_model=Rectified,
    dependencies=[permit(*REPORTERS)],
)
async def post_rectification(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
    hazard_id: int,
    client_id: Annotated[UUID, Form(description="the step's id, made on the phone")],
    status: Annotated[Literal["pending", "in_progress", "done"], Form()],
    on_day: Annotated[date, Form(description="the day of the step")],
    note: Annotated[str | None, Form(max_length=4000)] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Any:
    """A step of a hazard's rectification (整改) with photos; ``done`` closes the hazard.
    Idempotent on ``client_id``."""
    files = await _files(photos, settings)
    try:
        return await run_in_threadpool(
            street.rectify,
            engine,
            settings,
            hazard_id=hazard_id,
            client_id=client_id,
            actor=user.username,
            status=status,
            on_day=on_day,
            note=note,
            photos=files,
        )
    except InputError as exc:
        return _refusal(request, exc)


@router.post("/field/checkins", response_model=CheckedIn, dependencies=[permit(*REPORTERS)])
def post_checkin(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
    body: CheckIn,
) -> Any:
    """A visit (每周遍访) at the phone's position, in the micro-grid holding it; sent again (same
    ``at``), the same visit. 400 with ``message`` (where the point is) outside the caller's
    area."""
    try:
        row = street.check_in(
            engine, settings, person=user.username, lon=body.lon, lat=body.lat, at=body.at
        )
    except InputError as exc:
        return _refusal(request, exc)
    return {**row, "at": row["at"].isoformat()}


@router.get(
    "/field/photos/{photo_id}", response_class=Response, responses={200: {"content": {JPEG: {}}}}
)
def get_photo(engine: EngineDep, settings: SettingsDep, photo_id: int) -> Response:
    """A report's photo (JPEG, without metadata); 404 unless the caller's area holds it."""
    body = photo_store.read(engine, region=settings.region, photo_id=photo_id, thumbnail=False)
    return Response(body, media_type=JPEG, headers={"Cache-Control": "private, max-age=86400"})


@router.get(
    "/field/photos/{photo_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {JPEG: {}}}},
)
def get_thumbnail(engine: EngineDep, settings: SettingsDep, photo_id: int) -> Response:
    """A photo's thumbnail; 404 unless the caller's area holds it."""
    body = photo_store.read(engine, region=settings.region, photo_id=photo_id, thumbnail=True)
    return Response(body, media_type=JPEG, headers={"Cache-Control": "private, max-age=86400"})


class Person(BaseModel):
    """One of the grid's people."""

    post: Literal["grid_head", "building_head", "road_head", "member", "secretary"]
    duty: str | None = Field(default=None, description="a member's duty (九员), e.g. 治安员")
    name: str
    phone: str | None = None


class SquadMember(BaseModel):
    """A member of a squad."""

    name: str
    phone: str | None = None
    leads: bool = False


class Squad(BaseModel):
    """One of the three squads."""

    name: str
    members: list[SquadMember] = []


class SquadOut(Squad):
    """A squad with its kind."""

    kind: str


class Roster(BaseModel):
    """A level-3 grid's people and squads (mediation, inspection, patrol)."""

    people: list[Person]
    squads: dict[Literal["mediation", "inspection", "patrol"], Squad]


class RosterOut(BaseModel):
    """A level-3 grid's people and squads as stored."""

    grid: str
    name: str
    people: list[Person]
    squads: list[SquadOut]


@router.get("/grids/{code}/people", response_model=RosterOut)
def get_roster(engine: EngineDep, settings: SettingsDep, code: str) -> dict[str, Any]:
    """A level-3 grid's people (三长九员一书记) and its three squads with their members."""
    return roster(engine, settings, code)


@router.put("/grids/{code}/people", response_model=RosterOut, dependencies=[permit(*ADMINS)])
def put_roster(engine: EngineDep, settings: SettingsDep, code: str, body: Roster) -> dict[str, Any]:
    """Replace a level-3 grid's people and squads (admins)."""
    return replace_roster(
        engine,
        settings,
        code,
        people=[p.model_dump() for p in body.people],
        squads={k: s.model_dump() for k, s in body.squads.items()},
    )


# --------------------------------------------------------------------------- pages


@worker.get("/field/sw.js", include_in_schema=False)
def service_worker(settings: SettingsDep) -> Response:
    """The service worker that lets the phone pages open with no connection. Served from
    ``/field/`` but answering for ``/field`` too (``Service-Worker-Allowed``); never cached
    by HTTP, so a new version is picked up at the next page load."""
    return Response(
        field_pages.service_worker(settings),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": field_pages.SERVICE_WORKER_SCOPE},
    )


def _now(settings: Settings) -> Any:
    return clock.now(settings.timezone)


@pages.get("/field", response_class=HTMLResponse)
def home_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
) -> HTMLResponse:
    """My area: micro-grids with colours, visits this week, gaps, open cases and hazards."""
    t = request_translator(request)
    return page(request, field_pages.home_page(engine, settings, t, user, at=_now(settings)))


@pages.get("/field/cases", response_class=HTMLResponse)
def cases_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
) -> HTMLResponse:
    """The open cases of the caller's area, overdue first, then newest."""
    t = request_translator(request)
    return page(request, field_pages.cases_page(engine, settings, t, user, at=_now(settings)))


@pages.get("/field/cases/{case_id}", response_class=HTMLResponse)
def case_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
    case_id: int,
) -> HTMLResponse:
    """A case: its history and the moves the caller may make."""
    t = request_translator(request)
    can_move = user.role in CASE_WORKERS
    html = field_pages.case_page(engine, settings, t, case_id, can_move=can_move)
    return page(request, html)


@pages.get("/field/report", response_class=HTMLResponse)
def report_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
) -> HTMLResponse:
    """Report an incident or a hazard from the street."""
    t = request_translator(request)
    return page(request, field_pages.report_page(engine, settings, t, user))


@pages.get("/field/checkin", response_class=HTMLResponse)
def checkin_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
) -> HTMLResponse:
    """Check in (每周遍访) at the phone's position."""
    t = request_translator(request)
    return page(request, field_pages.checkin_page(engine, settings, t, user, at=_now(settings)))


@pages.get("/field/hazards", response_class=HTMLResponse)
def hazards_html(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: Annotated[User, permit(*REPORTERS)],
) -> HTMLResponse:
    """The open hazards of the caller's area."""
    t = request_translator(request)
    return page(request, field_pages.hazards_page(engine, settings, t, user))


@pages.get("/field/hazards/{hazard_id}", response_class=HTMLResponse)
def hazard_html(
    request: Request, engine: EngineDep, settings: SettingsDep, hazard_id: int
) -> HTMLResponse:
    """A hazard with its photos and rectification steps, and the form for the next step."""
    t = request_translator(request)
    return page(request, field_pages.hazard_page(engine, settings, t, hazard_id))


@pages.get("/field/grid/{code}", response_class=HTMLResponse)
def grid_html(
    request: Request, engine: EngineDep, settings: SettingsDep, code: str
) -> HTMLResponse:
    """A level-3 grid's people and squads."""
    t = request_translator(request)
    return page(request, field_pages.grid_page(engine, settings, t, code))
