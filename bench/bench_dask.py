"""Benchmark: batch jobs per region on dask against the single-process path, on the same data.

A database of its own (``gridsafe_bench_dask``, dropped at the end) holds ``--regions``
synthetic districts of ``--side`` x ``--side`` square 100 m micro-grids (tests/districts.py),
each patrolled on three days of November 2026 by ``--units`` units walking rows across the
district, one fix every 20 s, imported through the store's own track import. Two jobs
(geo/scale/batch.py), each timed both ways in the same process:

- **locate**: every record of each region placed again (:func:`geo.locate.relocate`), after
  every fix was marked unplaced, so each run writes every fix; one untimed run first builds
  the regions' cell lookups, which the first path would otherwise pay for alone;
- **coverage**: the covers of the 90 closed shifts of November per region
  (:func:`geo.coverage.covered.refresh`), after the coverage cache was emptied.

"here" is the loop in this process, region after region; "dask" is one task per region on a
LocalCluster of ``--workers`` single-threaded processes (started once, before the timings).
Both paths write the same rows (checked after each run).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_dask.py [--regions 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from distributed import Client, LocalCluster
from sqlalchemy import Engine, text

from bench import bench_settings
from geo.coverage.tracks import import_track_records
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.scale.batch import Job, month_period, run_here, run_on_dask, task
from geo.settings import Settings
from tests.districts import square_district

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = [datetime(2026, 11, d, 1, 0, tzinfo=UTC) for d in (3, 12, 24)]


def _walk(side: int, unit: int, start: datetime) -> list[dict[str, Any]]:
    """A unit walking rows 100 m apart across the district and back, 10 m every 20 s."""
    width = side * 100.0
    points: list[tuple[float, float]] = []
    for k in range(side):
        y = 50.0 + k * 100.0 + unit * 7.0
        xs = [10.0 + i * 10.0 for i in range(math.floor((width - 20.0) / 10.0))]
        row = [(x, y) for x in (xs if k % 2 == 0 else xs[::-1])]
        if points:  # half-way up to the next row first: no step looks like a sprint
            points.append((row[0][0], y - 50.0))
        points += row
    return [
        {
            "unit": f"U{unit}",
            "kind": "foot",
            "time": (start + timedelta(seconds=20 * i)).isoformat(),
            "x": x,
            "y": y,
        }
        for i, (x, y) in enumerate(points)
    ]


def build(engine: Engine, settings: Settings, *, regions: list[str], side: int, units: int) -> int:
    """Store the districts and their patrols; return the number of fixes."""
    fixes = 0
    for i, region in enumerate(regions):
        x0, y0 = 400000.0 + i * (side + 5) * 100.0, 3800000.0
        with engine.begin() as conn:
            square_district(conn, region, prefix="m", side=side, x0=x0, y0=y0)
        records = [
            fix | {"x": fix["x"] + x0, "y": fix["y"] + y0}
            for day in DAYS
            for unit in range(units)
            for fix in _walk(side, unit, day)
        ]
        report = import_track_records(
            engine, settings.replace(region=region), records, crs="EPSG:4547"
        )
        assert report.rejected == [], report.rejected[:3]
        fixes += len(records)
    return fixes


def _state(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query))]


FIXES = "SELECT region, unit, t, area_code FROM fixes ORDER BY 1, 2, 3"
COVERS = (
    "SELECT region, area_code, t0, round(covered_m2::numeric, 3) FROM coverage_cache "
    "ORDER BY 1, 2, 3"
)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    tracemalloc.start()
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--side", type=int, default=12, help="micro-grids per side of a region")
    parser.add_argument("--units", type=int, default=2, help="patrol units per region")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jobs", default="locate,coverage", help="which jobs to time")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    settings = bench_settings("gridsafe_bench_dask")
    drop_database(settings.db)
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)
    init_db(owner, settings)
    owner.dispose()
    engine = make_engine(settings.db)
    regions = [f"b{i:02d}" for i in range(args.regions)]
    month = month_period(date(2026, 11, 1), settings)
    rows: list[tuple[str, str, float, float, int]] = []
    try:
        t0 = time.perf_counter()
        fixes = build(engine, settings, regions=regions, side=args.side, units=args.units)
        print(f"built {len(regions)} regions, {fixes:,} fixes in {time.perf_counter() - t0:.0f} s")
        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            for job, reset, state, work in (
                (Job.LOCATE, "UPDATE fixes SET area_code = NULL", FIXES, fixes),
                (Job.COVERAGE, "DELETE FROM coverage_cache", COVERS, 90 * len(regions)),
            ):
                if job.value not in args.jobs.split(","):
                    continue
                run = task(job, settings, period=month, when=NOW)
                if job is Job.LOCATE:
                    # The first relocate of a region builds its cell lookup (geo/locate.py):
                    # once, untimed, so neither path pays for it.
                    run_here(run, regions)
                answers = []
                for path in ("here", "dask"):
                    with engine.begin() as conn:
                        conn.execute(text(reset))
                    go = (
                        partial(run_here, run, regions)
                        if path == "here"
                        else partial(run_on_dask, run, regions, client)
                    )
                    seconds, peak = timed(go)
                    answers.append(_state(engine, state))
                    rows.append((job.value, path, seconds, peak, work))
                    print(
                        f"{job.value} {path}: {seconds:.1f} s, load {os.getloadavg()}", flush=True
                    )
                assert answers[0] == answers[1], f"{job.value}: dask wrote other rows"
    finally:
        engine.dispose()
        drop_database(settings.db)

    print(
        f"\n{len(regions)} regions of {args.side}x{args.side} micro-grids, {fixes:,} fixes; "
        f"dask: LocalCluster of {args.workers} processes x 1 thread\n"
    )
    print(
        "| job | path | s | per region s | work/s | Python peak MiB (this process) "
        "| ratio to here |"
    )
    print("|---|---|---|---|---|---|---|")
    base: dict[str, float] = {}
    for job_name, path, seconds, peak, work in rows:
        base.setdefault(job_name, seconds)
        unit = "fixes" if job_name == "locate" else "shifts"
        print(
            f"| {job_name} | {path} | {seconds:.1f} | {seconds / len(regions):.2f} "
            f"| {work / seconds:,.0f} {unit}/s | {peak:.1f} | {seconds / base[job_name]:.2f} |"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmax RSS of this process: {rss:.0f} MiB; load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
