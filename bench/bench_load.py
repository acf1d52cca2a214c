"""Benchmark: load on ``gridsafe serve`` with several workers, at rising concurrency.

Serves the demo district (loaded into its own database ``gridsafe_bench_load`` on first use and
kept for the next run; ``--drop`` removes it) with ``gridsafe serve --workers N`` on loopback,
and drives each endpoint with ``wrk`` (Debian package ``wrk``) at each concurrency level: the
four-colour map page, ``/api/risk``, ``/api/incidents`` (a list page), ``/api/areas`` and the
micro-grid vector tiles covering the district at zoom 15 (requests rotate over them). Each run
counts the answers by status code and reads wrk's latency histogram (completed requests only;
wrk's timeouts and socket errors are listed apart). Prints one Markdown table.

    .venv/bin/python bench/bench_load.py [--workers 2] [--levels 1 4 16 64 256] [--duration 10]

The point of it: below saturation every answer is a 200; above it the surplus gets a quick 503
with Retry-After from admission control (api/admission.py) instead of piling up into timeouts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_settings
from demo.load import load_demo
from geo.access import Role, add_user, get_user, issue_token
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.errors import NotFoundError
from geo.settings import Settings

DATABASE = "gridsafe_bench_load"
BENCH_USER = "bench-load"  # a leader: sees every area, changes nothing
ZOOM = 15
GRIDSAFE = Path(sys.executable).with_name("gridsafe")

# The Lua side of a run: rotate over the paths, count answers by status per thread, and print
# one JSON line at the end (done() runs in wrk's main state and collects the threads' counts).
LUA = """
local paths = %(paths)s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counter = 0; statuses = {}; retry_after = 0; pause = 0; polite = %(polite)s end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
response = function(status, headers, body)
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  local wait = headers["retry-after"] or headers["Retry-After"]
  if status == 503 and wait then
    retry_after = retry_after + 1
    if polite then pause = tonumber(wait) * 1000 end
  end
end
if %(polite)s then
  -- A polite client waits as long as Retry-After asks before its next request.
  delay = function() local ms = pause; pause = 0; return ms end
end
function done(summary, latency, requests)
  local counts, retry = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do counts[k] = (counts[k] or 0) + v end
    retry = retry + t:get("retry_after")
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%%s": %%d', k, v)) end
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d, "timeouts": %%d, "connect": %%d, "read": %%d, "write": %%d, '
    .. '"retry_after": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.timeout, summary.errors.connect,
    summary.errors.read, summary.errors.write, retry, table.concat(parts, ", ")))
end
"""


def request_headers(settings: Settings) -> dict[str, str]:
    """Headers every benchmark request carries: a leader's bearer token, and gzip."""
    engine = make_engine(settings.db)
    try:
        with engine.connect() as conn:
            try:
                user = get_user(conn, BENCH_USER)
            except NotFoundError:
                user = None
        if user is None:
            user = add_user(engine, settings, BENCH_USER, Role.LEADER, password=None)
        token = issue_token(engine, user, "api", ttl=timedelta(hours=2), label="bench_load.py")
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {token.secret}", "Accept-Encoding": "gzip"}


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII text is a valid Lua string literal


def tile_paths(settings: Settings, zooms: tuple[int, ...] = (ZOOM,)) -> list[str]:
    """The micro-grid tiles covering the district's bounding box at each of ``zooms``."""
    engine = create_engine(settings.db.database_url)
    with engine.connect() as conn:
        box = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
                "SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM areas "
                "WHERE level = 'subdistrict') s"
            )
        ).one()
    engine.dispose()

    def tile(lon: float, lat: float, n: int) -> tuple[int, int]:
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    paths = []
    for zoom in zooms:
        x0, y1 = tile(box[0], box[1], 2**zoom)
        x1, y0 = tile(box[2], box[3], 2**zoom)
        paths += [
            f"/tiles/areas/{zoom}/{x}/{y}.mvt?level=micro"
            for x in range(x0, x1 + 1)
            for y in range(y0, y1 + 1)
        ]
    return paths


def endpoints(settings: Settings) -> dict[str, list[str]]:
    """Endpoint name → the paths its requests rotate over."""
    return {
        "page /maps/risk": ["/maps/risk?level=micro"],
        "/api/risk": ["/api/risk?level=micro"],
        "/api/incidents": ["/api/incidents?limit=100"],
        "/api/areas": ["/api/areas?level=micro"],
        "tiles": tile_paths(settings),
    }


