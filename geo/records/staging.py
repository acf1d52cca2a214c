"""Staging and the upsert: each checked batch is copied into temporary tables, placed in its
micro-grids by one join, and upserted by ``(region, source, source_id, key_scope)``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy.engine import Connection

from geo._pgcopy import binary_copy
from geo.crs import SourceCRS
from geo.database import advisory_lock, current_scope, sql
from geo.errors import Problem
from geo.intake import RawBatch
from geo.locate import ensure_cells
from geo.records.checks import (
    Checks,
    cell_values,
    coordinates,
    digests,
    hazard_fields,
    incident_fields,
    present,
)
from geo.records.context import ImportContext
from geo.records.kinds import COMMON_STAGE, kind_sql
from geo.records.vocabulary import type_lookup
from geo.report import OUTSIDE
from geo.settings import Settings


def _locate_by_address(
    ctx: ImportContext,
    addresses: np.ndarray,
    need: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    checks: Checks,
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
            checks.refuse(
                int(i),
                f"address {addresses[i]!r} not found: {why}",
                "address_not_found",
                value=addresses[i],
            )
            continue
        px[i], py[i] = ctx.building_points[match.key_id]
        scores[i] = match.score
    return scores


def _checked(
    ctx: ImportContext, batch: RawBatch, source: SourceCRS
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """The positions of the batch's rows to stage and the staged columns (rows rejected or
    superseded reported); ``None`` for an empty batch."""
    ctx.report.rejected += batch.problems
    ctx.report.warnings += batch.warnings
    n = len(batch)
    if n == 0:
        return None, {}
    cells = batch.cells
    checks = Checks(n)
    fields = (incident_fields if ctx.kind.name == "incidents" else hazard_fields)(
        ctx, cells, n, checks
    )
    px, py, has_coords = coordinates(cells, source, ctx.srid, checks)
    addresses = cell_values(cells, "address", n)
    by_address = ~has_coords & present(addresses)
    checks.reject(
        ~has_coords & ~by_address,
        "no usable location: no coordinates and no address",
        code="no_location",
    )
    scores = _locate_by_address(ctx, addresses, by_address & checks.good, px, py, checks)
    sources = cell_values(cells, "source", n)
    sources = np.where(present(sources), sources, ctx.default_source)
    ids = cell_values(cells, "source_id", n)
    if not present(ids).all():
        ids = np.where(present(ids), ids, digests(cells, n))
    good = checks.good
    for i in np.flatnonzero(~good):
        ctx.report.rejected.append(
            Problem(
                int(batch.rows[i]),
                ids[i],
                str(checks.reasons[i]),
                checks.codes[i],
                checks.params.get(int(i), {}),
            )
        )
    if ctx.kind.name == "incidents":
        unknown = [i for i in np.flatnonzero(~good) if checks.codes[i] == "unknown_type"]
        ctx.report.add_candidates(
            "type", [(str(cells["type"][i]), int(batch.rows[i])) for i in unknown]
        )
    keep = np.flatnonzero(good)
    hashes = _key_hashes(sources, ids)
    # Rows of the same key by their hashes first (integers: fast), then by the keys themselves
    # among the few that share a hash.
    dup = np.zeros(len(keep), dtype=bool)
    maybe = pd.Series(hashes[keep]).duplicated(keep=False).to_numpy()
    if maybe.any():
        shared = keep[maybe]
        keys = pd.DataFrame({"source": sources[shared], "id": ids[shared]})
        dup[maybe] = keys.duplicated(keep="last").to_numpy()
    if dup.any():
        last = dict(zip(map(tuple, keys.to_numpy()), batch.rows[shared], strict=True))
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
        "key_hash": hashes,
    }
    return keep, {**common, **fields}


def _payloads(
    ctx: ImportContext, columns: dict[str, np.ndarray], keep: np.ndarray
) -> list[tuple[str, bytes]]:
    """The COPY statements and binary payloads that stage the rows ``keep`` of ``columns``:
    built before the connection is free, so that only the COPY itself waits for it."""
    out = []
    for table, stage_columns in (
        ("staged_records", COMMON_STAGE),
        (f"staged_{ctx.kind.name}", ("row", *ctx.kind.stage_columns)),  # names: KINDS
    ):
        # One binary payload per table and batch, encoded column by column (geo._pgcopy):
        # formatting it row by row in Python, even with pandas' CSV writer, cost more than
        # the database's whole COPY. NaN and None are NULL; floats travel bit for bit.
        types = ctx.stage_types[table]
        payload = binary_copy(
            [(types[c], columns[c][keep]) for c in stage_columns], encoding=ctx.encoding
        )
        statement = f"COPY {table} ({', '.join(stage_columns)}) FROM STDIN (FORMAT binary)"
        out.append((statement, payload))
    return out


def _copy_staged(ctx: ImportContext, payloads: list[tuple[str, bytes]]) -> None:
    """Empty the staging tables and COPY one batch's ``payloads`` (:func:`_payloads`) in.

    No ANALYZE: the upsert reads the batch whole and joins its two tables by row, and the
    planner estimates a table it has no statistics of from its size.
    """
    ctx.conn.execute(kind_sql("truncate", ctx.kind.name))  # identifiers from KINDS
    raw = cast(psycopg.Connection, ctx.conn.connection.driver_connection)
    with raw.cursor() as cur:
        for statement, payload in payloads:
            with cur.copy(statement) as copy:
                copy.write(payload)


def _placed(ctx: ImportContext, columns: dict[str, np.ndarray], keep: np.ndarray) -> None:
    """Place the rows ``keep`` in their micro-grids into ``columns["area_code"]`` (None outside
    every area).

    The points are copied to the locating connection (``ctx.locator``, else the import's own)
    and placed by the set-based join of records_locate.sql. (Sorting the batch by area and time
    before the upsert, so that inserts land on neighbouring index pages, was measured: the
    database's work was the same, the sort cost the checks' thread 2.5 s per million rows.)
    """
    codes: np.ndarray = np.full(len(columns["row"]), None, dtype=object)
    columns["area_code"] = codes
    if len(keep) == 0:
        return
    conn = ctx.locator if ctx.locator is not None else ctx.conn
    raw = cast(psycopg.Connection, conn.connection.driver_connection)
    with raw.cursor() as cur:
        cur.execute("TRUNCATE staged_points, staged_places")
        payload = binary_copy(
            [
                ("integer", np.arange(len(keep))),
                ("double precision", columns["x"][keep]),
                ("double precision", columns["y"][keep]),
            ],
            encoding=raw.info.encoding,
        )
        with cur.copy("COPY staged_points (row, x, y) FROM STDIN (FORMAT binary)") as copy:
            copy.write(payload)
        # Statistics, so the locate join hashes the batch against the cell lookup.
        cur.execute("ANALYZE staged_points")
    conn.execute(
        sql("records_locate", "geo.records"),
        {"region": ctx.region, "srid": ctx.srid, "cell_m": ctx.cell_m},
    )
    with raw.cursor() as cur:
        cur.execute("SELECT row, area_code FROM staged_places")
        places = cur.fetchall()
    if places:
        at, code = zip(*places, strict=True)
        codes[keep[np.asarray(at, dtype=np.int64)]] = code


def _prepared(
    ctx: ImportContext, columns: dict[str, np.ndarray], keep: np.ndarray
) -> list[tuple[str, bytes]]:
    """The rows ``keep`` placed (:func:`_placed`), and their staging payloads."""
    with ctx.report.timed("locate"):
        _placed(ctx, columns, keep)
    with ctx.report.timed("payload"):
        return _payloads(ctx, columns, keep)


def _where_none(mask: np.ndarray, value: str, n: int) -> np.ndarray:
    out = np.full(n, value, dtype=object)
    out[mask] = None
    return out


def write_lock_key(region: str, kind: str) -> str:
    """The advisory lock on which writers of one record kind in one region take turns."""
    return f"gridsafe:write:{region}:{kind}"


def _take_write_turn(ctx: ImportContext) -> None:
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


def reject_other_sources(ctx: ImportContext, sources: set[str]) -> None:
    """Take out of the staged batch the rows whose id and content a record of another source
    holds (records_other_source.sql), each reported with that source and how to update it.

    ``sources`` are the batch's sources: when it has one and no other is stored, no record can
    be another source's, and the check is skipped (records_sources.sql: a few index probes
    instead of one per staged row).
    """
    if len(sources) == 1:
        stored = ctx.conn.execute(kind_sql("sources", ctx.kind.name), {"region": ctx.region})
        if set(stored.scalars()) <= sources:
            return
    twins = ctx.conn.execute(kind_sql("other_source", ctx.kind.name), {"region": ctx.region})
    for row, ident, other in twins:
        reason = (
            f"same id and content as a record stored under source {other!r}: nothing was "
            f"duplicated; if these are the same records, import the file again with source "
            f"{other!r} to update them"
        )
        ctx.report.rejected.append(
            Problem(int(row), str(ident), reason, "other_source", {"source": str(other)})
        )


def _key_hashes(sources: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each (source, source_id) key: equal keys, equal hashes."""
    mixed = pd.util.hash_array(sources.astype(object)) * np.uint64(0x9E3779B97F4A7C15)
    return cast(np.ndarray, mixed ^ pd.util.hash_array(ids.astype(object)))


