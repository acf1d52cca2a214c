"""Benchmark: importing and computing patrol coverage on the demo district.

Scenarios (units move along the demo roads, demo/patrols.py; each unit works one
8-hour shift a day):

- ``day``: 50 units, one day, a fix every 10 s (about 250,000 fixes: the generator starts the
  day before, so the first shifts are whole);
- ``month``: 50 units, 30 days, a fix every 10 s (about 4.1 million fixes; pass
  ``--month-interval`` to change the interval).

For each: the import (read, clean, locate, store); coverage per micro-grid for one shift and one
day with nothing stored yet (the closed shifts' covers are computed and stored,
geo/coverage/covered.py); (month) the covers of every closed shift stored as the batch job
does it, one shift per transaction; coverage for the shift, day, (month) week and month read
from the stored covers; the gap list; and the same shift computed with thinning to 1 m. Periods
end at the last shift bound before the data's end, so they are whole shifts. The baseline, in
the same process, is the same covered area computed in Python with geopandas/shapely for the
shift and the day (tracks buffered and unioned, intersected with the micro-grids, the way one
would without PostGIS). Peak memory is this process's maximum resident set size (the database's
memory is not included).

Run: ``PYTHONPATH=. .venv/bin/python bench/bench_coverage.py [--scenario day|month|both]``
(it creates and drops its own database ``gridsafe_bench_coverage``).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text

from bench import bench_settings
from demo import DATA, patrols
from demo.load import load_demo
from geo.coverage.compute import coverage_geojson
from geo.coverage.covered import refresh
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import between, shift_of
from geo.coverage.tracks import import_tracks
from geo.database import drop_database, make_engine
from geo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
END = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, rows: list[dict[str, Any]], count: int, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rows.append(
        {
            "step": label,
            "seconds": round(seconds, 2),
            "items": count,
            "items_per_s": round(count / seconds) if seconds else None,
            "peak_rss_mb": round(_peak_mb()),
        }
    )
    return result


def _baseline(csv: Path, micro: gpd.GeoDataFrame, start: datetime, end: datetime) -> float:
    """Covered m² of every micro-grid for one period, in geopandas: the in-process baseline.

    The file is read in batches and only the period's rows kept (local ISO times compare as
    text), so a month's file does not have to fit in memory.
    """
    lo, hi = (t.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S") for t in (start, end))
    parts = [
        part[(part["time"] >= lo) & (part["time"] < hi)]
        for part in pd.read_csv(csv, chunksize=1_000_000)
    ]
    fixes = pd.concat(parts, ignore_index=True)
    fixes["time"] = pd.to_datetime(fixes["time"]).dt.tz_localize("Asia/Shanghai")
    fixes = fixes.sort_values(["unit", "time"])
    pts = gpd.GeoSeries(gpd.points_from_xy(fixes["lon"], fixes["lat"]), crs=4326).to_crs(4547)
    fixes["x"], fixes["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    radius = {"foot": 30.0, "bicycle": 40.0, "vehicle": 50.0}
    covers = []
    for (_unit, kind), group in fixes.groupby(["unit", "kind"]):
        new = group["time"].diff().dt.total_seconds().fillna(1e9) > 600
        for _, track in group.groupby(new.cumsum()):
            xy = track[["x", "y"]].to_numpy()
            geom = shapely.Point(xy[0]) if len(xy) == 1 else shapely.LineString(xy)
            covers.append(geom.buffer(radius[str(kind)], quad_segs=16))
    cover = shapely.union_all(covers)
    return float(micro.geometry.intersection(cover).area.sum())


def _covered_m2(body: str) -> float:
    return float(sum(f["properties"]["covered_m2"] for f in json.loads(body)["features"]))


def _ratio(rows: list[dict[str, Any]], label: str, value: float) -> None:
    rows.append(
        {"step": label, "seconds": None, "items": round(value, 5), "items_per_s": None,
         "peak_rss_mb": None}
    )  # fmt: skip


def scenario(name: str, settings: Settings, *, interval: float, days: int) -> list[dict[str, Any]]:
    """Generate, import and compute one scenario; return its table rows."""
    rows: list[dict[str, Any]] = []
    owner = make_engine(settings.db, owner=True)  # the app's login may not truncate
    with owner.begin() as conn:
        conn.execute(text("TRUNCATE fixes, coverage_cache"))
    owner.dispose()
    engine = make_engine(settings.db)
    with tempfile.TemporaryDirectory(prefix="gridsafe-bench-") as tmp:
        patrols.generate(
            Path(tmp), end=END, timezone=ZONE.key, interval_s=interval, units=50, days=days
        )
        csv = Path(tmp) / "tracks.csv"
        n = sum(1 for _ in csv.open()) - 1
        report = _timed(
            f"{name}: import {n} fixes", rows, n, lambda: import_tracks(engine, settings, csv)
        )
        assert report.loaded > 0.99 * n - len(report.rejected)
        with engine.connect() as conn:
            first, last = conn.execute(text("SELECT min(t), max(t) FROM fixes")).one()
        # Periods end at the last shift bound before the data's end: whole shifts only.
        end = shift_of(last, settings).start
        periods = {"shift": 8, "day": 24}
        if days > 7:
            periods |= {"week": 24 * 7, "month": 24 * days}
        window = {k: between(end - timedelta(hours=h), end) for k, h in periods.items()}
        fixes_in = {}
        with engine.connect() as conn:
            for k, p in window.items():
                fixes_in[k] = int(conn.execute(
                    text("SELECT count(*) FROM fixes WHERE t >= :a AND t < :b"),
                    {"a": p.start, "b": p.end},
                ).scalar_one())  # fmt: skip
        cover = partial(coverage_geojson, engine, settings)
        m2 = {}
        for k in ("shift", "day"):
            m2[k] = _covered_m2(
                _timed(
                    f"{name}: coverage, one {k} ({fixes_in[k]} fixes), nothing stored yet",
                    rows, fixes_in[k], partial(cover, period=window[k]),
                )
            )  # fmt: skip
        if days > 7:
            month = between(first, end)
            shifts = _timed(
                f"{name}: store the covers of every closed shift, one per transaction",
                rows, n, lambda: refresh(engine, settings, period=month),
            )  # fmt: skip
            rows[-1]["step"] += f" ({shifts} shifts computed)"
        for k in periods:
            m2[k] = _covered_m2(
                _timed(
                    f"{name}: coverage, one {k} ({fixes_in[k]} fixes), from stored shifts",
                    rows, fixes_in[k], partial(cover, period=window[k]),
                )
            )  # fmt: skip
        _timed(
            f"{name}: gap list as of the end",
            rows,
            652,
            lambda: gaps_geojson(engine, settings, at=end),
        )
        thin = settings.replace(coverage_thin_m=1.0)
        thinned = partial(coverage_geojson, engine, thin, period=window["shift"])
        thin_m2 = _covered_m2(
            _timed(
                f"{name}: coverage, one shift, tracks thinned to 1 m, nothing stored yet",
                rows, fixes_in["shift"], thinned,
            )
        )  # fmt: skip
        _ratio(rows, f"{name}: covered m² thinned to 1 m / exact (shift)", thin_m2 / m2["shift"])
        micro = gpd.read_file(DATA / "micro.geojson")
        for k in ("shift", "day"):
            base = _timed(
                f"{name}: baseline geopandas coverage, one {k}",
                rows, fixes_in[k], partial(_baseline, csv, micro, window[k].start, window[k].end),
            )  # fmt: skip
            _ratio(rows, f"{name}: covered m² PostGIS / geopandas ({k})", m2[k] / base)
    engine.dispose()
    return rows


def main() -> None:
    """Run the scenarios and print the table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["day", "month", "both"], default="both")
    parser.add_argument("--month-interval", type=float, default=10.0)
    args = parser.parse_args()
    settings = bench_settings("gridsafe_bench_coverage")
    load_demo(settings)
    rows: list[dict[str, Any]] = []
    try:
        if args.scenario in {"day", "both"}:
            rows += scenario("day", settings, interval=10.0, days=1)
        if args.scenario in {"month", "both"}:
            rows += scenario("month", settings, interval=args.month_interval, days=30)
    finally:
        drop_database(settings.db)
    print("| step | seconds | items | items/s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        cells = [r["step"], r["seconds"], r["items"], r["items_per_s"], r["peak_rss_mb"]]
        print("| " + " | ".join("" if c is None else str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
