"""Imports through the API (the same code as the command line)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import EngineDep, SettingsDep
from api.uploads import saved_upload
from geo.boundaries import import_boundaries
from geo.layers import import_layer
from geo.levels import Level

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/boundaries")
def upload_boundaries(
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage or zipped Shapefile")],
    level: Annotated[Level, Form()],
    code_field: Annotated[str | None, Form()] = None,
    name_field: Annotated[str | None, Form()] = None,
    parent_field: Annotated[str | None, Form()] = None,
    crs: Annotated[str | None, Form(description="EPSG code, gcj02 or bd09")] = None,
    allow_gaps: Annotated[bool, Form()] = False,
) -> dict[str, object]:
    """Import one level's boundaries, all or nothing; 422 lists every problem."""
    with saved_upload(file, max_bytes=settings.max_upload_bytes) as path:
        report = import_boundaries(
            engine,
            settings,
            path,
            level=level,
            code_field=code_field,
            name_field=name_field,
            parent_field=parent_field,
            crs=crs,
            allow_gaps=allow_gaps,
            source_name=file.filename,
        )
    return report.as_dict()


@router.post("/layers/{kind}")
def upload_layer(
    kind: str,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    crs: Annotated[str | None, Form()] = None,
) -> dict[str, object]:
    """Import buildings, roads or POIs; each unusable row is reported."""
    with saved_upload(file, max_bytes=settings.max_upload_bytes) as path:
        report = import_layer(engine, settings, path, kind=kind, crs=crs, source_name=file.filename)
    return report.as_dict()
