"""The register of patrol units and their stations: what plans and filters pick from by name.

A unit has a name (the one its tracks carry), a kind (how it moves: foot, bicycle, vehicle),
a home station (a POI of kind ``station``, where its routes start and end) and the shifts of
the day it works, numbered from 1 as in :mod:`geo.coverage.periods`. Stations are the ``pois``
of kind ``station``: added, renamed and moved here, imported with the other POIs.

Units that tracks name but the register lacks are listed apart (:func:`unit_register`), so a
dispatcher sees them and registers them; nothing registers itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from geo.coverage.periods import shift_names
from geo.crs import parse_crs, to_target
from geo.database import sql
from geo.errors import InputError, NotFoundError
from geo.routing.network import UnitKind
from geo.settings import Settings


@dataclass(frozen=True)
class PatrolUnit:
    """A registered unit."""

    name: str
    kind: UnitKind
    station: str
    shifts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Station:
    """A police station (a POI of kind ``station``) in WGS84."""

    poi_id: str
    name: str
    lon: float
    lat: float


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def stations(conn: Connection, settings: Settings) -> list[dict[str, Any]]:
    """Every station: ``poi_id``, ``name``, ``lon``, ``lat`` and how many units it is home to."""
    return [
        {
            "poi_id": str(r.poi_id),
            "name": str(r.name or r.poi_id),
            "lon": float(r.lon),
            "lat": float(r.lat),
            "units": int(r.units),
        }
        for r in conn.execute(sql("stations_list", "geo.routing"), {"region": settings.region})
    ]


def save_station(conn: Connection, settings: Settings, station: Station) -> bool:
    """Add ``station`` or rename and move the one with its id; True when it is new.

    Raises
    ------
    InputError
        An empty id or name, a position that is no WGS84 longitude and latitude, or an id a POI
        of another kind holds.
    """
    if not station.poi_id.strip() or not station.name.strip():
        msg = f"station {station.poi_id!r}: give an id and a name"
        raise InputError(msg)
    if not (-180 <= station.lon <= 180 and -90 <= station.lat <= 90):
        msg = f"station {station.poi_id!r}: ({station.lon}, {station.lat}) is no WGS84 position"
        raise InputError(msg)
    xs, ys = to_target([station.lon], [station.lat], parse_crs("EPSG:4326"), settings.srid)
    x, y = float(xs[0]), float(ys[0])
    if not (math.isfinite(x) and math.isfinite(y)):
        msg = f"station {station.poi_id!r}: ({station.lon}, {station.lat}) cannot be converted"
        raise InputError(msg)
    row = conn.execute(
        sql("stations_upsert", "geo.routing"),
        {
            "region": settings.region,
            "poi_id": station.poi_id.strip(),
            "name": station.name.strip(),
            "x": x,
            "y": y,
            "srid": settings.srid,
        },
    ).first()
    if row is None:
        msg = f"station {station.poi_id!r}: the id belongs to a POI that is not a station"
        raise InputError(msg)
    return bool(row.created)


def unit_register(conn: Connection, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The registered units (``units``) and those seen in tracks only (``unregistered``).

    Each registered unit has ``name``, ``kind``, ``station`` (its id), ``station_name``,
    ``shifts`` and ``last_fix`` (ISO, or None); each unregistered one ``name``, ``kind`` (the
    kind most of its fixes carry) and ``last_fix``.
    """
    units = [
        {
            "name": str(r.name),
            "kind": str(r.kind),
            "station": str(r.station),
            "station_name": str(r.station_name) if r.station_name is not None else None,
            "shifts": sorted(int(s) for s in r.shifts),
            "last_fix": _iso(r.last_fix),
        }
        for r in conn.execute(sql("units_list", "geo.routing"), {"region": settings.region})
    ]
    unregistered = [
        {"name": str(r.name), "kind": str(r.kind), "last_fix": _iso(r.last_fix)}
        for r in conn.execute(sql("units_unregistered", "geo.routing"), {"region": settings.region})
    ]
    return {"units": units, "unregistered": unregistered}


def save_unit(conn: Connection, settings: Settings, unit: PatrolUnit) -> bool:
    """Register ``unit`` or change the registered one of its name; True when it is new.

    Raises
    ------
    InputError
        An empty name, a station that is not one, or a shift the day does not have.
    """
    name = unit.name.strip()
    if not name:
        raise InputError("a unit needs a name")
    known = {s["poi_id"]: s for s in stations(conn, settings)}
    if unit.station not in known:
        listed = ", ".join(f"{s['poi_id']} {s['name']}" for s in known.values()) or "none"
        msg = f"unit {name!r}: no station {unit.station!r} (stations: {listed})"
        raise InputError(msg)
    count = len(shift_names(settings.coverage))
    wrong = [s for s in unit.shifts if not 1 <= s <= count]
    if wrong:
        msg = f"unit {name!r}: no shift {wrong[0]} (a day has shifts 1 to {count})"
        raise InputError(msg)
    row = conn.execute(
        sql("units_upsert", "geo.routing"),
        {
            "region": settings.region,
            "name": name,
            "kind": unit.kind.value,
            "station": unit.station,
            "shifts": sorted(set(unit.shifts)),
        },
    ).one()
    return bool(row.created)


def delete_unit(conn: Connection, settings: Settings, name: str) -> None:
    """Take ``name`` off the register (its tracks and past plans stay).

    Raises
    ------
    NotFoundError
        No unit of that name is registered.
    """
    gone = conn.execute(
        sql("units_delete", "geo.routing"), {"region": settings.region, "name": name}
    ).rowcount
    if not gone:
        msg = f"no registered unit {name!r}"
        raise NotFoundError(msg, code="unit_not_found", params={"name": name})
