"""Benchmark: ``gridsafe serve`` against tipg on the same database, tiles, GeoJSON and pages.

Serves the demo district (``gridsafe_bench_load``, loaded by bench_load.py's ``prepare`` on first
use) twice over loopback, each with 2 worker processes and up to 10 database connections per
worker: ``gridsafe serve --workers 2 --no-access-log`` and tipg (``pip install -e ".[bench]"``;
tipg 1.6.1 under the same uvicorn, ``uvicorn tipg.main:app --workers 2 --no-access-log``, run as
its own process). tipg serves two
views this script makes in the bench database: the micro-grids with the colour and score of the
newest risk run (what gridsafe's ``/tiles/areas`` draws) and the micro-grids alone (what
``/api/areas?level=micro`` returns).

Each endpoint is driven by ``wrk`` at 1, 16 and 64 connections (clients), gridsafe and tipg
interleaved (which goes first alternates), each run ``--duration`` seconds, three times; the
table shows the median of the three runs of each (answers per second, p50 and p99 latency) and
the PostgreSQL sessions each server started during its runs (``pg_stat_database.sessions``).
Every request carries a leader's bearer token and ``Accept-Encoding: gzip`` (tipg ignores the
token). The endpoints:

- tiles: the micro-grid tiles over the district at zooms 14-16 (43 tiles), in turn;
- GeoJSON: the 652 micro-grids (gridsafe ``/api/areas?level=micro``, tipg ``items?limit=1000``);
- pages: gridsafe's four-colour page ``/maps/risk?level=micro`` and tipg's map viewer of the
  tile view (``.../map.html``): not the same page, listed for scale;
- ``/healthz`` at one client: the round trip of an empty answer on a kept-alive connection.

The floor is what PostgreSQL alone needs: gridsafe's tile SQL for the same 43 tiles on one
connection, in turn, for ``--duration`` seconds, three times. Peak RSS is each server's
processes (the uvicorn supervisor and its workers), read from /proc after its last run.

gridsafe keeps each tile and page it built (``api/cache.py``), so after the first request for a
tile each worker answers it from memory; ``--no-cache`` serves it with
``GRIDSAFE_RESPONSE_CACHE_MB=0``, building every tile and page per request. ``--only`` runs the
endpoints whose names start with the words given (``--only tiles /healthz``).

    .venv/bin/python bench/bench_serve.py [--duration 5] [--levels 1 16 64] [--no-cache]
        [--only tiles ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_load import (
    WRK,
    _free_port,
    healthy,
    prepare,
    request_headers,
    run_wrk,
    serve,
    tile_paths,
)
from geo.database import make_engine, sql
from geo.settings import Settings

ZOOMS = (14, 15, 16)
TIPG_TILES = "public.bench_micro_tiles"
TIPG_AREAS = "public.bench_micro_areas"

# The same rows gridsafe's tile and GeoJSON answers read (geo/sql/tiles_areas.sql's join).
VIEWS = """
CREATE OR REPLACE VIEW bench_micro_tiles AS
SELECT a.code, a.name, a.level, a.parent_code, s.colour,
       round(s.score::numeric, 1)::float8 AS score, a.geom
FROM areas a
LEFT JOIN risk_scores s
       ON s.run_id = (SELECT id FROM risk_runs WHERE region = a.region
                      ORDER BY as_of DESC, id DESC LIMIT 1)
      AND s.region = a.region AND s.area_code = a.code
