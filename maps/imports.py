"""The data desk's pages: the import page (pick what the file holds, upload, preview and map
the columns, run with a progress bar, read the report), the history of imports, and the admin
landing page. The work itself is done through the import job API (``api/routers/imports_pages``)
by ``maps/static/imports.js``.

A rejected row's reason is worded for the reader by :func:`maps.reasons.reason_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geo import clock
from geo.levels import Level
from geo.settings import Settings
from maps.assets import url
from maps.i18n import N_, Translator
from maps.pages import check_offline

KIND_NAMES: dict[str, str] = {
    "boundaries": N_("Boundaries of one level"),
    "incidents": N_("Incidents"),
    "hazards": N_("Hazards"),
    "tracks": N_("Patrol tracks (GPS fixes)"),
    "visits": N_("Visits (check-ins)"),
    "buildings": N_("Buildings"),
    "roads": N_("Roads"),
    "pois": N_("Points of interest"),
}
"""What a file may hold, in the page's order (the words are the API's ``kind``)."""

FIELD_NAMES: dict[str, str] = {
    "source_id": N_("Record id"),
    "type": N_("Type"),
    "occurred_at": N_("Time it happened"),
    "reported_at": N_("Time it was reported"),
    "lon": N_("Longitude"),
    "lat": N_("Latitude"),
    "x": N_("X (easting)"),
    "y": N_("Y (northing)"),
    "address": N_("Address"),
    "description": N_("Description"),
    "source": N_("Source"),
    "name": N_("Name"),
    "category": N_("Category"),
    "identified_at": N_("Time it was found"),
    "method": N_("Assessment method"),
    "l": N_("Likelihood (L)"),
    "e": N_("Exposure (E)"),
    "c": N_("Consequence (C)"),
    "s": N_("Severity (S)"),
    "status": N_("Status"),
    "closed_at": N_("Time it was closed"),
    "unit": N_("Patrol unit"),
    "kind": N_("Kind"),
    "time": N_("Time"),
    "person": N_("Person"),
    "area": N_("Micro-grid code"),
    "code": N_("Area code"),
    "parent": N_("Parent area code"),
    "population": N_("Population"),
    "building_id": N_("Building id"),
    "floors": N_("Floors"),
    "residents": N_("Residents"),
    "road_id": N_("Road id"),
    "road_class": N_("Road class"),
    "oneway": N_("One-way"),
    "maxspeed_kmh": N_("Speed limit (km/h)"),
    "lanes": N_("Lanes"),
    "poi_id": N_("Point id"),
}
"""Each field a column may be mapped to, as an officer reads it."""

BASIS_NAMES: dict[str, str] = {
    "explicit": N_("chosen by you"),
    "remembered": N_("as in this source's last import"),
    "header": N_("by the column's name"),
    "content": N_("by what its cells hold"),
    "none": N_("no column looks like it"),
}
"""Why a field has its column (``geo.imports.guess.Basis``)."""

COUNT_NAMES: dict[str, str] = {
    "loaded": N_("rows in the database"),
    "inserted": N_("new"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
    "rejected": N_("rejected"),
    "rejected_rows": N_("Rejected rows (%(n)s)"),
}
"""The report's counts, as the page labels them."""

PAGE_TEXT: dict[str, str] = {
    "uploading": N_("Uploading… %(percent)s%%"),
    "reading": N_("Reading the file…"),
    "failed": N_("Not done:"),
    "queued": N_("Waiting for a free worker…"),
    "running": N_("Importing… %(percent)s%%"),
    "done": N_("Done in %(seconds)s s"),
    "cancelled": N_("Cancelled: nothing was written."),
    "no_file": N_("Choose a file first."),
    "no_column": N_("(no column)"),
    "synonym_added": N_("Added: %(word)s now means %(type)s."),
    "add_synonym": N_("Add as a synonym"),
    "date_and_time": N_("%(date)s + %(time)s"),
    "required": N_("required"),
    "rows_of": N_("%(n)s rows, e.g. row %(rows)s"),
}
"""What the page's script says, in the reader's language (handed to it as JSON)."""


@dataclass(frozen=True)
class DeskLink:
    """A page of the admin landing page: where, its title and what it is for."""

    path: str
    title: str
    what: str


