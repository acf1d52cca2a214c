"""Benchmark of the import page's endpoints with a 1M-row CSV (issue 19): the file is uploaded
(``POST /api/import/uploads``, streamed), imported as a background job (``POST
/api/import/jobs``) and polled every 0.4 s as the page polls it, against ``gridsafe serve`` in
its own process, so its peak resident set (VmHWM, from /proc) is the server's alone.

The baseline, in the same run and the same server, is a 100,000-row file through the same
endpoints: rows/s and peak memory of the 1M-row file are given against it. Bounded memory means
the 1M-row import's peak stays near the baseline's, not ten times it; "progress steps" counts the
distinct progress values the poller saw (the bar moves).

Run: ``PYTHONPATH=. .venv/bin/python bench/bench_import_page.py [--sizes 100000 1000000]``
(creates and drops the database gridsafe_bench_import_page).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Engine, text

from bench import bench_settings
from demo import DATA as DEMO_DIR
from geo.access import Role
from geo.boundaries import import_boundaries
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.levels import Level
from tests.clients import make_user, token_for
from tests.test_big_upload import _peak_rss_mib as peak_rss_mib
from tests.test_big_upload import _serve as serve_process

TYPES = np.array(["dispute", "fire", "theft", "assault", "police_call"])
CHUNK_ROWS = 100_000


def write_ledger(engine: Engine, path: Path, rows: int, seed: int = 19) -> None:
    """``rows`` incidents a few metres from the micro-grids' inner points (so nearly all land
    in one), written a chunk at a time. Each file's ids are its own (``B{rows}-{n}``): the same
    id and content under another source would be refused as already stored."""
    with engine.connect() as conn:
        points = np.array(
            conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), "
                    "4326) AS p FROM areas WHERE level = 'micro') s"
                )
            ).all(),
            dtype=np.float64,
        )
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00")
    with path.open("w", encoding="utf-8") as out:
        out.write("事件编号,事件类型,发生时间,经度,纬度\n")
        for first in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - first)
            at = points[rng.integers(0, len(points), n)] + rng.normal(0, 0.00003, (n, 2))
            lon, lat = at[:, 0], at[:, 1]
            kinds = TYPES[rng.integers(0, len(TYPES), n)]
            when = start + rng.integers(0, 300 * 24 * 60, n).astype("timedelta64[m]")
            out.writelines(
                f"B{rows}-{first + i},{k},{str(w).replace('T', ' ')},{x:.6f},{y:.6f}\n"
                for i, (k, w, x, y) in enumerate(zip(kinds, when, lon, lat, strict=True))
            )


def through_the_page(
    client: httpx.Client, path: Path, source: str
) -> tuple[float, float, int, dict[str, object]]:
    """Upload, start and poll as the page does: upload s, import s, progress steps, report."""
    started = time.monotonic()
    with path.open("rb") as fh:
        answer = client.post(
            "/api/import/uploads",
            data={"kind": "incidents", "source": source},
            files={"file": (path.name, fh, "text/csv")},
        )
    answer.raise_for_status()
    uploaded = time.monotonic()
    job = client.post(
        "/api/import/jobs", json={"upload": answer.json()["upload"], "kind": "incidents"}
    ).json()
    seen = {job["progress"]}
    while job["state"] in ("queued", "running"):
        time.sleep(0.4)
        job = client.get(f"/api/import/jobs/{job['id']}").json()
        seen.add(job["progress"])
    if job["state"] != "done":
        raise SystemExit(f"the import failed: {job['error']}")
    return uploaded - started, time.monotonic() - uploaded, len(seen), job["report"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    settings = bench_settings("gridsafe_bench_import_page")
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)
    init_db(owner, settings)
    owner.dispose()
    engine = make_engine(settings.db)
    tmp = Path(tempfile.mkdtemp(prefix="gridsafe-bench-import-"))
    try:
        for level in Level:
            import_boundaries(engine, settings, DEMO_DIR / f"{level.value}.geojson", level=level)
        token = token_for(settings, make_user(settings, Role.DATA_OFFICER))
        print(
            "| rows | file MB | upload s | import s | total s | rows/s | server peak RSS MiB "
            "| progress steps | rows/s vs baseline | peak vs baseline |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        with serve_process(settings, tmp, start_s=300) as (base, pid):
            client = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
            )
            baseline: tuple[float, float] | None = None
            for rows in args.sizes:
                path = tmp / f"ledger-{rows}.csv"
                write_ledger(engine, path, rows)
                size_mb = path.stat().st_size / 2**20
                upload_s, import_s, steps, report = through_the_page(client, path, f"b{rows}")
                path.unlink()
                total = upload_s + import_s
                speed = rows / total
                peak = peak_rss_mib(pid)
                baseline = baseline or (speed, peak)
                assert report["inserted"] == rows, report["inserted"]
                print(
                    f"| {rows:,} | {size_mb:.0f} | {upload_s:.1f} | {import_s:.1f} | {total:.1f} "
                    f"| {speed:,.0f} | {peak:.0f} | {steps} | {speed / baseline[0]:.2f}x "
                    f"| {peak / baseline[1]:.2f}x |"
                )
    finally:
        engine.dispose()
        drop_database(settings.db)


if __name__ == "__main__":
    main()
