"""Where a map writes each area's name: inside the polygon, at its pole of inaccessibility.

The point is the centre of the largest circle that fits in the area (PostGIS
``ST_MaximumInscribedCircle``), which lies inside even a concave or ring-shaped area where a
centroid would not. How large a name fits there at a scale: a box whose corners stay inside
that circle stays inside the area; in a long or wide area a box also fits when it is no wider
than the area's horizontal chord through the point and no taller than its vertical chord (each
measured to the nearer edge), which holds exactly for a rectangle and nearly for a convex area.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from geo.database import sql
from geo.levels import Level
from geo.settings import Settings

SPLIT_AT = 6
"""Names longer than this many characters are written on two lines."""


@dataclass(frozen=True)
class AreaLabel:
    """One area's name as a map writes it."""

    code: str
    lines: tuple[str, ...]
    lon: float
    lat: float
    radius_m: float
    half_width_m: float
    half_height_m: float


def label_lines(name: str, parent_name: str | None) -> tuple[str, ...]:
    """A name as one or two lines: after its parent's name when it starts with it
    ("经七路北片区第1网格" under "经七路北片区" → "经七路北片区", "第1网格"), otherwise
    halved when it is longer than :data:`SPLIT_AT` characters."""
    if parent_name and name.startswith(parent_name) and len(name) > len(parent_name):
        return (parent_name, name[len(parent_name) :])
    if len(name) > SPLIT_AT:
        half = (len(name) + 1) // 2
        return (name[:half], name[half:])
    return (name,)


def area_labels(engine: Engine, settings: Settings, level: Level) -> list[AreaLabel]:
    """The label of every area of ``level`` the caller may see, largest room first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("map_area_labels"), {"region": settings.region, "level": level.value}
        ).all()
    return [
        AreaLabel(
            code=r.code,
            lines=label_lines(r.name, r.parent_name),
            lon=float(r.lon),
            lat=float(r.lat),
            radius_m=float(r.radius_m),
            half_width_m=float(r.half_width_m),
            half_height_m=float(r.half_height_m),
        )
        for r in rows
    ]
