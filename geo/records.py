"""Incidents and hazards: checking rows, placing them in the grid hierarchy, storing, listing.

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

A record with no ``source`` column takes the file's name as its source; one with no id takes
``h:`` and a digest of its cells, so that re-importing the same file still changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo import clock
from geo._pgcopy import binary_copy
from geo.address import AddressGazetteer
from geo.areas import require_area
from geo.assessment import Method, bands, parse_method, validate_lec, validate_ls
from geo.crs import CHINA_BOX, SourceCRS, parse_crs, to_target, to_wgs84
from geo.database import advisory_lock, sql
from geo.errors import InputError, Problem
from geo.intake import RawBatch, iter_batches, match_headers, prefetch, vector_crs
from geo.locate import ensure_cells, lock_areas
from geo.report import ImportReport, record_run
from geo.sources import file_digest, resolve_source_crs
from geo.times import epoch_seconds

__all__ = [
    "KINDS",
    "Placement",
    "RecordKind",
    "add_incident_type",
    "import_records",
    "incident_types",
    "list_records",
    "submit_records",
]

KindName = Literal["incidents", "hazards"]


@dataclass(frozen=True)
class RecordKind:
    """What differs between incidents and hazards.

    Attributes
    ----------
    name
        ``incidents`` or ``hazards``: the table and the report's kind.
    required
        The fields every record needs besides a location (for hazards, the time it was found;
        for incidents, when it happened): a file with no column for one is refused whole.
    stage_columns
        Staging-table columns in COPY order (after the common ones).
    """

    name: KindName
    required: tuple[str, ...]
    stage_columns: tuple[str, ...]


KINDS: dict[str, RecordKind] = {
    "incidents": RecordKind(
        "incidents",
        ("type", "occurred_at"),
        ("type", "occurred_s", "reported_s", "description"),
    ),
    "hazards": RecordKind(
        "hazards",
        ("category", "identified_at"),
        (
            "category",
            "name",
            "description",
            "method",
            "lec_l",
            "lec_e",
            "lec_c",
            "ls_l",
            "ls_s",
            "status",
            "identified_s",
            "closed_s",
        ),
    ),
}

_COMMON_STAGE = (
    "row",
    "source",
    "source_id",
    "address",
    "x",
    "y",
    "located_by",
    "geocode_score",
    "source_crs",
    "props",
)

_STATUS_WORDS = {
    "open": "open",
    "closed": "closed",
    "未整改": "open",
    "整改中": "open",
    "待整改": "open",
    "已整改": "closed",
    "已销号": "closed",
    "已关闭": "closed",
}


@dataclass(frozen=True)
class Placement:
    """Where one submitted record ended up (the POST endpoints' per-record answer)."""

    row: int
    source: str | None
    source_id: str | None
    area_code: str | None
    area_path: list[str]
    located_by: str | None
    rejected: str | None


# --------------------------------------------------------------------------- row checks


class _Checks:
    """The first reason each row of a batch is rejected for (``None`` while it is good)."""

    def __init__(self, n: int) -> None:
        self.reasons = np.full(n, None, dtype=object)

    @property
    def good(self) -> np.ndarray:
        return np.asarray(pd.isna(self.reasons))

    def reject(self, mask: np.ndarray, reason: Any) -> None:
        """Reject rows where ``mask`` holds, with ``reason(i)`` or a fixed text."""
        for i in np.flatnonzero(mask & self.good):
            self.reasons[i] = reason(i) if callable(reason) else reason


def _present(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.notna(values))


def _numbers(values: np.ndarray, name: str, checks: _Checks) -> np.ndarray:
    """Parse numbers; reject text that is not one, NaN and infinities, naming the value."""
    parsed = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    present = _present(values)
    checks.reject(
        present & np.isnan(parsed),
        lambda i: (
            f"{name} {values[i]!r} is not a "
            + ("finite number" if str(values[i]).lstrip("+-").casefold() == "nan" else "number")
        ),
    )
    checks.reject(
        present & np.isinf(parsed), lambda i: f"{name} {values[i]!r} is not a finite number"
    )
    return parsed


def _times(values: np.ndarray, name: str, zone: ZoneInfo, checks: _Checks) -> np.ndarray:
    """Times as epoch seconds (:func:`geo.times.epoch_seconds`); a present cell that is not
    one is rejected with its value."""
    out = epoch_seconds(values, zone)
    checks.reject(
        _present(values) & np.isnan(out),
        lambda i: f"{name} {values[i]!r} is not a date/time (use e.g. 2025-03-01 08:30)",
    )
    return out


def _geographic(source: SourceCRS) -> bool:
    return source.crs is None or source.crs.is_geographic


def _coordinates(
    cells: dict[str, np.ndarray], source: SourceCRS, srid: int, checks: _Checks
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates projected to ``srid``; the mask says which rows gave coordinates at all."""
    n = len(checks.reasons)
    names = ("lon", "lat") if ("lon" in cells or "lat" in cells) else ("x", "y")
    empty = np.full(n, None, dtype=object)
    raw_x, raw_y = (cells.get(name, empty) for name in names)
    has_x, has_y = _present(raw_x), _present(raw_y)
    checks.reject(has_x & ~has_y, f"{names[1]} is empty but {names[0]} is given")
    checks.reject(has_y & ~has_x, f"{names[0]} is empty but {names[1]} is given")
    given = has_x & has_y
    x = _numbers(raw_x, names[0], checks)
    y = _numbers(raw_y, names[1], checks)
    if _geographic(source):
        lon_bad = np.abs(x) > 180
        lat_bad = np.abs(y) > 90
        west, south, east, north = CHINA_BOX
        swapped = (lat_bad | lon_bad) & (x >= south) & (x <= north) & (y >= west) & (y <= east)
        checks.reject(
            given & swapped,
            lambda i: (
                f"lat/lon look swapped ({names[0]}={raw_x[i]}, {names[1]}={raw_y[i]}): "
                "the other way round it is a point in China; fix the columns"
            ),
        )
        checks.reject(given & lon_bad, lambda i: f"{names[0]} {raw_x[i]} is out of -180..180")
        checks.reject(given & lat_bad, lambda i: f"{names[1]} {raw_y[i]} is out of -90..90")
    elif source.crs is not None and source.crs.area_of_use is not None:
        west, south, east, north = source.crs.area_of_use.bounds
        ok = given & checks.good
        lon, lat = to_wgs84(np.where(ok, x, np.nan), np.where(ok, y, np.nan), source)
        margin = 1.0  # degrees, as in geo.sources.check_coordinates_fit
        outside = ok & ~(
            (lon >= west - margin)
            & (lon <= east + margin)
            & (lat >= south - margin)
            & (lat <= north + margin)
        )
        checks.reject(
            outside,
            lambda i: (
                f"{names[0]}/{names[1]} ({raw_x[i]}, {raw_y[i]}) do not fit {source.name} "
                f"(area of use lon {west}..{east}, lat {south}..{north}); wrong --crs?"
            ),
        )
    ok = given & checks.good
    px, py = to_target(np.where(ok, x, np.nan), np.where(ok, y, np.nan), source, srid)
    checks.reject(ok & ~(np.isfinite(px) & np.isfinite(py)), "coordinates cannot be projected")
    return px, py, given


# --------------------------------------------------------------------------- the import context


@dataclass
class _Context:
    """What a whole import shares: the connection, settings, lookups and the report."""

    conn: Connection
    kind: RecordKind
    region: str
    srid: int
    zone: ZoneInfo
    min_score: float
    default_source: str
    report: ImportReport
    types: dict[str, str] = field(default_factory=dict)
    cell_m: float = 0.0
    gazetteer: AddressGazetteer | None = None
    building_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Whether this import holds the turn to write (taken at its first upsert, kept to commit).
    writing: bool = False
    # When to stop waiting for a lock: None (a file import) waits as long as it takes; a request
    # gives up at this time.monotonic() instant with a BusyError (GRIDSAFE_SUBMIT_WAIT_S).
    deadline: float | None = None
    # Staging table → column → type, read from the catalog once per import (the binary COPY
    # writes each type's own form; the stage SQL files stay the one place the types are named).
    stage_types: dict[str, dict[str, str]] = field(default_factory=dict)

    def geocoder(self) -> AddressGazetteer:
        """The buildings' gazetteer, built on first use."""
        if self.gazetteer is None:
            rows = self.conn.execute(sql("buildings_gazetteer"), {"region": self.region}).all()
            self.gazetteer = AddressGazetteer((str(r[0]), str(r[1])) for r in rows)
            self.building_points = {str(r[0]): (float(r[2]), float(r[3])) for r in rows}
        return self.gazetteer


def _type_lookup(conn: Connection) -> dict[str, str]:
    """Incident type code, Chinese name and English name (case-folded) → code."""
    lookup: dict[str, str] = {}
    for code, zh, en in conn.execute(text("SELECT code, name_zh, name_en FROM incident_types")):
        for word in (code, zh, en):
            lookup[str(word).strip().casefold()] = str(code)
    return lookup


def _text(cells: dict[str, np.ndarray], name: str, n: int) -> np.ndarray:
    return cells.get(name, np.full(n, None, dtype=object))


def _required(values: np.ndarray, name: str, checks: _Checks) -> None:
    checks.reject(~_present(values), f"{name} is empty")


def _digests(cells: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``h:`` + a digest of each row's cells: a stable id for rows that carry none."""
    names = sorted(cells)
    out = np.empty(n, dtype=object)
    for i in range(n):
        joined = "\x1f".join(f"{k}={cells[k][i]}" for k in names)
        out[i] = "h:" + hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()[:20]
    return out


def _incident_fields(
    ctx: _Context, cells: dict[str, np.ndarray], n: int, checks: _Checks
) -> dict[str, np.ndarray]:
    types = _text(cells, "type", n)
    _required(types, "type", checks)
    # A file uses a handful of types: look up each distinct cell once, not every row.
    index, distinct = pd.factorize(types)
    found = np.array([ctx.types.get(str(t).casefold()) for t in distinct] + [None], object)
    codes = found[index]  # factorize marks an empty cell -1: the None appended last
    checks.reject(
        _present(types) & ~_present(codes),
        lambda i: f"unknown incident type {types[i]!r} (add it with `gridsafe types add`)",
    )
    occurred_raw = _text(cells, "occurred_at", n)
    _required(occurred_raw, "occurred_at", checks)
    occurred = _times(occurred_raw, "occurred_at", ctx.zone, checks)
    reported = _times(_text(cells, "reported_at", n), "reported_at", ctx.zone, checks)
    return {
        "type": codes,
        "occurred_s": occurred,
        "reported_s": np.where(np.isnan(reported), occurred, reported),
        "description": _text(cells, "description", n),
    }


def _assessment(row: dict[str, Any]) -> tuple[str, list[float | int | None]]:
    """Method and (lec_l, lec_e, lec_c, ls_l, ls_s) of one hazard row; ValueError says why not."""
    method_text = row["method"]
    if method_text is None:
        # No method column: the values given say which (E or C only exist in LEC).
        method_text = "LEC" if row["e"] is not None or row["c"] is not None else "LS"
    method = parse_method(method_text)
    needed = ("l", "e", "c") if method is Method.LEC else ("l", "s")
    missing = [k.upper() for k in needed if row[k] is None]
    if missing:
        msg = f"{method.value} assessment needs {', '.join(missing)}"
        raise ValueError(msg)
    numbers = []
    for k in needed:
        try:
            numbers.append(float(row[k]))
        except ValueError:
            msg = f"{method.value} {k.upper()} {row[k]!r} is not a number"
            raise ValueError(msg) from None
    if method is Method.LEC:
        lec = validate_lec(*numbers)
        return method.value, [*lec, None, None]
    ls = validate_ls(*numbers)
    return method.value, [None, None, None, *ls]


def _hazard_fields(
    ctx: _Context, cells: dict[str, np.ndarray], n: int, checks: _Checks
) -> dict[str, np.ndarray]:
    category = _text(cells, "category", n)
    _required(category, "category", checks)
    name = _text(cells, "name", n)
    identified_raw = _text(cells, "identified_at", n)
    _required(identified_raw, "identified_at", checks)
    identified = _times(identified_raw, "identified_at", ctx.zone, checks)
    closed_raw = _text(cells, "closed_at", n)
    closed = _times(closed_raw, "closed_at", ctx.zone, checks)
    status_raw = _text(cells, "status", n)
    out: dict[str, np.ndarray] = {
        "category": category,
        "name": np.where(_present(name), name, category),
        "description": _text(cells, "description", n),
        "identified_s": identified,
        "closed_s": closed,
    }
    assessed = np.full((n, 6), None, dtype=object)
    status = np.full(n, None, dtype=object)
    given = {k: _text(cells, k, n) for k in ("method", "l", "e", "c", "s")}
    for i in np.flatnonzero(checks.good):
        row = {k: column[i] for k, column in given.items()}
        try:
            method, values = _assessment(row)
        except ValueError as exc:
            checks.reasons[i] = str(exc)
            continue
        assessed[i] = [method, *values]
        word = status_raw[i]
        has_closed = not math.isnan(closed[i])
        if word is None:
            status[i] = "closed" if has_closed else "open"
        elif str(word).strip().casefold() in _STATUS_WORDS:
            status[i] = _STATUS_WORDS[str(word).strip().casefold()]
        else:
            checks.reasons[i] = f"unknown status {word!r}: use open or closed (未整改/已整改)"
            continue
        if (status[i] == "closed") != has_closed:
            checks.reasons[i] = (
                "a closed hazard needs closed_at"
                if status[i] == "closed"
                else f"status is open but closed_at {closed_raw[i]!r} is given"
            )
    for j, column in enumerate(("method", "lec_l", "lec_e", "lec_c", "ls_l", "ls_s")):
        out[column] = assessed[:, j]
    out["status"] = status
    return out


def _locate_by_address(
    ctx: _Context,
    addresses: np.ndarray,
    need: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    checks: _Checks,
) -> np.ndarray:
    """Geocode the rows in ``need``: fill px/py from the matched building; return the scores."""
    scores = np.full(len(addresses), np.nan)
    rows = np.flatnonzero(need)
    if rows.size == 0:
        return scores
    gazetteer = ctx.geocoder()
    matches = gazetteer.match_many([str(addresses[i]) for i in rows], min_score=ctx.min_score)
    for i, match in zip(rows, matches, strict=True):
        if match is None:
            why = gazetteer.explain_no_match(str(addresses[i]), min_score=ctx.min_score)
            checks.reasons[i] = f"address {addresses[i]!r} not found: {why}"
            continue
        px[i], py[i] = ctx.building_points[match.key_id]
        scores[i] = match.score
    return scores


def _stage_batch(ctx: _Context, batch: RawBatch, source: SourceCRS) -> int:
    """Check a batch, COPY its good rows into the staging table; return how many."""
    ctx.report.rejected += batch.problems
    ctx.report.warnings += batch.warnings
    n = len(batch)
    if n == 0:
        return 0
    cells = batch.cells
    checks = _Checks(n)
    fields = (_incident_fields if ctx.kind.name == "incidents" else _hazard_fields)(
        ctx, cells, n, checks
    )
    px, py, has_coords = _coordinates(cells, source, ctx.srid, checks)
    addresses = _text(cells, "address", n)
    by_address = ~has_coords & _present(addresses)
    checks.reject(~has_coords & ~by_address, "no usable location: no coordinates and no address")
    scores = _locate_by_address(ctx, addresses, by_address & checks.good, px, py, checks)
    sources = _text(cells, "source", n)
    sources = np.where(_present(sources), sources, ctx.default_source)
    ids = _text(cells, "source_id", n)
    if not _present(ids).all():
        ids = np.where(_present(ids), ids, _digests(cells, n))
    good = checks.good
    for i in np.flatnonzero(~good):
        ctx.report.rejected.append(Problem(int(batch.rows[i]), ids[i], str(checks.reasons[i])))
    keep = np.flatnonzero(good)
    keys = pd.DataFrame({"source": sources[keep], "id": ids[keep]})
    dup = keys.duplicated(keep="last").to_numpy()
    if dup.any():
        last = dict(zip(map(tuple, keys.to_numpy()), batch.rows[keep], strict=True))
        for i in keep[dup]:
            later = last[(sources[i], ids[i])]
            ctx.report.warnings.append(
                Problem(
                    int(batch.rows[i]), ids[i], f"same source and id as row {later}, which wins"
                )
            )
        keep = keep[~dup]
    props: np.ndarray = np.full(n, None, dtype=object)
    if batch.extra:
        names = list(batch.extra)
        for i in keep:
            extra = {k: batch.extra[k][i] for k in names if batch.extra[k][i] is not None}
            props[i] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
    common = {
        "row": batch.rows,
        "source": sources,
        "source_id": ids,
        "address": addresses,
        "x": px,
        "y": py,
        "located_by": np.where(by_address, "address", "coordinates"),
        "geocode_score": scores,
        "source_crs": _where_none(by_address, source.name, n),
        "props": props,
    }
    columns = {**common, **fields}
    raw = cast(psycopg.Connection, ctx.conn.connection.driver_connection)
    with raw.cursor() as cur:
        for table, stage_columns in (
            ("staged_records", _COMMON_STAGE),
            (f"staged_{ctx.kind.name}", ("row", *ctx.kind.stage_columns)),  # names: KINDS
        ):
            # One binary payload per table and batch, encoded column by column (geo._pgcopy):
            # formatting it row by row in Python, even with pandas' CSV writer, cost more than
            # the database's whole COPY. NaN and None are NULL; floats travel bit for bit.
            types = ctx.stage_types[table]
            payload = binary_copy(
                [(types[c], columns[c][keep]) for c in stage_columns], encoding=raw.info.encoding
            )
            statement = f"COPY {table} ({', '.join(stage_columns)}) FROM STDIN (FORMAT binary)"
            with cur.copy(statement) as copy:
                copy.write(payload)
            # Statistics, so the locate join hashes the batch against the cell lookup.
            cur.execute(f"ANALYZE {table}")
    return len(keep)


def _where_none(mask: np.ndarray, value: str, n: int) -> np.ndarray:
    out = np.full(n, value, dtype=object)
    out[mask] = None
    return out


def write_lock_key(region: str, kind: str) -> str:
    """The advisory lock on which writers of one record kind in one region take turns."""
    return f"gridsafe:write:{region}:{kind}"


def _take_write_turn(ctx: _Context) -> None:
    """Wait for the turn to write (held until commit), until ``ctx.deadline`` at most.

    Two imports of overlapping files at once would both see a new key as new; the upsert's
    ``ON CONFLICT`` would then make the later one wait on the earlier's row and update it, so
    its report (inserted, updated, unchanged) would depend on the interleaving, and a plain
    insert would fail on the unique key. So writers of one kind in one region take turns, from
    their first write to their commit (a transaction-level advisory lock); every statement
    after the wait sees what the other committed.
    """
    advisory_lock(
        ctx.conn,
        write_lock_key(ctx.region, ctx.kind.name),
        deadline=ctx.deadline,
        busy=f"another import of {ctx.kind.name} is writing",
    )


def _upsert_staged(ctx: _Context) -> None:
    """Locate the staged rows (one join), upsert them, count, and report those outside."""
    ctx.conn.execute(
        sql("records_locate"), {"region": ctx.region, "srid": ctx.srid, "cell_m": ctx.cell_m}
    )
    ctx.conn.execute(text("ANALYZE staged_places"))
    if not ctx.writing:
        _take_write_turn(ctx)
        ctx.writing = True
    inserted, updated, unchanged, outside = ctx.conn.execute(
        sql(f"{ctx.kind.name}_upsert"), {"region": ctx.region, "srid": ctx.srid}
    ).one()
    ctx.report.inserted += int(inserted)
    ctx.report.updated += int(updated)
    ctx.report.unchanged += int(unchanged)
    ctx.report.warnings += [
        Problem(int(row), str(ident), "outside every area: kept with no area")
        for row, ident in outside
    ]


def _column_types(conn: Connection, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """Table → column → type (as ``format_type`` names it): what the binary COPY must write."""
    rows = conn.execute(
        text(
            "SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod) "
            "FROM pg_attribute WHERE attrelid = ANY(CAST(:tables AS regclass[])) "
            "AND attnum > 0 AND NOT attisdropped"
        ),
        {"tables": list(tables)},
    )
    out: dict[str, dict[str, str]] = {table: {} for table in tables}
    for table, column, pg_type in rows:
        out[str(table)][str(column)] = str(pg_type)
    return out


def _run_import(
    ctx: _Context,
    settings: Any,
    batches: Iterable[tuple[RawBatch, SourceCRS]],
    on_batch: Callable[[RawBatch], None] | None = None,
) -> None:
    ctx.types = _type_lookup(ctx.conn) if ctx.kind.name == "incidents" else {}
    # The locate join's cost estimate makes PostgreSQL JIT-compile each batch's statement, which
    # takes longer than it saves at these sizes; the default 4 MB work_mem spills the hash of
    # the cell lookup and the batch sorts to disk.
    ctx.conn.execute(text("SET LOCAL jit = off"))
    ctx.conn.execute(
        text("SELECT set_config('work_mem', :mem, true)"),
        {"mem": f"{int(settings.intake.import_work_mem_mb)}MB"},
    )
    ctx.cell_m = ensure_cells(ctx.conn, settings, deadline=ctx.deadline)
    ctx.conn.execute(sql("records_stage"))
    ctx.conn.execute(sql(f"{ctx.kind.name}_stage"))
    ctx.stage_types = _column_types(ctx.conn, ("staged_records", f"staged_{ctx.kind.name}"))
    for batch, source in batches:
        # identifiers from KINDS
        ctx.conn.execute(text(f"TRUNCATE staged_records, staged_places, staged_{ctx.kind.name}"))
        if _stage_batch(ctx, batch, source):
            _upsert_staged(ctx)
            if on_batch is not None:
                on_batch(batch)
    ctx.report.rejected.sort(key=lambda p: p.row or 0)


def _record_kind(kind: str) -> RecordKind:
    if kind not in KINDS:
        msg = f"unknown record kind {kind!r}: use incidents or hazards"
        raise InputError(msg)
    return KINDS[kind]


def _context(
    conn: Connection, settings: Any, kind: str, source_name: str, crs_name: str
) -> _Context:
    return _Context(
        conn=conn,
        kind=_record_kind(kind),
        region=settings.region,
        srid=settings.srid,
        zone=clock.zone(settings.timezone),
        min_score=settings.intake.geocode_min_score,
        default_source=source_name,
        report=ImportReport(kind=kind, source=source_name, crs=crs_name),
    )


def import_records(
    engine: Engine,
    settings: Any,
    path: Path,
    *,
    kind: str,
    crs: str | int | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """Import a file of incidents or hazards; good rows load, every bad row is reported.

    Parameters
    ----------
    path
        CSV (UTF-8 or GBK), Excel .xlsx, GeoJSON, GeoPackage or Shapefile.
    kind
        ``incidents`` or ``hazards``.
    crs
        The coordinates' CRS (EPSG code, ``gcj02``, ``bd09``); default: the file's own CRS,
        else WGS84.
    source_name
        Name for the report and the default ``source`` of rows (default: the file's name).

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
    file_crs = vector_crs(path) if path.exists() else None
    if crs is None and file_crs is None:
        source = parse_crs("EPSG:4326")
        warnings: list[Problem] = []
    else:
        source, warnings = resolve_source_crs(file_crs, crs)
    name = source_name or path.name
    required = _record_kind(kind).required
    batches = prefetch(
        iter_batches(path, batch_rows=settings.intake.import_batch_rows, required=required)
    )
    with engine.begin() as conn:
        lock_areas(conn, settings)
        ctx = _context(conn, settings, kind, name, source.name)
        ctx.default_source = Path(name).stem
        ctx.report.warnings += warnings
        _run_import(ctx, settings, ((b, source) for b in batches))
        record_run(conn, region=settings.region, sha256=file_digest(path), report=ctx.report)
    return ctx.report


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
    settings: Any,
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
        ctx = _context(conn, settings, kind, "api", ", ".join(s.name for s in parsed.values()))
        ctx.deadline = deadline

        def collect(batch: RawBatch) -> None:
            placed_rows = conn.execute(sql(f"{ctx.kind.name}_placed"), {"region": ctx.region})
            for row, code, path in placed_rows:
                placed[int(row)] = (code, list(path))

        _run_import(
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


# --------------------------------------------------------------------------- reading back


def list_records(
    engine: Engine,
    settings: Any,
    *,
    kind: str,
    area: str | None = None,
    types: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
    status: str | None = None,
    outside: bool = False,
    limit: int = 1000,
    offset: int = 0,
) -> str:
    """Records as a GeoJSON FeatureCollection (EPSG:4326) with ``total``, ``limit``, ``offset``.

    Parameters
    ----------
    area
        Only records in this area or any of its descendants (by ``area_path``).
    types
        Incidents of these type codes (or Chinese/English names); hazards of these categories.
    start, end
        ``[start, end)`` on the occurrence (incidents) or identification (hazards) time, ISO 8601;
        a time without offset is in ``settings.timezone``.
    status
        Hazards only: ``open`` or ``closed``.
    outside
        Only records outside every area (``area_code`` null).

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    InputError
        A filter value is not valid.
    """
    _record_kind(kind)
    if status is not None and (kind != "hazards" or status not in {"open", "closed"}):
        msg = f"status {status!r}: only hazards have a status, open or closed"
        raise InputError(msg)
    zone = clock.zone(settings.timezone)
    bounds: list[float | None] = []
    for name, value in (("from", start), ("to", end)):
        if value is None:
            bounds.append(None)
            continue
        checks = _Checks(1)
        seconds = _times(np.array([value], dtype=object), name, zone, checks)
        if not checks.good[0]:
            raise InputError(str(checks.reasons[0]))
        bounds.append(float(seconds[0]))
    with engine.connect() as conn:
        require_area(conn, settings.region, area)
        codes = list(types)
        if kind == "incidents" and codes:
            lookup = _type_lookup(conn)
            unknown = [t for t in codes if t.casefold() not in lookup]
            if unknown:
                msg = f"unknown incident type(s) {unknown}"
                raise InputError(msg)
            codes = [lookup[t.casefold()] for t in codes]
        params: dict[str, Any] = {
            "region": settings.region,
            "area": area,
            "types": codes or None,
            "start": bounds[0],
            "end": bounds[1],
            "outside": outside,
            "limit": limit,
            "offset": offset,
            "count_cap": settings.db.list_count_cap,
        }
        if kind == "hazards":
            params["status"] = status
            for method in Method:
                red, orange, yellow = bands(method, settings.risk)
                key = method.value.lower()
                params |= {f"{key}_red": red, f"{key}_orange": orange, f"{key}_yellow": yellow}
        return str(conn.execute(sql(f"{kind}_list"), params).scalar_one())


# --------------------------------------------------------------------------- type vocabulary


def incident_types(engine: Engine) -> list[dict[str, Any]]:
    """The incident type vocabulary, built-in types first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name_zh, name_en, zero, builtin FROM incident_types "
                "ORDER BY builtin DESC, code"
            )
        ).mappings()
        return [dict(r) for r in rows]


_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def add_incident_type(
    engine: Engine, *, code: str, name_zh: str, name_en: str, zero: str | None = None
) -> bool:
    """Add a type to the vocabulary, or rename a deployment-added one; True if it was new.

    Raises
    ------
    InputError
        The code is not lower-case ``[a-z][a-z0-9_]``, a name is empty or clashes with another
        type's, ``zero`` is not petition/accident/case, or the code is a built-in type.
    """
    if not _CODE_RE.match(code):
        msg = f"type code {code!r}: use 2-40 characters of a-z, 0-9 and _, starting with a letter"
        raise InputError(msg)
    if not name_zh.strip() or not name_en.strip():
        msg = "a type needs a Chinese and an English name"
        raise InputError(msg)
    if zero not in {None, "petition", "accident", "case"}:
        msg = f"zero {zero!r}: use petition, accident or case"
        raise InputError(msg)
    with engine.begin() as conn:
        lookup = _type_lookup(conn)
        for word in (name_zh, name_en):
            other = lookup.get(word.strip().casefold())
            if other is not None and other != code:
                msg = f"name {word!r} is already used by type {other!r}"
                raise InputError(msg)
        builtin = conn.execute(
            text("SELECT builtin FROM incident_types WHERE code = :c"), {"c": code}
        ).scalar()
        if builtin:
            msg = f"{code!r} is a built-in type and cannot be changed"
            raise InputError(msg)
        conn.execute(
            text(
                "INSERT INTO incident_types (code, name_zh, name_en, zero) "
                "VALUES (:c, :zh, :en, :z) ON CONFLICT (code) DO UPDATE "
                "SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, zero = EXCLUDED.zero"
            ),
            {"c": code, "zh": name_zh.strip(), "en": name_en.strip(), "z": zero},
        )
    return builtin is None