def _all_new(ctx: ImportContext, sources: set[str], keys: np.ndarray) -> bool:
    """Whether no key of the staged batch can be stored yet, so that it is inserted without
    the upsert's probe of each key (records_conflict.sql).

    True when every source of the batch held no record when this import first wrote it
    (records_sources.sql, asked when a batch brings a source not seen before, holding the turn
    to write: nobody else writes meanwhile) and no
    key of the batch is among those this import wrote (``ctx.written``, by hash: a collision
    only takes the upsert). Never for an area-scoped caller, whose keys may be held by
    records they cannot see (``key_scope``).
    """
    if current_scope() is not None:
        return False
    if sources - ctx.fresh.keys():
        stored = set(
            ctx.conn.execute(kind_sql("sources", ctx.kind.name), {"region": ctx.region}).scalars()
        )
        ctx.fresh |= {s: s not in stored for s in sources - ctx.fresh.keys()}
    if not all(ctx.fresh[s] for s in sources):
        return False
    written = ctx.written
    if len(written) == 0:
        return True
    at = np.minimum(np.searchsorted(written, keys), len(written) - 1)
    return not bool((written[at] == keys).any())


def upsert_staged(ctx: ImportContext, sources: set[str], keys: np.ndarray) -> None:
    """Upsert the staged (placed) rows, count, and report those outside every area.

    ``sources`` and ``keys`` (:func:`_key_hashes`) are the batch's.
    """
    if not ctx.writing:
        _take_write_turn(ctx)
        ctx.writing = True
    with ctx.report.timed("upsert"):
        statement = "insert" if _all_new(ctx, sources, keys) else "upsert"
        last_id = ctx.conn.execute(kind_sql("last_id", ctx.kind.name)).scalar_one()
        inserted, updated, unchanged, outside = ctx.conn.execute(
            kind_sql(statement, ctx.kind.name),
            {"region": ctx.region, "srid": ctx.srid, "last_id": last_id},
        ).one()
    # Two sorted runs: a stable sort merges them in one pass.
    ctx.written = np.sort(np.concatenate([ctx.written, np.sort(keys)]), kind="stable")
    ctx.report.inserted += int(inserted)
    ctx.report.updated += int(updated)
    ctx.report.unchanged += int(unchanged)
    ctx.report.warnings += [Problem(int(row), str(ident), OUTSIDE) for row, ident in outside]


