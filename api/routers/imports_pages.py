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

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from api.auth import ADMINS, IMPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.shell import page, request_translator
from api.uploads import StagedUploads
from geo.errors import ImportRejectedError, Problem
from geo.imports import get_import, import_file, list_imports, preview_import
from geo.intake.files import suffixes
from geo.jobs import Job, Jobs
from geo.levels import Level
from geo.records import incident_types
from geo.report import ImportReport
from maps.imports import admin_page, history_page, import_page, run_page
from maps.reasons import import_error_text, reason_text

router = APIRouter(prefix="/api/import", tags=["imports"], dependencies=[permit(*IMPORTERS)])
pages = APIRouter(tags=["maps"])

Kind = Literal[
    "boundaries", "incidents", "hazards", "tracks", "visits", "buildings", "roads", "pois"
]
UPLOAD_SUFFIXES = suffixes("csv", "excel", "vector", "gpx")
HISTORY_ROWS = 200
"""Runs the history page lists (the newest)."""
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
    """The column(s) a field is read from, and why."""

    field: str
    columns: list[str] = Field(description="none, one, or a date column and a time column")
    basis: str = Field(description="explicit, remembered, header, content or none")
    required: bool


class UploadOut(BaseModel):
    """An uploaded file, kept for its import, and a first look at it (nothing written)."""

    upload: str = Field(description="the id to start its import with")
    name: str
    size: int
    kind: Kind
    source: str = Field(description="the source its records will be stored under")
    format: str
    encoding: str | None
    crs: str
    headers: list[str]
    rows: list[list[str | None]] = Field(description="the first rows, as text")
    total_estimate: int | None = Field(description="about how many rows the file holds")
    guesses: list[GuessOut] = Field(description="each field's column, in the kind's order")


@router.post("/uploads", status_code=201)
def upload_file(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV, Excel, GeoJSON, GeoPackage, Shapefile")],
    kind: Annotated[Kind, Form()],
    level: Annotated[Level | None, Form(description="boundaries: their level")] = None,
    source: Annotated[str | None, Form(max_length=200)] = None,
    crs: Annotated[str | None, Form(description="EPSG code, gcj02 or bd09")] = None,
) -> UploadOut:
    """Keep an uploaded file for its import and show its head: the first rows, the encoding,
    the CRS and each field's column with the basis of the guess (the source's remembered
    mapping first). Nothing is written to the database."""
    uploads = staged_uploads(request)
    staged = uploads.receive(
        file,
        owner=_caller(request),
        max_bytes=settings.intake.max_upload_bytes,
        suffixes=UPLOAD_SUFFIXES,
    )
    try:
        preview = preview_import(
            engine,
            settings,
            staged.path,
            kind=kind,
            source=source or Path(staged.name).stem,
            level=level or Level.MICRO,
            crs=crs or None,
        )
    except BaseException:
        uploads.drop(staged.id)
        raise
    sample = preview.sample
    return UploadOut(
        upload=staged.id,
        name=staged.name,
        size=staged.size,
        kind=kind,
        source=preview.source,
        format=sample.file_format,
        encoding=sample.encoding,
        crs=preview.crs,
        headers=sample.headers,
        rows=sample.rows,
        total_estimate=sample.total_estimate,
        guesses=[
            GuessOut(field=g.field, columns=list(g.columns), basis=g.basis, required=g.required)
            for g in preview.guesses
        ],
    )


class ImportRequest(BaseModel):
    """What to import: an uploaded file, what it holds, and how to read it."""

    upload: str = Field(description="the id POST /api/import/uploads answered")
    kind: Kind
    level: Level | None = Field(None, description="boundaries: the level of the areas")
    source: str | None = Field(None, max_length=200, description="where the records come from")
    crs: str | None = Field(None, description="EPSG code, gcj02 or bd09")
    mapping: dict[str, str | list[str] | None] = Field(
        default_factory=dict,
        description="field → the file's column holding it (a date and a time column; null: none)",
    )


