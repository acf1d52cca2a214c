"""The two ways records come in: a file (:func:`import_records`) and JSON objects
(:func:`submit_records`, the POST endpoints), under the same checks and the same upsert.

The import rule: good rows load and every bad row is reported with its row number and reason
(a number that is not one, a missing field, NaN/inf, lat/lon swapped, an empty line, an unknown
type, a time that cannot be read, no usable location). Rows are upserted by
``(region, source, source_id)``: a record seen again with the same content is left untouched,
with new content it is updated, so re-importing a file changes nothing and a duplicate updates
instead of duplicating (except for a grid head's record whose key is held only by a record
outside their area: it is a record of its own, keyed with their scope, ``key_scope`` of
migration ``k0013``, so the answer never tells them which ids exist elsewhere). Within one
batch of a file the later of two rows with the same source and id wins (the earlier is reported
as a warning).

Locations, in order of preference:

1. coordinates, ``lon``/``lat`` (or ``x``/``y``; Chinese 经度/纬度) in the file's CRS: ``--crs``
   (EPSG code, ``gcj02``, ``bd09``), else the file's own CRS, else WGS84 for CSV/Excel;
2. an address (地址) matched against the buildings' door-plate gazetteer
   (:class:`geo.address.AddressGazetteer`); the matched building's point-on-surface becomes the
   location, with ``located_by = 'address'`` and the match score.

Every located point is then placed by one set-based, polygon-driven join in the database (the
border rule of ``locate_micro``, see :mod:`geo.locate`); a point outside every micro-grid is kept
with a null area and reported.

Sources: a source is the platform or ledger a file comes from (``--source``; the page's source
field). Ids are unique within a source, so re-importing a source's file updates its records
instead of duplicating them. A row's ``source`` column wins; a file without one takes the
given source, else (the old default) its file name without the extension. A row whose id and
content (type or category, and time) a record of ANOTHER source already holds is rejected with
a reason naming that source, so the same records exported again under another name are never
stored twice: import them again with that source to update them.

A record with no id takes ``h:`` and a digest of its cells, so that re-importing the same file
still changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from geo.crs import SourceCRS, parse_crs
from geo.intake import RawBatch, Rows, match_headers, open_table, paused_gc, prefetch
from geo.intake.fields import ColumnMapping
from geo.locate import lock_areas
from geo.records.context import import_context
from geo.records.kinds import Placement, kind_sql, record_kind
from geo.records.staging import run_import
from geo.report import ImportReport, record_run
from geo.settings import Settings


def import_records(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    kind: str,
    crs: str | int | None = None,
    source_name: str | None = None,
    source: str | None = None,
    mapping: ColumnMapping | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file of incidents or hazards; good rows load, every bad row is reported.

    Parameters
    ----------
    path
        CSV (UTF-8 or GBK), Excel .xlsx, GeoJSON, GeoPackage or Shapefile (zipped or not).
    kind
        ``incidents`` or ``hazards``.
    crs
        The coordinates' CRS (EPSG code, ``gcj02``, ``bd09``); default: the file's own CRS,
        else WGS84.
    source_name
        Name for the report when ``source`` is not given (default: the file's name); its stem
        is then the default ``source`` of rows.
    source
        The platform or ledger the file comes from: the ``source`` of every row that names
        none, and the report's source (see the module docstring).
    mapping
        Field → the file's column(s) (:data:`geo.intake.fields.ColumnMapping`); the fields it
        does not name are found by their header aliases.
    progress
        Called after each batch is written with the rows read so far.

    Returns
    -------
    ImportReport
        Counts, every rejected row with its reason, and warnings (points outside every area,
        rows superseded by a later row with the same id). The file is read in batches of
        ``settings.intake.import_batch_rows`` rows, all in one transaction.

    Raises
    ------
    InputError
        The file cannot be read at all, or has no column for a field every record needs
        (``KINDS[kind].required``, a location), named with the file's own fields.
    CRSError
        ``crs`` is not a usable CRS.
    """
    name = source or source_name or path.name
    rows = Rows(
        batch_rows=settings.intake.import_batch_rows,
        required=record_kind(kind).required,
        mapping=mapping,
    )
    table = open_table(path, crs, rows)
    batches = prefetch(table.batches)
    with paused_gc(), engine.begin() as conn, _locator(engine) as locator:
        lock_areas(conn, settings)
        ctx = import_context(conn, settings, kind, name, table.crs.name)
        ctx.locator = locator
        ctx.default_source = source or Path(name).stem
        ctx.report.warnings += table.warnings
        run_import(ctx, settings, _counted(_waited(batches, ctx.report), table.crs, progress))
        record_run(conn, region=settings.region, sha256=table.digest, report=ctx.report)
        committing = time.perf_counter()
    ctx.report.timings["commit"] = time.perf_counter() - committing
    return ctx.report


