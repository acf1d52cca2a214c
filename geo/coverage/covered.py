"""Covered area per micro-grid and period, from stored covers of closed shifts.

The covered part of a micro-grid over a period is the union, over the period's tracks, of each
track's line buffered by its unit kind's radius, intersected with the micro-grid
(geo/coverage/sql/coverage_slice.sql). Buffers and unions are the expensive part of coverage, so:

- **slices**: a period is cut at shift bounds (``settings.coverage.shift_start_hours``) into slices;
  the covered part over the period is the union of the slices' covered parts and of the buffers of
  the segments the cuts removed (a unit's last fix before a cut to its first fix after it, when both
  belong to one track; geo/coverage/sql/coverage_joints.sql). That union is the period's cover
  itself: a buffered line is the union of its buffered segments.
- **the shift cache**: the cover of each closed shift (one that ended before now) and micro-grid
  is stored in ``coverage_cache`` (migration c0009) the first time it is needed, so a day is
  three stored pieces per micro-grid and a week twenty-one. Slices that are not whole closed
  shifts (the current shift, the ends of an arbitrary range) and requests for some units only
  are computed afresh, slice by slice; so is everything for a caller limited to an area
  (row-level security, migration a0009), who sees only part of the fixes. Stored rows are
  used only while the radii, track gap and thinning tolerance they were made with are the
  settings' (``params``) and the micro-grid's geometry is the one they were made for
  (``area_digest``); importing fixes deletes the rows of the shifts it touches
  (:func:`invalidate`).
- **work that grows with data goes shift by shift**: each slice is one statement reading one
  shift's fixes (one monthly partition), and the final union runs over batches of micro-grids,
  so memory is bounded by a shift and a batch, not by the period.
- **a closed shift's covers are computed on several connections at once**
  (``settings.coverage.coverage_workers``), each for a run of neighbouring micro-grids in a
  transaction of its own, so GEOS (which runs in each connection's backend, on one core) uses
  as many cores (:func:`_fill`).

Thinning and its error: each track may be thinned by Douglas-Peucker to
``settings.coverage.coverage_thin_m`` (ε; default 0, no thinning) before buffering. Every fix
dropped lies within ε of the thinned line and every point of the thinned line lies within ε of the
track (Hausdorff distance at most ε), so the cover computed with radius r lies between the
exact covers with radii r - ε and r + ε. For a track of length L whose buffer does not overlap
itself that bounds the error by 2εL on each side, a share of about ε/r of the covered area
(3.3 % at ε = 1 m, r = 30 m); the real error is far smaller, because the dropped fixes lie on
both sides of the line (tests/test_coverage_cache.py checks the bound on a noisy track,
bench/RESULTS.md measures the error on the benchmark's shift).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from psycopg.errors import DeadlockDetected, LockNotAvailable
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from geo import clock
from geo.coverage.periods import Period, shift_of
from geo.database import sql
from geo.settings import CoverageSettings, Settings

CHUNK_FIXES = 10
"""Fixes per chunk of a track (geo/coverage/sql/coverage_slice.sql): small pieces for the index
probes and the buffers; the cover does not depend on it beyond rounding. 10 rather than 20
(issue 23): GEOS's buffer of a chunk that turns back on itself (a unit walking to and fro
or standing still) nodes every crossing of its outline, which grows faster than its length, and
such chunks took 80 % of the buffering; with one union of whole buffers per batch of
micro-grids, more and smaller chunks cost the union little (bench/RESULTS.md, issue 23). A
cover stored with another chunk size is stale (:func:`cache_params`) and computed again."""

UNION_BATCH = 64
"""Micro-grids per statement of the final union, which bounds its memory."""

SLICE_UNION_CODES = 512
"""Micro-grids at most whose buffers one union of geo/coverage/sql/coverage_slice.sql takes:
it bounds the size of a union, which is cut once per micro-grid; the cover does not depend on
it beyond rounding."""

_LOCK = 4547006
"""Advisory lock key: stores into the cache take it shared, imports exclusive before they
invalidate (see :func:`invalidate`), so a cover computed from fixes an import is replacing is
never left behind in the cache."""

_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS cov_slice (code text NOT NULL, digest text NOT NULL, "
    "geom geometry) ON COMMIT DROP",
    "CREATE TEMP TABLE IF NOT EXISTS cov_covered (code text PRIMARY KEY, "
    "covered_m2 float8 NOT NULL, geom geometry NOT NULL) ON COMMIT DROP",
)


def cache_params(coverage: CoverageSettings) -> str:
    """The parameters a stored cover depends on, as stored with it in ``coverage_cache``."""
    return (
        f"r={coverage.cover_radius_m_foot:g}/{coverage.cover_radius_m_bicycle:g}/"
        f"{coverage.cover_radius_m_vehicle:g} gap={coverage.track_gap_s:g} "
        f"thin={coverage.coverage_thin_m:g} chunk={CHUNK_FIXES}"
    )


def slices(period: Period, settings: Settings) -> list[Period]:
    """``period`` cut at shift bounds: whole shifts, and at its ends the parts of shifts in it."""
    out = []
    start = period.start
    while start < period.end:
        shift = shift_of(start, settings)
        end = min(shift.end, period.end)
        label = shift.label if (shift.start, shift.end) == (start, end) else "part"
        out.append(Period(start, end, label))
        start = end
    return out


def micro_codes(conn: Connection, settings: Settings, area: str | None) -> list[str]:
    """The codes of the micro-grids of ``area``'s subtree (all of the region: None)."""
    rows = conn.execute(
        text(
            "SELECT code FROM areas WHERE region = :region AND level = 'micro' "
            "AND (CAST(:area AS text) IS NULL OR code = :area OR :area = ANY(ancestors)) "
            "ORDER BY code"
        ),
        {"region": settings.region, "area": area},
    )
    return list(rows.scalars())


