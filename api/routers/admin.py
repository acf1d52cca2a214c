"""Admin only: imports through the API (the same code as the command line), the user list
and the audit log (read-only: nothing in the API can change it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from api.auth import ADMINS, permit
from api.deps import EngineDep, SettingsDep
from api.models.admin import Account, AuditEntry
from api.models.common import ImportReport
from api.params import Moment
from api.uploads import saved_upload
from geo.access import list_users
from geo.audit import audit_entries
from geo.boundaries import import_boundaries
from geo.layers import import_layer
from geo.levels import Level

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[permit(*ADMINS)])


@router.post("/boundaries", response_model=ImportReport, response_model_exclude_unset=True)
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
    with saved_upload(file, max_bytes=settings.intake.max_upload_bytes) as path:
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


@router.post("/layers/{kind}", response_model=ImportReport, response_model_exclude_unset=True)
def upload_layer(
    kind: str,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    crs: Annotated[str | None, Form()] = None,
) -> dict[str, object]:
    """Import buildings, roads or POIs; each unusable row is reported."""
    with saved_upload(file, max_bytes=settings.intake.max_upload_bytes) as path:
        report = import_layer(engine, settings, path, kind=kind, crs=crs, source_name=file.filename)
    return report.as_dict()


@router.get("/users", response_model=list[Account])
def users(engine: EngineDep) -> list[dict[str, Any]]:
    """Every account: name, role, area scope, disabled or not (never a password hash)."""
    return [
        {
            "username": u.username,
            "role": u.role,
            "scope": u.scope,
            "display_name": u.display_name,
            "disabled": u.disabled,
        }
        for u in list_users(engine)
    ]


@router.get("/audit", response_model=list[AuditEntry])
def audit(
    engine: EngineDep,
    entity: Annotated[str | None, Query(description="only changes of this table")] = None,
    actor: Annotated[str | None, Query(description="only changes by this actor")] = None,
    since: Annotated[Moment | None, Query(description="at or after this instant")] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="page: entries older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
) -> list[dict[str, Any]]:
    """The audit log, newest first: who changed what, when, the rows before and after."""
    return audit_entries(
        engine, entity=entity, actor=actor, since=since, before_id=before_id, limit=limit
    )
