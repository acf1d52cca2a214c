"""Web-mercator vector tiles (Mapbox Vector Tile) built by PostGIS.

Every layer is one query in ``geo/sql/tiles_{layer}.sql`` of the form used by martin and
pg_featureserv: ``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)))``,
filtered with ``geom && ST_Transform(envelope, srid)`` so the GiST index on the stored geometry
is used. The layer name of a request is checked against :data:`TILE_LAYERS` before any SQL is
chosen.

A tile's ETag is known before the tile is built (:func:`tile_if_changed`): it hashes the query,
its parameters, the caller's area scope and the version of the layer's source tables (one count
over the audit log's index, in the same query as the tile), so a conditional request that still
holds the current tile costs that count and no tile work.

Polygons stay gap-free in tiles: ``ST_AsMVTGeom`` snaps every vertex to the tile's 4096 grid, a
deterministic function of the vertex, so an edge two neighbours share is snapped identically in
both and no sliver opens between them at any zoom.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, TextClause, text

from geo import clock
from geo.assessment import band_bounds
from geo.audit import source_version
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


@functools.cache
def _tile_once(layer: str) -> TextClause:
    """A layer's tile query folded with its version read and the ETag comparison: one round
    trip answers ``(etag, tile)``, the tile NULL (never built: PostgreSQL evaluates a CASE
    branch's subquery only when the branch is taken) when ``:if_none_match`` is current."""
    tile_sql = sql(f"tiles_{layer}").text.strip().rstrip(";")
    version_sql = sql("source_version").text.strip().rstrip(";")
    return text(
        f"WITH version AS (\n{version_sql}\n), tag AS (\n"  # noqa: S608 - our own SQL files
        "    SELECT '\"' || md5(CAST(:etag_key AS text) || count) || '\"' AS etag FROM version\n"
        ")\n"
        "SELECT tag.etag, CASE WHEN tag.etag = CAST(:if_none_match AS text) THEN NULL ELSE (\n"
        f"{tile_sql}\n) END AS tile FROM tag"
    )


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


def _etag_key(layer: str, params: dict[str, Any], scope: str | None) -> str:
    """What a tile's ETag hashes besides its layer's version: its query, parameters, scope."""
    key = json.dumps([sql(f"tiles_{layer}").text, params, scope], default=str, sort_keys=True)
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _etag(key: str, version: int) -> str:
    """The ETag the folded query computes (``_tile_once``), for the two-step path."""
    return '"' + hashlib.md5(f"{key}{version}".encode(), usedforsecurity=False).hexdigest() + '"'


def tile_if_changed(
    engine: Engine,
    settings: Settings,
    *,
    layer: str,
    z: int,
    x: int,
    y: int,
    flt: TileFilter | None = None,
    etag: str | None = None,
) -> tuple[str, bytes | None]:
    """Return a tile's ETag and the tile, or None for the tile when ``etag`` is still current.

    The ETag (a quoted hex string) is computed before any tile work, from the layer's query,
    every parameter it binds (the resolved dates included), the caller's area scope (row-level
    security makes a grid head's tile differ from a leader's) and the version of the layer's
    source tables (``source_version.sql``). For an unscoped caller the version read, the
    comparison and the tile are one query (:func:`_tile_once`); a scoped caller's version is
    read first, in a transaction of its own outside the scope (the audit log is not readable
    within one), so a change committed in between gives a newer tile under the older ETag,
    which the next conditional request replaces; never the other way round.

    Parameters
    ----------
    etag
        The client's ``If-None-Match`` value, if any.
    """
    check_tile(layer, z, x, y)
    params = _tile_params(settings, layer, z, x, y, flt or TileFilter())
    query = sql(f"tiles_{layer}")
    scope = current_scope()
    sources = TILE_SOURCES[layer]
    key = _etag_key(layer, params, scope)
    if scope is None:
        # A tile names no one: no set_config round trip before the one query.
        with unnamed(), engine.connect() as conn:
            row = conn.execute(
                _tile_once(layer),
                {**params, "entities": list(sources), "etag_key": key, "if_none_match": etag},
            ).one()
        if row.etag == etag:
            return row.etag, None
        return row.etag, bytes(row.tile) if row.tile is not None else b""
    with engine.connect() as conn:
        with unnamed():
            version = source_version(conn, sources, settings.region)
            conn.rollback()
        current = _etag(key, version)
        if etag == current:
            return current, None
        out = conn.execute(query, params).scalar()
    return current, bytes(out) if out is not None else b""


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
    # With no ETag to compare, the tile is always built (None never comes back).
    return tile_if_changed(engine, settings, layer=layer, z=z, x=x, y=y, flt=flt)[1] or b""
