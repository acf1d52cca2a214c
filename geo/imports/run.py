"""One import of one file, of any kind: the data desk's and the command line's way in.

:func:`import_file` reads the file's header and first rows, decides each field's column
(:func:`geo.imports.guess.guess_columns`: the caller's mapping, else the source's remembered
one, else headers and content), runs the kind's importer with that mapping and source, reports
progress, logs the run with its file, mapping and rejected rows (:mod:`geo.imports.history`),
and remembers the mapping for the source's next file (:mod:`geo.imports.mappings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo.boundaries import import_boundaries
from geo.coverage.checkins import import_checkins
from geo.coverage.tracks import import_tracks
from geo.errors import ImportRejectedError, InputError
from geo.imports.guess import ColumnGuess, Sample, guess_columns, sample_file
from geo.imports.history import Numbering, describe_run
from geo.imports.kinds import kind_key
from geo.imports.mappings import StoredMapping, remember_mapping, remembered_mapping
from geo.intake.fields import ColumnMapping
from geo.intake.files import file_digest
from geo.layers import import_layer
from geo.levels import Level
from geo.records import import_records
from geo.report import ImportReport, record_run
from geo.settings import Settings

Progress = Callable[[int, int | None], None]
"""Told ``(rows done, rows in the file or None)`` as an import goes; the estimate of the total
comes from the file's size and first rows (CSV), its sheet's dimension (Excel) or its feature
count (vector files), so ``done`` may pass it a little."""


@dataclass
class ImportRun:
    """What :func:`import_file` did.

    Attributes
    ----------
    run_id
        The import log's id of the run (:func:`geo.imports.history.get_import`).
    report
        The importer's report.
    guesses
        Each field's column and the basis it was chosen on.
    mapping
        The mapping the import used (field → column(s)).
    """

    run_id: int
    report: ImportReport
    guesses: list[ColumnGuess]
    mapping: StoredMapping


def _numbering(kind: str, sample: Sample) -> Numbering:
    if kind in {"incidents", "hazards"}:
        return {"csv": "line", "excel": "sheet"}.get(sample.file_format, "index")  # type: ignore[return-value]
    return "index"


def import_file(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    kind: str,
    source: str | None = None,
    level: Level | str | None = None,
    crs: str | int | None = None,
    mapping: ColumnMapping | None = None,
    file_name: str | None = None,
    progress: Progress | None = None,
    remember: bool = True,
    options: Mapping[str, Any] | None = None,
) -> ImportRun:
    """Import ``path`` as ``kind``, from ``source``, with each field's column decided first.

    Parameters
    ----------
    kind
        ``incidents``, ``hazards``, ``tracks``, ``visits``, ``boundaries`` (with ``level``),
        ``buildings``, ``roads`` or ``pois`` (:data:`geo.imports.kinds.KINDS`).
    source
        The platform or ledger the file comes from. Ids are unique within a source; importing
        a source's file again updates its rows instead of duplicating them. Default: the file's
        name without its extension.
    crs
        The coordinates' CRS when the file does not say (EPSG code, ``gcj02``, ``bd09``).
    mapping
        Field → column(s) the caller chose (None for a field: the file has none); it wins over
        the source's remembered mapping and the guesses.
    file_name
        The file's name as its sender knows it (an upload is stored under another): the
        history's, and the default source's.
    progress
        Told ``(rows done, total estimate)`` as batches are written (:data:`Progress`).
    remember
        Keep the mapping used for the source's next file of this kind, once the import stored
        something.
    options
        The kind's importer's own options: ``unit``/``kind`` (tracks), ``person`` (visits),
        ``allow_gaps``/``layer`` (boundaries).

    Raises
    ------
    InputError
        An unknown kind, a file no importer reads, a mapping naming a column the file lacks, a
        required field without a column (naming it and the file's columns).
    ImportRejectedError
        An all-or-nothing import (boundaries) refused: the run is logged with every problem.
    CRSError
        No usable CRS.
    """
    name = file_name or path.name
    source = source or Path(name).stem
    key = kind_key(kind, level)
    base = key.split(":")[0]
    sample = sample_file(path)
    remembered = remembered_mapping(engine, settings.region, kind=key, source=source)
    guesses = guess_columns(
        key, sample, timezone=settings.timezone, remembered=remembered, mapping=mapping
    )
    used: StoredMapping = {g.field: g.column for g in guesses if g.columns}
    used |= {k: None for k, v in (mapping or {}).items() if v is None}
    missing = [g.field for g in guesses if g.required and not g.columns]
    defaults = dict(options or {})
    # A field with a default among the options (a track file of one unit) needs no column.
    missing = [f for f in missing if not defaults.get(f)]
    if missing:
        fields = ", ".join(sample.headers) or "none"
        msg = (
            f"{name}: no column for {', '.join(missing)}; choose the column of each "
            f"(the file's columns: {fields})"
        )
        raise InputError(
            msg, code="mapping_required_missing", params={"fields": ", ".join(missing)}
        )
    total = sample.total_estimate
    if progress is not None:
        progress(0, total)

    def done(rows: int) -> None:
        if progress is not None:
            progress(rows, total)

    try:
        report = _run_importer(
            engine, settings, path, base, key, source, name, crs, used, defaults, done
        )
    except ImportRejectedError as exc:
        report = ImportReport(kind=key, source=source, rejected=list(exc.problems))
        with engine.begin() as conn:
            record_run(conn, region=settings.region, sha256=file_digest(path), report=report)
            _describe(conn, settings.region, report, path, name, sample, used, key)
        raise
    with engine.begin() as conn:
        _describe(conn, settings.region, report, path, name, sample, used, key)
        if remember and report.loaded:
            remember_mapping(conn, settings.region, kind=key, source=source, mapping=used)
    if progress is not None:
        progress(max(report.loaded + len(report.rejected), total or 0), total)
    return ImportRun(run_id=report.run_id or 0, report=report, guesses=guesses, mapping=used)


def _describe(
    conn: Connection,
    region: str,
    report: ImportReport,
    path: Path,
    name: str,
    sample: Sample,
    used: StoredMapping,
    key: str,
) -> None:
    if report.run_id is None:
        return
    describe_run(
        conn,
        report.run_id,
        region=region,
        path=path,
        file_name=name,
        sample=sample,
        mapping=used,
        rejected=report.rejected,
        numbering=_numbering(key, sample),
    )


def _run_importer(
    engine: Engine,
    settings: Settings,
    path: Path,
    base: str,
    key: str,
    source: str,
    name: str,
    crs: str | int | None,
    used: StoredMapping,
    options: dict[str, Any],
    done: Callable[[int], None],
) -> ImportReport:
    if base in {"incidents", "hazards"}:
        return import_records(
            engine, settings, path, kind=base, crs=crs, source=source, mapping=used, progress=done
        )
    if base == "tracks":
        return import_tracks(
            engine,
            settings,
            path,
            crs=crs,
            unit=options.get("unit"),
            kind=options.get("kind"),
            source_name=source,
            mapping=used,
        )
    if base == "visits":
        return import_checkins(
            engine,
            settings,
            path,
            crs=crs,
            person=options.get("person"),
            source_name=source,
            mapping=used,
        )
    if base == "boundaries":
        return import_boundaries(
            engine,
            settings,
            path,
            level=Level(key.split(":")[1]),
            crs=crs,
            layer=options.get("layer"),
            allow_gaps=bool(options.get("allow_gaps", False)),
            source_name=source,
            mapping=used,
        )
    return import_layer(
        engine, settings, path, kind=base, crs=crs, source_name=source, mapping=used
    )
