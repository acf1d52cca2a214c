"""Benchmark: locate 10k, 100k and 1M points into the demo district's 652 micro-grids.

Three measurements per size, each in a fresh child process (so ``ru_maxrss``, the child's peak
resident set size, is the peak memory of that step alone, Python and libraries included; the
database server's memory is not counted):

``gridsafe import``
    the real import path: CSV file in (WGS84 lon/lat), rows checked, projected, COPY'd, located by
    the one set-based join and written into ``incidents`` with their area; timed to commit.
    The ``located`` counts of every method must agree (asserted).
``geopandas sjoin``
    the baseline, in memory: ``pandas.read_csv`` + ``points_from_xy`` + ``to_crs`` + ``sjoin``
    (predicate ``intersects``) against the same micro-grids; nothing is written anywhere.
``join alone``
    PostGIS: the imports' locate join (``geo/records/sql/records_locate.sql``: cell lookup,
    exact test in boundary cells, border rule) over points already in a staging table, its
    result written to ``staged_places`` as in an import; the lookup is built with the
    boundaries and its build time printed apart. geopandas: ``sjoin`` over GeoDataFrames
    already built.

Run from the repository root (creates and drops its own database)::

    .venv/bin/python bench/bench_locate.py [--sizes 10000 100000 1000000] [--boundaries DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repository's packages first

from bench import bench_settings  # noqa: E402 - needs the path above
from demo import DATA  # noqa: E402
from geo.boundaries import import_boundaries  # noqa: E402 - needs the path above
from geo.database import drop_database, ensure_database, init_db, make_engine, sql  # noqa: E402
from geo.levels import Level  # noqa: E402
from geo.locate import ensure_cells  # noqa: E402
from geo.records import import_records  # noqa: E402
from geo.settings import Settings  # noqa: E402


def _child(fn: Callable[..., dict[str, float]], args: tuple[Any, ...]) -> dict[str, float]:
    """Run ``fn(*args)`` in a fresh process; add its peak RSS in MiB."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_measured, (fn, args))


