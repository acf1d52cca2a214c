"""Benchmark: the floors under issue 3's goals, measured next to geopandas in the same run.

Issue 3 asks the import (file in, rows in PostGIS with their micro-grid) to be at least as fast
end to end as geopandas' in-memory ``read_csv`` + ``sjoin`` at 1M points, and the join alone
several times faster than ``sjoin`` alone. ``bench/bench_locate.py`` measures the real import
and join; this script measures what no formulation of them can go below in PostgreSQL 15 on
this machine, so that the gap can be read as design or as floor:

join floors
    the bare hash join of the staged points to the cell lookup (``area_cells``), counting only:
    no geometry test, no border rule, nothing written; once on a temporary table (what an import
    stages into: PostgreSQL never runs parallel workers on temporary tables) and once on an
    unlogged table with two parallel workers allowed. Then the imports' real locate join
    (``geo/records/sql/records_locate.sql``) with its result written, as ``bench_locate.py`` does.
write floors
    ``INSERT ... SELECT`` of the same rows (already located, read from an unlogged table in
    memory) into a copy of ``incidents``: with no index at all, then with each of the table's
    indexes, its foreign key and its audit trigger added one by one, and last with no index
    and every index built after the load (what a bulk load that locks the table out of reads
    would pay).

Each server-side figure is the best of ``--repeats``; a ``CHECKPOINT`` precedes every write.
Run from the repository root (creates and drops its own database)::

    .venv/bin/python bench/bench_locate_floor.py [--points 1000000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repository's packages first

from bench import bench_locate, bench_settings  # noqa: E402 - needs the path above
from demo import DATA  # noqa: E402
from geo.database import drop_database  # noqa: E402
from geo.locate import ensure_cells  # noqa: E402
from geo.settings import Settings  # noqa: E402

# The located rows, in the order the import writes them (incidents_upsert.sql sorts each batch).
COPY_LOCATED = (
    "CREATE UNLOGGED TABLE src AS SELECT * FROM incidents ORDER BY area_code, occurred_at"
)

BARE_JOIN = """
SELECT count(*) FROM {table} s
JOIN area_cells c ON c.region = :region
 AND c.i = floor(s.x / :cell_m)::integer AND c.j = floor(s.y / :cell_m)::integer
