"""The data desk in the browser: the import page and its job API, the import history page,
the admin landing page.

An import from the page takes three requests: the file is uploaded (``POST
/api/import/uploads``: streamed to a temporary file, previewed, nothing written), the officer
checks the columns and starts it (``POST /api/import/jobs``: a background job, :mod:`geo.jobs`),
and the page polls the job (``GET /api/import/jobs/{id}``) for its progress and, once done,
its report. A file is imported in one transaction: a job that fails or a server that stops
mid-way leaves nothing half-imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.auth import ADMINS, IMPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.shell import page, request_translator
from api.uploads import StagedUploads
from geo.boundaries import import_boundaries
from geo.coverage.checkins import import_checkins
from geo.coverage.tracks import import_tracks
from geo.intake.files import suffixes
from geo.intake.preview import preview_file
from geo.jobs import Job, Jobs
from geo.layers import import_layer
from geo.levels import Level
from geo.records import import_records, incident_types
from geo.report import ImportReport
from geo.settings import Settings
from maps.imports import admin_page, import_page, reason_text, unknown_types

router = APIRouter(prefix="/api/import", tags=["imports"], dependencies=[permit(*IMPORTERS)])
pages = APIRouter(tags=["maps"])

Kind = Literal[
    "boundaries", "incidents", "hazards", "tracks", "visits", "buildings", "roads", "pois"
]
UPLOAD_SUFFIXES = suffixes("csv", "excel", "vector", "gpx")
IMPORT_WORKERS = 1
"""Imports run one at a time: each holds the areas' lock for its whole transaction."""


@dataclass
class ImportJob(Job):
    """One file being imported: ``share`` is the part of its rows read so far."""

    done: float = 0.0

    def share(self) -> float:
        """The part of the file read (0-1)."""
        return self.done


class ImportJobs(Jobs[ImportJob]):
    """The import jobs of one serving process."""

    def __init__(self) -> None:
        super().__init__(ImportJob, workers=IMPORT_WORKERS, name="import")


def staged_uploads(request: Request) -> StagedUploads:
    """The app's uploaded files waiting for their import."""
    staged: StagedUploads = request.app.state.staged_uploads
    return staged


def import_jobs(request: Request) -> ImportJobs:
    """The app's import jobs."""
    jobs: ImportJobs = request.app.state.import_jobs
    return jobs


def _caller(request: Request) -> str:
    return str(request.state.credential.user.label)


class GuessOut(BaseModel):
    """The column a field is read from, and why."""

    column: str | None
    basis: str = Field(description="header (its name is one the field is known by), none, ...")
    alias: str | None = None


class UploadOut(BaseModel):
    """An uploaded file, kept for its import, and a first look at it (nothing written)."""

    upload: str = Field(description="the id to start its import with")
    name: str
    size: int
    kind: Kind
    format: str
    encoding: str | None
    crs: str
    headers: list[str]
    rows: list[list[str | None]] = Field(description="the first rows, as text")
    guesses: dict[str, GuessOut] = Field(description="field → the column found for it")


@router.post("/uploads", status_code=201)
def upload_file(
    request: Request,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV, Excel, GeoJSON, GeoPackage, Shapefile")],
    kind: Annotated[Kind, Form()],
    crs: Annotated[str | None, Form(description="EPSG code, gcj02 or bd09")] = None,
) -> UploadOut:
    """Keep an uploaded file for its import and show its head: the first rows, the encoding,
    the CRS and each field's column as guessed. Nothing is written to the database."""
    staged = staged_uploads(request).receive(
        file,
        owner=_caller(request),
        max_bytes=settings.intake.max_upload_bytes,
        suffixes=UPLOAD_SUFFIXES,
    )
    try:
        preview = preview_file(staged.path, kind=kind, crs=crs or None)
    except BaseException:
        staged_uploads(request).drop(staged.id)
        raise
    return UploadOut(
        upload=staged.id,
        name=staged.name,
        size=staged.size,
        kind=kind,
        format=preview.format,
        encoding=preview.encoding,
        crs=preview.crs,
        headers=preview.headers,
        rows=preview.rows,
        guesses={k: GuessOut(**asdict(g)) for k, g in preview.guesses.items()},
    )