WHERE a.level = 'micro';
CREATE OR REPLACE VIEW bench_micro_areas AS
SELECT a.code, a.name, a.level, a.parent_code, a.geom FROM areas a WHERE a.level = 'micro';
"""


@dataclass
class Runs:
    """The runs of one server on one endpoint at one client count."""

    rates: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    other: int = 0  # answers that were not 200, and wrk's errors
    sessions: int = 0


def sessions(engine: Engine, database: str) -> int:
    """PostgreSQL sessions ever started on ``database`` (PostgreSQL 14+)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = :d"), {"d": database}
            ).scalar_one()
        )


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory of a process and its children (VmHWM, MiB), summed."""
    pids = [pid]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        ppid = next((ln.split()[1] for ln in lines if ln.startswith("PPid:")), "")
        if ppid == str(pid):
            pids.append(int(status.parent.name))
    total = 0
    for p in pids:
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        total += next((int(ln.split()[1]) for ln in lines if ln.startswith("VmHWM:")), 0)
    return total / 1024


def serve_tipg(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    """tipg on ``port`` over the bench views; returns once its /healthz answers."""
    url = settings.db.database_url.replace("postgresql+psycopg://", "postgresql://")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIPG_DB_TABLES": f'["{TIPG_TILES}", "{TIPG_AREAS}"]',
        "TIPG_DB_MAX_CONN_SIZE": str(settings.db.pool_size + settings.db.pool_max_overflow),
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    server = subprocess.Popen(  # noqa: S603 - uvicorn with our arguments
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return healthy(server, port)


def floor(settings: Settings, duration: float) -> list[tuple[float, float]]:
    """gridsafe's tile SQL alone on one connection: (tiles/s, p50 ms) per run."""
    engine = create_engine(settings.db.database_url)
    addresses = [
        tuple(int(v) for v in p.split("?")[0].removesuffix(".mvt").split("/")[-3:])
        for p in tile_paths(settings, ZOOMS)
    ]
    query = sql("tiles_areas")
    out = []
    try:
        with engine.connect() as conn:
            as_of = conn.execute(text("SELECT now() + interval '1 day'")).scalar_one()
            for _ in range(3):
                times: list[float] = []
                began = time.perf_counter()
                while time.perf_counter() - began < duration:
                    for z, x, y in addresses:
                        t0 = time.perf_counter()
                        conn.execute(
                            query,
                            {
                                "z": z,
                                "x": x,
                                "y": y,
                                "srid": settings.srid,
                                "region": settings.region,
                                "gcj02": False,
                                "level": "micro",
                                "as_of": as_of,
                            },
                        ).scalar()
                        times.append(time.perf_counter() - t0)
                    conn.rollback()
                spent = time.perf_counter() - began
                out.append((len(times) / spent, statistics.median(times) * 1000))
    finally:
        engine.dispose()
    return out


