"""The register of patrol units and their stations: list, add, change, remove; and its page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import NOT_GRID, PLANNERS, permit
from api.deps import EngineDep, SettingsDep
from api.shell import page, request_translator
from geo.access import User
from geo.routing.network import UnitKind
from geo.routing.units import (
    PatrolUnit,
    Station,
    delete_unit,
    save_station,
    save_unit,
    stations,
    unit_register,
)
from maps.units_page import units_page

router = APIRouter(prefix="/api", tags=["units"], dependencies=[permit(*NOT_GRID)])
pages = APIRouter(tags=["maps"], dependencies=[permit(*NOT_GRID)])


class StationOut(BaseModel):
    """A police station: a POI of kind ``station``, in WGS84."""

    poi_id: str
    name: str
    lon: float
    lat: float
    units: int = Field(description="registered units it is home to")


class StationBody(BaseModel):
    """A station's name and position (WGS84)."""

    name: str = Field(min_length=1)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class UnitOut(BaseModel):
    """A registered patrol unit."""

    name: str
    kind: UnitKind
    station: str = Field(description="its home station's poi_id")
    station_name: str | None
    shifts: list[int] = Field(description="the shifts of the day it works, 1 = the first")
    last_fix: str | None = Field(description="its latest GPS fix (ISO), if any")


class UnseenUnit(BaseModel):
    """A unit its tracks name that the register lacks."""

    name: str
    kind: UnitKind
    last_fix: str | None


class Register(BaseModel):
    """The registered units and those seen in tracks only."""

    units: list[UnitOut]
    unregistered: list[UnseenUnit]


class UnitBody(BaseModel):
    """A unit's kind, home station and shifts."""

    kind: UnitKind = UnitKind.FOOT
    station: str = Field(min_length=1, description="poi_id of a station (GET /api/stations)")
    shifts: list[int] = Field(default_factory=list)


@router.get("/stations")
def list_stations(engine: EngineDep, settings: SettingsDep) -> list[StationOut]:
    """Every police station, with how many registered units call it home."""
    with engine.connect() as conn:
        return [StationOut(**s) for s in stations(conn, settings)]


@router.put("/stations/{poi_id}", dependencies=[permit(*PLANNERS)])
def put_station(
    poi_id: str, body: StationBody, response: Response, engine: EngineDep, settings: SettingsDep
) -> list[StationOut]:
    """Add a station, or rename or move it; answers every station."""
    with engine.begin() as conn:
        created = save_station(conn, settings, Station(poi_id, body.name, body.lon, body.lat))
        response.status_code = 201 if created else 200
        return [StationOut(**s) for s in stations(conn, settings)]


@router.get("/units")
def list_units(engine: EngineDep, settings: SettingsDep) -> Register:
    """The registered units, and the units tracks name that are not registered."""
    with engine.connect() as conn:
        return Register.model_validate(unit_register(conn, settings))


@router.put("/units/{name}", dependencies=[permit(*PLANNERS)])
def put_unit(
    name: str, body: UnitBody, response: Response, engine: EngineDep, settings: SettingsDep
) -> Register:
    """Register a unit or change a registered one (kind, station, shifts)."""
    with engine.begin() as conn:
        unit = PatrolUnit(name, body.kind, body.station, tuple(body.shifts))
        response.status_code = 201 if save_unit(conn, settings, unit) else 200
        return Register.model_validate(unit_register(conn, settings))


@router.delete("/units/{name}", dependencies=[permit(*PLANNERS)])
def remove_unit(name: str, engine: EngineDep, settings: SettingsDep) -> Register:
    """Take a unit off the register; its tracks and past plans stay."""
    with engine.begin() as conn:
        delete_unit(conn, settings, name)
        return Register.model_validate(unit_register(conn, settings))


@pages.get("/maps/units", response_class=HTMLResponse)
def units_map(
    request: Request,
    user: Annotated[User, permit(*NOT_GRID)],
    engine: EngineDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """The register as a page: units and stations, edited in place by those who plan."""
    with engine.connect() as conn:
        register = unit_register(conn, settings)
        known = stations(conn, settings)
    t = request_translator(request)
    html = units_page(settings, t, register, known, can_edit=user.role in PLANNERS)
    return page(request, html)
