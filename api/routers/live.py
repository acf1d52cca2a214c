"""The live picture of the shift: units on duty (latest fix, on or off plan) and the red and
orange micro-grids not yet patrolled; JSON and a page that refreshes itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import NOT_GRID, permit
from api.deps import EngineDep, SettingsDep
from api.models.routes import Live
from api.shell import page, request_translator
from geo import clock
from geo.routing.live import live_view
from maps.live import live_page

router = APIRouter(prefix="/api", tags=["routes"], dependencies=[permit(*NOT_GRID)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*NOT_GRID)])


@router.get("/live", response_model=Live)
def live(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Now: the shift, the plan followed, each unit on duty with its latest fix (its age, on or
    off the plan) and the red/orange micro-grids not patrolled this shift (GeoJSON)."""
    return live_view(engine, settings, now=clock.utcnow())


@pages.get("/maps/live", response_class=HTMLResponse)
def live_map(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The live map: refreshed while it is open."""
    return page(request, live_page(settings, request_translator(request)))
