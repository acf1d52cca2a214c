"""The web pages (dashboard, four-colour map), the compact data they draw, and their assets."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.auth import READERS, permit
from api.cache import cached_page
from api.deps import EngineDep, SettingsDep
from api.models.maps import HazardMarkers, HeatPoints
from api.params import Day
from api.shell import nav_for, page, request_translator
from geo import clock
from geo.levels import Level
from geo.mapdata import incident_types
from geo.risk import Rule, Weight
from maps.assets import asset_file
from maps.pages import dashboard_page, hazards_json, incidents_heat_json, risk_page
from maps.poster import Paper, risk_poster

router = APIRouter(tags=["maps"])

ASSET_MAX_AGE_S = 86_400
"""Assets change only on reinstall; a day of caching, revalidated by ETag after that."""

DASHBOARD_OWN = ("/", "/maps/risk")
"""Pages the dashboard does not list again: itself, and the map it links per level."""


@router.get("/", response_class=HTMLResponse, dependencies=[permit(*READERS)])
def dashboard(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    change_level: Annotated[
        Level, Query(description="the level whose changes of colour are listed")
    ] = Level.GRID3,
    change_from: Annotated[
        Day | None, Query(description="changes since this date (default a week ago)")
    ] = None,
    change_to: Annotated[
        Day | None, Query(description="changes up to this date (default today)")
    ] = None,
) -> HTMLResponse:
    """The dashboard: areas and colours per level, what changed on the map (the last week by
    default), open hazards, incidents this month."""
    user = request.state.credential.user
    pages = [link for link in nav_for(request.app, user.role) if link.path not in DASHBOARD_OWN]
    t = request_translator(request)
    now = clock.now(settings.timezone)
    html = dashboard_page(
        engine,
        settings,
        t,
        now=now,
        pages=pages,
        change_level=change_level,
        change_from=change_from,
        change_to=change_to,
    )
    return page(request, html)


RISK_PAGE_SOURCES = ("areas", "risk_runs", "incident_types")
"""What the four-colour page is drawn from (its hazards and incidents come from
``/maps/data/*``): it is kept between changes to these (api/cache.py)."""


@router.get("/maps/risk", response_class=HTMLResponse, dependencies=[permit(*READERS)])
def risk_map(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[
        Level | None,
        Query(description="the level drawn (default: grid3, micro for a grid head's area)"),
    ] = None,
    as_of: Annotated[Day | None, Query(description="colours as of (default today)")] = None,
    focus: Annotated[str | None, Query(description="zoom to this area's code")] = None,
    since: Annotated[
        Day | None,
        Query(description="show what changed from the stored map of this date to as_of"),
    ] = None,
    rule: Annotated[
        Rule,
        Query(
            description="worst: a parent takes its worst child's colour; composite: each "
            "level from its own score, banded per level"
        ),
    ] = Rule.WORST,
    weight: Annotated[
        Weight | None,
        Query(
            description="the composite score's weights: area or population (default: the "
            "GRIDSAFE_RISK_COMPOSITE_WEIGHT setting)"
        ),
    ] = None,
) -> Response:
    """The four-colour risk map (四色安全图谱) of one level."""
    today = clock.today(settings.timezone)
    if level is None:
        scoped = request.state.credential.user.scope is not None
        level = Level.MICRO if scoped else Level.GRID3
    t = request_translator(request)
    return cached_page(
        request,
        sources=RISK_PAGE_SOURCES,
        build=lambda: risk_page(
            engine,
            settings,
            t,
            level=level,
            as_of=as_of or today,
            today=today,
            focus=focus,
            rule=rule,
            weight=weight,
            since=since,
        ),
    )


@router.get(
    "/maps/risk.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    dependencies=[permit(*READERS)],
)
def risk_map_poster(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[Level, Query(description="the level drawn")] = Level.GRID3,
    as_of: Annotated[Day | None, Query(description="colours as of (default today)")] = None,
    size: Annotated[Paper, Query(description="the paper, landscape")] = Paper.A3,
) -> Response:
    """The four-colour map as a printable poster (PDF, A3 or A1), drawn offline."""
    day = as_of or clock.today(settings.timezone)
    t = request_translator(request)
    names = {
        k["code"]: k["name_zh"] if t.language == "zh_CN" else k["name_en"]
        for k in incident_types(engine)
    }
    pdf = risk_poster(engine, settings, t, level=level, as_of=day, paper=size, incident_names=names)
    filename = f"risk-{level.value}-{day.isoformat()}-{size.value}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/maps/data/hazards", dependencies=[permit(*READERS)], response_model=HazardMarkers)
def map_hazards(
    engine: EngineDep,
    settings: SettingsDep,
    as_of: Annotated[Day | None, Query(description="open on this day (default today)")] = None,
) -> dict[str, Any]:
    """Open hazards as map markers, coloured by their assessment."""
    return hazards_json(engine, settings, as_of=as_of or clock.today(settings.timezone))


@router.get("/maps/data/incidents", dependencies=[permit(*READERS)], response_model=HeatPoints)
def map_incidents(
    engine: EngineDep,
    settings: SettingsDep,
    type_: Annotated[list[str] | None, Query(alias="type", description="only these types")] = None,
    date_from: Annotated[Day | None, Query(alias="from", description="on or after")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="on or before")] = None,
) -> dict[str, Any]:
    """Incident positions (``[lat, lon]``) for the heat layer."""
    return incidents_heat_json(
        engine, settings, types=tuple(type_ or ()), date_from=date_from, date_to=date_to
    )


@router.get("/static/{name:path}", include_in_schema=False)
def static_asset(name: str, request: Request, settings: SettingsDep) -> Response:
    """One of the known assets (maps/assets.py), with ETag and Cache-Control."""
    path, media_type = asset_file(name, settings)
    stat = path.stat()
    etag = (
        '"'
        + hashlib.blake2b(f"{stat.st_mtime_ns}:{stat.st_size}".encode(), digest_size=10).hexdigest()
        + '"'
    )
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={ASSET_MAX_AGE_S}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(path.read_bytes(), media_type=media_type, headers=headers)