def _slice_params(settings: Settings) -> dict[str, object]:
    return {
        "region": settings.region,
        "gap_s": settings.coverage.track_gap_s,
        "thin_m": settings.coverage.coverage_thin_m,
        "chunk": CHUNK_FIXES,
        "batch": SLICE_UNION_CODES,
        "r_foot": settings.coverage.cover_radius_m_foot,
        "r_bicycle": settings.coverage.cover_radius_m_bicycle,
        "r_vehicle": settings.coverage.cover_radius_m_vehicle,
    }


def _missing(
    conn: Connection, settings: Settings, shifts: Sequence[Period], codes: Sequence[str]
) -> dict[int, list[str]]:
    """The micro-grids of ``codes`` whose cover of ``shifts[i]`` is not stored (or stale), by i."""
    missing: dict[int, list[str]] = {}
    for i, code in conn.execute(
        sql("coverage_cache_missing", "geo.coverage"),
        {
            "region": settings.region,
            "codes": list(codes),
            "params": cache_params(settings.coverage),
            "t0s": [s.start for s in shifts],
            "t1s": [s.end for s in shifts],
        },
    ):
        missing.setdefault(int(i) - 1, []).append(str(code))
    return missing


def _store(engine: Engine, settings: Settings, shift: Period, codes: Sequence[str]) -> None:
    """Compute and store the covers of the closed ``shift`` for ``codes``, in a transaction of
    its own on a connection of its own, holding the cache's lock (shared) to its commit.

    It waits for a pool connection, and for any lock, at most ``settings.db.pool_timeout_s``;
    past that (or chosen as a deadlock's victim) it stores nothing, and the caller finds those
    covers still missing and computes them itself (:func:`covered_into`). So a run never waits
    without end on something its caller, itself waiting for the run, holds: a wait that
    PostgreSQL's deadlock detection cannot see (the caller's side of it is in Python).
    """
    try:
        with engine.begin() as conn:
            conn.execute(
                text("SELECT set_config('lock_timeout', :ms, true)"),
                {"ms": f"{round(settings.db.pool_timeout_s * 1000)}ms"},
            )
            conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _LOCK})
            conn.execute(text(_TEMP[0]))
            conn.execute(
                sql("coverage_slice", "geo.coverage"),
                {**_slice_params(settings), "t0": shift.start, "t1": shift.end,
                 "codes": list(codes), "units": None},
            )  # fmt: skip
            conn.execute(
                sql("coverage_cache_store", "geo.coverage"),
                {"region": settings.region, "t0": shift.start, "t1": shift.end,
                 "params": cache_params(settings.coverage)},
            )  # fmt: skip
    except PoolTimeoutError:
        return
    except OperationalError as exc:
        if not isinstance(exc.orig, (LockNotAvailable, DeadlockDetected)):
            raise


