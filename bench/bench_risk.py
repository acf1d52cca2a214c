"""Benchmark: a full recomputation of the four-colour map (compute + store).

Two synthetic districts are generated directly in PostGIS with generate_series, in a database of
their own (``gridsafe_bench_risk``, dropped at the end):

- ``district``: 652 square micro-grids (100 m) with a year of incidents (30,000);
- ``province``: 65,025 micro-grids (255 × 255, 100 m) with 10,000,000 incidents.

Incidents are 70 % uniform and 30 % around 20 centres (Gaussian, σ = 300 m), over the year
before the computation; the micro-grid of each is computed arithmetically (as the importer's
spatial join would). The aggregation runs in SQL (geo/risk/sql/risk_incidents.sql); Gi* runs in
Python with esda. The baseline, timed in the same process, is the cheapest possible map: one
SQL GROUP BY of raw counts per micro-grid.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_risk.py [--skip-province] [--province-permutations N]
        [--province-incidents N] [--database NAME]

The 10 M rows are loaded with the table's indexes, keys and audit trigger set aside and put
back after (set-up, not measured). Times are taken without tracemalloc (it slowed the Python
steps several times over); memory is the process's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text

from bench import bench_settings
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.risk import compute_risk, store_run
from geo.settings import Settings

AS_OF = datetime(2026, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
TYPES = ["fire", "robbery", "theft", "assault", "dispute", "police_call", "noise", "petition"]


def _settings(database: str, permutations: int) -> Settings:
    return bench_settings(database, region="bench", risk_permutations=permutations)


def _unindex_incidents(conn: Connection) -> list[str]:
    """Drop the indexes, keys and foreign keys of ``incidents`` and switch off its audit
    trigger, for a bulk load; return the statements that put them back.

    PostgreSQL's advice for bulk loads ("Populating a Database": remove indexes and foreign
    keys, re-create them after): row by row, 10 M rows took 22 minutes to build. This is set-up,
    not part of what the benchmark measures; the audit log of the benchmark's rows is not kept.
    """
    indexes = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text AS name, "
            "pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
            "WHERE i.indrelid = 'incidents'::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )
    ).all()
    constraints = conn.execute(
        text(
            "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = 'incidents'::regclass AND contype IN ('u', 'f') ORDER BY contype"
        )
    ).all()
    for c in constraints:
        conn.execute(text(f'ALTER TABLE incidents DROP CONSTRAINT "{c.name}"'))
    for i in indexes:
        conn.execute(text(f"DROP INDEX {i.name}"))
    conn.execute(text("ALTER TABLE incidents DISABLE TRIGGER incidents_audit_ins"))
    return [
        *(i.definition for i in indexes),
        *(f'ALTER TABLE incidents ADD CONSTRAINT "{c.name}" {c.definition}' for c in constraints),
        "ALTER TABLE incidents ENABLE TRIGGER incidents_audit_ins",
    ]


def build(engine: Engine, *, side_cols: int, cells: int, incidents: int) -> float:
    """Make the district: micro-grids in rows of ``side_cols``, grid3 = a row, grid2 = 10 rows."""
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE areas, incidents, risk_runs, risk_scores CASCADE"))
        restore = _unindex_incidents(conn)
        conn.execute(
            text(
                "CREATE TEMP TABLE cells AS SELECT g - 1 AS i, (g - 1) / :cols AS r, "
                "(g - 1) % :cols AS c FROM generate_series(1, :n) g"
            ),
            {"cols": side_cols, "n": cells},
        )
        conn.execute(
            text(
                """
                INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom)
                SELECT 'bench', 'S', 'S', 'subdistrict', NULL, '{}',
                       ST_Multi(ST_MakeEnvelope(0, 0, :cols * 100, max(r + 1) * 100, 4547))
                FROM cells;
                INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom)
                SELECT 'bench', 'G2-' || r / 10, 'G2-' || r / 10, 'grid2', 'S', '{S}',
                       ST_Multi(ST_MakeEnvelope(0, min(r) * 100, :cols * 100,
                                                (max(r) + 1) * 100, 4547))
                FROM cells GROUP BY r / 10;
                INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom)
                SELECT 'bench', 'G3-' || r, 'G3-' || r, 'grid3', 'G2-' || r / 10,
                       ARRAY['S', 'G2-' || r / 10],
                       ST_Multi(ST_MakeEnvelope(0, r * 100, (max(c) + 1) * 100,
                                                (r + 1) * 100, 4547))
                FROM cells GROUP BY r;
                INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom)
                SELECT 'bench', 'M' || i, 'M' || i, 'micro', 'G3-' || r,
                       ARRAY['S', 'G2-' || r / 10, 'G3-' || r],
                       ST_Multi(ST_MakeEnvelope(c * 100, r * 100, (c + 1) * 100,
                                                (r + 1) * 100, 4547))
                FROM cells;
                """.replace(":cols", str(side_cols))
            )
        )
        rows = (cells + side_cols - 1) // side_cols
        conn.execute(
            text(
                "CREATE TEMP TABLE centres AS SELECT k, random() * :w AS cx, random() * :h AS cy "
                "FROM generate_series(0, 19) k"
            ),
            {"w": side_cols * 100.0, "h": rows * 100.0},
        )
        conn.execute(
            text(
                """
                INSERT INTO incidents (region, source, source_id, type, occurred_at, reported_at,
                                       geom, area_code, area_path)
                SELECT 'bench', 'bench', g::text, (CAST(:types AS text[]))[1 + (hash % 8)], occ,
                       occ + make_interval(hours => hash % 72),
                       ST_SetSRID(ST_MakePoint(x, y), 4547),
                       'M' || (floor(y / 100) * :cols + floor(x / 100))::bigint, '{}'
                FROM (
                    SELECT g, abs(hashint4(g)) AS hash,
                           CAST(:as_of AS timestamptz) - random() * interval '365 days' AS occ,
                           least(greatest(CASE WHEN g % 10 < 3
                                THEN ce.cx + 300 * sqrt(-2 * ln(1 - random()))
                                     * cos(2 * pi() * random())
                                ELSE random() * :w END, 0), :w - 0.01) AS x,
                           least(greatest(CASE WHEN g % 10 < 3
                                THEN ce.cy + 300 * sqrt(-2 * ln(1 - random()))
                                     * cos(2 * pi() * random())
                                ELSE random() * :h END, 0), :h - 0.01) AS y
                    FROM generate_series(1, :n) g
                    JOIN centres ce ON ce.k = g % 20
                ) p
                WHERE floor(p.y / 100) * :cols + floor(p.x / 100) < :cells
                """
            ),
            {
                "w": side_cols * 100.0,
                "h": rows * 100.0,
                "n": incidents,
                "cols": side_cols,
                "cells": cells,
                "types": TYPES,
                "as_of": AS_OF,
            },
        )
        for statement in restore:
            conn.execute(text(statement))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE areas"))
        conn.execute(text("VACUUM ANALYZE incidents"))
    return time.perf_counter() - t0


def baseline(engine: Engine) -> float:
    """Raw counts per micro-grid over the same year, in one GROUP BY."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(
            text(
                "SELECT area_code, count(*) FROM incidents WHERE region = 'bench' AND "
                "reported_at <= :t AND occurred_at > :t - interval '365 days' GROUP BY area_code"
            ),
            {"t": AS_OF},
        ).all()
    return time.perf_counter() - t0


