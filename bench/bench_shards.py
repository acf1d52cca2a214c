"""Benchmark: the national jobs on postgres_fdw shards, as regions are added (1, 2, 4, 8).

Private PostgreSQL 15 clusters (tests/pgcluster.py, temporary directories on free loopback
ports, removed at the end): one coordinator and ``--shards`` shards. Each region is a synthetic
grid of ``--side`` x ``--side`` square 100 m micro-grids with ``--fixes`` patrol fixes and
``--incidents`` incidents (geo/scale/sql/scale_synthetic.sql, generate_series), placed on the
shards in turn; its partitions on the coordinator are foreign tables on its shard
(geo/scale/shards.py). The same regions are also loaded into a database of the coordinator's
cluster that holds every partition itself: the baseline, one server doing the same jobs,
timed in the same process.

For each number of regions, on both: every region's fixes are reset to unplaced, then timed

- **locate**: each region's fixes placed in their micro-grids, region after region
  (the border rule; one remote UPDATE ... FROM join per region);
- **risk**: each region's incidents per micro-grid and type (a remote GROUP BY per region);
- **roll-up**: the national roll-up by region and type, all shards at once (Async Foreign Scan).

Run from the repository root (as root the clusters run as ``postgres``)::

    PYTHONPATH=. .venv/bin/python bench/bench_shards.py [--shards 3] [--regions 1,2,4,8]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from geo.scale.shards import (
    ShardMap,
    SyntheticRegion,
    analyze,
    attach_shards,
    generate_region,
    locate_fixes,
    national_rollup,
    prepare_shard,
    risk_counts,
    unplace_fixes,
)
from geo.settings import RiskSettings
from tests.pgcluster import national_clusters

AS_OF = datetime(2026, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
SRID = 4547
RISK = RiskSettings()


@dataclass
class Timing:
    locate_s: float
    risk_s: float
    rollup_s: float
    peak_mib: float
    placed: int
    groups: int


def _timed(step: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = step()
    return time.perf_counter() - t0, n


def run_jobs(engine: Engine, regions: Sequence[str]) -> Timing:
    """Reset every region's fixes, then time the three jobs on ``engine``."""
    with engine.begin() as conn:
        for region in regions:
            unplace_fixes(conn, region)
    tracemalloc.start()

    def locate() -> int:
        placed = 0
        for region in regions:
            with engine.begin() as conn:
                placed += locate_fixes(conn, region)
        return placed

    def risk() -> int:
        groups = 0
        for region in regions:
            with engine.begin() as conn:
                groups += len(risk_counts(conn, region, RISK, as_of=AS_OF))
        return groups

    def rollup() -> int:
        with engine.begin() as conn:
            return len(national_rollup(conn, RISK, as_of=AS_OF))

    locate_s, placed = _timed(locate)
    risk_s, groups = _timed(risk)
    rollup_s, _ = _timed(rollup)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Timing(locate_s, risk_s, rollup_s, peak / 2**20, placed, groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--regions", default="1,2,4,8")
    parser.add_argument("--side", type=int, default=50, help="micro-grids per side of a region")
    parser.add_argument("--fixes", type=int, default=100_000, help="fixes per region")
    parser.add_argument("--incidents", type=int, default=50_000, help="incidents per region")
    args = parser.parse_args()
    sizes = [int(n) for n in args.regions.split(",")]
    print(f"load average at start: {os.getloadavg()}")
    with national_clusters(args.shards) as servers:
        coordinator, baseline, shards = servers.coordinator, servers.baseline, servers.shards
        urls = {f"s{i}": c.url("shard") for i, c in enumerate(servers.clusters[1:])}
        placement: dict[str, str] = {}
        rows = []
        for size in sizes:
            t0 = time.perf_counter()
            while len(placement) < size:
                i = len(placement)
                spec = SyntheticRegion(
                    f"r{i:02d}",
                    x0=400000.0 + i * (args.side + 10) * 100.0,
                    y0=3800000.0,
                    side=args.side,
                    fixes=args.fixes,
                    incidents=args.incidents,
                )
                shard = f"s{i % args.shards}"
                placement[spec.region] = shard
                for engine in (shards[i % args.shards], baseline):
                    with engine.begin() as conn:
                        prepare_shard(conn, [spec.region], srid=SRID)
                        generate_region(conn, spec, as_of=AS_OF, srid=SRID)
            shard_map = ShardMap.from_config({"shards": urls, "regions": placement})
            with coordinator.begin() as conn:
                attach_shards(conn, shard_map, srid=SRID)
                analyze(conn, list(placement))
            build_s = time.perf_counter() - t0
            regions = sorted(placement)
            single = run_jobs(baseline, regions)
            sharded = run_jobs(coordinator, regions)
            assert sharded.placed == single.placed, (sharded.placed, single.placed)
            assert sharded.groups == single.groups, (sharded.groups, single.groups)
            rows.append((size, build_s, single, sharded, os.getloadavg()[0]))
            print(f"{size} regions done, load {os.getloadavg()}", flush=True)

    report(args, rows)


def report(args: argparse.Namespace, rows: list[tuple[int, float, Timing, Timing, float]]) -> None:
    """Print the table (markdown)."""
    print(
        f"\n{args.shards} shards; per region {args.side}x{args.side} micro-grids, "
        f"{args.fixes:,} fixes, {args.incidents:,} incidents\n"
    )
    print(
        "| regions | run | locate s | locate s / region | fixes/s | risk s / region "
        "| roll-up s | total s | total / baseline | Python peak MiB | load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, _build, single, sharded, load in rows:
        base_total = single.locate_s + single.risk_s + single.rollup_s
        for name, t in (("one server", single), ("shards", sharded)):
            total = t.locate_s + t.risk_s + t.rollup_s
            print(
                f"| {size} | {name} | {t.locate_s:.2f} | {t.locate_s / size:.2f} "
                f"| {t.placed / t.locate_s:,.0f} | {t.risk_s / size:.3f} | {t.rollup_s:.3f} "
                f"| {total:.2f} | {total / base_total:.2f} | {t.peak_mib:.1f} | {load:.1f} |"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmax RSS of the benchmark process: {rss:.0f} MiB")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
