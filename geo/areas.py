"""Reading the area hierarchy; GeoJSON is built in SQL (EPSG:4326, 7 decimals ≈ 1 cm)."""

from __future__ import annotations

from sqlalchemy import Engine

from geo.database import sql
from geo.errors import NotFoundError
from geo.levels import Level


def areas_geojson(
    engine: Engine, *, region: str, level: Level | None = None, parent: str | None = None
) -> str:
    """Return areas as a GeoJSON FeatureCollection text, filtered by level and/or parent code."""
    with engine.connect() as conn:
        out = conn.execute(
            sql("areas_list"),
            {"region": region, "level": level.value if level else None, "parent": parent},
        ).scalar_one()
    return str(out)


def area_geojson(engine: Engine, *, region: str, code: str) -> str:
    """Return one area as a GeoJSON Feature text with its ancestors and children.

    Raises
    ------
    NotFoundError
        No area has that code.
    """
    with engine.connect() as conn:
        out = conn.execute(sql("area_get"), {"region": region, "code": code}).scalar()
    if out is None:
        msg = f"no area with code {code!r}"
        raise NotFoundError(msg)
    return str(out)
