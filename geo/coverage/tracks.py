"""Importing patrol GPS fixes: read in batches, cleaned, stored in monthly partitions.

Cleaning, each step counted in the report (and every dropped row named with its reason):

- **duplicates**: a second fix of the same unit at the same time (the first, by row, is kept);
- **impossible speeds**: a fix whose distance from the unit's last kept fix, over the time
  between them, exceeds the unit kind's maximum speed (a setting) is dropped; the check runs
  within a track only, so a unit reappearing after a gap is never judged by a stale position.
  The first kept fix of a unit is the anchor; a file whose very first fix is a jump keeps it and
  drops the good fixes after it until one is again within reach of it, so the report counts such
  a file's drops visibly;
- **tracks**: a unit's fixes split into tracks where consecutive kept fixes are more than
  ``settings.track_gap_s`` apart (DESIGN.md: 10 minutes). Track boundaries are not stored: they
  are recomputed from the times in every query, so fixes arriving later in live batches join
  the right track.

The rows are staged in a temporary table (streamed with COPY), sorted there, cleaned while
streaming back, and inserted with ``ON CONFLICT DO NOTHING`` on (region, unit, time): importing
the same file again changes nothing; the stored coverage of the shifts the new fixes fall in is
deleted in the same transaction (geo/coverage/covered.py). The speed check of the first fixes of
a batch uses the unit's last stored fix before them, so live batches from a device are cleaned
as one stream.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.coverage.covered import invalidate
from geo.coverage.points import PointBatch, PointSource, open_points, records_source
from geo.database import sql
from geo.errors import Problem
from geo.report import ImportReport, record_run
from geo.settings import Settings
from geo.sources import file_digest

UNIT_KINDS = ("foot", "bicycle", "vehicle")

KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "foot": ("foot", "walk", "walking", "on foot", "pedestrian", "步巡", "步行", "徒步"),
    "bicycle": (
        "bicycle", "bike", "cycle", "ebike", "e-bike", "自行车", "骑行", "电动车", "电动自行车",
    ),
    "vehicle": (
        "vehicle", "car", "motorbike", "motorcycle", "车巡", "车辆", "汽车", "警车", "摩托车",
    ),
}  # fmt: skip
_KIND_BY_ALIAS = {a.lower(): kind for kind, aliases in KIND_ALIASES.items() for a in aliases}

# Temporary tables of one import (dropped at commit).
_STAGE = (
    "CREATE TEMP TABLE staged_fixes (row bigint, unit text, kind text, t timestamptz, "
    "x float8, y float8) ON COMMIT DROP"
)
_FLUSH_ROWS = 50_000
_KEPT = (
    "CREATE TEMP TABLE kept_fixes (unit text, kind text, t timestamptz, x float8, y float8) "
    "ON COMMIT DROP"
)


def parse_kind(value: str | None) -> str | None:
    """The unit kind (``foot``, ``bicycle``, ``vehicle``) an English or Chinese word names."""
    if value is None:
        return None
    return _KIND_BY_ALIAS.get(value.strip().lower())


@dataclass
class TrackReport(ImportReport):
    """An import report with the cleaning counts of a track import."""

    duplicates: int = 0
    too_fast: int = 0
    tracks: int = 0
    units: int = 0

    def as_dict(self) -> dict[str, object]:
        """The base report plus the cleaning counts."""
        return {
            **super().as_dict(),
            "duplicates": self.duplicates,
            "too_fast": self.too_fast,
            "tracks": self.tracks,
            "units": self.units,
        }

    def lines(self) -> list[str]:
        """The base lines with the cleaning counts after the first."""
        base = super().lines()
        counts = (
            f"  cleaning: {self.units} unit(s), {self.tracks} track(s) started, "
            f"{self.duplicates} duplicate fix(es) and {self.too_fast} fix(es) at impossible "
            "speed dropped"
        )
        return [base[0], counts, *base[1:]]


def max_speeds_ms(settings: Settings) -> dict[str, float]:
    """Maximum plausible speed per unit kind in m/s (the settings are in km/h)."""
    return {
        "foot": settings.max_speed_kmh_foot / 3.6,
        "bicycle": settings.max_speed_kmh_bicycle / 3.6,
        "vehicle": settings.max_speed_kmh_vehicle / 3.6,
    }


def _stage(conn: Connection, batch: PointBatch, report: TrackReport) -> None:
    """Append one batch to ``staged_fixes`` with COPY, rejecting rows of unknown unit kind."""
    report.rejected += batch.rejected
    kinds = [parse_kind(v) for v in batch.values["kind"]]
    keep = np.array([k is not None for k in kinds], dtype=bool)
    for i in np.flatnonzero(~keep):
        report.rejected.append(
            Problem(
                int(batch.rows[i]),
                batch.values["unit"][i],
                f"unknown unit kind {batch.values['kind'][i]!r} (use foot, bicycle or vehicle)",
            )
        )
    frame = pd.DataFrame(
        {
            "row": batch.rows[keep],
            "unit": np.asarray(batch.values["unit"], dtype=object)[keep],
            "kind": np.asarray(kinds, dtype=object)[keep],
            "t": np.datetime_as_string(batch.t[keep], unit="us") + "Z",
            "x": batch.x[keep],
            "y": batch.y[keep],
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, float_format="%.4f")
    raw = raw_connection(conn)
    with (
        raw.cursor() as cur,
        cur.copy("COPY staged_fixes (row, unit, kind, t, x, y) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(buffer.getvalue())


def _clean(conn: Connection, settings: Settings, report: TrackReport) -> None:
    """Stream the staged fixes back sorted by unit and time, keep the clean ones in ``kept_fixes``.

    The speed check anchors on the last kept fix of the unit (or its last stored fix before the
    batch); see the module docstring.
    """
    seeds = {
        unit: (t, x, y)
        for unit, t, x, y in conn.execute(sql("coverage_fix_seeds"), {"region": settings.region})
    }
    limits = max_speeds_ms(settings)
    gap = settings.track_gap_s
    raw = raw_connection(conn)
    kept: list[str] = []
    units: set[str] = set()
    last_unit: str | None = None
    last_t: datetime | None = None
    last_x = last_y = 0.0
    last_row = 0
    with raw.cursor(name="gridsafe_clean_fixes") as cur:
        cur.itersize = 50_000
        cur.execute("SELECT row, unit, kind, t, x, y FROM staged_fixes ORDER BY unit, t, row")
        for row, unit, kind, t, x, y in cur:
            if unit != last_unit:
                units.add(unit)
                last_unit = unit
                last_row = 0
                last_t, last_x, last_y = seeds.get(unit, (None, 0.0, 0.0))
            if last_t is not None and t == last_t:
                first = f"row {last_row}" if last_row else "a fix already stored"
                reason = f"duplicate fix: unit {unit!r} at {t.isoformat()} already at {first}"
                report.rejected.append(Problem(row, unit, reason))
                report.duplicates += 1
                continue
            dt = None if last_t is None else (t - last_t).total_seconds()
            if dt is None or dt > gap:
                report.tracks += 1
            else:
                speed = math.hypot(x - last_x, y - last_y) / dt
                if speed > limits[kind]:
                    reason = (
                        f"impossible speed for {kind}: {speed * 3.6:.0f} km/h since the previous "
                        f"fix (over {limits[kind] * 3.6:.0f} km/h)"
                    )
                    report.rejected.append(Problem(row, unit, reason))
                    report.too_fast += 1
                    continue
            last_t, last_x, last_y, last_row = t, x, y, row
            kept.append(f"{_csv(unit)},{kind},{t.isoformat()},{x!r},{y!r}\n")
            if len(kept) >= _FLUSH_ROWS:
                _copy_kept(raw, kept)
    _copy_kept(raw, kept)
    report.units = len(units)


def _copy_kept(raw: psycopg.Connection[Any], lines: list[str]) -> None:
    """COPY CSV lines into ``kept_fixes`` and empty the list (between fetches of the cursor)."""
    with (
        raw.cursor() as out,
        out.copy("COPY kept_fixes (unit, kind, t, x, y) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write("".join(lines))
    lines.clear()


def raw_connection(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy one (for COPY and a server-side cursor)."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        msg = f"track import needs the psycopg 3 driver, not {type(raw).__name__}"
        raise TypeError(msg)
    return raw


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def ensure_partitions(conn: Connection, months: Iterable[datetime]) -> list[str]:
    """Create the monthly partitions of ``fixes`` (UTC calendar months) that do not exist yet.

    A partition that exists is left alone without taking a lock on ``fixes``; creating one takes
    a short exclusive lock, once a month.

    Returns
    -------
    list of str
        The partitions created.
    """
    created = []
    for month in sorted(set(months)):
        start = _month_start(month.year, month.month)
        end = _month_start(month.year, month.month + 1)
        # The name and bounds come from integers, never from input.
        name = f"fixes_p{start:%Y%m}"
        if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            continue
        conn.execute(text("SELECT pg_advisory_xact_lock(4547004)"))
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF fixes "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
        created.append(name)
    return created


def _store(conn: Connection, settings: Settings, report: TrackReport) -> None:
    months = conn.execute(
        text("SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC') FROM kept_fixes")
    ).scalars()
    ensure_partitions(conn, [m.replace(tzinfo=UTC) for m in months])
    kept, first, last = conn.execute(text("SELECT count(*), min(t), max(t) FROM kept_fixes")).one()
    inserted = conn.execute(
        sql("coverage_fixes_insert"), {"region": settings.region, "srid": settings.srid}
    ).rowcount
    report.inserted += inserted
    report.unchanged += int(kept) - inserted
    if inserted:
        # The stored covers of the shifts these fixes fall in no longer hold.
        invalidate(conn, settings, start=first, end=last)


def load_fixes(
    engine: Engine,
    settings: Settings,
    source: PointSource,
    *,
    source_name: str,
    sha256: str,
) -> TrackReport:
    """Stage, clean and store the fixes of an opened point source in one transaction."""
    report = TrackReport(
        kind="tracks", source=source_name, crs=source.crs, warnings=source.warnings
    )
    with engine.begin() as conn:
        conn.execute(text(_STAGE))
        conn.execute(text(_KEPT))
        for batch in source.batches:
            _stage(conn, batch, report)
        conn.execute(text("ANALYZE staged_fixes"))
        _clean(conn, settings, report)
        _store(conn, settings, report)
        report.rejected.sort(key=lambda p: p.row or 0)
        record_run(conn, region=settings.region, sha256=sha256, report=report)
    return report


def import_tracks(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    crs: str | int | None = None,
    unit: str | None = None,
    kind: str | None = None,
    source_name: str | None = None,
) -> TrackReport:
    """Import a file of patrol fixes (CSV, GPX, GeoJSON, GeoPackage, Shapefile).

    Parameters
    ----------
    crs
        The coordinates' CRS when the file does not say (or says wrongly); see geo/sources.py.
    unit, kind
        The unit and unit kind of rows (or GPX tracks) that do not name their own.

    Raises
    ------
    InputError, CRSError
        The file cannot be read at all (nothing is written).
    """
    source = open_points(
        path,
        crs=crs,
        srid=settings.srid,
        roles=("unit", "kind"),
        required=("unit", "kind"),
        defaults={"unit": unit, "kind": kind},
        timezone=settings.timezone,
        batch_rows=settings.track_batch_rows,
        gpx_layer="track_points",
    )
    return load_fixes(
        engine, settings, source, source_name=source_name or path.name, sha256=file_digest(path)
    )


def import_track_records(
    engine: Engine,
    settings: Settings,
    records: Sequence[Mapping[str, object]],
    *,
    crs: str | int | None = None,
    unit: str | None = None,
    kind: str | None = None,
    source_name: str = "api",
) -> TrackReport:
    """Import a batch of fixes posted by a device (``time``, ``lon``/``lat``, ``unit``, ``kind``).

    Cleaned like a file; the speed check continues from the unit's last stored fix.
    """
    source = records_source(
        records,
        crs=crs,
        srid=settings.srid,
        roles=("unit", "kind"),
        required=("unit", "kind"),
        defaults={"unit": unit, "kind": kind},
        timezone=settings.timezone,
    )
    payload = {"crs": crs, "unit": unit, "kind": kind, "records": list(records)}
    return load_fixes(engine, settings, source, source_name=source_name, sha256=digest_of(payload))


def digest_of(payload: object) -> str:
    """SHA-256 of a JSON payload (the import log's key of a batch posted over HTTP)."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
