"""Web-mercator vector tiles (Mapbox Vector Tile) built by PostGIS.

Every layer is one query in ``geo/sql/tiles_{layer}.sql`` of the form used by martin and
pg_featureserv: ``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)))``,
filtered with ``geom && ST_Transform(envelope, srid)`` so the GiST index on the stored geometry
is used. The layer name of a request is checked against :data:`TILE_LAYERS` before any SQL is
chosen.

A tile depends only on its layer's query, the parameters it binds, the caller's area scope
and the version of the layer's source tables (:data:`TILE_SOURCES`): :func:`tile_key` names all
but the version, so the API keeps each tile built under that key and the version
(``api/cache.py``, as the pages are kept) and a request for a kept tile reads the version and
builds nothing.

Polygons stay gap-free in tiles: ``ST_AsMVTGeom`` snaps every vertex to the tile's 4096 grid, a
deterministic function of the vertex, so an edge two neighbours share is snapped identically in
both and no sliver opens between them at any zoom.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from geo import clock
from geo.assessment import band_bounds
from geo.database import current_scope, sql, unnamed
from geo.errors import InputError, NotFoundError
from geo.levels import Level
from geo.settings import Settings

TILE_LAYERS = ("areas", "incidents", "hazards", "roads", "buildings")
"""The layers ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` serves."""

TILE_SOURCES: dict[str, tuple[str, ...]] = {
    "areas": ("areas", "risk_runs"),  # risk_scores are written only with their risk_runs row
    "incidents": ("incidents",),  # a boundary change re-assigns area_code by UPDATE
    "hazards": ("hazards",),
    "roads": ("roads",),
    "buildings": ("buildings",),
}
"""The audited tables each layer's tiles are drawn from (their changes change its ETags)."""

MAX_ZOOM = 22
"""Deeper than any basemap; a micro-grid is still several pixels wide at zoom 14."""


@dataclass(frozen=True)
class TileFilter:
    """What a tile request may narrow its layer to; each field applies to some layers only.

    Attributes
    ----------
    level
        ``areas``: the level drawn (default micro-grids).
    as_of
        ``areas``: the date the colours are as of; ``hazards``: the day on which they are open
        (default today).
    types
        ``incidents``: only these incident type codes.
    date_from, date_to
        ``incidents``: occurred on or after ``date_from`` and on or before ``date_to``.
    """

    level: Level = Level.MICRO
    as_of: date | None = None
    types: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None


def check_tile(layer: str, z: int, x: int, y: int) -> None:
    """Refuse an unknown layer or a tile address outside the web-mercator pyramid.

    Raises
    ------
    NotFoundError
        ``layer`` is not in :data:`TILE_LAYERS`.
    InputError
        ``z`` is outside 0..MAX_ZOOM or ``x``/``y`` outside 0..2**z - 1.
    """
    if layer not in TILE_LAYERS:
        msg = f"no tile layer {layer!r}; known layers: {', '.join(TILE_LAYERS)}"
        raise NotFoundError(msg)
    if not 0 <= z <= MAX_ZOOM:
        msg = f"zoom {z} is outside 0..{MAX_ZOOM}"
        raise InputError(msg)
    top = 2**z - 1
    if not (0 <= x <= top and 0 <= y <= top):
        msg = f"tile {z}/{x}/{y} is outside the zoom-{z} grid (0..{top})"
        raise InputError(msg)


def _params(layer: str, flt: TileFilter, settings: Settings) -> dict[str, Any]:
    """The bound parameters a layer's query takes beyond the tile address."""
    as_of = flt.as_of or clock.today(settings.timezone)
    if layer == "areas":
        # The newest computation made as of any instant of that day.
        return {
            "level": flt.level.value,
            "as_of": clock.day_start(as_of + timedelta(days=1), settings.timezone),
        }
    if layer == "incidents":
        return {
            "types": list(flt.types) or None,
            "date_from": clock.day_start(flt.date_from, settings.timezone)
            if flt.date_from
            else None,
            # Inclusive end day: everything before the next midnight.
            "date_to": clock.day_start(flt.date_to + timedelta(days=1), settings.timezone)
            if flt.date_to
            else None,
        }
    if layer == "hazards":
        return {
            # Open at the end of the as-of day.
            "as_of": clock.day_start(as_of + timedelta(days=1), settings.timezone),
            **band_bounds(settings.risk),
        }
    return {}


def _tile_params(
    settings: Settings, layer: str, z: int, x: int, y: int, flt: TileFilter
) -> dict[str, Any]:
    """Every parameter a layer's tile query binds."""
    params = {
        "z": z,
        "x": x,
        "y": y,
        "srid": settings.srid,
        "region": settings.region,
        # Under a GCJ-02 basemap the tiles are drawn shifted, as embedded overlays are.
        "gcj02": settings.maps.overlays_in_gcj02,
    }
    return params | _params(layer, flt, settings)


def tile_key(
    settings: Settings,
    *,
    layer: str,
    z: int,
    x: int,
    y: int,
    flt: TileFilter | None = None,
) -> str:
    """What a tile depends on besides its layer's version (``TILE_SOURCES[layer]``): the layer's
    query, every parameter it binds (the resolved dates included) and the caller's area scope
    (row-level security makes a grid head's tile differ from a leader's). Checks the layer
    and the address first (:func:`check_tile`), so a bad request costs no database work.
    """
    check_tile(layer, z, x, y)
    params = _tile_params(settings, layer, z, x, y, flt or TileFilter())
    key = json.dumps(
        [sql(f"tiles_{layer}").text, params, current_scope()], default=str, sort_keys=True
    )
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def tile(
    engine: Engine,
    settings: Settings,
    *,
    layer: str,
    z: int,
    x: int,
    y: int,
    flt: TileFilter | None = None,
) -> bytes:
    """Return one Mapbox Vector Tile (uncompressed protobuf; empty bytes for an empty tile).

    Parameters
    ----------
    layer
        One of :data:`TILE_LAYERS`; the MVT layer inside the tile has the same name.
    z, x, y
        The tile address (XYZ scheme, y down, as Leaflet requests).
    flt
        Narrowing of the layer (see :class:`TileFilter`).
    """
    check_tile(layer, z, x, y)
    params = _tile_params(settings, layer, z, x, y, flt or TileFilter())
    # A tile names no one: an unscoped caller's read begins without the set_config round trip
    # that names the actor; a scoped caller's runs in their scope (row-level security). Not in
    # autocommit (geo.database.reading): psycopg would prepare the query after five tiles, and
    # PostgreSQL's generic plan of it, blind to the tile's envelope, is two to three times
    # slower than the plan made for each tile.
    with unnamed() if current_scope() is None else nullcontext(), engine.connect() as conn:
        out = conn.execute(sql(f"tiles_{layer}"), params).scalar()
    return bytes(out) if out is not None else b""
