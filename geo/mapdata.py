"""The compact data the web maps and the dashboard draw: counts, extents, hazard and heat points.

The JSON API (``/api/...``) returns full GeoJSON records; a map needs less (a heat layer only
positions), so these queries return just that, in EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from geo import clock
from geo.assessment import Colour, Method, classify
from geo.database import sql
from geo.errors import NotFoundError
from geo.levels import Level
from geo.settings import Settings
from geo.stats import year_earlier

Bounds = tuple[float, float, float, float]
"""(west, south, east, north) in degrees."""


@dataclass(frozen=True)
class LevelCounts:
    """How many areas each level holds, and the district's extent."""

    counts: dict[Level, int]
    bounds: Bounds | None


def level_counts(engine: Engine, settings: Settings) -> LevelCounts:
    """Count the areas of every level (0 for an empty level) and frame the whole district."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("map_level_counts"), {"region": settings.region, "srid": settings.srid}
        ).all()
    counts = dict.fromkeys(Level, 0)
    west = south = float("inf")
    east = north = float("-inf")
    for level, n, w, s, e, nn in rows:
        counts[Level(level)] = int(n)
        west, south, east, north = min(west, w), min(south, s), max(east, e), max(north, nn)
    return LevelCounts(counts, (west, south, east, north) if rows else None)


def area_bounds(engine: Engine, settings: Settings, code: str) -> Bounds:
    """The extent of one area.

    Raises
    ------
    NotFoundError
        No area has that code.
    """
    with engine.connect() as conn:
        row = conn.execute(
            sql("map_area_extent"), {"region": settings.region, "code": code}
        ).first()
    if row is None:
        msg = f"no area with code {code!r}"
        raise NotFoundError(msg, code="area_not_found", params={"code": code})
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


@dataclass(frozen=True)
class HazardPoint:
    """An open hazard as a map marker."""

    id: int
    name: str
    category: str
    method: str
    score: float
    colour: Colour
    area_code: str | None
    lon: float
    lat: float


def open_hazards(engine: Engine, settings: Settings, *, as_of: date) -> list[HazardPoint]:
    """Hazards open at the end of ``as_of``, coloured by their assessment (geo/assessment.py)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("map_hazards"),
            {
                "region": settings.region,
                "as_of": clock.day_start(as_of + timedelta(days=1), settings.timezone),
            },
        ).all()
    return [
        HazardPoint(
            id=int(r.id),
            name=str(r.name),
            category=str(r.category),
            method=str(r.method),
            score=float(r.score),
            colour=classify(Method(r.method), float(r.score), settings.risk),
            area_code=r.area_code,
            lon=float(r.lon),
            lat=float(r.lat),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class IncidentPoint:
    """A located incident as a map point: where, what and when."""

    lon: float
    lat: float
    type: str
    occurred_at: datetime


def incident_points(
    engine: Engine,
    settings: Settings,
    *,
    types: tuple[str, ...] = (),
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[IncidentPoint]:
    """Located incidents of ``types`` (all when empty), occurred in ``date_from`` ..
    ``date_to`` (both days included; open ends when None)."""
    params = {
        "region": settings.region,
        "types": list(types) or None,
        "date_from": clock.day_start(date_from, settings.timezone) if date_from else None,
        "date_to": clock.day_start(date_to + timedelta(days=1), settings.timezone)
        if date_to
        else None,
    }
    with engine.connect() as conn:
        rows = conn.execute(sql("map_incident_points"), params).all()
    return [IncidentPoint(float(r.lon), float(r.lat), str(r.type), r.occurred_at) for r in rows]


def incident_types(engine: Engine) -> list[dict[str, str]]:
    """The incident type vocabulary: ``code``, ``name_zh``, ``name_en``."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sql("map_incident_types"))]


@dataclass(frozen=True)
class MonthComparison:
    """Incidents this month up to now against the same days of the same month last year, up to
    the same time of day."""

    this_from: date
    this_to: date
    this_year: int
    last_year: int


def incidents_month_vs_last_year(
    engine: Engine, settings: Settings, *, now: datetime
) -> MonthComparison:
    """Count incidents from the 1st of the district's month to ``now``, and over the same
    stretch a year earlier, up to the same time of day (29 February falls back to the 28th):
    at 00:30 on the 1st, half an hour against half an hour, not against a whole day."""
    zone = clock.zone(settings.timezone)
    local = now.astimezone(zone)
    today = local.date()
    first = today.replace(day=1)
    params = {
        "region": settings.region,
        "this_from": clock.day_start(first, settings.timezone),
        "this_to": local,
        "last_from": clock.day_start(year_earlier(first), settings.timezone),
        "last_to": datetime.combine(year_earlier(today), local.time(), tzinfo=zone),
    }
    with engine.connect() as conn:
        row = conn.execute(sql("map_incident_months"), params).one()
    return MonthComparison(first, today, int(row.this_year), int(row.last_year))


def colour_counts(
    engine: Engine, settings: Settings, *, as_of: date
) -> dict[Level, dict[str, int]]:
    """Areas per level and colour in the newest risk computation as of the end of ``as_of``.

    Every level and colour is present (0 when none); all zero when risk was never computed.
    """
    out = {level: {c.value: 0 for c in Colour} for level in Level}
    with engine.connect() as conn:
        rows = conn.execute(
            sql("map_colour_counts"),
            {
                "region": settings.region,
                "as_of": clock.day_start(as_of + timedelta(days=1), settings.timezone),
            },
        ).all()
    for level, colour, n in rows:
        out[Level(level)][str(colour)] = int(n)
    return out
