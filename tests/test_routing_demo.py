"""The demo district's road network and a morning plan on it (read-only: nothing is stored)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import Engine, text

from geo.database import sql
from geo.routing.greedy import solve_greedy
from geo.routing.model import collected, timed_routes
from geo.routing.network import UnitKind
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, prepare
from geo.routing.solver import solve
from geo.settings import Settings


def test_demo_network_is_connected(demo: Engine, demo_settings: Settings) -> None:
    with demo.connect() as conn:
        stats = conn.execute(
            sql("routing_network_stats", "geo.routing"), {"region": demo_settings.region}
        ).one()
    assert stats.edges >= stats.roads > 400
    # Noded street grid: every vertex reachable on foot; one-way streets may strand a few by car.
    assert stats.main_foot == stats.vertices
    assert stats.main_vehicle >= 0.9 * stats.vertices


def test_morning_plan_beats_greedy_and_keeps_gate_windows(
    demo: Engine, demo_settings: Settings
) -> None:
    rng = np.random.default_rng(7)
    with demo.connect() as conn:
        codes = list(
            conn.execute(
                text("SELECT code FROM areas WHERE level = 'micro' ORDER BY code")
            ).scalars()
        )
        picked = rng.choice(codes, size=25, replace=False)
        prep = prepare(
            conn,
            demo_settings,
            PlanRequest(
                units=[UnitInput("步巡", "P001"), UnitInput("车巡", "P003", UnitKind.VEHICLE)],
                shift_start=datetime(2026, 11, 24, 7, 0),
                shift_end=datetime(2026, 11, 24, 9, 0),
                candidates=[
                    CandidateInput(
                        id=str(c), kind="red", risk=float(rng.integers(50, 100)), area_code=str(c)
                    )
                    for c in picked
                ],
                risk_areas=False,
            ),
        )
    inst = prep.instance
    gates = [s for s, stop in enumerate(inst.stops) if prep.places[stop.site].kind == "school_gate"]
    assert gates  # the morning windows of the gates fall inside 07:00-09:00
    greedy = solve_greedy(inst)
    planned = solve(inst, time_limit_s=2.0)
    for routes in (greedy, planned):
        for route in timed_routes(inst, routes):  # raises on a broken window or shift
            for visit in route.visits:
                stop = inst.stops[visit.stop]
                assert stop.earliest <= visit.start <= stop.latest
    assert collected(inst, planned) >= collected(inst, greedy)