class ImportRequest(BaseModel):
    """What to import: an uploaded file, what it holds, and how to read it."""

    upload: str = Field(description="the id POST /api/import/uploads answered")
    kind: Kind
    level: Level | None = Field(None, description="boundaries: the level of the areas")
    source: str | None = Field(None, max_length=200, description="where the records come from")
    crs: str | None = Field(None, description="EPSG code, gcj02 or bd09")
    mapping: dict[str, str] = Field(
        default_factory=dict, description="field → the file's column holding it"
    )


class ImportJobOut(BaseModel):
    """An import running in the background, as the page polls it."""

    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str
    progress: float = Field(ge=0, le=1)
    elapsed_s: float
    error: str | None
    report: dict[str, Any] | None = Field(None, description="once done: the import's report")


def run_import(
    engine: Engine, settings: Settings, path: Path, body: ImportRequest, name: str
) -> ImportReport:
    """Import ``path`` as ``body`` says, with the importer of its kind."""
    crs = body.crs or None
    importers: dict[str, Callable[[], ImportReport]] = {
        "incidents": lambda: import_records(
            engine, settings, path, kind="incidents", crs=crs, source_name=name
        ),
        "hazards": lambda: import_records(
            engine, settings, path, kind="hazards", crs=crs, source_name=name
        ),
        "tracks": lambda: import_tracks(engine, settings, path, crs=crs, source_name=name),
        "visits": lambda: import_checkins(engine, settings, path, crs=crs, source_name=name),
        "boundaries": lambda: import_boundaries(
            engine,
            settings,
            path,
            level=body.level or Level.MICRO,
            code_field=body.mapping.get("code"),
            name_field=body.mapping.get("area_name"),
            parent_field=body.mapping.get("parent"),
            crs=crs,
            source_name=name,
        ),
    }
    if body.kind in importers:
        return importers[body.kind]()
    return import_layer(engine, settings, path, kind=body.kind, crs=crs, source_name=name)


@router.post("/jobs", status_code=202)
def start_import(
    request: Request, body: ImportRequest, engine: EngineDep, settings: SettingsDep
) -> ImportJobOut:
    """Import an uploaded file in the background; poll ``GET /api/import/jobs/{id}`` for its
    progress and, once done, its report."""
    owner = _caller(request)
    staged = staged_uploads(request).get(body.upload, owner=owner)
    uploads = staged_uploads(request)

    def work(job: ImportJob) -> dict[str, Any]:
        job.stage("import")
        try:
            report = run_import(engine, settings, staged.path, body, staged.name)
        finally:
            uploads.drop(staged.id)
        return {"report": report.as_dict()}

    job = import_jobs(request).start(work, owner=owner)
    return _job_out(request, job)


def _job_out(request: Request, job: ImportJob) -> ImportJobOut:
    report = None
    if job.result is not None:
        t = request_translator(request)
        report = dict(job.result["report"])
        report["rejected"] = [
            {**p, "reason_text": reason_text(str(p["reason"]), t)} for p in report["rejected"]
        ]
        report["unknown_types"] = unknown_types(report["rejected"])
        report["warnings"] = [
            {**p, "reason_text": reason_text(str(p["reason"]), t)} for p in report["warnings"]
        ]
    return ImportJobOut(**job.as_dict(), report=report)


@router.get("/jobs/{job_id}")
def poll_import(request: Request, job_id: str) -> ImportJobOut:
    """An import job's state and progress, and its report once done (the caller's own jobs)."""
    return _job_out(request, import_jobs(request).get(job_id, owner=_caller(request)))


@pages.get("/import", response_class=HTMLResponse, dependencies=[permit(*IMPORTERS)])
def import_form(request: Request, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The import page: what the file holds, upload, preview, run, report."""
    t = request_translator(request)
    html = import_page(
        settings,
        t,
        incident_types=incident_types(engine),
        max_bytes=settings.intake.max_upload_bytes,
    )
    return page(request, html)


@pages.get("/upload", dependencies=[permit(*IMPORTERS)])
def upload_page() -> RedirectResponse:
    """The import page's old name."""
    return RedirectResponse("/import", status_code=303)


@pages.get("/admin", response_class=HTMLResponse, dependencies=[permit(*ADMINS)])
def admin_landing(request: Request) -> HTMLResponse:
    """The administrator's pages: import, its history, users, the audit log."""
    return page(request, admin_page(request_translator(request)))