def _measured(fn: Callable[..., dict[str, float]], args: tuple[Any, ...]) -> dict[str, float]:
    out = fn(*args)
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _write_points(path: Path, n: int, bounds: tuple[float, ...], seed: int) -> None:
    """n uniform points over the district's WGS84 bounding box (some fall outside every area)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    start = np.datetime64("2025-01-01T00:00")
    minutes = rng.integers(0, 700 * 24 * 60, n).astype("timedelta64[m]")
    frame = pd.DataFrame(
        {
            "source": "110",
            "source_id": [f"B{i:07d}" for i in range(n)],
            "type": "police_call",
            "occurred_at": (start + minutes).astype(str),
            "lon": np.round(rng.uniform(west, east, n), 7),
            "lat": np.round(rng.uniform(south, north, n), 7),
        }
    )
    frame.to_csv(path, index=False)


def run_import(db: str, csv: str) -> dict[str, float]:
    """The real import path, timed from file to commit."""
    settings = bench_settings(db)
    owner = make_engine(settings.db, owner=True)  # the app's login may not truncate
    with owner.begin() as conn:
        # CASCADE: cases (migration 0006) reference incidents; this database is the bench's own.
        conn.execute(text("TRUNCATE incidents CASCADE"))
    owner.dispose()
    engine = make_engine(settings.db)
    t0 = time.perf_counter()
    report = import_records(engine, settings, Path(csv), kind="incidents")
    elapsed = time.perf_counter() - t0
    with engine.connect() as conn:
        located = conn.execute(
            text("SELECT count(*) FROM incidents WHERE area_code IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    return {"seconds": elapsed, "rows": report.loaded, "located": located}


def run_db_join(db: str, csv: str) -> dict[str, float]:
    """The imports' locate join alone (``geo/records/sql/records_locate.sql``) over stored points.

    The points are the imported incidents' coordinates in a staging table, as an import stages
    them; the cell lookup was built with the boundaries (its build time is reported apart).
    """
    settings = bench_settings(db)
    engine = make_engine(settings.db)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL jit = off"))
        conn.execute(
            text("SELECT set_config('work_mem', :mem, true)"),
            {"mem": f"{settings.intake.import_work_mem_mb}MB"},
        )
        conn.execute(sql("records_locate_stage", "geo.records"))
        conn.execute(
            text(
                "INSERT INTO staged_points (row, x, y) "
                "SELECT id, ST_X(geom), ST_Y(geom) FROM incidents"
            )
        )
        conn.execute(text("ANALYZE staged_points"))
        cell_m = ensure_cells(conn, settings)
        t0 = time.perf_counter()
        conn.execute(
            sql("records_locate", "geo.records"),
            {"region": settings.region, "srid": settings.srid, "cell_m": cell_m},
        )
        elapsed = time.perf_counter() - t0
        located = conn.execute(text("SELECT count(*) FROM staged_places")).scalar_one()
    engine.dispose()
    return {"seconds": elapsed, "located": located}


def run_geopandas(micro: str, csv: str) -> dict[str, float]:
    """Baseline: read the CSV, build points, project, sjoin; and the sjoin alone."""
    polygons = gpd.read_file(micro)[["code", "geometry"]].to_crs(4547)
    t0 = time.perf_counter()
    frame = pd.read_csv(csv)
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
    ).to_crs(4547)
    t1 = time.perf_counter()
    joined = gpd.sjoin(points, polygons, how="left", predicate="intersects")
    t2 = time.perf_counter()
    return {
        "seconds": t2 - t0,
        "join_seconds": t2 - t1,
        "located": float(joined["code"].notna().sum()),
    }


def prepare(settings: Settings, boundaries: Path) -> Engine:
    """Create the bench's database with the demo district's four levels and the cell lookup
    (its build time printed); the caller drops it (``drop_database``)."""
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)
    engine = make_engine(settings.db)
    try:
        init_db(owner, settings)
        owner.dispose()
        for level in Level:
            path = boundaries / f"{level.value}.geojson"
            import_boundaries(engine, settings, path, level=level)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            ensure_cells(conn, settings)
            cells, exact = conn.execute(
                text("SELECT cells, exact_cells FROM area_cell_grids WHERE region = :r"),
                {"r": settings.region},
            ).one()
    except BaseException:
        owner.dispose()
        engine.dispose()
        drop_database(settings.db)
        raise
    print(
        f"cell lookup ({settings.areas.locate_cell_m:g} m): {cells:,} cells, {exact:,} on a "
        f"boundary, built in {time.perf_counter() - t0:.2f} s"
    )
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--boundaries", type=Path, default=DATA)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gridsafe-bench"
    )
    args = parser.parse_args()

    db = f"gridsafe_bench_{int(time.time())}"
    settings = bench_settings(db)
    args.workdir.mkdir(parents=True, exist_ok=True)
    engine = prepare(settings, args.boundaries)
    try:
        engine.dispose()
        micro = str(args.boundaries / "micro.geojson")
        bounds = tuple(
            gpd.read_file(args.boundaries / "subdistrict.geojson").to_crs(4326).total_bounds
        )
        rows = []
        for n in args.sizes:
            csv = args.workdir / f"points_{n}.csv"
            _write_points(csv, n, bounds, seed=n)
            ours = _child(run_import, (db, str(csv)))
            join = _child(run_db_join, (db, str(csv)))
            base = _child(run_geopandas, (micro, str(csv)))
            assert ours["located"] == base["located"] == join["located"], (ours, base, join)
            rows.append((n, ours, join, base))
        print(
            "| points | gridsafe import s | pts/s | peak RSS MiB | geopandas read+sjoin s | "
            "pts/s | peak RSS MiB | end-to-end ratio | PostGIS join s | sjoin alone s | "
            "join ratio | located |"
        )
        print("|" + "---|" * 12)
        for n, ours, join, base in rows:
            print(
                f"| {n:,} | {ours['seconds']:.2f} | {n / ours['seconds']:,.0f} | "
                f"{ours['rss_mib']:.0f} | {base['seconds']:.2f} | {n / base['seconds']:,.0f} | "
                f"{base['rss_mib']:.0f} | {base['seconds'] / ours['seconds']:.2f}x | "
                f"{join['seconds']:.2f} | {base['join_seconds']:.2f} | "
                f"{base['join_seconds'] / join['seconds']:.2f}x | {int(ours['located']):,} |"
            )
    finally:
        engine.dispose()
        drop_database(settings.db)


if __name__ == "__main__":
    main()
