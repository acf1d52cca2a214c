"""Benchmark of the planning page: a dispatcher's plan of 3 units over 60 red/orange candidates
and the school gates, made as the page makes it (a background job, polled) and then shown on the
page (paths, stops, timetables), in headless Chromium.

The demo district's boundaries, roads, POIs and road network are loaded into a scratch database
(no activity: the 60 candidates are micro-grids with seeded scores, as in bench_routing.py's
dispatcher case, whose candidates this reuses), three units are registered, and:

1. the job: ``POST /api/routes/jobs`` to the plan's id by polling every 0.4 s (the page's
   interval), at the default 5 s search and at 1 s;
2. the page: ``/maps/routes?plan=ID`` opened, until the three timetables are drawn.

Run: ``PYTHONPATH=. .venv/bin/python bench/bench_plan_page.py`` (creates and drops the database
gridsafe_bench_plan_page).
"""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np
from playwright.sync_api import expect
from sqlalchemy import text

from bench import bench_settings
from bench.bench_routing import SEED, candidates
from demo import DATA as DEMO_DIR
from geo.access import Role
from geo.boundaries import import_boundaries
from geo.database import drop_database, ensure_database, init_db, make_engine
from geo.layers import import_layer
from geo.levels import Level
from geo.routing.network import UnitKind, build_network
from geo.routing.units import PatrolUnit, save_unit
from tests.browser import Tab, launch, serve, sign_in
from tests.clients import api_client

UNITS = (("步巡A", UnitKind.FOOT), ("骑巡B", UnitKind.BICYCLE), ("车巡C", UnitKind.VEHICLE))


def main() -> None:
    settings = bench_settings("gridsafe_bench_plan_page")
    ensure_database(settings)
    owner = make_engine(settings.db, owner=True)
    init_db(owner, settings)
    owner.dispose()
    engine = make_engine(settings.db)
    try:
        for level in Level:
            import_boundaries(engine, settings, DEMO_DIR / f"{level.value}.geojson", level=level)
        for kind in ("buildings", "roads", "pois"):
            import_layer(engine, settings, DEMO_DIR / f"{kind}.geojson", kind=kind)
        build_network(engine, settings)
        with engine.begin() as conn:
            codes = list(
                conn.execute(
                    text("SELECT code FROM areas WHERE level = 'micro' ORDER BY code")
                ).scalars()
            )
            stations = list(
                conn.execute(
                    text("SELECT poi_id FROM pois WHERE kind = 'station' ORDER BY poi_id")
                ).scalars()
            )
            for (name, kind), station in zip(UNITS, stations, strict=False):
                save_unit(conn, settings, PatrolUnit(name, kind, station, (2,)))
        rng = np.random.default_rng(SEED)
        picked = list(rng.choice(codes, size=60, replace=False))
        body = {
            "units": [
                {"name": n, "station": s, "kind": k.value}
                for (n, k), s in zip(UNITS, stations, strict=False)
            ],
            "shift_start": datetime(2026, 11, 24, 7, 0).isoformat(),
            "budget_min": 180,
            "candidates": [
                {"id": c.id, "kind": c.kind, "risk": c.risk, "area_code": c.area_code}
                for c in candidates(picked, rng)
            ],
            "risk_areas": False,
            "gaps": False,
            "school_gates": True,
        }
        print("## The planning page: 3 units, 60 red/orange candidates + school gates, 07:00-10:00")
        print("| step | search limit s | seconds | stops planned | risk covered of ceiling |")
        print("|---|---|---|---|---|")
        plan_id = 0
        with api_client(settings, Role.DISPATCHER) as client:
            for limit in (5.0, 1.0):
                began = time.perf_counter()
                job = client.post("/api/routes/jobs", json={**body, "time_limit_s": limit}).json()
                while job["state"] in {"queued", "running"}:
                    time.sleep(0.4)
                    job = client.get(f"/api/routes/jobs/{job['id']}").json()
                seconds = time.perf_counter() - began
                plan = client.get(f"/api/routes/{job['plan_id']}").json()
                s = plan["summary"]
                print(
                    f"| job: start, poll, done | {limit:g} | {seconds:.2f} | "
                    f"{s['stops_planned']} | {s['risk_covered']:.0f} of {s['risk_total']:.0f} |"
                )
                plan_id = plan_id or int(job["plan_id"])
        with serve(settings) as base, launch() as browser:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            tab = Tab.open(context, base)
            sign_in(tab, settings, Role.DISPATCHER)
            for attempt in ("first", "again"):
                began = time.perf_counter()
                tab.page.goto(f"{base}/maps/routes?plan={plan_id}")
                expect(tab.page.locator(".gs-timetable")).to_have_count(3, timeout=60_000)
                seconds = time.perf_counter() - began
                print(f"| page: open plan #{plan_id} to 3 timetables drawn ({attempt}) | | "
                      f"{seconds:.2f} | | |")  # fmt: skip
            context.close()
    finally:
        engine.dispose()
        drop_database(settings.db)


if __name__ == "__main__":
    main()
