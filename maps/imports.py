"""The data desk's pages: the import page (pick what the file holds, upload, preview and map
the columns, run with a progress bar, read the report), the history of imports, and the admin
landing page. The work itself is done through the import job API (``api/routers/imports_pages``)
by ``maps/static/imports.js``.

Rejected rows' reasons come from the importers in English; :func:`reason_text` gives each its
Chinese (or English) form from the catalogue by the pattern it follows, keeping the values it
names (the column, the bad value, the row it repeats).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    "kind": N_("Moves by"),
    "time": N_("Time"),
    "person": N_("Person"),
    "area": N_("Micro-grid code"),
    "code": N_("Area code"),
    "area_name": N_("Area name"),
    "parent": N_("Parent area code"),
    "population": N_("Population"),
}
"""Each field a column may be mapped to, as an officer reads it."""

BASIS_NAMES: dict[str, str] = {
    "header": N_("the column is named %(alias)s"),
    "none": N_("no column looks like it"),
    "chosen": N_("chosen by you"),
}
"""Why a column was guessed for a field."""

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
}
"""What the page's script says, in the reader's language (handed to it as JSON)."""

REASONS: tuple[tuple[str, str], ...] = (
    (r"^(?P<field>\w+) is empty$", N_("%(field)s is empty")),
    (r"^missing (?P<field>\w+)$", N_("%(field)s is missing")),
    (r"^empty (line|row)$", N_("empty row")),
    (
        r"^unknown incident type (?P<value>'.*?'|\".*?\")",
        N_("unknown incident type %(value)s: add it as a synonym below, or fix the cell"),
    ),
    (
        r"^(?P<field>\w+) (?P<value>'.*?'|\".*?\") is not a date/time",
        N_("%(field)s %(value)s is not a date and time (write e.g. 2025-03-01 08:30)"),
    ),
    (r"^unreadable time (?P<value>.*)$", N_("the time %(value)s cannot be read")),
    (
        r"^(?P<field>\w+) (?P<value>'.*?'|\".*?\") is not a (finite )?number",
        N_("%(field)s %(value)s is not a number"),
    ),
    (
        r"^(?P<field>\w+) (?P<value>\S+) is out of (?P<range>\S+)$",
        N_("%(field)s %(value)s is outside %(range)s"),
    ),
    (r"^lat/lon look swapped", N_("longitude and latitude look swapped: swap the two columns")),
    (
        r"^(?P<field>\w+) is empty but (?P<other>\w+) is given$",
        N_("%(field)s is empty but %(other)s is given"),
    ),
    (
        r"do not fit (?P<crs>[^(]+) \(",
        N_("the coordinates do not lie where %(crs)s can: the wrong coordinate system?"),
    ),
    (r"^missing or non-numeric coordinates$", N_("the coordinates are missing or not numbers")),
    (r"^coordinates \(0, 0\)", N_("the coordinates are (0, 0): the receiver had no fix")),
    (
        r"^has (?P<n>\d+) fields but the header has (?P<width>\d+)",
        N_("the row has %(n)s cells but the header %(width)s"),
    ),
    (r"^duplicate id \(first seen at row (?P<row>\d+)\)", N_("the same id as row %(row)s")),
    (
        r"^same source and id as row (?P<row>\d+)",
        N_("the same source and id as row %(row)s, which wins"),
    ),
    (r"^duplicate (fix|check-in)", N_("the same as an earlier row (duplicate)")),
    (r"^outside every area", N_("outside every area: kept with no area")),
    (r"^outside ", N_("outside your area")),
    (
        r"^unknown unit kind (?P<value>'.*?')",
        N_("unknown way of moving %(value)s (use foot, bicycle or vehicle)"),
    ),
    (r"^unknown status (?P<value>'.*?')", N_("unknown status %(value)s (use 未整改 or 已整改)")),
    (r"^a closed hazard needs closed_at", N_("a closed hazard needs the time it was closed")),
    (r"assessment needs (?P<fields>.+)$", N_("the assessment needs %(fields)s")),
    (r"^geometry is a (?P<kind>\w+), not a Point", N_("the geometry is a %(kind)s, not a point")),
    (r"^coordinates cannot be projected", N_("the coordinates cannot be converted")),
)
"""Each importer's reason (a pattern) → how an officer reads it; named groups are kept."""
_REASONS = [(re.compile(pattern), message) for pattern, message in REASONS]
UNKNOWN_TYPE = re.compile(r"^unknown incident type (?:'(?P<a>.*?)'|\"(?P<b>.*?)\")")


def reason_text(reason: str, t: Translator) -> str:
    """An importer's reason for rejecting a row, in the reader's language (a reason no
    pattern knows is shown as the importer wrote it, after "Other problem:")."""
    for pattern, message in _REASONS:
        match = pattern.search(reason)
        if match is not None:
            values = {k: v for k, v in match.groupdict().items() if v is not None}
            if "field" in values:
                values["field"] = t._(FIELD_NAMES.get(values["field"], values["field"]))
            if "other" in values:
                values["other"] = t._(FIELD_NAMES.get(values["other"], values["other"]))
            return t._(message, **values)
    return t._("Other problem: %(reason)s", reason=reason)


def unknown_types(rejected: Sequence[dict[str, Any]]) -> list[str]:
    """The incident type words a report rejected rows for, each once, in the order met."""
    seen: dict[str, None] = {}
    for problem in rejected:
        match = UNKNOWN_TYPE.search(str(problem.get("reason", "")))
        if match is not None:
            seen[match.group("a") if match.group("a") is not None else match.group("b")] = None
    return list(seen)


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


def history_page(settings: Settings, t: Translator, runs: Sequence[dict[str, Any]]) -> str:
    """The history of imports, newest first (each run a dict of the import log)."""
    html = t.env.get_template("import_history.html").render(
        css=url("gridsafe/maps.css"),
        runs=runs,
        kind_names={k: t._(v) for k, v in KIND_NAMES.items()},
        region=settings.region,
    )
    return check_offline(html)


def admin_page(t: Translator) -> str:
    """The admin landing page: the desk's pages."""
    html = t.env.get_template("admin.html").render(
        css=url("gridsafe/maps.css"),
        links=[(link.path, t._(link.title), t._(link.what)) for link in ADMIN_LINKS],
    )
    return check_offline(html)