"""

# The indexes, key and trigger of incidents (migrations 0002, 0009, a0009, i0009), added to the
# copy one at a time; each step's INSERT pays for everything added before it.
WRITE_STEPS = (
    ("no index, no constraint", None),
    ("+ primary key (id)", "ALTER TABLE t ADD PRIMARY KEY (id)"),
    (
        "+ unique (region, source, source_id)",
        "ALTER TABLE t ADD UNIQUE (region, source, source_id)",
    ),
    (
        "+ B-tree (region, area_code, occurred_at)",
        "CREATE INDEX ON t (region, area_code, occurred_at)",
    ),
    ("+ B-tree (region, occurred_at)", "CREATE INDEX ON t (region, occurred_at)"),
    ("+ GiST (geom)", "CREATE INDEX ON t USING gist (geom)"),
    (
        "+ foreign key (type)",
        "ALTER TABLE t ADD FOREIGN KEY (type) REFERENCES incident_types (code)",
    ),
    (
        "+ audit trigger (transition table)",
        "CREATE TRIGGER t_audit AFTER INSERT ON t REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_changes('id')",
    ),
)


def _best(
    engine: Engine, repeats: int, statement: str, params: dict[str, Any], workers: int = 0
) -> float:
    """Best of ``repeats`` of ``statement``, with up to ``workers`` parallel workers."""
    best = float("inf")
    for _ in range(repeats):
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL jit = off"))
            conn.execute(
                text("SELECT set_config('max_parallel_workers_per_gather', :n, true)"),
                {"n": str(workers)},
            )
            if workers:  # the planner is to use them whenever it can, whatever it estimates
                for name in ("parallel_setup_cost", "parallel_tuple_cost"):
                    conn.execute(text("SELECT set_config(:name, '0', true)"), {"name": name})
                conn.execute(text("SET LOCAL min_parallel_table_scan_size = 0"))
            t0 = time.perf_counter()
            conn.execute(text(statement), params)
            best = min(best, time.perf_counter() - t0)
    return best


def _timed_write(engine: Engine, repeats: int, build_after: bool = False) -> float:
    """Best of ``repeats``: INSERT the located rows into ``t`` (then build its indexes)."""
    best = float("inf")
    for _ in range(repeats):
        with engine.connect() as conn:
            conn.execute(text("TRUNCATE t"))
            conn.commit()
            conn.execute(text("CHECKPOINT"))
            conn.commit()
            t0 = time.perf_counter()
            conn.execute(text("INSERT INTO t SELECT * FROM src"))
            if build_after:
                for _name, ddl in WRITE_STEPS[1:6]:
                    assert ddl is not None
                    conn.execute(text(ddl))
            conn.commit()
            best = min(best, time.perf_counter() - t0)
            if build_after:  # back to the bare table for the next repeat
                _bare_copy(conn)
    return best


def _bare_copy(conn: Connection) -> None:
    conn.execute(text("DROP TABLE IF EXISTS t"))
    conn.execute(text("CREATE TABLE t (LIKE incidents INCLUDING DEFAULTS)"))
    conn.commit()


def measure_join(engine: Engine, settings: Settings, repeats: int) -> list[tuple[str, float]]:
    params = {"region": settings.region, "cell_m": settings.areas.locate_cell_m}
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS staged_u"))
        conn.execute(
            text(
                "CREATE UNLOGGED TABLE staged_u AS "
                "SELECT id AS row, ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents"
            )
        )
        conn.execute(text("ANALYZE staged_u"))
    rows = []
    with engine.begin() as conn:  # the temporary table lives in this connection only
        conn.execute(text("SET LOCAL jit = off"))
        conn.execute(text("CREATE TEMP TABLE staged_t AS SELECT * FROM staged_u"))
        conn.execute(text("ANALYZE staged_t"))
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            conn.execute(text(BARE_JOIN.format(table="staged_t")), params)
            best = min(best, time.perf_counter() - t0)
        rows.append(("bare cell hash join, temporary table (count only)", best))
    parallel = _best(engine, repeats, BARE_JOIN.format(table="staged_u"), params, workers=2)
    rows.append(("bare cell hash join, unlogged table, 2 parallel workers (count only)", parallel))
    best = float("inf")
    for _ in range(repeats):
        best = min(best, bench_locate.run_db_join(str(engine.url.database), "")["seconds"])
    rows.append(("imports' locate join, result written (records_locate.sql)", best))
    return rows


def measure_write(engine: Engine, repeats: int) -> list[tuple[str, float]]:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS src"))
        conn.execute(text(COPY_LOCATED))
        conn.execute(text("SELECT count(*) FROM src"))  # read into the buffers once
    rows = []
    with engine.connect() as conn:
        _bare_copy(conn)
    for name, ddl in WRITE_STEPS:
        if ddl is not None:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE t"))
                conn.execute(text(ddl))
        rows.append((f"INSERT: {name}", _timed_write(engine, repeats)))
    with engine.connect() as conn:
        _bare_copy(conn)
    rows.append(
        ("INSERT with no index, then build the five indexes", _timed_write(engine, repeats, True))
    )
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS t, src, staged_u"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--boundaries", type=Path, default=DATA)
    args = parser.parse_args()

    db = f"gridsafe_bench_floor_{int(time.time())}"
    settings = bench_settings(db)
    bench_locate.prepare(settings, args.boundaries).dispose()
    # The floors' scratch tables and their CHECKPOINTs are the superuser's: no app code runs here.
    engine = create_engine(settings.db.admin_database_url)
    try:
        workdir = Path(tempfile.mkdtemp(prefix="gridsafe-floor-"))
        csv = workdir / f"points_{args.points}.csv"
        micro = str(args.boundaries / "micro.geojson")
        bounds = tuple(
            gpd.read_file(args.boundaries / "subdistrict.geojson").to_crs(4326).total_bounds
        )
        bench_locate._write_points(csv, args.points, bounds, seed=args.points)
        imported = bench_locate.run_import(db, str(csv))
        base = min(
            (bench_locate.run_geopandas(micro, str(csv)) for _ in range(args.repeats)),
            key=lambda r: r["seconds"],
        )
        with engine.begin() as conn:
            ensure_cells(conn, settings)
        steps = [
            ("geopandas read_csv + points + to_crs + sjoin (baseline, in memory)", base["seconds"]),
            ("geopandas sjoin alone (baseline)", base["join_seconds"]),
            ("gridsafe import, file to commit (bench_locate.py's path)", imported["seconds"]),
            *measure_join(engine, settings, args.repeats),
            *measure_write(engine, args.repeats),
        ]
        print(f"{args.points:,} points, best of {args.repeats}; ratio = sjoin alone / step")
        print("| step | s | points/s | ratio to sjoin alone | ratio to read+sjoin |")
        print("|---|---|---|---|---|")
        for name, seconds in steps:
            print(
                f"| {name} | {seconds:.2f} | {args.points / seconds:,.0f} | "
                f"{base['join_seconds'] / seconds:.2f}x | {base['seconds'] / seconds:.2f}x |"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (the client; the server not counted): {peak:.0f} MiB")
    finally:
        engine.dispose()
        drop_database(settings.db)


if __name__ == "__main__":
    main()
