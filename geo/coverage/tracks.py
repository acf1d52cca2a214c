"""Importing patrol GPS fixes: read in batches, cleaned, stored in monthly partitions.

Cleaning, each step counted in the report (and every dropped row named with its reason):

- **duplicates**: a second fix of the same unit at the same time (the first, by row, is kept);
- **impossible speeds**: within a track, the fixes kept are the largest set that can be travelled
  in time order at the unit kind's maximum speed (a setting): each kept fix is within reach of
  the kept fix before it. Every other fix is dropped. An isolated jump is thus dropped whether it
  is a track's first fix, one in the middle or its last, and the good fixes on both sides are
  kept; so is a run of wrong fixes as long as the good fixes around it outnumber it. Kept fixes
  more than the track gap apart are not compared (the track splits there), so a unit reappearing
  after a gap is never judged by a stale position. Where two fixes contradict each other and
  nothing else decides, the later one is kept, so a device's live stream recovers from a bad
  first fix instead of losing every good fix after it. The set is the longest path through the
  fixes in time order, a step allowed where the later fix is within reach of the earlier one
  (or more than the track gap after it), found by dynamic programming as for the longest
  increasing subsequence: each fix looks back over the fixes of the last track gap only, and
  stops as soon as no earlier fix can give a longer chain, so a clean track costs one or two
  comparisons per fix (:func:`plausible_chain`);
- **tracks**: a unit's fixes split into tracks where consecutive kept fixes are more than
  ``settings.coverage.track_gap_s`` apart (10 minutes by default). Track boundaries are not
  stored: they are recomputed from the times in every query, so fixes arriving later in live
  batches join the right track.

The rows are staged in a temporary table (streamed with COPY), sorted there, cleaned while
streaming back, and inserted with ``ON CONFLICT DO NOTHING`` on (region, unit, time): importing
the same file again changes nothing; the stored coverage of the shifts the new fixes fall in is
deleted in the same transaction (geo/coverage/covered.py). The speed check of a batch's first
fixes takes in the unit's fixes stored in the track gap before them, so live batches from a
device are cleaned as one stream (a stored fix is never deleted: a later batch that shows it
wrong only stops it from deciding). Memory holds one run of a unit's fixes without a gap, at
most ``_RUN_ROWS`` of them; a longer run is cleaned in pieces, each continuing from the fixes the
last one kept.
"""

from __future__ import annotations

import bisect
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.coverage.covered import invalidate
from geo.database import sql
from geo.errors import Problem
from geo.intake import PointBatch, Points, Source, open_table, payload_digest, records_source
from geo.intake.fields import ColumnMapping
from geo.locate import lock_areas
from geo.report import ImportReport, record_run
from geo.settings import CoverageSettings, Settings

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
_RUN_ROWS = 100_000  # fixes of one run cleaned at once (see the module docstring)
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


