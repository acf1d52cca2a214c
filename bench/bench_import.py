"""Benchmark: import an incidents CSV, file to committed rows, against geopandas + ``to_postgis``.

Two ways of getting the same file into an indexed table of the demo district's database, each
run as a fresh operating-system process (so start-up counts, and ``ru_maxrss`` from ``wait4``
is that process's peak memory; the database server's memory is not counted), interleaved and
repeated (the median of each column is printed):

``gridsafe import``
    what ``gridsafe import incidents FILE`` does: import the command line (``cli.main``), then
    :func:`geo.records.import_records` (read, check, parse times, project, locate by the one
    set-based join on a second connection, build the staging payloads, stage by COPY, upsert
    by key, commit) and print the report. The steps are the report's own timings
    (``ImportReport.timings``); "read" is the time the checks waited on the reader thread,
    which reads ahead while the database works; checks, times, locate and payload of one
    batch run while the previous batch is upserted.
``geopandas + to_postgis``
    the anchor: ``pandas.read_csv`` + ``to_datetime`` (bad cells dropped) + ``points_from_xy``
    + ``to_crs`` + ``sjoin`` against the micro-grids + ``to_postgis`` (append, one
    transaction) into ``anchor_incidents``, made ``LIKE incidents INCLUDING ALL``: the same
    columns, unique key and indexes (no trigger, no foreign key; it checks nothing, keeps no
    report and cannot be re-imported without duplicating).

The file: ``--rows`` incidents, uniform over the district's bounding box (about 0.7 % fall
outside every micro-grid), one time form (``2025-03-01 08:30:00``) with a few other accepted
forms mixed in, Chinese descriptions, and about one row in a thousand bad (a time that is not
one, a missing coordinate, an unknown type). Before each run its table is emptied.

Run from the repository root (creates and drops its own database)::

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repository's packages first

ANCHOR_TABLE = "anchor_incidents"
OURS_STEPS = (
    "start-up",
    "read",
    "checks",
    "times",
    "locate",
    "payload",
    "stage",
    "upsert",
    "commit",
)
ANCHOR_STEPS = ("start-up", "read", "times", "project", "locate", "write")


def _env(db: str) -> dict[str, str]:
    from bench import bench_settings

    settings = bench_settings(db)
    return {
        **os.environ,
        "GRIDSAFE_DATABASE_URL": settings.db.database_url,
        "GRIDSAFE_OWNER_DATABASE_URL": settings.db.owner_database_url,
    }


def write_file(path: Path, n: int, bounds: tuple[float, ...], seed: int) -> None:
    """``n`` incidents as the data desk exports them, a few rows bad (see the docstring)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    start = np.datetime64("2025-01-01T00:00:00")
    seconds = rng.integers(0, 700 * 86400, n).astype("timedelta64[s]")
    stamps = pd.Series(start + seconds).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    other = rng.random(n) < 0.01  # other accepted forms: 2025/3/1 8:30, epoch seconds
    stamps[other] = [
        f"{s[:4]}/{int(s[5:7])}/{int(s[8:10])} {int(s[11:13])}:{s[14:16]}" for s in stamps[other]
    ]
    lon = np.round(rng.uniform(west, east, n), 7).astype(object)
    lat = np.round(rng.uniform(south, north, n), 7).astype(object)
    types = rng.choice(["police_call", "dispute", "fire", "theft", "110警情"], n).astype(object)
    bad = rng.random(n) < 0.001
    which = rng.integers(0, 3, n)
    stamps[bad & (which == 0)] = "2025-13-45 25:61"
    lat[bad & (which == 1)] = ""
    types[bad & (which == 2)] = "no_such_type"
    frame = pd.DataFrame(
        {
            "source": "110",
            "source_id": [f"B{i:07d}" for i in range(n)],
            "type": types,
            "occurred_at": stamps,
            "lon": lon,
            "lat": lat,
            "description": rng.choice(["电动车被盗", "邻里纠纷，已调解", "", "噪声扰民"], n),
        }
    )
    frame.to_csv(path, index=False)


