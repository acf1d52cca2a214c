"""A first look at a file before anything is written: its first rows, its encoding, the CRS
its coordinates will be read in, and for each field the importer reads, the column found for
it and why (the import page shows this and lets the officer change it).

The look reads only the head of the file (the first :data:`PREVIEW_ROWS` rows) and never
the database; the import itself reads the whole file again from the start.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio
from openpyxl import load_workbook
from pyproj import CRS

from geo.errors import InputError
from geo.intake.fields import ALIASES, cell_text, norm_header
from geo.intake.files import FORMATS, detect_encoding, gdal_path, read_info
from geo.intake.projection import resolve_source_crs

PREVIEW_ROWS = 10
"""Rows of the file the preview shows."""

FIELDS: dict[str, tuple[str, ...]] = {
    "incidents": (
        "source_id", "type", "occurred_at", "reported_at", "lon", "lat", "x", "y", "address",
        "description", "source",
    ),
    "hazards": (
        "source_id", "name", "category", "identified_at", "lon", "lat", "x", "y", "address",
        "method", "l", "e", "c", "s", "status", "closed_at", "source",
    ),
    "tracks": ("unit", "kind", "time", "lon", "lat"),
    "visits": ("person", "time", "area", "lon", "lat"),
    "boundaries": ("code", "area_name", "parent", "population"),
}  # fmt: skip
"""Per kind of file, the fields (roles of :data:`~geo.intake.fields.ALIASES`) whose column
the preview guesses; reference layers (buildings, roads, POIs) keep their own field names."""


@dataclass(frozen=True)
class Guess:
    """The column a field is read from, and why: ``header`` (the column's name is one the
    field is known by), or ``none`` (no column looks like it)."""

    column: str | None
    basis: str
    alias: str | None = None
    """The known name the column matched, for ``header``."""


@dataclass
class Preview:
    """The head of a file as the import page shows it."""

    format: str
    encoding: str | None
    """The text encoding (CSV only)."""
    crs: str
    headers: list[str]
    rows: list[list[str | None]]
    guesses: dict[str, Guess] = field(default_factory=dict)


def guess_columns(headers: list[str], fields: tuple[str, ...]) -> dict[str, Guess]:
    """For each of ``fields`` the first header named by one of its aliases; a header gives
    at most one field (the first that claims it)."""
    by_name = {norm_header(h): h for h in headers}
    taken: set[str] = set()
    out: dict[str, Guess] = {}
    for role in fields:
        out[role] = Guess(None, "none")
        for alias in ALIASES[role]:
            header = by_name.get(norm_header(alias))
            if header is not None and header not in taken:
                out[role] = Guess(header, "header", alias)
                taken.add(header)
                break
    return out


def _csv_head(path: Path, rows: int) -> tuple[str, list[str], list[list[str | None]]]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            head = list(itertools.islice(reader, rows + 1))
        except csv.Error as exc:
            msg = f"{path.name}: cannot be read as CSV ({exc})"
            raise InputError(msg) from exc
    headers = head[0] if head else []
    return encoding, headers, [[cell_text(v) for v in r] for r in head[1:]]


def _excel_head(path: Path, rows: int) -> tuple[list[str], list[list[str | None]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from exc
    try:
        filled = (
            r for r in book.worksheets[0].iter_rows(values_only=True) if any(map(cell_text, r))
        )
        head = list(itertools.islice(filled, rows + 1))
    finally:
        book.close()
    headers = [cell_text(h) or "" for h in head[0]] if head else []
    return headers, [[cell_text(v) for v in r] for r in head[1:]]


def _vector_head(path: Path, rows: int) -> tuple[CRS | None, list[str], list[list[str | None]]]:
    info = read_info(path)
    frame = pyogrio.read_dataframe(gdal_path(path), max_features=rows, read_geometry=False)
    headers = [str(c) for c in frame.columns]
    declared = info.get("crs")
    cells = [[cell_text(v) for v in r] for r in frame.itertuples(index=False)]
    return (CRS.from_user_input(declared) if declared else None), headers, cells


def preview_file(
    path: Path, *, kind: str, crs: str | int | None = None, rows: int = PREVIEW_ROWS
) -> Preview:
    """The head of ``path`` read as a file of ``kind`` (a key of :data:`FIELDS`, or a
    reference layer) with ``crs`` as ``--crs``.

    Raises
    ------
    InputError
        The file cannot be read at all (its format, its encoding).
    CRSError
        ``crs`` is not a CRS, or the file declares none where one is needed.
    """
    family = FORMATS.get(path.suffix.lower())
    encoding: str | None = None
    file_crs: CRS | None = None
    if family == "csv":
        encoding, headers, cells = _csv_head(path, rows)
    elif family == "excel":
        headers, cells = _excel_head(path, rows)
    elif family in ("vector", "gpx"):
        file_crs, headers, cells = _vector_head(path, rows)
    else:
        msg = f"{path.name}: unsupported format {path.suffix.lower()!r}"
        raise InputError(msg)
    points = kind not in ("boundaries", "buildings", "roads", "pois")
    source, _ = resolve_source_crs(file_crs, crs, assume_wgs84=points or family != "vector")
    return Preview(
        format=str(family),
        encoding=encoding,
        crs=source.name,
        headers=headers,
        rows=cells,
        guesses=guess_columns(headers, FIELDS.get(kind, ())),
    )
