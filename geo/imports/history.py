"""The import history: every run with who, when, the file, the mapping, the counts and the report,
and its rejected rows given back as the same kind of file with a reason column to fix.

A run is logged by the importer itself, in its own transaction (:func:`geo.report.record_run`:
kind, source, digest, report, and the audit actor as who). :func:`describe_run` adds what the
data desk knows of the file (its name, format, encoding, header and the mapping used) and each
rejected row's cells as the file held them, read back from the file by row number
(:func:`rejected_cells`), so :func:`rejected_file` can write them out again:

- a CSV file as CSV in the same encoding (UTF-8 with its byte-order mark, or GBK), with the
  same header;
- an Excel workbook as an ``.xlsx`` workbook with the same header;
- a vector or GPX file as CSV (UTF-8 with a byte-order mark, which Excel opens), its attributes
  without the geometry: the rows are fixed in a spreadsheet, not a GIS.

Each row gets one more column, :data:`REASON_HEADER` (原因), with the reason in the reader's
language. Importing the fixed file again under the same source imports those rows and, every
other row being unchanged, changes nothing else.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyogrio
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine
from sqlalchemy.engine import Connection, RowMapping

from geo.database import sql
from geo.errors import InputError, NotFoundError, Problem
from geo.imports.guess import Sample
from geo.imports.mappings import plain_mapping
from geo.intake.fields import IGNORED_HEADERS, ColumnMapping, cell_text
from geo.intake.files import gdal_path

PACKAGE = "geo.imports"

REASON_HEADER = next(iter(IGNORED_HEADERS))
"""The column the rejected rows' reasons are written in, 原因 (which no import reads back)."""

Numbering = Literal["line", "sheet", "index"]
"""How an importer numbers a file's rows: ``line`` a CSV record's first line (the header is line
1), ``sheet`` an Excel sheet's row number, ``index`` the 1-based data row or feature number."""


@dataclass(frozen=True)
class RejectedFile:
    """A run's rejected rows as a file: its name, media type and bytes."""

    name: str
    media_type: str
    content: bytes


def rejected_cells(
    path: Path, sample: Sample, rows: set[int], numbering: Numbering
) -> Iterator[tuple[int, list[str | None]]]:
    """The cells (as text) of the rows of ``path`` numbered ``rows``, read in one pass that
    stops after the last of them.

    Raises
    ------
    InputError
        The file can no longer be read.
    """
    if not rows:
        return iter(())
    read = {"csv": _csv_cells, "excel": _excel_cells}.get(sample.file_format, _vector_cells)
    last = max(rows)
    return ((row, cells) for row, cells in read(path, sample, last, numbering) if row in rows)