def child_ours(csv: str) -> None:
    """In a fresh process: what ``gridsafe import incidents CSV`` does, timed step by step."""
    t0 = time.perf_counter()
    import cli.main  # noqa: F401 - the command line's start-up, as `gridsafe import` pays it
    from geo.database import make_engine
    from geo.records import import_records
    from geo.settings import get_settings

    t1 = time.perf_counter()
    settings = get_settings()
    engine = make_engine(settings.db)
    report = import_records(engine, settings, Path(csv), kind="incidents")
    engine.dispose()
    with Path(os.devnull).open("w") as sink:
        for line in report.lines():
            print(line, file=sink)
    t2 = time.perf_counter()
    steps = {"start-up-in-process": t1 - t0, **report.timings}
    print(json.dumps({"rows": report.loaded, "seconds_in_process": t2 - t0, "steps": steps}))


def child_anchor(csv: str, micro: str) -> None:
    """In a fresh process: geopandas read + sjoin + ``to_postgis`` into the anchor table."""
    t0 = time.perf_counter()
    import geopandas as gpd
    import pandas as pd
    from sqlalchemy import create_engine

    polygons = gpd.read_file(micro)[["code", "geometry"]].to_crs(4547)
    engine = create_engine(os.environ["GRIDSAFE_OWNER_DATABASE_URL"])
    t1 = time.perf_counter()
    frame = pd.read_csv(csv, dtype={"source": str, "source_id": str})
    t2 = time.perf_counter()
    frame["occurred_at"] = pd.to_datetime(
        frame["occurred_at"], format="mixed", errors="coerce"
    ).dt.tz_localize("Asia/Shanghai", ambiguous="NaT", nonexistent="NaT")
    frame = frame.dropna(subset=["occurred_at", "lon", "lat", "type"])
    t3 = time.perf_counter()
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
    ).to_crs(4547)
    t4 = time.perf_counter()
    joined = gpd.sjoin(points, polygons, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]  # a point on a shared border
    t5 = time.perf_counter()
    out = gpd.GeoDataFrame(
        {
            "region": "default",
            "source": joined["source"],
            "source_id": joined["source_id"],
            "type": joined["type"],
            "occurred_at": joined["occurred_at"],
            "reported_at": joined["occurred_at"],
            "description": joined["description"],
            "area_code": joined["code"],
            "located_by": "coordinates",
            "geom": joined.geometry,
        },
        geometry="geom",
        crs=4547,
    )
    out.to_postgis(ANCHOR_TABLE, engine, if_exists="append", index=False)
    t6 = time.perf_counter()
    engine.dispose()
    steps = {
        "start-up-in-process": t1 - t0,
        "read": t2 - t1,
        "times": t3 - t2,
        "project": t4 - t3,
        "locate": t5 - t4,
        "write": t6 - t5,
    }
    print(json.dumps({"rows": len(out), "seconds_in_process": t6 - t0, "steps": steps}))


def measured(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run this script as ``args`` in a new process: its JSON line, wall time and peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - this script
        [sys.executable, __file__, *args], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        msg = f"{args[0]} failed ({proc.returncode})"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    steps = result["steps"]
    if "checks" in steps:  # the checks' time includes the times'
        steps["checks"] -= steps.get("times", 0.0)
    result["wall"] = wall
    result["rss_mib"] = usage.ru_maxrss / 1024
    # Start-up: the interpreter and the imports, until the work begins.
    result["steps"]["start-up"] = (
        wall - result["seconds_in_process"] + result["steps"].pop("start-up-in-process")
    )
    return result


def _truncate(db: str, table: str) -> None:
    from sqlalchemy import text

    from bench import bench_settings
    from geo.database import make_engine

    owner = make_engine(bench_settings(db).db, owner=True)
    with owner.begin() as conn:
        # CASCADE: cases reference incidents; this database is the bench's own.
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
    owner.dispose()


def prepare_anchor(db: str) -> None:
    """The anchor's table: incidents' columns, unique key and indexes."""
    from sqlalchemy import text

    from bench import bench_settings
    from geo.database import make_engine

    owner = make_engine(bench_settings(db).db, owner=True)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE TABLE {ANCHOR_TABLE} (LIKE incidents INCLUDING ALL)"))
        indexes = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = :t ORDER BY indexname"),
            {"t": ANCHOR_TABLE},
        ).scalars()
        print("anchor table indexes:", *indexes, sep="\n  ")
    owner.dispose()