def _column_types(conn: Connection, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """Table → column → type (as ``format_type`` names it): what the binary COPY must write."""
    rows = conn.execute(sql("stage_column_types", "geo.records"), {"tables": list(tables)})
    out: dict[str, dict[str, str]] = {table: {} for table in tables}
    for table, column, pg_type in rows:
        out[str(table)][str(column)] = str(pg_type)
    return out


def run_import(
    ctx: ImportContext,
    settings: Settings,
    batches: Iterable[tuple[RawBatch, SourceCRS]],
    on_batch: Callable[[RawBatch], None] | None = None,
) -> None:
    """Check, locate, stage and upsert every batch, in the caller's transaction.

    The database's write of one batch (the upsert, then ``on_batch``) runs in a second thread
    while this one checks and places the next batch (on ``ctx.locator``, a connection of its
    own, when there is one): the driver waits on the server without the GIL, so on two cores
    the checks cost next to nothing. Only one thread uses a connection at a time: the next
    batch is staged once the previous one is written, and a batch that geocodes addresses
    waits before its checks (the gazetteer is read on the import's connection).
    """
    ctx.types = type_lookup(ctx.conn) if ctx.kind.name == "incidents" else {}
    session = {"mem": f"{int(settings.intake.import_work_mem_mb)}MB"}
    ctx.conn.execute(sql("records_session", "geo.records"), session)
    ctx.cell_m = ensure_cells(ctx.conn, settings, deadline=ctx.deadline)
    ctx.conn.execute(kind_sql("stage", ctx.kind.name))
    if ctx.locator is not None:
        ctx.locator.execute(sql("records_session", "geo.records"), session)
        # A cell lookup this import's transaction has just built is not seen by the second
        # connection: the locate would then take the exact way for every point.
        if not ctx.locator.execute(
            sql("records_cells_valid", "geo.records"),
            {"region": ctx.region, "cell_m": ctx.cell_m},
        ).scalar_one():
            ctx.locator = None
    (ctx.locator if ctx.locator is not None else ctx.conn).execute(
        sql("records_locate_stage", "geo.records")
    )
    ctx.encoding = cast(psycopg.Connection, ctx.conn.connection.driver_connection).info.encoding
    ctx.stage_types = _column_types(ctx.conn, ("staged_records", f"staged_{ctx.kind.name}"))

    def write(batch: RawBatch, sources: set[str], keys: np.ndarray) -> None:
        reject_other_sources(ctx, sources)
        upsert_staged(ctx, sources, keys)
        if on_batch is not None:
            on_batch(batch)

    # Leaving the block waits for the batch being written, also when this thread fails: the
    # transaction is rolled back only once the connection is free.
    raw = cast(psycopg.Connection, ctx.conn.connection.driver_connection)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridsafe-write") as writer:
        try:
            _pipeline(ctx, batches, writer, write)
        except BaseException:
            # Ctrl-C or a failed check while the database writes: cancel that statement, as
            # the driver does for a statement this thread runs, so nothing waits on it (a
            # connection already lost has nothing to cancel; its error is the one raised).
            with contextlib.suppress(psycopg.Error):
                raw.cancel_safe(timeout=10)
            raise
    ctx.report.rejected.sort(key=lambda p: p.row or 0)
    # Written by two threads: in file order again (file-wide warnings, with no row, first).
    ctx.report.warnings.sort(key=lambda p: p.row or 0)


def _pipeline(
    ctx: ImportContext,
    batches: Iterable[tuple[RawBatch, SourceCRS]],
    writer: ThreadPoolExecutor,
    write: Callable[[RawBatch, set[str], np.ndarray], None],
) -> None:
    """Check and stage each batch in this thread, write it in ``writer`` (see run_import)."""
    writing: Future[None] | None = None
    for batch, source in batches:
        if writing is not None and "address" in batch.cells:
            writing.result()
            writing = None
        with ctx.report.timed("checks"):
            keep, columns = _checked(ctx, batch, source)
        # On a second connection the batch is placed, and its staging payloads built, while
        # the previous batch is written; on the import's own, once it is written.
        staged = None
        if keep is not None and ctx.locator is not None:
            staged = _prepared(ctx, columns, keep)
        if writing is not None:
            writing.result()
            writing = None
        if keep is None:
            continue
        payloads = staged if staged is not None else _prepared(ctx, columns, keep)
        with ctx.report.timed("stage"):
            _copy_staged(ctx, payloads)
        if len(keep):
            sources = set(columns["source"][keep].tolist())
            writing = writer.submit(write, batch, sources, columns["key_hash"][keep])
    if writing is not None:
        writing.result()