def prepare() -> Settings:
    """Settings on the bench database, with the demo district loaded (once; a database kept
    from an earlier run has its schema brought up to date)."""
    settings = bench_settings(DATABASE)
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)
    init_db(owner, settings)
    owner.dispose()
    engine = make_engine(settings.db)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM areas WHERE level = 'micro'")).scalar_one()
    engine.dispose()
    if loaded != 652:
        print("loading the demo district into", DATABASE, file=sys.stderr)
        load_demo(settings)
    return settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(
    settings: Settings,
    workers: int,
    port: int,
    *,
    env: dict[str, str] | None = None,
    access_log: bool = True,
) -> subprocess.Popen[bytes]:
    """``gridsafe serve`` on ``port`` (with the variables ``env`` besides the database's);
    returns once /healthz answers 200."""
    env = {
        **os.environ,
        "GRIDSAFE_DATABASE_URL": settings.db.database_url,
        "GRIDSAFE_OWNER_DATABASE_URL": settings.db.owner_database_url,
        **(env or {}),
    }
    server = subprocess.Popen(  # noqa: S603 - our own command
        [
            str(GRIDSAFE),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--access-log" if access_log else "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return healthy(server, port)


def healthy(server: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """Return ``server`` once its /healthz on ``port`` answers 200; stop it after 120 s."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    msg = f"the server on port {port} did not answer /healthz within 120 s"
    raise RuntimeError(msg)


WRK = shutil.which("wrk") or "wrk"


def run_wrk(
    url: str,
    paths: list[str],
    connections: int,
    duration: int,
    tmp: Path,
    *,
    headers: dict[str, str],
    polite: bool,
) -> dict:
    """One wrk run; returns the counts and latencies its Lua script printed."""
    script = tmp / "run.lua"
    lua_paths = "{" + ", ".join(_lua_string(p) for p in paths) + "}"
    lua = LUA % {"paths": lua_paths, "polite": "true" if polite else "false"}
    script.write_text(lua, encoding="utf-8")
    header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
    threads = str(min(connections, 2))
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        [
            WRK,
            "-t",
            threads,
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            *header_args,
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--only", nargs="*", help="endpoint names to run (default: all)")
    parser.add_argument(
        "--polite",
        action="store_true",
        help="clients wait Retry-After after a 503 (default: they retry at once)",
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database after")
    args = parser.parse_args()
    if not Path(WRK).is_absolute():
        sys.exit("bench_load.py needs wrk: apt-get install wrk")
    settings = prepare()
    headers = request_headers(settings)
    port = _free_port()
    server = serve(settings, args.workers, port)
    base = f"http://127.0.0.1:{port}"
    print(
        f"workers {args.workers}, per worker: max_in_flight {settings.db.max_in_flight}, "
        f"admission_queue {settings.db.admission_queue}, admission_wait_s "
        f"{settings.db.admission_wait_s}, "
        f"pool {settings.db.pool_size}+{settings.db.pool_max_overflow}; "
        f"{args.duration} s per run; clients "
        + ("wait Retry-After after a 503" if args.polite else "retry at once after a 503")
    )
    print()
    print(
        "| endpoint | users | req/s | 200/s | p50 ms | p95 ms | p99 ms | max ms | answers "
        "| timeouts, socket errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    try:
        with tempfile.TemporaryDirectory(prefix="gridsafe-load-") as tmp:
            for name, paths in endpoints(settings).items():
                if args.only and name not in args.only:
                    continue
                # Warm the workers' caches and pools.
                run_wrk(base, paths, 1, 2, Path(tmp), headers=headers, polite=False)
                for users in args.levels:
                    r = run_wrk(
                        base,
                        paths,
                        users,
                        args.duration,
                        Path(tmp),
                        headers=headers,
                        polite=args.polite,
                    )
                    seconds = r["duration_us"] / 1e6
                    rate = r["requests"] / seconds
                    good = r["statuses"].get("200", 0) / seconds
                    answers = ", ".join(f"{code}: {n}" for code, n in sorted(r["statuses"].items()))
                    if r["statuses"].get("503"):
                        answers += f" (Retry-After on {r['retry_after']})"
                    errors = r["timeouts"] + r["connect"] + r["read"] + r["write"]
                    print(
                        f"| {name} | {users} | {rate:,.1f} | {good:,.1f} | "
                        f"{r['p50_us'] / 1000:,.0f} | "
                        f"{r['p95_us'] / 1000:,.0f} | {r['p99_us'] / 1000:,.0f} | "
                        f"{r['max_us'] / 1000:,.0f} | {answers} | {errors} |",
                        flush=True,
                    )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.drop:
            drop_database(settings.db)


if __name__ == "__main__":
    main()
