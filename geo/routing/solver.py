"""The planner: OR-Tools' routing solver on the prize-collecting VRP with time windows.

Each stop is optional (a disjunction whose penalty is its prize: dropping it costs the risk it
would have covered), the time dimension carries travel plus dwell with waiting allowed, and the
arc cost is travel time. Penalties are scaled so that any gain in collected risk outweighs any
saving in travel: the planner first collects as much risk as the shift allows, then drives least.
The search is guided local search (the metaheuristic the OR-Tools routing guide recommends)
from two starts: OR-Tools' path-cheapest-arc first solution, and the greedy baseline's routes.
Quality against the exact optimum is measured in bench/RESULTS.md.
"""

from __future__ import annotations

from collections.abc import Callable

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from geo.routing.greedy import solve_greedy
from geo.routing.model import Instance, better

# Prizes are compared at this relative resolution (1e-6 of the largest prize).
PRIZE_STEPS = 1_000_000


def _penalties(instance: Instance) -> list[int]:
    top = max((s.prize for s in instance.stops), default=0.0)
    if top <= 0:
        return [0 for _ in instance.stops]
    # One prize step must outweigh the travel of every unit over the whole shift.
    step = len(instance.units) * (instance.horizon + 1) + 1
    return [round(s.prize / top * PRIZE_STEPS) * step for s in instance.stops]


def solve(instance: Instance, *, time_limit_s: float) -> list[list[int]]:
    """Return each unit's stop order (indices into ``instance.stops``).

    Two searches share the time: one from OR-Tools' own first solution, one from the greedy
    nearest-neighbour routes (so the plan is never worse than the baseline); guided local search
    can stall in a local optimum, and two starts stall less often. The better answer wins: more
    risk, then less travel.

    Parameters
    ----------
    time_limit_s
        How long guided local search may run, in all.
    """
    if not instance.units:
        return []
    answers = [
        _search(instance, time_limit_s=time_limit_s / 2, start=None),
        _search(instance, time_limit_s=time_limit_s / 2, start=solve_greedy(instance)),
    ]
    return better(instance, answers)


def _search(
    instance: Instance, *, time_limit_s: float, start: list[list[int]] | None
) -> list[list[int]]:
    """One guided local search, from OR-Tools' first solution or from ``start``'s routes."""
    n_stops, n_units = len(instance.stops), len(instance.units)
    starts = [n_stops + 2 * u for u in range(n_units)]
    ends = [n_stops + 2 * u + 1 for u in range(n_units)]
    site = [s.site for s in instance.stops]
    dwell = [s.dwell for s in instance.stops]
    for unit in instance.units:
        site += [unit.start_site, unit.end_site]
        dwell += [0, 0]

    manager = pywrapcp.RoutingIndexManager(n_stops + 2 * n_units, n_units, starts, ends)
    routing = pywrapcp.RoutingModel(manager)

    def callbacks(profile: int) -> tuple[int, int]:
        matrix = instance.travel[profile]

        def travel(i: int, j: int) -> int:
            return int(matrix[site[manager.IndexToNode(i)], site[manager.IndexToNode(j)]])

        def busy(i: int, j: int) -> int:
            return int(dwell[manager.IndexToNode(i)]) + travel(i, j)

        register: Callable[[Callable[[int, int], int]], int] = routing.RegisterTransitCallback
        return register(travel), register(busy)

    by_profile = {u.profile: callbacks(u.profile) for u in instance.units}
    for v, unit in enumerate(instance.units):
        routing.SetArcCostEvaluatorOfVehicle(by_profile[unit.profile][0], v)
    horizon = instance.horizon
    routing.AddDimensionWithVehicleTransits(
        [by_profile[u.profile][1] for u in instance.units], horizon, horizon, False, "time"
    )
    time = routing.GetDimensionOrDie("time")
    for s, (stop, penalty) in enumerate(zip(instance.stops, _penalties(instance), strict=True)):
        index = manager.NodeToIndex(s)
        routing.AddDisjunction([index], penalty)
        if stop.latest < stop.earliest:
            routing.solver().Add(routing.ActiveVar(index) == 0)
            continue
        time.CumulVar(index).SetRange(stop.earliest, stop.latest)
    for v, unit in enumerate(instance.units):
        time.CumulVar(routing.Start(v)).SetRange(unit.start, unit.end)
        time.CumulVar(routing.End(v)).SetRange(unit.start, unit.end)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    routing.CloseModelWithParameters(params)
    initial = None if start is None else routing.ReadAssignmentFromRoutes(start, True)
    if initial is None:
        solution = routing.SolveWithParameters(params)
    else:
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        # Every stop is optional, so "all at home" is always feasible; no solution means the
        # stations themselves cannot be left and re-entered inside the shift.
        return [[] for _ in instance.units]
    routes = []
    for v in range(n_units):
        order, index = [], solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            order.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(order)
    return routes