class ImportJobOut(BaseModel):
    """An import running in the background, as the page polls it."""

    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str
    progress: float = Field(ge=0, le=1)
    elapsed_s: float
    error: str | None
    run_id: int | None = Field(None, description="once done: the import log's run")
    report: dict[str, Any] | None = Field(None, description="once done: the import's report")


@router.post("/jobs", status_code=202)
def start_import(
    request: Request, body: ImportRequest, engine: EngineDep, settings: SettingsDep
) -> ImportJobOut:
    """Import an uploaded file in the background; poll ``GET /api/import/jobs/{id}`` for its
    progress and, once done, its report. The mapping is remembered for the source."""
    owner = _caller(request)
    uploads = staged_uploads(request)
    staged = uploads.get(body.upload, owner=owner)

    def work(job: ImportJob) -> dict[str, Any]:
        job.stage("import")

        def progress(done: int, total: int | None) -> None:
            job.done = min(1.0, done / total) if total else 0.0

        level = body.level or Level.MICRO
        try:
            run = import_file(
                engine,
                settings,
                staged.path,
                kind=body.kind,
                source=body.source or None,
                level=level if body.kind == "boundaries" else None,
                crs=body.crs or None,
                mapping=body.mapping or None,
                file_name=staged.name,
                progress=progress,
            )
        except ImportRejectedError as exc:
            # Boundaries are all or nothing: the run is logged, its problems are the report.
            source = body.source or Path(staged.name).stem
            refused = ImportReport(kind=body.kind, source=source, rejected=list(exc.problems))
            return {"report": refused.as_dict(), "run_id": None}
        finally:
            uploads.drop(staged.id)
        return {"report": run.report.as_dict(), "run_id": run.run_id}

    job = import_jobs(request).start(work, owner=owner)
    return _job_out(request, job)


def problem_of(found: dict[str, Any]) -> Problem:
    """A problem as a report's JSON holds it."""
    return Problem(
        found.get("row"),
        found.get("ident"),
        str(found.get("reason", "")),
        found.get("code"),
        dict(found.get("params") or {}),
    )


def _job_out(request: Request, job: ImportJob) -> ImportJobOut:
    t = request_translator(request)
    if job.result is None:
        out = ImportJobOut(**job.as_dict())
        if job.failure is not None:
            out.error = import_error_text(job.failure, t)
        return out
    report = dict(job.result["report"])
    for key in ("rejected", "warnings"):
        report[key] = [{**p, "reason_text": reason_text(problem_of(p), t)} for p in report[key]]
    return ImportJobOut(**job.as_dict(), run_id=job.result["run_id"], report=report)


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


@pages.get("/import/history", response_class=HTMLResponse, dependencies=[permit(*IMPORTERS)])
def import_history(request: Request, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """Every import, newest first: when, who, what, the file and its digest, the counts."""
    runs = list_imports(engine, settings.region, limit=HISTORY_ROWS)
    return page(request, history_page(settings, request_translator(request), runs))


@pages.get(
    "/import/history/{run_id}", response_class=HTMLResponse, dependencies=[permit(*IMPORTERS)]
)
def import_run(
    request: Request, run_id: int, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """One import's report: the mapping it used, its counts, every rejected row and why."""
    t = request_translator(request)
    run = get_import(engine, settings.region, run_id)
    report = run.get("report") or {}

    def worded(key: str) -> list[tuple[int | None, str | None, str]]:
        found = [problem_of(p) for p in report.get(key, [])]
        return [(p.row, p.ident, reason_text(p, t)) for p in found]

    html = run_page(settings, t, run, rejected=worded("rejected"), warnings=worded("warnings"))
    return page(request, html)


@pages.get("/upload", dependencies=[permit(*IMPORTERS)])
def upload_page() -> RedirectResponse:
    """The import page's old name."""
    return RedirectResponse("/import", status_code=303)


@pages.get("/admin", response_class=HTMLResponse, dependencies=[permit(*ADMINS)])
def admin_landing(request: Request) -> HTMLResponse:
    """The administrator's pages: import, its history, users, the audit log."""
    return page(request, admin_page(request_translator(request)))
