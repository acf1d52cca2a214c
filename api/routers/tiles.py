"""Vector tiles: ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``, built by PostGIS, cached by ETag.

The ETag is known before the tile is built (``geo.tiles.tile_if_changed``), so a 304 costs one
count in the database and no tile work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth import READERS, permit
from api.deps import EngineDep, SettingsDep
from api.params import Day
from geo.levels import Level
from geo.tiles import TileFilter, tile_if_changed

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
    etag, body = tile_if_changed(
        engine,
        settings,
        layer=layer,
        z=z,
        x=x,
        y=y,
        flt=flt,
        etag=request.headers.get("if-none-match"),
    )
    # private: a tile holds what the caller's scope lets them see, so no shared cache may keep
    # it for another caller; Vary tells the browser's own cache the same.
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={settings.maps.tile_max_age_s}",
        "Vary": "Authorization, Cookie",
    }
    if body is None:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
