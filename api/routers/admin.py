"""Admin only: imports through the API (the same code as the command line), the accounts
(list, add, change role, scope and state) and the audit log (read-only: nothing in the API can
change it), as JSON and as the pages /admin/users and /admin/audit.

Every change to an account runs as the signed-in admin, so the audit trigger logs it under
their name; a page's change carries the session's CSRF token like every other
(``api/auth.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import ADMINS, permit
from api.deps import EngineDep, SettingsDep
from api.models.admin import Account, AccountChange, AuditEntry, NewAccount
from api.models.common import ErrorBody, ImportReport
from api.params import Moment
from api.shell import page, request_translator
from api.uploads import saved_upload
from geo.access import User, add_user, update_user, user_accounts
from geo.areas import area_outline
from geo.audit import AuditFilter, audit_entries, audited_tables
from geo.boundaries import import_boundaries
from geo.errors import GridsafeError, NotFoundError
from geo.layers import import_layer
from geo.levels import Level
from maps.admin_pages import AUDIT_PAGE, AuditQuery, audit_page, refusal, users_page

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[permit(*ADMINS)])
pages = APIRouter(prefix="/admin", tags=["admin"], dependencies=[permit(*ADMINS)])
Admin = Annotated[User, permit(*ADMINS)]
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "refused; ``message`` says why for a person"},
}


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


def _accounts(engine: EngineDep, settings: SettingsDep) -> list[dict[str, Any]]:
    return [
        {
            "id": a.user.id,
            "username": a.user.username,
            "role": a.user.role,
            "scope": a.user.scope,
            "scope_name": a.scope_name,
            "display_name": a.user.display_name,
            "language": a.user.language,
            "disabled": a.user.disabled,
            "created_at": a.created_at.isoformat(),
            "last_sign_in": a.last_sign_in.isoformat() if a.last_sign_in else None,
        }
        for a in user_accounts(engine, settings)
    ]


def _account(engine: EngineDep, settings: SettingsDep, user_id: int) -> dict[str, Any]:
    return next(a for a in _accounts(engine, settings) if a["id"] == user_id)


def _refusal(request: Request, exc: GridsafeError) -> JSONResponse:
    """A refused change: the English ``detail`` and the ``message`` for the admin's page."""
    status = 404 if isinstance(exc, NotFoundError) else 400
    message = refusal(request_translator(request), exc)
    return JSONResponse({"detail": str(exc), "message": message}, status_code=status)


@router.get("/users", response_model=list[Account])
def users(engine: EngineDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Every account: name, role, area scope, state, last sign-in (never a password hash)."""
    return _accounts(engine, settings)


@router.post("/users", response_model=Account, status_code=201, responses=REFUSED)
def new_user(request: Request, body: NewAccount, engine: EngineDep, settings: SettingsDep) -> Any:
    """Add an account with its initial password; a grid head or member with their area."""
    try:
        user = add_user(
            engine,
            settings,
            body.username,
            body.role,
            password=body.password,
            scope=body.scope or None,
            display_name=(body.display_name or "").strip() or None,
        )
    except GridsafeError as exc:
        return _refusal(request, exc)
    return _account(engine, settings, user.id)


@router.patch("/users/{user_id}", response_model=Account, responses=REFUSED)
def change_user(
    request: Request,
    user_id: Annotated[int, Path(ge=1, le=2**62, description="the account's id")],
    body: AccountChange,
    engine: EngineDep,
    settings: SettingsDep,
) -> Any:
    """Change an account's role, area scope, display name, or disable / enable it. The last
    enabled admin cannot be disabled or given another role."""
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "scope" in given:
        changes["scope"] = body.scope or None
    if "display_name" in given:
        changes["display_name"] = (body.display_name or "").strip() or None
    try:
        update_user(engine, settings, user_id, role=body.role, disabled=body.disabled, **changes)
    except GridsafeError as exc:
        return _refusal(request, exc)
    return _account(engine, settings, user_id)


@router.get("/audit", response_model=list[AuditEntry])
def audit(
    engine: EngineDep,
    entity: Annotated[str | None, Query(description="only changes of this table")] = None,
    actor: Annotated[str | None, Query(description="only changes by this actor")] = None,
    user: Annotated[
        str | None, Query(description="only changes by this account, whatever its role then")
    ] = None,
    since: Annotated[Moment | None, Query(description="at or after this instant")] = None,
    until: Annotated[Moment | None, Query(description="before this instant")] = None,
    record: Annotated[
        str | None,
        Query(max_length=200, description="only changes of the row with this id or code"),
    ] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="page: entries older than this id")
    ] = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=2**62, description="page: the entries just newer than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
) -> list[dict[str, Any]]:
    """The audit log, newest first: who changed what, when, the rows before and after."""
    where = AuditFilter(
        entity=entity, actor=actor, user=user, since=since, until=until, record=record
    )
    return audit_entries(engine, where=where, before_id=before_id, after_id=after_id, limit=limit)


@pages.get("/users", response_class=HTMLResponse)
def users_view(
    request: Request, admin: Admin, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """The accounts as a page: find, add, change role and area (picked from the hierarchy),
    disable and enable."""
    html = users_page(
        settings,
        request_translator(request),
        user_accounts(engine, settings),
        area_outline(engine, region=settings.region),
        me=admin,
    )
    return page(request, html)


@pages.get("/audit", response_class=HTMLResponse)
def audit_view(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    table: str = "",
    user: str = "",
    record: Annotated[str, Query(max_length=200)] = "",
    day_from: Annotated[str, Query(alias="from")] = "",
    day_to: Annotated[str, Query(alias="to")] = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    """The audit log as a page: filtered by table, user, days and record, a page at a time,
    each change's rows before and after side by side."""
    query = AuditQuery.read(
        settings,
        table=table,
        user=user,
        record=record,
        day_from=day_from,
        day_to=day_to,
        before=before,
        after=after,
    )
    entries = (
        audit_entries(
            engine,
            where=query.filter,
            before_id=query.before,
            after_id=query.after,
            limit=AUDIT_PAGE + 1,
        )
        if query.problem is None
        else []
    )
    html = audit_page(
        settings,
        request_translator(request),
        query,
        entries,
        tables=audited_tables(engine),
        users=[a.user.username for a in user_accounts(engine, settings)],
    )
    return page(request, html)