def _fill(
    conn: Connection, settings: Settings, shifts: Sequence[Period], codes: Sequence[str]
) -> int:
    """Compute and store the covers of ``shifts`` missing from the cache for ``codes``, then
    take the cache's lock (shared) in ``conn``'s transaction, to its commit: from then on no
    import deletes the covers it reads (:func:`invalidate`).

    Each shift's missing micro-grids are cut into ``settings.coverage.coverage_workers`` runs
    of consecutive codes (neighbours: codes follow the hierarchy), computed at once on as many
    connections of ``conn``'s pool, each run in a transaction of its own (:func:`_store`).
    GEOS works in the backend of the connection that asks, on one core, so this is what lets
    one shift's buffers and unions use several cores. ``conn`` writes no row of the cache.

    Returns
    -------
    int
        The number of shifts with covers to compute.
    """
    if not shifts or not codes:
        return 0
    missing = _missing(conn, settings, shifts, codes)
    workers = settings.coverage.coverage_workers
    runs = [
        (shifts[i], todo[k * len(todo) // workers : (k + 1) * len(todo) // workers])
        for i, todo in sorted(missing.items())
        for k in range(workers)
    ]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gridsafe-cover") as pool:
        # Each run in a copy of the caller's context: its transaction runs in the caller's name
        # and area scope (geo/database.py _on_begin).
        done = [
            pool.submit(contextvars.copy_context().run, _store, conn.engine, settings, shift, run)
            for shift, run in runs
            if run
        ]
        for future in done:
            future.result()
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _LOCK})
    return len(missing)


def covered_into(
    conn: Connection,
    settings: Settings,
    *,
    period: Period,
    codes: Sequence[str],
    units: Sequence[str] | None = None,
    now: datetime | None = None,
) -> None:
    """Fill the transaction's ``cov_covered`` (code, covered_m2, geom: the covered part of the
    micro-grid, in the storage CRS) for ``codes`` over ``period``.

    Closed whole shifts come from the cache (computed and stored first where missing); the rest
    of the period, and everything when ``units`` restricts the fixes, is computed here. A
    caller with an area scope computes from every unit's fixes too (``patrol_fixes``,
    migration s0010), so it reads and stores its own micro-grids' covers like anyone.
    """
    for statement in _TEMP:
        conn.execute(text(statement))
    conn.execute(text("TRUNCATE cov_slice, cov_covered"))
    moment = now or clock.utcnow()
    parts = slices(period, settings)
    whole = units is None
    closed = [p for p in parts if whole and p.label != "part" and p.end <= moment]
    _fill(conn, settings, closed, codes)
    # A shift whose covers are still missing (a run gave up waiting, or an import deleted them
    # before the lock) is computed here, whole, and not stored: this transaction writes no
    # row of the cache (_fill).
    late = _missing(conn, settings, closed, codes)
    cached = [p for i, p in enumerate(closed) if i not in late]
    base = {
        **_slice_params(settings),
        "codes": list(codes),
        "units": list(units) if units else None,
    }
    kept = set(cached)
    for part in parts:
        if part not in kept:
            conn.execute(
                sql("coverage_slice", "geo.coverage"), {**base, "t0": part.start, "t1": part.end}
            )
    bounds = [p.start for p in parts[1:]]
    if bounds:
        conn.execute(
            sql("coverage_joints", "geo.coverage"),
            {**base, "t0": period.start, "t1": period.end, "bounds": bounds},
        )
    for i in range(0, len(codes), UNION_BATCH):
        conn.execute(
            sql("coverage_covered", "geo.coverage"),
            {
                "region": settings.region,
                "params": cache_params(settings.coverage),
                "codes": list(codes[i : i + UNION_BATCH]),
                "t0s": [p.start for p in cached],
                "t1s": [p.end for p in cached],
            },
        )


def refresh(
    engine: Engine, settings: Settings, *, period: Period, now: datetime | None = None
) -> int:
    """Compute and store the missing covers of the closed shifts in ``period``, one shift per
    transaction (a batch job: progress is kept, memory bounded by one shift; each shift on
    ``settings.coverage.coverage_workers`` connections at once, :func:`_fill`).

    Returns
    -------
    int
        The number of shifts computed.
    """
    moment = now or clock.utcnow()
    shifts = [p for p in slices(period, settings) if p.label != "part" and p.end <= moment]
    done = 0
    for shift in shifts:
        with engine.begin() as conn:
            done += _fill(conn, settings, [shift], micro_codes(conn, settings, None))
    return done


def invalidate(conn: Connection, settings: Settings, *, start: datetime, end: datetime) -> int:
    """Delete the stored covers of the shifts holding any instant of ``[start, end]``.

    Called in the transaction that imports fixes, before it commits. It takes the cache's lock
    exclusively (held to the commit), so a request storing a cover computed without the new
    fixes has either committed already (and its rows are deleted here) or waits, and computes
    with them.

    Returns
    -------
    int
        The number of rows deleted.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    return conn.execute(
        text("DELETE FROM coverage_cache WHERE region = :region AND t0 <= :end AND t1 > :start"),
        {"region": settings.region, "start": start, "end": end},
    ).rowcount
