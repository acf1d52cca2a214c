"""Benchmark: size and time to first paint of the four-colour map, 652 vs 65,000 micro-grids.

Builds synthetic districts in a bench database (square 40 m micro-grids under one sub-district,
colours assigned pseudo-randomly in a stored risk run: this measures drawing, not the risk
engine), serves the app, and loads ``/maps/risk?level=micro`` in headless Chromium, embedded
(GeoJSON in the page) and from vector tiles. Prints one table; the baseline is the 652-area
embedded page.

    .venv/bin/python bench/bench_maps.py
"""

from __future__ import annotations

import gzip
import math
import random
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_settings
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.levels import Level
from maps.i18n import translator
from maps.pages import risk_page
from tests.browser import DESKTOP, Tab, launch, serve

CELL = 40.0
X0, Y0 = 440_000.0, 3_820_000.0
COLOURS = ["red", "orange", "yellow", "blue"]
WEIGHTS = [0.05, 0.1, 0.25, 0.6]
READY = ".leaflet-pane canvas, .gs-label"
FIRST_PAINT = (
    "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: -1}).startTime"
)


def build(engine: Engine, region: str, n: int) -> None:
    """One sub-district of ``n`` square micro-grids with a stored risk run."""
    side = math.ceil(math.sqrt(n))
    rng = random.Random(n)
    with engine.begin() as conn:
        if conn.execute(
            text("SELECT count(*) FROM areas WHERE region = :r"), {"r": region}
        ).scalar():
            return
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, parent_code, geom) "
                "SELECT :r, 'S', '基准街道', 'subdistrict', NULL, ST_Multi(ST_Union(g)) FROM ("
                "  SELECT ST_MakeEnvelope(:x0 + (i % :side) * :c, :y0 + (i / :side) * :c,"
                "    :x0 + (i % :side + 1) * :c, :y0 + (i / :side + 1) * :c, 4547) AS g"
                "  FROM generate_series(0, :n - 1) i) s"
            ),
            {"r": region, "x0": X0, "y0": Y0, "c": CELL, "side": side, "n": n},
        )
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, parent_code, geom) "
                "SELECT :r, 'M' || i, '微' || i || '号', 'micro', 'S', ST_Multi(ST_MakeEnvelope("
                "  :x0 + (i % :side) * :c, :y0 + (i / :side) * :c,"
                "  :x0 + (i % :side + 1) * :c, :y0 + (i / :side + 1) * :c, 4547))"
                "FROM generate_series(0, :n - 1) i"
            ),
            {"r": region, "x0": X0, "y0": Y0, "c": CELL, "side": side, "n": n},
        )
        run = conn.execute(
            text(
                "INSERT INTO risk_runs (region, as_of, params) "
                "VALUES (:r, '2025-06-30 23:59+08', '{}') RETURNING id"
            ),
            {"r": region},
        ).scalar_one()
        colours = rng.choices(COLOURS, WEIGHTS, k=n)
        conn.execute(
            text(
                "INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, "
                "hazard_colour, incident_colour, reasons) "
                "SELECT :run, :r, 'M' || (o - 1), 'micro', c, 50, 'blue', c, '{}' "
                "FROM unnest(CAST(:colours AS text[])) WITH ORDINALITY AS t(c, o)"
            ),
            {"run": run, "r": region, "colours": colours},
        )
        conn.execute(
            text(
                "INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, "
                "hazard_colour, incident_colour, reasons) "
                "VALUES (:run, :r, 'S', 'subdistrict', 'red', 50, 'blue', 'red', '{}')"
            ),
            {"run": run, "r": region},
        )


def main() -> None:
    """Build, measure, print the table."""
    rows = []
    baseline = None
    with launch() as browser:
        for n in (652, 65_000):
            for mode in ("embed", "tiles"):
                settings = bench_settings(
                    "gridsafe_bench_maps",
                    region=f"bench{n}",
                    map_embed_max_features=10**9 if mode == "embed" else 0,
                )
                ensure_database(settings)
                owner = make_engine(settings.db, owner=True)
                init_db(owner, settings)
                owner.dispose()
                engine = make_engine(settings.db)
                build(engine, settings.region, n)
                tracemalloc.start()
                t0 = time.perf_counter()
                html = risk_page(
                    engine,
                    settings,
                    translator(settings.language),
                    level=Level.MICRO,
                    as_of=date(2025, 6, 30),
                    today=date(2025, 7, 1),
                )
                render_s = time.perf_counter() - t0
                peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                engine.dispose()
                raw = len(html.encode())
                gz = len(gzip.compress(html.encode(), 6))
                with serve(settings) as site:
                    context = browser.new_context(**DESKTOP)
                    tab = Tab.open(context, site)
                    t0 = time.perf_counter()
                    tab.goto("/maps/risk?level=micro&as_of=2025-06-30", ready=READY, timeout=600)
                    ready_s = time.perf_counter() - t0 - 0.5  # minus the 0.5 s network quiet
                    fcp_ms = float(tab.page.evaluate(FIRST_PAINT))
                    context.close()
                tiles = sum(1 for u in tab.requests if "/tiles/" in u)
                if baseline is None:
                    baseline = ready_s
                rows.append((n, mode, raw, gz, render_s, peak_mb, fcp_ms, ready_s, tiles))
                print(rows[-1], file=sys.stderr)
    header = (
        "| micro-grids | mode | page bytes | gzip bytes | render s | peak MB (render) | "
        "first paint ms | ready s | tile requests | ready vs 652 embed |"
    )
    print(header)
    print("|" + "---|" * 10)
    for n, mode, raw, gz, render_s, peak, fcp, ready, tiles in rows:
        ratio = ready / baseline if baseline else float("nan")
        print(
            f"| {n:,} | {mode} | {raw:,} | {gz:,} | {render_s:.2f} | {peak:.0f} | {fcp:.0f} | "
            f"{ready:.2f} | {tiles} | {ratio:.1f}× |"
        )
    drop_database(settings.db)


if __name__ == "__main__":
    main()