def run_case(
    database: str,
    name: str,
    side_cols: int,
    cells: int,
    incidents: int,
    permutations: int,
    *,
    reuse: bool = False,
) -> None:
    settings = _settings(database, permutations)
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)  # migrates, and empties the tables to build
    init_db(owner, settings)
    with owner.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM areas WHERE level = 'micro'")).scalar_one()
    built = 0.0
    if not (reuse and have == cells):
        built = build(owner, side_cols=side_cols, cells=cells, incidents=incidents)
    owner.dispose()
    engine = make_engine(settings.db)
    with engine.connect() as conn:
        n_inc = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    base = baseline(engine)
    steps: dict[str, float] = {}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = compute_risk(engine, settings, as_of=AS_OF, steps=steps)
    t1 = time.perf_counter()
    store_run(engine, result)
    t2 = time.perf_counter()
    engine.dispose()
    colours = result.summary["colours"]["micro"]
    total = t2 - t0
    reasons = steps["statistics"] + steps["micro-grids"] + steps["roll-up"]
    other = steps["read"] + steps["hazards"]
    print(
        f"| {name} | {cells:,} | {n_inc:,} | {permutations} | {built:.1f} | {base:.2f} | "
        f"{steps['incidents']:.2f} | {steps['contiguity']:.2f} | {steps['gi*']:.2f} | "
        f"{reasons:.2f} | {other:.2f} | {t1 - t0:.2f} | {t2 - t1:.2f} | {total:.2f} | "
        f"{n_inc / total:,.0f} | "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} | "
        f"{total / base:.1f} | {colours['red']}/{colours['orange']}/{colours['yellow']}/"
        f"{colours['blue']} | {result.summary['hot_spots']:,} | "
        f"{load:.1f} / {os.getloadavg()[0]:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument("--province-permutations", type=int, default=199)
    parser.add_argument("--province-incidents", type=int, default=10_000_000)
    parser.add_argument(
        "--database", default="gridsafe_bench_risk", help="the scratch database's name"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (the province) for --reuse"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="only the province, from the kept database"
    )
    args = parser.parse_args()
    print(
        "| case | micro-grids | incidents | permutations | build s | baseline s (raw counts) | "
        "SQL s | contiguity s | Gi* s | reasons s | other reads s | compute s | store s | "
        "total s | incidents/s | max RSS MiB | total / baseline | "
        "micro red/orange/yellow/blue | hot spots | load average (1 min) start / end |"
    )
    print("|" + "---|" * 20)
    try:
        if not args.reuse:  # the district's build would empty the kept province
            run_case(args.database, "district", 26, 652, 30_000, 999)
        if not args.skip_province:
            run_case(
                args.database,
                "province",
                255,
                65_025,
                args.province_incidents,
                args.province_permutations,
                reuse=args.reuse,
            )
    finally:
        if not args.keep:
            drop_database(_settings(args.database, 99).db)


if __name__ == "__main__":
    main()
