"""The district's own background for maps drawn outside the browser (the printed poster): its
roads as lines, read from the store (the pages draw the same roads from vector tiles)."""

from __future__ import annotations

import shapely
from sqlalchemy import Engine

from geo.database import sql
from geo.settings import Settings


def road_lines(engine: Engine, settings: Settings) -> list[shapely.Geometry]:
    """Every road of the region as a (multi)line in EPSG:4326 lon/lat."""
    with engine.connect() as conn:
        rows = conn.execute(sql("map_roads"), {"region": settings.region}).all()
    return [shapely.from_wkb(bytes(r.wkb)) for r in rows]
