"""The planning instance every solver shares, and the one rule that turns a visit order into times.

A shift is the time line ``0 … horizon`` in whole seconds. A unit leaves its station no earlier
than ``Unit.start`` and must be back by ``Unit.end``; travel times come from pgRouting per unit
kind (``Instance.travel[profile]``). A stop is visited at most once by at most one unit; it is
worth its prize (the risk it covers) and keeps the unit for ``dwell`` seconds, the service
starting inside ``[earliest, latest]``. A unit arriving early waits.

The schedule rule is the earliest-start forward pass: with waiting allowed and windows that only
bound the start, starting each stop as early as possible is feasible whenever any timing of the
same order is (Solomon 1987, "Algorithms for the vehicle routing and scheduling problems with
time window constraints", Operations Research 35(2)). Every solver's answer is timed by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SOLVERS = ("pyvrp", "best", "ortools", "greedy", "exact")
"""The planners a request may name; the first is the default (bench/RESULTS.md: PyVRP reaches
the exact optimum of every small case and covers the most risk in the dispatcher's case).
Named here, where nothing imports a solver, so the command line can offer them quickly."""

# Travel time standing for "no path": larger than any shift, small enough to add without overflow.
UNREACHABLE = 10**9


@dataclass(frozen=True)
class Stop:
    """A candidate visit.

    Attributes
    ----------
    site
        Index of its place in the travel matrices.
    prize
        The risk it covers when visited.
    dwell
        Seconds spent there.
    earliest, latest
        The window of the service start, seconds since the shift start.
    """

    site: int
    prize: float
    dwell: int
    earliest: int
    latest: int


@dataclass(frozen=True)
class Unit:
    """A patrol unit: its station (start and end sites), its travel profile and its hours."""

    start_site: int
    end_site: int
    start: int
    end: int
    profile: int = 0


@dataclass
class Instance:
    """A prize-collecting vehicle-routing problem with time windows.

    Attributes
    ----------
    travel
        ``(profiles, sites, sites)`` travel seconds; ``UNREACHABLE`` where there is no path.
    """

    travel: NDArray[np.int64]
    stops: list[Stop]
    units: list[Unit]

    @property
    def horizon(self) -> int:
        """The latest moment any unit may be out."""
        return max((u.end for u in self.units), default=0)

    def time(self, unit: Unit, a: int, b: int) -> int:
        """Travel seconds between sites ``a`` and ``b`` for ``unit``."""
        return int(self.travel[unit.profile, a, b])


@dataclass(frozen=True)
class Visit:
    """One stop on a timed route: arrival, service start (after any wait) and departure."""

    stop: int
    travel: int
    arrival: int
    start: int
    departure: int


@dataclass(frozen=True)
class TimedRoute:
    """A unit's route with times; ``back`` is the arrival at its station."""

    visits: list[Visit]
    back_travel: int
    back: int

    @property
    def travel(self) -> int:
        """Seconds on the road, station to station."""
        return sum(v.travel for v in self.visits) + self.back_travel


def schedule(instance: Instance, unit_index: int, order: Sequence[int]) -> TimedRoute | None:
    """Time a visit order by the earliest-start rule; None when it breaks a window or the shift."""
    unit = instance.units[unit_index]
    clock, site = unit.start, unit.start_site
    visits: list[Visit] = []
    for index in order:
        stop = instance.stops[index]
        leg = instance.time(unit, site, stop.site)
        arrival = clock + leg
        start = max(arrival, stop.earliest)
        if start > stop.latest:
            return None
        clock, site = start + stop.dwell, stop.site
        visits.append(Visit(index, leg, arrival, start, clock))
    back_travel = instance.time(unit, site, unit.end_site)
    if clock + back_travel > unit.end:
        return None
    return TimedRoute(visits, back_travel, clock + back_travel)


def timed_routes(instance: Instance, routes: Sequence[Sequence[int]]) -> list[TimedRoute]:
    """Time every unit's route, checking that no stop is visited twice.

    Raises
    ------
    ValueError
        A stop appears twice, or a route breaks a window or the shift.
    """
    seen: set[int] = set()
    timed = []
    for u, order in enumerate(routes):
        repeated = seen.intersection(order) or len(set(order)) < len(order)
        if repeated:
            msg = f"unit {u}'s route {list(order)} repeats a stop"
            raise ValueError(msg)
        seen.update(order)
        route = schedule(instance, u, order)
        if route is None:
            msg = f"unit {u}'s route {list(order)} breaks a time window or the shift end"
            raise ValueError(msg)
        timed.append(route)
    return timed


def collected(instance: Instance, routes: Sequence[Sequence[int]]) -> float:
    """The total prize of the stops on ``routes``."""
    return float(sum(instance.stops[s].prize for order in routes for s in order))


def better(instance: Instance, answers: Sequence[list[list[int]]]) -> list[list[int]]:
    """The best of several answers: more risk collected, then less travel (then the first)."""

    def rank(routes: list[list[int]]) -> tuple[float, int]:
        travel = sum(r.travel for r in timed_routes(instance, routes))
        return collected(instance, routes), -travel

    return max(answers, key=rank)
