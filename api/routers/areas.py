"""The area hierarchy as GeoJSON (EPSG:4326)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.auth import READERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.areas import AreaCollection, AreaDetailFeature
from api.models.common import GeoJSONResponse
from geo.areas import area_geojson, areas_geojson
from geo.levels import Level

router = APIRouter(prefix="/api/areas", tags=["areas"], dependencies=[permit(*READERS)])


@router.get("", response_class=GeoJSONResponse, responses={200: {"model": AreaCollection}})
def list_areas(
    engine: EngineDep,
    settings: SettingsDep,
    level: Annotated[Level | None, Query(description="only areas of this level")] = None,
    parent: Annotated[
        str | None, Query(description="only the direct children of this code")
    ] = None,
) -> Response:
    """Areas as a FeatureCollection with ``code``, ``name``, ``level``, ``parent_code``."""
    body = areas_geojson(engine, region=settings.region, level=level, parent=parent)
    return GeoJSONResponse(body)


@router.get(
    "/{code}", response_class=GeoJSONResponse, responses={200: {"model": AreaDetailFeature}}
)
def get_area(code: str, engine: EngineDep, settings: SettingsDep) -> Response:
    """One area as a Feature, with its ``ancestors`` (top first) and ``children``."""
    return GeoJSONResponse(area_geojson(engine, region=settings.region, code=code))
