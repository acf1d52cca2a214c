"""Benchmark of the patrol planner on the demo district's road network (pgRouting travel times).

1. Quality against the optimum: small instances (10 stops, 2 foot units, 75 min) drawn from the
   demo district, solved by each planner (OR-Tools, PyVRP, both) and by the exact subset DP.
2. The dispatcher's case: 3 units (foot, bicycle, vehicle), 60 red/orange micro-grid candidates
   (scores drawn with a fixed seed: the demo has no risk computation of its own here) and the
   school gates, a 3-hour morning (07:00-10:00, the school gates' drop-off windows inside);
   each planner at 1, 5 and 15 s against greedy nearest neighbour.

Run: ``PYTHONPATH=. .venv/bin/python bench/bench_routing.py`` (creates and drops the database
gridsafe_bench_routing; PYTHONPATH because the editable install's finder hides ``geo`` from
scripts run outside the project root).
"""

from __future__ import annotations

import contextlib
import io
import resource
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from functools import partial

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bench import bench_settings
from demo.load import load_demo
from geo.database import drop_database, make_engine
from geo.routing.exact import solve_exact
from geo.routing.greedy import solve_greedy
from geo.routing.model import collected, timed_routes
from geo.routing.network import UnitKind
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, prepare, run_solver
from geo.settings import Settings

SEED = 4547
PLANNERS = {"OR-Tools": "ortools", "PyVRP": "pyvrp", "best of both": "best"}


def measure(fn: Callable[[], list[list[int]]]) -> tuple[list[list[int]], float, float, float]:
    """Run ``fn``; return its routes, seconds, peak Python heap (MiB, tracemalloc: not the
    solver's C++ memory) and the process's peak resident memory so far (MiB, getrusage)."""
    tracemalloc.start()
    began = time.perf_counter()
    routes = fn()
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return routes, seconds, peak, rss


def candidates(codes: list[str], rng: np.random.Generator) -> list[CandidateInput]:
    out = []
    for code in codes:
        colour = "red" if rng.random() < 0.3 else "orange"
        score = rng.uniform(70, 100) if colour == "red" else rng.uniform(50, 70)
        kind = "hotspot" if colour == "red" and rng.random() < 0.5 else colour
        out.append(CandidateInput(id=code, kind=kind, risk=round(float(score), 1), area_code=code))
    return out


def small_instances(
    conn: Connection, settings: Settings, rng: np.random.Generator, codes: list[str],
    stations: list[str],
) -> None:  # fmt: skip
    """Each planner (1 s) against the exact optimum on 10-stop, 2-unit instances."""
    print("## Small instances: each planner (1 s) against the exact optimum")
    names = list(PLANNERS)
    print(
        "| instance | optimum | exact s | " + " | ".join(f"{n} | share | s" for n in names) + " |"
    )
    print("|---|---|---|" + "---|---|---|" * len(names))
    shares: dict[str, list[float]] = {n: [] for n in names}
    for k in range(10):
        picked = list(rng.choice(codes, size=10, replace=False))
        inst = prepare(
            conn,
            settings,
            PlanRequest(
                units=[UnitInput("A", stations[0]), UnitInput("B", stations[1])],
                shift_start=datetime(2026, 11, 24, 9, 0),
                shift_end=datetime(2026, 11, 24, 10, 15),
                candidates=candidates(picked, rng),
                risk_areas=False,
                school_gates=False,
                gaps=False,
            ),
        ).instance
        exact, t_exact, _, _ = measure(partial(solve_exact, inst))
        best = collected(inst, exact)
        cells = []
        for name, solver in PLANNERS.items():
            routes, t, _, _ = measure(partial(run_solver, inst, solver, 1.0))
            timed_routes(inst, routes)
            got = collected(inst, routes)
            shares[name].append(got / best if best else 1.0)
            cells.append(f"{got:.1f} | {shares[name][-1]:.3f} | {t:.2f}")
        print(f"| {k} | {best:.1f} | {t_exact:.2f} | " + " | ".join(cells) + " |")
    print()
    for name in names:
        print(
            f"{name}: mean share of the optimum {np.mean(shares[name]):.4f}, "
            f"worst {min(shares[name]):.4f}"
        )
    print()


def dispatcher_case(
    conn: Connection, settings: Settings, rng: np.random.Generator, codes: list[str],
    stations: list[str],
) -> None:  # fmt: skip
    """3 units, 60 red/orange candidates and the school gates: each planner against greedy."""
    picked = list(rng.choice(codes, size=60, replace=False))
    request = PlanRequest(
        units=[
            UnitInput("foot", stations[0], UnitKind.FOOT),
            UnitInput("bicycle", stations[1], UnitKind.BICYCLE),
            UnitInput("vehicle", stations[2], UnitKind.VEHICLE),
        ],
        shift_start=datetime(2026, 11, 24, 7, 0),
        shift_end=datetime(2026, 11, 24, 10, 0),
        candidates=candidates(picked, rng),
        risk_areas=False,
        school_gates=True,
        gaps=False,
    )
    began = time.perf_counter()
    prep = prepare(conn, settings, request)
    t_prep = time.perf_counter() - began
    inst = prep.instance
    red_orange = {
        s for s, stop in enumerate(inst.stops) if prep.places[stop.site].kind != "school_gate"
    }
    ro_total = sum(inst.stops[s].prize for s in red_orange)
    print("## Demo district: 3 units, 60 red/orange candidates + school gates, 07:00-10:00")
    print(
        f"{len(inst.stops)} stops ({len(inst.stops) - len(red_orange)} school-gate windows), "
        f"matrix and snapping in pgRouting: {t_prep:.2f} s\n"
    )
    print("| solver | time s | peak heap MiB | peak RSS MiB | stops | risk covered | "
          "share of all | red/orange share | ratio to greedy | travel min |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    greedy, t_g, m_g, r_g = measure(partial(solve_greedy, inst))
    rows = [("greedy nearest neighbour", greedy, t_g, m_g, r_g)]
    for limit in (1.0, 5.0, 15.0):
        for name, solver in PLANNERS.items():
            routes, t, m, r = measure(partial(run_solver, inst, solver, limit))
            rows.append((f"{name} {limit:g} s", routes, t, m, r))
    base_risk = collected(inst, greedy)
    total = sum(s.prize for s in inst.stops)
    for name, routes, t, m, r in rows:
        timed = timed_routes(inst, routes)  # windows and shift respected, no stop twice
        travel = sum(route.travel for route in timed) / 60
        got = collected(inst, routes)
        ro = sum(inst.stops[s].prize for route in routes for s in route if s in red_orange)
        print(
            f"| {name} | {t:.2f} | {m:.1f} | {r:.0f} | {sum(map(len, routes))} | {got:.1f} | "
            f"{got / total:.3f} | {ro / ro_total:.3f} | {got / base_risk:.3f} | {travel:.0f} |"
        )


def main() -> None:
    settings = bench_settings("gridsafe_bench_routing")
    with contextlib.redirect_stdout(io.StringIO()):
        load_demo(settings)
    engine = make_engine(settings.db)
    rng = np.random.default_rng(SEED)
    try:
        with engine.connect() as conn:
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
            small_instances(conn, settings, rng, codes, stations)
            dispatcher_case(conn, settings, rng, codes, stations)
    finally:
        engine.dispose()
        drop_database(settings.db)


if __name__ == "__main__":
    main()