def _median_row(name: str, runs: list[dict[str, Any]], steps: tuple[str, ...]) -> dict[str, Any]:
    return {
        "name": name,
        "rows": runs[0]["rows"],
        "wall": statistics.median(r["wall"] for r in runs),
        "rss": statistics.median(r["rss_mib"] for r in runs),
        "steps": {s: statistics.median(r["steps"].get(s, 0.0) for r in runs) for s in steps},
        "walls": [r["wall"] for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gridsafe-bench"
    )
    args = parser.parse_args()

    import geopandas as gpd

    from bench import bench_settings
    from bench.bench_locate import prepare
    from demo import DATA
    from geo.database import drop_database

    db = f"gridsafe_bench_import_{int(time.time())}"
    settings = bench_settings(db)
    engine = prepare(settings, DATA)
    engine.dispose()
    try:
        prepare_anchor(db)
        env = _env(db)
        micro = str(DATA / "micro.geojson")
        bounds = tuple(gpd.read_file(DATA / "subdistrict.geojson").to_crs(4326).total_bounds)
        args.workdir.mkdir(parents=True, exist_ok=True)
        csv = args.workdir / f"incidents_{args.rows}.csv"
        write_file(csv, args.rows, bounds, seed=args.rows)
        ours: list[dict[str, Any]] = []
        anchor: list[dict[str, Any]] = []
        reimport: dict[str, Any] = {}
        for i in range(args.repeat):
            _truncate(db, "incidents")
            ours.append(measured(["--child", "ours", str(csv)], env))
            if i == args.repeat - 1:  # the same file again: nothing changes
                reimport = measured(["--child", "ours", str(csv)], env)
            _truncate(db, ANCHOR_TABLE)
            anchor.append(measured(["--child", "anchor", str(csv), micro], env))
            walls = f"gridsafe {ours[-1]['wall']:.2f} s, anchor {anchor[-1]['wall']:.2f} s"
            print(f"run {i + 1}: {walls}", file=sys.stderr)
            print(json.dumps({"ours": ours[-1], "anchor": anchor[-1]}), file=sys.stderr)
        rows = [
            _median_row("gridsafe import", ours, OURS_STEPS),
            _median_row("geopandas + to_postgis", anchor, ANCHOR_STEPS),
        ]
        base = rows[1]["wall"]
        print(
            f"{args.rows:,} rows in the file; medians of {args.repeat} interleaved runs; "
            f"re-import of the same file: {reimport['wall']:.2f} s, "
            f"{reimport['rss_mib']:.0f} MiB peak"
        )
        print()
        steps = ("start-up", "read", "checks", "times", "project", "locate", "payload", "stage")
        print(
            "| tool | rows stored | "
            + " | ".join(f"{s} s" for s in steps)
            + " | upsert / write s | commit s | total s | rows/s | peak RSS MiB | ratio | runs s |"
        )
        print("|" + "---|" * (len(steps) + 9))
        for r in rows:
            cells = [f"{r['steps'][s]:.2f}" if s in r["steps"] else "—" for s in steps]
            write = r["steps"].get("upsert", r["steps"].get("write", 0.0))
            commit = f"{r['steps']['commit']:.2f}" if "commit" in r["steps"] else "(in write)"
            print(
                f"| {r['name']} | {r['rows']:,} | "
                + " | ".join(cells)
                + f" | {write:.2f} | {commit} | {r['wall']:.2f} | {args.rows / r['wall']:,.0f} | "
                f"{r['rss']:.0f} | {base / r['wall']:.2f}x | "
                + " / ".join(f"{w:.1f}" for w in r["walls"])
                + " |"
            )
    finally:
        drop_database(settings.db)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        if sys.argv[2] == "ours":
            child_ours(sys.argv[3])
        else:
            child_anchor(sys.argv[3], sys.argv[4])
    else:
        main()
