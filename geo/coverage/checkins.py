"""Importing grid-head check-ins (visits): person, time, position, located in a micro-grid.

Grid heads (网格长) must visit every micro-grid every week (每周遍访); a check-in is
the record of one such visit. The micro-grid is found by the spatial join in the database with
the incident border rule (``locate_micro`` of migration 0003_records: the micro-grid whose
interior contains the point, else the smallest code among those touching it), never taken from
the file: a micro-grid the file names is kept as ``declared_code`` and a disagreement is
reported as a warning. A check-in outside
every micro-grid is rejected. Rows are upserted on (region, person, time): re-importing a file
changes nothing, a corrected position updates its row (a grid head's check-in whose person and
time are held only by one outside their area is a row of its own: migration ``k0013``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.coverage.tracks import raw_connection
from geo.database import current_scope, sql
from geo.errors import Problem
from geo.intake import PointBatch, Points, Source, open_table, payload_digest, records_source
from geo.intake.fields import ColumnMapping
from geo.locate import lock_areas
from geo.report import ImportReport, record_run
from geo.settings import Settings

_STAGE = (
    "CREATE TEMP TABLE staged_checkins (row bigint, person text, t timestamptz, x float8, "
    "y float8, declared text, located text, first_row bigint) ON COMMIT DROP"
)

# The staged rows to report: duplicates, outside every micro-grid, declared != located.
_PROBLEMS = (
    "SELECT row, person, t, declared, located, first_row FROM staged_checkins "
    "WHERE first_row <> row OR located IS NULL "
    "OR (declared IS NOT NULL AND declared IS DISTINCT FROM located) ORDER BY row"
)


def _stage(conn: Connection, batch: PointBatch, report: ImportReport) -> None:
    report.rejected += batch.rejected
    frame = pd.DataFrame(
        {
            "row": batch.rows,
            "person": batch.values["person"],
            "t": np.datetime_as_string(batch.t, unit="us") + "Z",
            "x": batch.x,
            "y": batch.y,
            "declared": batch.values["area"],
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, float_format="%.4f")
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            "COPY staged_checkins (row, person, t, x, y, declared) FROM STDIN (FORMAT csv)"
        ) as copy,
    ):
        copy.write(buffer.getvalue())


def load_checkins(
    engine: Engine, settings: Settings, source: Source[PointBatch], *, source_name: str
) -> ImportReport:
    """Stage, locate and upsert the check-ins of an opened point source in one transaction."""
    report = ImportReport(
        kind="visits", source=source_name, crs=source.crs.name, warnings=list(source.warnings)
    )
    params = {"region": settings.region, "srid": settings.srid}
    with engine.begin() as conn:
        lock_areas(conn, settings)
        conn.execute(text(_STAGE))
        for batch in source.batches:
            _stage(conn, batch, report)
        conn.execute(sql("coverage_checkins_locate", "geo.coverage"), params)
        for row, person, t, declared, located, first in conn.execute(text(_PROBLEMS)):
            if first != row:
                reason = f"duplicate check-in: {person!r} at {t.isoformat()} already at row {first}"
                report.rejected.append(Problem(row, person, reason))
            elif located is None:
                # A scoped caller's join sees only their own area's micro-grids.
                scope = current_scope()
                where = f"your area ({scope})" if scope else "every micro-grid"
                report.rejected.append(Problem(row, person, f"outside {where}"))
            else:
                report.warnings.append(
                    Problem(
                        row,
                        person,
                        f"the file names micro-grid {declared!r} but the position lies in "
                        f"{located!r}; stored in {located!r}",
                    )
                )
        for inserted in conn.execute(
            sql("coverage_checkins_upsert", "geo.coverage"), {**params, "crs": source.crs.name}
        ).scalars():
            if inserted:
                report.inserted += 1
            else:
                report.updated += 1
        staged = conn.execute(
            text(
                "SELECT count(*) FROM staged_checkins WHERE located IS NOT NULL AND first_row = row"
            )
        ).scalar_one()
        report.unchanged = int(staged) - report.inserted - report.updated
        report.rejected.sort(key=lambda p: p.row or 0)
        record_run(conn, region=settings.region, sha256=source.digest, report=report)
    return report


def import_checkins(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    crs: str | int | None = None,
    person: str | None = None,
    source_name: str | None = None,
    mapping: ColumnMapping | None = None,
) -> ImportReport:
    """Import a file of grid-head check-ins (CSV, GPX waypoints, GeoJSON, GeoPackage, a
    Shapefile zipped or not).

    Parameters
    ----------
    crs
        The coordinates' CRS when the file does not say (or says wrongly); see
        :mod:`geo.intake.projection`.
    person
        The grid head of rows that do not name one.
    mapping
        Role (``person``, ``time``, ``area``, ``lon``...) → the file's column, before the aliases.
    """
    source = open_table(path, crs, _reader(settings, person=person, mapping=mapping))
    return load_checkins(engine, settings, source, source_name=source_name or path.name)


def import_checkin_records(
    engine: Engine,
    settings: Settings,
    records: Sequence[Mapping[str, object]],
    *,
    crs: str | int | None = None,
    person: str | None = None,
    source_name: str = "api",
) -> ImportReport:
    """Import check-ins posted as JSON (``person``, ``time``, ``lon``/``lat``, ``micro_code``)."""
    payload = {"crs": crs, "person": person, "records": list(records)}
    reader = _reader(settings, person=person)
    source = records_source(records, crs, reader, digest=payload_digest(payload))
    return load_checkins(engine, settings, source, source_name=source_name)


def _reader(
    settings: Settings, *, person: str | None, mapping: ColumnMapping | None = None
) -> Points:
    """How a check-in file or batch is read: every visit needs its grid head."""
    return Points(
        srid=settings.srid,
        roles=("person", "area"),
        required=("person",),
        defaults={"person": person, "area": None},
        timezone=settings.timezone,
        batch_rows=settings.coverage.track_batch_rows,
        gpx_layer="waypoints",
        mapping=mapping,
    )
