"""Reading the area hierarchy; GeoJSON is built in SQL (EPSG:4326, 7 decimals ≈ 1 cm)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from geo.database import sql
from geo.errors import NotFoundError
from geo.levels import LEVEL_ORDER, Level


def areas_geojson(
    engine: Engine, *, region: str, level: Level | None = None, parent: str | None = None
) -> str:
    """Return areas as a GeoJSON FeatureCollection text, filtered by level and/or parent code.

    Raises
    ------
    NotFoundError
        ``parent`` names no area (or none the caller's scope shows).
    """
    with engine.connect() as conn:
        require_area(conn, region, parent)
        out = conn.execute(
            sql("areas_list"),
            {
                "region": region,
                "level": level.value if level else None,
                "parent": parent,
                "levels": LEVEL_ORDER,
            },
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
        raise NotFoundError(msg, code="area_not_found", params={"code": code})
    return str(out)


def require_area(conn: Connection, region: str, code: str | None) -> None:
    """Raise NotFoundError when ``code`` names no area of the region that the transaction's
    scope shows (None: nothing to check). Every filter by area goes through it, so an area
    outside the caller's scope does not exist for them."""
    if code is None:
        return
    found = conn.execute(
        text("SELECT 1 FROM areas WHERE region = :region AND code = :code"),
        {"region": region, "code": code},
    ).scalar()
    if found is None:
        msg = f"no area with code {code!r}"
        raise NotFoundError(msg, code="area_not_found", params={"code": code})


def area_name(engine: Engine, *, region: str, code: str) -> str | None:
    """The name of the area ``code`` (None when the caller's scope shows no such area)."""
    with engine.connect() as conn:
        name = conn.execute(
            text("SELECT name FROM areas WHERE region = :region AND code = :code"),
            {"region": region, "code": code},
        ).scalar()
    return None if name is None else str(name)


def area_outline(engine: Engine, *, region: str) -> list[dict[str, str | None]]:
    """The region's areas without geometry (code, name, level, parent_code), top-down: the
    tree a person picks an area from."""
    with engine.connect() as conn:
        rows = conn.execute(sql("areas_outline"), {"region": region, "levels": LEVEL_ORDER}).all()
    return [
        {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code}
        for r in rows
    ]