def _csv_cells(
    path: Path, sample: Sample, last: int, numbering: Numbering
) -> Iterator[tuple[int, list[str | None]]]:
    with path.open(encoding=sample.encoding or "utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num + 1
        for index, values in enumerate(reader, start=1):
            row = start if numbering == "line" else index
            start = reader.line_num + 1
            yield row, list(values)
            if row >= last:
                return


def _excel_cells(
    path: Path, sample: Sample, last: int, numbering: Numbering
) -> Iterator[tuple[int, list[str | None]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from exc
    try:
        header_row = 0
        values = book.worksheets[0].iter_rows(values_only=True)
        for header_row, cells in enumerate(values, start=1):  # noqa: B007 - used after
            if any(cell_text(v) for v in cells):
                break
        for index, cells in enumerate(values, start=1):
            row = header_row + index if numbering != "index" else index
            yield row, [cell_text(v) for v in cells][: len(sample.headers)]
            if row >= last:
                return
    finally:
        book.close()


def _vector_cells(
    path: Path, sample: Sample, last: int, numbering: Numbering
) -> Iterator[tuple[int, list[str | None]]]:
    del numbering  # features are numbered from 1 whatever the kind
    layer = "track_points" if sample.file_format == "gpx" else None
    step = 10_000
    for skip in range(0, last, step):
        frame = pyogrio.read_dataframe(
            gdal_path(path),
            layer=layer,
            skip_features=skip,
            max_features=step,
            read_geometry=False,
        )
        for offset, record in enumerate(frame[sample.headers].to_numpy(dtype=object)):
            yield skip + offset + 1, [cell_text(v) for v in record]


def describe_run(
    conn: Connection,
    run_id: int,
    *,
    region: str,
    path: Path,
    file_name: str,
    sample: Sample,
    mapping: ColumnMapping,
    rejected: list[Problem],
    numbering: Numbering,
) -> None:
    """Add the file's name, format, encoding, header, the mapping used and the rejected rows'
    cells to run ``run_id`` of the import log."""
    conn.execute(
        sql("run_describe", PACKAGE),
        {
            "id": run_id,
            "region": region,
            "file_name": file_name,
            "file_format": sample.file_format,
            "encoding": sample.encoding,
            "header": json.dumps(sample.headers, ensure_ascii=False),
            "mapping": json.dumps(plain_mapping(mapping), ensure_ascii=False),
        },
    )
    by_row: dict[int, list[Problem]] = {}
    for problem in rejected:
        if problem.row is not None:
            by_row.setdefault(problem.row, []).append(problem)
    batch: list[dict[str, Any]] = []
    statement = sql("rejected_insert", PACKAGE)
    for row, cells in rejected_cells(path, sample, set(by_row), numbering):
        first = by_row[row][0]
        batch.append(
            {
                "region": region,
                "run": run_id,
                "row": row,
                "cells": json.dumps(cells, ensure_ascii=False),
                "reason": "; ".join(p.reason for p in by_row[row]),
                "code": first.code,
                "params": json.dumps(first.params, ensure_ascii=False),
            }
        )
        if len(batch) >= 1000:
            conn.execute(statement, batch)
            batch = []
    if batch:
        conn.execute(statement, batch)


def list_imports(
    engine: Engine, region: str, *, before_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The import runs, newest first: id, when, who, kind, source, file, digest and counts."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("runs_list", PACKAGE), {"region": region, "before": before_id, "limit": limit}
        ).mappings()
        return [_plain(r) for r in rows]


def _plain(row: RowMapping) -> dict[str, Any]:
    out = dict(row)
    out["finished_at"] = out["finished_at"].isoformat()
    return out


def get_import(engine: Engine, region: str, run_id: int) -> dict[str, Any]:
    """One run: what :func:`list_imports` gives, the mapping used and the whole report.

    Raises
    ------
    NotFoundError
        No run ``run_id`` in the region.
    """
    with engine.connect() as conn:
        found = (
            conn.execute(sql("run_get", PACKAGE), {"region": region, "id": run_id})
            .mappings()
            .first()
        )
    if found is None:
        msg = f"no import run {run_id}"
        raise NotFoundError(msg, code="import_not_found", params={"id": run_id})
    return _plain(found)


def rejected_file(
    engine: Engine, region: str, run_id: int, *, reason: Callable[[Problem], str]
) -> RejectedFile:
    """Run ``run_id``'s rejected rows as the same kind of file, with a reason column.

    Parameters
    ----------
    reason
        The reason as the reader reads it (a page's language), from a row's problem (its English
        ``reason``, ``code`` and ``params``).

    Raises
    ------
    NotFoundError
        No run ``run_id`` in the region.
    InputError
        The run was not made from a file the history describes (an API batch, an older run).
    """
    run = get_import(engine, region, run_id)
    if run["file_format"] is None:
        msg = f"import run {run_id} has no file to give back (it did not come from a file)"
        raise InputError(msg, code="import_no_file", params={"id": run_id})
    with engine.connect() as conn:
        rows = conn.execute(sql("rejected_list", PACKAGE), {"region": region, "id": run_id}).all()
    header = [*run["header"], REASON_HEADER]
    body = [
        [*cells, reason(Problem(row, None, text, code, dict(params or {})))]
        for row, cells, text, code, params in rows
    ]
    stem = Path(run["file_name"] or f"import-{run_id}").stem
    if run["file_format"] == "excel":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(header)
        for values in body:
            sheet.append(values)
        out = io.BytesIO()
        book.save(out)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return RejectedFile(f"{stem}-rejected.xlsx", media, out.getvalue())
    encoding = run["encoding"] if run["file_format"] == "csv" else None
    text_out = io.StringIO(newline="")
    writer = csv.writer(text_out)
    writer.writerow(header)
    writer.writerows(body)
    content = text_out.getvalue().encode(encoding or "utf-8-sig")
    charset = "gb18030" if encoding == "gb18030" else "utf-8"
    return RejectedFile(f"{stem}-rejected.csv", f"text/csv; charset={charset}", content)
