"""The planners (OR-Tools, PyVRP, the better of both), the exact solver and the greedy baseline
on hand-made instances with known best routes."""

from __future__ import annotations

import numpy as np
import pytest

from geo.routing.exact import solve_exact
from geo.routing.greedy import solve_greedy
from geo.routing.model import Instance, Stop, Unit, collected, timed_routes
from geo.routing.plan import run_solver

LIMIT = 0.3  # seconds of search: plenty for these sizes
PLANNERS = ["ortools", "pyvrp", "best"]


def solve_with(solver: str, inst: Instance) -> list[list[int]]:
    """``inst`` solved by the app's ``solver`` in ``LIMIT`` seconds."""
    return run_solver(inst, solver, LIMIT)


def grid_travel(coords: list[tuple[int, int]], step: int) -> np.ndarray:
    """Manhattan travel times on a street grid, ``step`` seconds per block."""
    xy = np.array(coords)
    return (np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2) * step)[None].astype(np.int64)


# A 2 x 3 block grid, 100 s a block; site 0 is the station.
#   0 - 1 - 2
#   |   |   |
#   3 - 4 - 5
GRID = grid_travel([(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)], 100)
GRID_PRIZES = {1: 1.0, 2: 5.0, 3: 1.0, 4: 1.0, 5: 5.0}


def grid_instance(units: int, budget: int) -> Instance:
    stops = [Stop(site, prize, 0, 0, budget) for site, prize in GRID_PRIZES.items()]
    return Instance(GRID, stops, [Unit(0, 0, 0, budget) for _ in range(units)])


def sites(instance: Instance, routes: list[list[int]]) -> list[list[int]]:
    return [[instance.stops[s].site for s in order] for order in routes]


@pytest.mark.parametrize("solver", [*PLANNERS, "exact"])
def test_one_unit_budget_forces_the_far_corner_out(solver: str) -> None:
    # 400 s reaches corner 2 (prize 5) and back, collecting 1 on the way: 6. Corner 5 is three
    # blocks away (600 s round trip); the loop 0-1-4-3 collects only 3.
    inst = grid_instance(1, 400)
    routes = solve_with(solver, inst)
    timed_routes(inst, routes)
    assert collected(inst, routes) == 6.0
    assert [sorted(r) for r in sites(inst, routes)] == [[1, 2]]


@pytest.mark.parametrize("solver", [*PLANNERS, "exact"])
def test_two_units_never_share_a_stop(solver: str) -> None:
    # Each unit has 400 s: corner 2 takes one unit's whole shift (with 1 on the way or not), the
    # other loops through 1, 4, 3; corner 5 (600 s round trip) stays out of reach: 8.
    inst = grid_instance(2, 400)
    routes = solve_with(solver, inst)
    timed_routes(inst, routes)  # raises on a repeated stop
    assert collected(inst, routes) == 8.0
    visited = [s for r in sites(inst, routes) for s in r]
    assert sorted(visited) == [1, 2, 3, 4]


@pytest.mark.parametrize("solver", [*PLANNERS, "exact", "greedy"])
def test_enough_time_collects_everything(solver: str) -> None:
    inst = grid_instance(1, 600)  # the loop 0-1-2-5-4-3-0 is exactly 600 s
    routes = solve_with(solver, inst)
    (route,) = timed_routes(inst, routes)
    assert collected(inst, routes) == 13.0
    assert route.back == 600


# A street 0 - 1 - 2, 100 s a block, station at 0. The near stop (site 1) opens at 500 s; the
# far one (site 2) closes at 250 s, so the only way to serve both is far first.
LINE = grid_travel([(0, 0), (1, 0), (2, 0)], 100)


def window_instance() -> Instance:
    far = Stop(site=2, prize=1.0, dwell=0, earliest=0, latest=250)
    near = Stop(site=1, prize=1.0, dwell=0, earliest=500, latest=600)
    return Instance(LINE, [far, near], [Unit(0, 0, 0, 1000)])


@pytest.mark.parametrize("solver", [*PLANNERS, "exact"])
def test_time_window_forces_the_order(solver: str) -> None:
    inst = window_instance()
    routes = solve_with(solver, inst)
    (route,) = timed_routes(inst, routes)
    assert routes == [[0, 1]]
    # far: arrive 200; near: arrive 300, wait until it opens at 500; home at 600.
    assert [(v.arrival, v.start, v.departure) for v in route.visits] == [
        (200, 200, 200),
        (300, 500, 500),
    ]
    assert route.back == 600


def test_greedy_goes_to_the_nearest_and_loses_the_far_window() -> None:
    inst = window_instance()
    routes = solve_greedy(inst)
    timed_routes(inst, routes)
    assert routes == [[1]]  # the near stop first; by 500 s the far window has closed
    assert collected(inst, routes) == 1.0


@pytest.mark.parametrize("solver", [*PLANNERS, "exact", "greedy"])
def test_dwell_forces_a_drop(solver: str) -> None:
    # Two stops one block either side of the station, 10 min dwell each, a 1000 s shift:
    # either alone takes 800 s, both 1600 s. The larger prize is kept.
    travel = grid_travel([(0, 0), (-1, 0), (1, 0)], 100)
    stops = [Stop(1, 3.0, 600, 0, 1000), Stop(2, 2.0, 600, 0, 1000)]
    inst = Instance(travel, stops, [Unit(0, 0, 0, 1000)])
    routes = solve_with(solver, inst)
    timed_routes(inst, routes)
    assert routes == [[0]]


@pytest.mark.parametrize("solver", PLANNERS)
def test_unit_kinds_travel_by_their_own_matrices(solver: str) -> None:
    # Two stops 1000 and 1100 s from the station on foot, a fifth of that by bicycle; each unit
    # has 900 s. On foot neither is in reach; the bicycle takes both: 200 + 20 + 220 = 440 s.
    foot = grid_travel([(0, 0), (10, 0), (10, 1)], 100)[0]
    bicycle = foot // 5
    inst = Instance(
        np.stack([foot, bicycle]),
        [Stop(1, 2.0, 0, 0, 900), Stop(2, 1.0, 0, 0, 900)],
        [Unit(0, 0, 0, 900, profile=0), Unit(0, 0, 0, 900, profile=1)],
    )
    routes = solve_with(solver, inst)
    _, by_bicycle = timed_routes(inst, routes)
    assert routes[0] == []
    assert sorted(routes[1]) == [0, 1]
    assert by_bicycle.back == 440


@pytest.mark.parametrize("solver", PLANNERS)
def test_planner_reaches_the_optimum_on_random_small_instances(solver: str) -> None:
    """Random 9-stop, 2-unit instances with windows: each planner against the exact optimum."""
    rng = np.random.default_rng(7)
    shares = []
    for _ in range(5):
        xy = rng.uniform(0, 2000, size=(10, 2))
        travel = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1.4
        travel = np.ceil(travel).astype(np.int64)[None]
        stops = []
        for site in range(1, 10):
            earliest = int(rng.integers(0, 3000))
            stops.append(Stop(site, float(rng.integers(1, 10)), 600, earliest, earliest + 1800))
        inst = Instance(travel, stops, [Unit(0, 0, 0, 5400), Unit(0, 0, 0, 5400)])
        best = collected(inst, solve_exact(inst))
        routes = solve_with(solver, inst)
        timed_routes(inst, routes)
        shares.append(collected(inst, routes) / best)
    assert min(shares) >= 0.9
    assert np.mean(shares) >= 0.97