def main() -> None:  # noqa: PLR0915 - one linear script: start, measure, print, stop
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per run")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument(
        "--no-cache", action="store_true", help="gridsafe builds every tile and page per request"
    )
    parser.add_argument("--only", nargs="+", help="endpoints whose names start with these")
    args = parser.parse_args()
    if not Path(WRK).is_absolute():
        sys.exit("bench_serve.py needs wrk: apt-get install wrk")
    settings = prepare()
    database = settings.db.database_url.rsplit("/", 1)[1]
    owner = make_engine(settings.db, owner=True)  # the schema's owner makes the views
    with owner.begin() as conn:
        conn.execute(text(VIEWS))
    owner.dispose()
    admin = create_engine(settings.db.database_url)
    headers = request_headers(settings)
    tiles = tile_paths(settings, ZOOMS)
    tipg_tiles = [
        p.replace(
            "/tiles/areas/", f"/collections/{TIPG_TILES}/tiles/WebMercatorQuad/"
        ).removesuffix(".mvt?level=micro")
        for p in tiles
    ]
    endpoints: dict[str, tuple[list[str], list[str], list[int]]] = {
        f"tiles ({len(tiles)}, z14-16)": (tiles, tipg_tiles, args.levels),
        "GeoJSON, 652 micro-grids": (
            ["/api/areas?level=micro"],
            [f"/collections/{TIPG_AREAS}/items?limit=1000"],
            args.levels,
        ),
        "page (not the same page)": (
            ["/maps/risk?level=micro"],
            [f"/collections/{TIPG_TILES}/tiles/WebMercatorQuad/map.html"],
            args.levels,
        ),
        "/healthz": (["/healthz"], ["/healthz"], [1]),
    }
    if args.only:
        endpoints = {k: v for k, v in endpoints.items() if k.startswith(tuple(args.only))}
    ports = {"gridsafe": _free_port(), "tipg": _free_port()}
    servers = {
        "gridsafe": serve(
            settings,
            2,
            ports["gridsafe"],
            env={"GRIDSAFE_RESPONSE_CACHE_MB": "0"} if args.no_cache else None,
            access_log=False,  # as tipg below
        ),
        "tipg": serve_tipg(settings, ports["tipg"]),
    }
    print(f"load average before: {os.getloadavg()}")
    if args.no_cache:
        print("gridsafe with GRIDSAFE_RESPONSE_CACHE_MB=0: every tile and page built per request")
    print(
        f"{args.duration} s per run, 3 runs each, gridsafe and tipg interleaved; "
        "median of the 3 runs\n"
    )
    print(
        "| endpoint | clients | gridsafe 200/s | p50 ms | p99 ms | new sessions | not 200 "
        "| tipg 200/s | p50 ms | p99 ms | new sessions | not 200 | ratio gridsafe/tipg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rss: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="gridsafe-serve-") as tmp:
            for name, (ours, theirs, levels) in endpoints.items():
                paths = {"gridsafe": ours, "tipg": theirs}
                for who in servers:  # warm the workers, their pools and caches
                    base = f"http://127.0.0.1:{ports[who]}"
                    run_wrk(base, paths[who], 2, 2, Path(tmp), headers=headers, polite=False)
                for clients in levels:
                    runs = {who: Runs() for who in servers}
                    for rep in range(3):
                        order = list(servers) if rep % 2 == 0 else list(servers)[::-1]
                        for who in order:
                            before = sessions(admin, database)
                            r = run_wrk(
                                f"http://127.0.0.1:{ports[who]}",
                                paths[who],
                                clients,
                                args.duration,
                                Path(tmp),
                                headers=headers,
                                polite=False,
                            )
                            runs[who].sessions += sessions(admin, database) - before
                            seconds = r["duration_us"] / 1e6
                            runs[who].rates.append(r["statuses"].get("200", 0) / seconds)
                            runs[who].p50.append(r["p50_us"] / 1000)
                            runs[who].p99.append(r["p99_us"] / 1000)
                            runs[who].other += (
                                r["requests"]
                                - r["statuses"].get("200", 0)
                                + r["timeouts"]
                                + r["connect"]
                                + r["read"]
                                + r["write"]
                            )
                    med: Callable[[list[float]], float] = statistics.median
                    g, t = runs["gridsafe"], runs["tipg"]
                    print(
                        f"| {name} | {clients} | {med(g.rates):,.1f} | {med(g.p50):,.1f} | "
                        f"{med(g.p99):,.1f} | {g.sessions} | {g.other} | {med(t.rates):,.1f} | "
                        f"{med(t.p50):,.1f} | {med(t.p99):,.1f} | {t.sessions} | {t.other} | "
                        f"{med(g.rates) / med(t.rates) if med(t.rates) else float('nan'):.2f} |",
                        flush=True,
                    )
        rss = {who: peak_rss_mib(server.pid) for who, server in servers.items()}
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)
    print(f"\nload average after: {os.getloadavg()}")
    print(
        "peak RSS of the server processes: "
        + ", ".join(f"{who} {mib:,.0f} MiB" for who, mib in rss.items())
    )
    runs_floor = floor(settings, args.duration)
    rates = [r for r, _ in runs_floor]
    p50s = [p for _, p in runs_floor]
    print(
        f"floor, the tile SQL alone on one connection: {statistics.median(rates):,.1f} tiles/s, "
        f"p50 {statistics.median(p50s):.2f} ms (median of 3 runs)"
    )
    print(f"load average at the end: {os.getloadavg()}")
    admin.dispose()


if __name__ == "__main__":
    main()