ADMIN_LINKS: tuple[DeskLink, ...] = (
    DeskLink(
        "/import",
        N_("Import a file"),
        N_(
            "Boundaries, incidents, hazards, tracks, visits and reference layers from Excel, "
            "CSV, GeoJSON, GeoPackage or Shapefile."
        ),
    ),
    DeskLink(
        "/import/history",
        N_("Import history"),
        N_("Every import: who, when, the file, its mapping and counts, and its report."),
    ),
    DeskLink("/admin/users", N_("Users"), N_("Add, disable and re-scope accounts.")),
    DeskLink(
        "/admin/audit", N_("Audit log"), N_("Who changed what and when, with the before and after.")
    ),
)


def import_page(
    settings: Settings,
    t: Translator,
    *,
    incident_types: Sequence[dict[str, Any]],
    max_bytes: int,
) -> str:
    """The import page: the form, then the preview, progress and report drawn by imports.js
    (``incident_types``: the vocabulary, offered for an unknown type word)."""
    html = t.env.get_template("import.html").render(
        css=url("gridsafe/maps.css"),
        script=url("gridsafe/imports.js"),
        kinds=[(k, t._(v)) for k, v in KIND_NAMES.items()],
        levels=[(level.value, t.level(level)) for level in Level],
        field_names={k: t._(v) for k, v in FIELD_NAMES.items()},
        basis_names={k: t._(v) for k, v in BASIS_NAMES.items()},
        text={k: t._(v) for k, v in PAGE_TEXT.items()},
        counts={k: t._(v) for k, v in COUNT_NAMES.items()},
        incident_types=[
            (k["code"], k["name_zh"] if t.language == "zh_CN" else k["name_en"])
            for k in incident_types
        ],
        max_mb=max_bytes // (1024 * 1024),
        region=settings.region,
    )
    return check_offline(html)


def run_what(run: dict[str, Any], t: Translator) -> str:
    """What a run imported, as a person reads it (``boundaries:micro`` → the level's name)."""
    kind, _, level = str(run["kind"]).partition(":")
    what = t._(KIND_NAMES.get(kind, kind))
    if level in {lv.value for lv in Level}:
        what = f"{what} · {t.level(Level(level))}"
    return what


def run_when(run: dict[str, Any], settings: Settings, t: Translator) -> str:
    """When a run ended (an ISO 8601 instant), in the district's time."""
    at = run.get("finished_at")
    if at is None:
        return ""
    local = datetime.fromisoformat(str(at)).astimezone(clock.zone(settings.timezone))
    return f"{t.date(local.date())} {local:%H:%M}"


def history_page(settings: Settings, t: Translator, runs: Sequence[dict[str, Any]]) -> str:
    """The history of imports, newest first (each run as ``geo.imports.list_imports`` gives it)."""
    shown = [{**r, "what": run_what(r, t), "when": run_when(r, settings, t)} for r in runs]
    html = t.env.get_template("import_history.html").render(
        css=url("gridsafe/maps.css"), runs=shown
    )
    return check_offline(html)


def run_page(
    settings: Settings,
    t: Translator,
    run: dict[str, Any],
    *,
    rejected: Sequence[tuple[int | None, str | None, str]],
    warnings: Sequence[tuple[int | None, str | None, str]],
) -> str:
    """One run's report (``geo.imports.get_import``): who, when, the file, the mapping used,
    the counts, every rejected row with its reason (worded by the caller) and the download."""
    mapping = [
        (t._(FIELD_NAMES.get(k, k)), " + ".join(v) if isinstance(v, list) else v)
        for k, v in (run.get("mapping") or {}).items()
        if v
    ]
    html = t.env.get_template("import_run.html").render(
        css=url("gridsafe/maps.css"),
        run={**run, "what": run_what(run, t), "when": run_when(run, settings, t)},
        counts=[(k, run[k]) for k in ("loaded", "inserted", "updated", "unchanged", "rejected")],
        count_names={k: t._(v) for k, v in COUNT_NAMES.items()},
        mapping=mapping,
        rejected=[{"row": r, "ident": i, "text": x} for r, i, x in rejected],
        warnings=[{"row": r, "ident": i, "text": x} for r, i, x in warnings],
    )
    return check_offline(html)


def admin_page(t: Translator) -> str:
    """The admin landing page: the desk's pages."""
    html = t.env.get_template("admin.html").render(
        css=url("gridsafe/maps.css"),
        links=[(link.path, t._(link.title), t._(link.what)) for link in ADMIN_LINKS],
    )
    return check_offline(html)
