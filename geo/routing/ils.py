"""The planner on PyVRP: iterated local search on the prize-collecting VRP with time windows.

The same instance as the OR-Tools planner (``geo/routing/solver.py``), in PyVRP's terms
(Wouda, Lan and Kool 2024, "PyVRP: a high-performance VRP solver package", INFORMS Journal on
Computing 36(4)): every site of the travel matrices is a location; each stop is an optional
client whose prize is its risk (scaled by ``PRIZE_SHIFTS``, so that collecting more risk
outweighs driving less), whose service is its dwell and whose window bounds the service start;
each unit is a vehicle type of one vehicle, starting and ending at its station's depot inside
its hours, with its kind's travel matrix as its routing profile. The arc cost is travel time,
so among plans collecting the same risk the search prefers the one that drives least.

PyVRP waits at early arrivals and refuses late starts exactly as ``model.schedule`` does, so
its feasible answers are timed by the shared rule unchanged. The search starts from the greedy
nearest-neighbour routes (always feasible) and keeps the best feasible solution it sees.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from pyvrp import Client, Depot, Location, ProblemData, Route, Solution, VehicleType, solve
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from geo.routing.greedy import solve_greedy
from geo.routing.model import Instance

PRIZE_SHIFTS = 100
"""The largest prize is worth this many whole shifts of travel; a stop worth 1 % of it still
outweighs any detour of one unit. OR-Tools' strict ordering (``solver._penalties``: 1e6 steps,
each worth all units' shifts) makes prizes so large against travel seconds that PyVRP's
time-window penalty (at most 1e5 per second late) cannot outweigh one, and it ends with late
routes; at 0.1 shift it drops most stops; at 10 and 100 it finds the optimum of random small
cases (bench/RESULTS.md)."""

SEED = 4547
"""PyVRP's random seed: the same instance and time give the same plan on a quiet machine."""


def _problem(instance: Instance) -> tuple[ProblemData, list[int]]:
    """The instance as PyVRP data, and which stop each PyVRP client is.

    A stop whose window closes before it opens cannot be served and is left out of the data;
    at least one stop must be left.
    """
    n_sites = instance.travel.shape[1]
    locations = [Location(0, 0) for _ in range(n_sites)]
    depot_of: dict[int, int] = {}
    for unit in instance.units:
        for site in (unit.start_site, unit.end_site):
            depot_of.setdefault(site, len(depot_of))
    depots = [Depot(site) for site in depot_of]
    top = max(s.prize for s in instance.stops)
    scale = PRIZE_SHIFTS * (instance.horizon + 1) / top if top > 0 else 0.0
    clients, stop_of = [], []
    for s, stop in enumerate(instance.stops):
        if stop.latest < stop.earliest:
            continue
        clients.append(
            Client(
                stop.site,
                service_duration=stop.dwell,
                tw_early=stop.earliest,
                tw_late=stop.latest,
                prize=round(stop.prize * scale),
                required=False,
            )
        )
        stop_of.append(s)
    vehicles = [
        VehicleType(
            start_depot=depot_of[unit.start_site],
            end_depot=depot_of[unit.end_site],
            tw_early=unit.start,
            tw_late=unit.end,
            profile=unit.profile,
        )
        for unit in instance.units
    ]
    matrices = [np.array(m, dtype=np.int64) for m in instance.travel]
    for m in matrices:
        # PyVRP requires a zero diagonal; a place that did not snap has UNREACHABLE there, and
        # stays unreachable from every other place.
        np.fill_diagonal(m, 0)
    # PyVRP's stub spells a matrix ndarray[int]; these are (sites, sites) int64 arrays.
    data = ProblemData(locations, clients, depots, vehicles, matrices, matrices)  # type: ignore[arg-type]
    return data, stop_of


def solve_pyvrp(
    instance: Instance, *, time_limit_s: float, stop: Callable[[], bool] | None = None
) -> list[list[int]]:
    """Return each unit's stop order (indices into ``instance.stops``).

    Parameters
    ----------
    time_limit_s
        How long the iterated local search may run.
    stop
        Asked at each iteration; when it answers True the search ends early with the best
        answer so far (a dispatcher cancelling the plan).
    """
    start = solve_greedy(instance)
    if not instance.units or all(s.latest < s.earliest for s in instance.stops):
        return start  # nothing to search: no unit, or no stop that can be served
    data, stop_of = _problem(instance)
    client_of = {s: c for c, s in enumerate(stop_of)}
    initial = Solution(
        data,
        [Route(data, [client_of[s] for s in order], u) for u, order in enumerate(start) if order],
    )
    with warnings.catch_warnings():
        # PyVRP warns when its time-window penalty reaches its bound, i.e. when it cannot keep
        # its target share (65 %) of feasible neighbours: usual when the shift admits few of
        # the stops. The answer's feasibility is checked below, and the greedy start is feasible.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        limit = MaxRuntime(time_limit_s)
        result = solve(
            data,
            limit if stop is None else (lambda cost: stop() or limit(cost)),
            seed=SEED,
            collect_stats=False,
            display=False,
            initial_solution=initial,
        )
    if not result.is_feasible():
        return start
    routes: list[list[int]] = [[] for _ in instance.units]
    for route in result.best.routes():
        routes[route.vehicle_type()] = [stop_of[a.idx] for a in route if a.is_client()]
    return routes
