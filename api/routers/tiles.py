"""Vector tiles: ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``, built by PostGIS, kept gzip-compressed.

A tile is kept per worker in the response cache (``api/cache.py``) under what it depends on
(``geo.tiles.tile_key``: its layer's query and parameters, the caller's area scope) and the
version of the layer's source tables: a request for a kept tile, and a conditional one whose
ETag is current (304), cost one count in the database and no tile work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth import READERS, permit
from api.cache import answer
from api.deps import EngineDep, SettingsDep
from api.params import Day
from geo.levels import Level
from geo.tiles import TILE_SOURCES, TileFilter, tile, tile_key

router = APIRouter(prefix="/tiles", tags=["tiles"], dependencies=[permit(*READERS)])

MVT = "application/vnd.mapbox-vector-tile"


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 304: {"description": "unchanged (If-None-Match)"}},
)
def get_tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[Level, Query(description="areas: the level drawn")] = Level.MICRO,
    as_of: Annotated[
        Day | None, Query(description="areas: colours as of; hazards: open on (default today)")
    ] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", description="incidents: only these types")
    ] = None,
    date_from: Annotated[
        Day | None, Query(alias="from", description="incidents: occurred on or after")
    ] = None,
    date_to: Annotated[
        Day | None, Query(alias="to", description="incidents: occurred on or before")
    ] = None,
) -> Response:
    """One tile of a layer (areas, incidents, hazards, roads, buildings), protobuf-encoded.

    The MVT layer inside has the layer's name; an empty tile is an empty body.
    """
    flt = TileFilter(
        level=level,
        as_of=as_of,
        types=tuple(type_ or ()),
        date_from=date_from,
        date_to=date_to,
    )
    # Checks the layer and the address before any database work.
    depends = tile_key(settings, layer=layer, z=z, x=x, y=y, flt=flt)
    # private, with Vary: a tile holds what the caller's scope lets them see, so no shared
    # cache may keep it for another caller (answer's headers).
    return answer(
        request,
        sources=TILE_SOURCES[layer],
        build=lambda: tile(engine, settings, layer=layer, z=z, x=x, y=y, flt=flt),
        media_type=MVT,
        depends=depends,
        max_age_s=settings.maps.tile_max_age_s,
    )