@contextmanager
def _locator(engine: Engine) -> Iterator[Connection | None]:
    """A second connection that places a file's points while the import writes on its own
    (:attr:`ImportContext.locator`), in a transaction of its own that reads committed areas
    only (the import holds the boundary lock, so they stay as they are); None when the pool
    gives none within its timeout: the import then places its points itself."""
    try:
        conn = engine.connect()
    except PoolTimeoutError:
        yield None
        return
    with conn, conn.begin():
        yield conn


def _counted(
    batches: Iterator[RawBatch], crs: SourceCRS, progress: Callable[[int], None] | None
) -> Iterator[tuple[RawBatch, SourceCRS]]:
    """The batches with their CRS, telling ``progress`` the rows read once each is written."""
    done = 0
    for batch in batches:
        yield batch, crs
        done += len(batch) + len(batch.problems)
        if progress is not None:
            progress(done)


def _waited(batches: Iterator[RawBatch], report: ImportReport) -> Iterator[RawBatch]:
    """``batches``, the time spent waiting on each (the reader's share) added as "read"."""
    while True:
        with report.timed("read"):
            batch = next(batches, None)
        if batch is None:
            return
        yield batch


def _batch_from_records(records: Sequence[dict[str, Any]], rows: list[int]) -> RawBatch:
    """A batch from JSON objects; keys are read like file headers (English or Chinese)."""
    headers: list[str] = []
    for record in records:
        headers += [k for k in record if k not in headers and k != "crs"]
    known, extra = match_headers(list(headers))

    def column(header: str) -> np.ndarray:
        out = np.empty(len(records), dtype=object)
        out[:] = [_json_cell(r.get(header)) for r in records]
        return out

    return RawBatch(
        rows=np.asarray(rows, dtype=np.int64),
        cells={k: column(headers[i]) for k, i in known.items()},
        extra={k: column(headers[i]) for k, i in extra.items()},
    )


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text_value = str(value).strip()
    return text_value or None


def submit_records(
    engine: Engine,
    settings: Settings,
    records: Sequence[dict[str, Any]],
    *,
    kind: str,
) -> tuple[ImportReport, list[Placement]]:
    """Store records given as JSON objects (the POST endpoints); same rules as a file import.

    Each record may carry ``crs`` (EPSG code, ``gcj02``, ``bd09``; default WGS84) with its
    ``lon``/``lat``, or an ``address``. Row numbers in the answer are 1-based positions.

    Returns
    -------
    report, placements
        The import report and, per record in order, where it went or why it was rejected.
    """
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault(str(record.get("crs") or "EPSG:4326"), []).append(index)
    parsed = {name: parse_crs(name) for name in groups}
    placed: dict[int, tuple[str | None, list[str]]] = {}
    # A request does not queue behind a long file import: whatever it waits on, it gets a 503
    # to retry once GRIDSAFE_SUBMIT_WAIT_S has passed.
    deadline = time.monotonic() + settings.intake.submit_wait_s
    with engine.begin() as conn:
        lock_areas(conn, settings, deadline=deadline)
        ctx = import_context(
            conn, settings, kind, "api", ", ".join(s.name for s in parsed.values())
        )
        ctx.deadline = deadline

        def collect(batch: RawBatch) -> None:
            placed_rows = conn.execute(kind_sql("placed", ctx.kind.name), {"region": ctx.region})
            for row, code, path in placed_rows:
                placed[int(row)] = (code, list(path))

        run_import(
            ctx,
            settings,
            (
                (
                    _batch_from_records([records[i] for i in idx], [i + 1 for i in idx]),
                    parsed[name],
                )
                for name, idx in groups.items()
            ),
            on_batch=collect,
        )
        record_run(conn, region=settings.region, sha256="", report=ctx.report)
    rejected = {p.row: p.reason for p in ctx.report.rejected}
    superseded = {p.row: p.reason for p in ctx.report.warnings if "which wins" in p.reason}
    out = []
    for index, record in enumerate(records):
        row = index + 1
        code, path = placed.get(row, (None, []))
        reason = rejected.get(row) or superseded.get(row)
        out.append(
            Placement(
                row=row,
                source=_json_cell(record.get("source")) or "api",
                source_id=_json_cell(record.get("source_id") or record.get("id")),
                area_code=code,
                area_path=path,
                located_by=None if reason else ("coordinates" if "lon" in record else "address"),
                rejected=reason,
            )
        )
    return ctx.report, out