def max_speeds_ms(coverage: CoverageSettings) -> dict[str, float]:
    """Maximum plausible speed per unit kind in m/s (the settings are in km/h)."""
    return {
        "foot": coverage.max_speed_kmh_foot / 3.6,
        "bicycle": coverage.max_speed_kmh_bicycle / 3.6,
        "vehicle": coverage.max_speed_kmh_vehicle / 3.6,
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


class _Fix(NamedTuple):
    """One fix being cleaned; ``row`` is None for a fix stored before this import."""

    row: int | None
    kind: str
    when: datetime
    x: float
    y: float
    limit: float  # the kind's maximum speed, m/s
    settled: bool  # stored, or kept by this import's previous piece of the run: not re-emitted

    @property
    def where(self) -> str:
        return f"row {self.row}" if self.row else f"the stored fix at {self.when.isoformat()}"


def plausible_chain(
    t: Sequence[float],
    x: Sequence[float],
    y: Sequence[float],
    limit: Sequence[float],
    gap: float,
) -> list[int]:
    """The longest chain of fixes, in time order, that a unit can travel (see the module docstring).

    Parameters
    ----------
    t
        Times in seconds, strictly increasing.
    x, y
        Positions in metres.
    limit
        Per fix, the maximum speed (m/s) at which it may be reached from the fix before it.
    gap
        Fixes more than ``gap`` seconds apart are not compared: the track splits between them.

    Returns
    -------
    list of int
        The indices of the chain, ascending. Of equally long chains, the one ending latest, and
        of its equally good links, the one from the latest fix.
    """
    n = len(t)
    best = [0] * n  # the longest chain ending at fix i
    back = [-1] * n  # the fix before i in that chain
    top = [0] * n  # max(best[: i + 1]) ...
    top_at = [-1] * n  # ... and the latest fix with it
    old = -1  # the last fix more than ``gap`` before fix i
    for i in range(n):
        while old + 1 < i and t[i] - t[old + 1] > gap:
            old += 1
        found, via = 0, -1
        reach = limit[i]
        for j in range(i - 1, old, -1):
            if top[j] <= found:
                break  # no fix from j back can give a longer chain
            if best[j] > found and math.hypot(x[i] - x[j], y[i] - y[j]) <= reach * (t[i] - t[j]):
                found, via = best[j], j
        if old >= 0 and top[old] > found:
            found, via = top[old], top_at[old]  # a new track after a gap: no speed to check
        best[i], back[i] = found + 1, via
        if i and top[i - 1] > best[i]:
            top[i], top_at[i] = top[i - 1], top_at[i - 1]
        else:
            top[i], top_at[i] = best[i], i
    chain = []
    i = top_at[-1] if n else -1
    while i >= 0:
        chain.append(i)
        i = back[i]
    return chain[::-1]


def _too_fast(run: list[_Fix], chain: list[int], i: int, gap: float) -> str:
    """Why fix ``i`` of a run is out of the chain: its speeds from and to its chain neighbours."""
    fix = run[i]
    at = bisect.bisect(chain, i)
    speeds = []
    for j, word in (
        (chain[at - 1] if at else None, "from"),
        (chain[at] if at < len(chain) else None, "to"),
    ):
        if j is None:
            continue
        other = run[j]
        dt = abs((fix.when - other.when).total_seconds())
        if dt <= gap:
            kmh = math.hypot(fix.x - other.x, fix.y - other.y) / dt * 3.6
            speeds.append(f"{kmh:.0f} km/h {word} {other.where}")
    # Only across the pieces of a run cut for memory can a dropped fix lack a chain neighbour
    # within the gap (a longest chain would take it in otherwise).
    said = " and ".join(speeds) or "out of reach of the fixes kept around it"
    return f"impossible speed for {fix.kind}: {said} (over {fix.limit * 3.6:.0f} km/h)"


class _Cleaner:
    """Cleans the staged fixes, fed in order of unit and time, into ``kept_fixes``.

    A unit's fixes are cleaned run by run, a run ending where the next fix is more than the track
    gap later; its first run starts with the unit's stored fixes of the gap before it.
    """

    def __init__(
        self,
        raw: psycopg.Connection[Any],
        coverage: CoverageSettings,
        report: TrackReport,
        stored: dict[str, list[_Fix]],
    ) -> None:
        self.raw = raw
        self.gap = coverage.track_gap_s
        self.limits = max_speeds_ms(coverage)
        self.report = report
        self.stored = stored
        self.lines: list[str] = []
        self.unit: str | None = None
        self.run: list[_Fix] = []
        # The last fix fed (a placeholder until the first).
        self.last = _Fix(0, "", datetime.min.replace(tzinfo=UTC), 0.0, 0.0, 0.0, settled=False)

    def add(self, row: int, unit: str, kind: str, t: datetime, x: float, y: float) -> None:
        """Feed the next staged fix."""
        if unit != self.unit:
            self._clean_run(cut=False)
            self.unit = unit
            self.report.units += 1
            self.run = list(self.stored.get(unit, []))
        elif t == self.last.when:
            reason = (
                f"duplicate fix: unit {unit!r} at {t.isoformat()} already at row {self.last.row}"
            )
            self.report.rejected.append(Problem(row, unit, reason))
            self.report.duplicates += 1
            return
        elif (t - self.last.when).total_seconds() > self.gap:
            self._clean_run(cut=False)
        elif len(self.run) >= _RUN_ROWS:
            self._clean_run(cut=True)
        self.last = _Fix(row, kind, t, x, y, self.limits[kind], settled=False)
        self.run.append(self.last)

    def close(self) -> None:
        """Clean the last run and write what is left."""
        self._clean_run(cut=False)
        _copy_kept(self.raw, self.lines)

    def _clean_run(self, *, cut: bool) -> None:
        """Keep the plausible fixes of the run, drop the others, and start the next run.

        With ``cut`` (the run goes on), the next run starts from this one's kept fixes of the
        last track gap, settled.
        """
        run, unit = self.run, self.unit
        self.run = []
        if not run or unit is None:
            return
        chain = plausible_chain(
            [f.when.timestamp() for f in run],
            [f.x for f in run],
            [f.y for f in run],
            [f.limit for f in run],
            self.gap,
        )
        kept = set(chain)
        last: datetime | None = None  # the latest fix stored or kept so far
        for i, fix in enumerate(run):
            if fix.settled:
                last = fix.when
            elif i in kept:
                if last is None or (fix.when - last).total_seconds() > self.gap:
                    self.report.tracks += 1
                last = fix.when
                self.lines.append(
                    f"{_csv(unit)},{fix.kind},{fix.when.isoformat()},{fix.x!r},{fix.y!r}\n"
                )
            else:
                reason = _too_fast(run, chain, i, self.gap)
                self.report.rejected.append(Problem(fix.row, unit, reason))
                self.report.too_fast += 1
        if len(self.lines) >= _FLUSH_ROWS:
            _copy_kept(self.raw, self.lines)
        if cut:
            end = run[-1].when
            self.run = [
                run[i]._replace(settled=True)
                for i in chain
                if (end - run[i].when).total_seconds() <= self.gap
            ]


def _clean(conn: Connection, settings: Settings, report: TrackReport) -> None:
    """Stream the staged fixes back sorted by unit and time, keep the clean ones in ``kept_fixes``.

    See the module docstring for the rules and :class:`_Cleaner` for the runs.
    """
    limits = max_speeds_ms(settings.coverage)
    stored: dict[str, list[_Fix]] = {}
    for unit, kind, t, x, y in conn.execute(
        sql("coverage_fix_seeds", "geo.coverage"),
        {"region": settings.region, "gap_s": settings.coverage.track_gap_s},
    ):
        stored.setdefault(unit, []).append(_Fix(None, kind, t, x, y, limits[kind], settled=True))
    raw = raw_connection(conn)
    cleaner = _Cleaner(raw, settings.coverage, report, stored)
    with raw.cursor(name="gridsafe_clean_fixes") as cur:
        cur.itersize = 50_000
        cur.execute("SELECT row, unit, kind, t, x, y FROM staged_fixes ORDER BY unit, t, row")
        for row, unit, kind, t, x, y in cur:
            cleaner.add(row, unit, kind, t, x, y)
    cleaner.close()


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


def ensure_partitions(conn: Connection, months: Iterable[datetime]) -> list[str]:
    """Create the monthly partitions of ``fixes`` (UTC calendar months) that do not exist yet.

    The app's login owns no table, so the owner's function ``fixes_partition`` (migration
    a0013) creates them. A partition that exists is left alone without taking a lock on
    ``fixes``; creating one takes a short exclusive lock, once a month.

    Returns
    -------
    list of str
        The partitions created.
    """
    created = []
    for month in sorted(set(months)):
        name = conn.execute(text("SELECT fixes_partition(:m)"), {"m": month}).scalar()
        if name is not None:
            created.append(name)
    return created


def _store(conn: Connection, settings: Settings, report: TrackReport) -> None:
    months = conn.execute(
        text("SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC') FROM kept_fixes")
    ).scalars()
    ensure_partitions(conn, [m.replace(tzinfo=UTC) for m in months])
    kept, first, last = conn.execute(text("SELECT count(*), min(t), max(t) FROM kept_fixes")).one()
    inserted = conn.execute(
        sql("coverage_fixes_insert", "geo.coverage"),
        {"region": settings.region, "srid": settings.srid},
    ).rowcount
    report.inserted += inserted
    report.unchanged += int(kept) - inserted
    if inserted:
        # The stored covers of the shifts these fixes fall in no longer hold.
        invalidate(conn, settings, start=first, end=last)


def load_fixes(
    engine: Engine,
    settings: Settings,
    source: Source[PointBatch],
    *,
    source_name: str,
) -> TrackReport:
    """Stage, clean and store the fixes of an opened point source in one transaction."""
    report = TrackReport(
        kind="tracks", source=source_name, crs=source.crs.name, warnings=source.warnings
    )
    with engine.begin() as conn:
        lock_areas(conn, settings)
        conn.execute(text(_STAGE))
        conn.execute(text(_KEPT))
        for batch in source.batches:
            _stage(conn, batch, report)
        conn.execute(text("ANALYZE staged_fixes"))
        _clean(conn, settings, report)
        _store(conn, settings, report)
        report.rejected.sort(key=lambda p: p.row or 0)
        record_run(conn, region=settings.region, sha256=source.digest, report=report)
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
    mapping: ColumnMapping | None = None,
) -> TrackReport:
    """Import a file of patrol fixes (CSV, GPX, GeoJSON, GeoPackage, a Shapefile zipped or not).

    Parameters
    ----------
    crs
        The coordinates' CRS when the file does not say (or says wrongly); see
        :mod:`geo.intake.projection`.
    unit, kind
        The unit and unit kind of rows (or GPX tracks) that do not name their own.
    mapping
        Role (``unit``, ``kind``, ``time``, ``lon``...) → the file's column, before the aliases.

    Raises
    ------
    InputError, CRSError
        The file cannot be read at all (nothing is written).
    """
    source = open_table(path, crs, _reader(settings, unit=unit, kind=kind, mapping=mapping))
    return load_fixes(engine, settings, source, source_name=source_name or path.name)


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
    payload = {"crs": crs, "unit": unit, "kind": kind, "records": list(records)}
    reader = _reader(settings, unit=unit, kind=kind)
    source = records_source(records, crs, reader, digest=payload_digest(payload))
    return load_fixes(engine, settings, source, source_name=source_name)


def _reader(
    settings: Settings, *, unit: str | None, kind: str | None, mapping: ColumnMapping | None = None
) -> Points:
    """How a track file or batch is read: every fix needs its unit and unit kind."""
    return Points(
        srid=settings.srid,
        roles=("unit", "kind"),
        required=("unit", "kind"),
        defaults={"unit": unit, "kind": kind},
        timezone=settings.timezone,
        batch_rows=settings.coverage.track_batch_rows,
        gpx_layer="track_points",
        mapping=mapping,
    )
