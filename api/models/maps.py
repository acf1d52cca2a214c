"""The compact data the map pages draw, and the health check."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from api.models.common import Answer, Number
from geo.assessment import Colour


class HazardMarker(Answer):
    """An open hazard as a map marker (GCJ-02-shifted under an Amap basemap)."""

    id: int
    name: str
    category: str
    method: Literal["LEC", "LS"]
    score: Number
    colour: Colour
    area_code: str | None
    lon: Number
    lat: Number


class HazardMarkers(Answer):
    """The open hazards on a day."""

    hazards: list[HazardMarker]


LatLon = Annotated[list[Number], Field(min_length=2, max_length=2)]


class HeatPoints(Answer):
    """Incident positions for the heat layer, ``[lat, lon]`` as Leaflet.heat takes them."""

    count: int
    points: list[LatLon]
    details: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        description="beside each point, its incident type and local time (YYYY-MM-DD HH:MM)"
    )


class DatabaseVersions(Answer):
    """The versions of the database the app talks to."""

    postgresql: str
    postgis: str


class Health(Answer):
    """The app is up and its database answers."""

    status: Literal["ok"]
    database: DatabaseVersions
