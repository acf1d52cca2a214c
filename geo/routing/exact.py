"""The exact solver for small instances: dynamic programming over subsets of stops.

For each unit, Held and Karp's (1962, "A dynamic programming approach to sequencing problems",
J. SIAM 10(1)) recursion over (set of stops visited, last stop) keeps the earliest departure from
the last stop; with waiting allowed that is all that matters for what can still follow (the
time-window version of Dumas, Desrosiers, Gelinas and Solomon 1995, Operations Research 43(2)).
A set is feasible for the unit when some order of it gets the unit home in time. The units then
share the stops: ``best_k(M)``, the largest prize units ``0..k`` collect from the set ``M``, is
the best over every feasible subset ``S`` of ``M`` for unit ``k`` of
``prize(S) + best_{k-1}(M - S)``.

Time ``O(U · n² · 2ⁿ + U · 3ⁿ)``: fine up to a dozen stops, which is what it is for — measuring
how close the planner gets to the optimum.
"""

from __future__ import annotations

from geo.routing.model import Instance

MAX_STOPS = 14


def _unit_orders(instance: Instance, u: int) -> dict[int, list[int]]:
    """Every set of stops the unit can visit in its shift (bit masks), with one order doing it."""
    unit = instance.units[u]
    stops = instance.stops
    n = len(stops)
    # depart[mask][last]: earliest departure from `last` having visited exactly `mask`.
    depart: list[dict[int, int]] = [{} for _ in range(1 << n)]
    parent: dict[tuple[int, int], int] = {}
    for s, stop in enumerate(stops):
        start = max(unit.start + instance.time(unit, unit.start_site, stop.site), stop.earliest)
        if start <= stop.latest:
            depart[1 << s][s] = start + stop.dwell
            parent[1 << s, s] = -1
    for mask in range(1, 1 << n):
        for last, clock in depart[mask].items():
            here = stops[last].site
            for nxt in range(n):
                if mask >> nxt & 1:
                    continue
                stop = stops[nxt]
                start = max(clock + instance.time(unit, here, stop.site), stop.earliest)
                if start > stop.latest:
                    continue
                key = mask | 1 << nxt
                if start + stop.dwell < depart[key].get(nxt, 1 << 62):
                    depart[key][nxt] = start + stop.dwell
                    parent[key, nxt] = last
    feasible: dict[int, list[int]] = {}
    if instance.time(unit, unit.start_site, unit.end_site) <= unit.end - unit.start:
        feasible[0] = []
    for mask in range(1, 1 << n):
        for last, clock in depart[mask].items():
            if clock + instance.time(unit, stops[last].site, unit.end_site) <= unit.end:
                feasible[mask] = _order(parent, mask, last)
                break
    return feasible


def _order(parent: dict[tuple[int, int], int], mask: int, last: int) -> list[int]:
    """Walk the parent pointers back from (mask, last) to the first stop."""
    order, s = [], last
    while s != -1:
        order.append(s)
        s, mask = parent[mask, s], mask & ~(1 << s)
    return order[::-1]


def solve_exact(instance: Instance) -> list[list[int]]:
    """Return routes collecting the largest total prize (ties: any one of them).

    Raises
    ------
    ValueError
        The instance has more than ``MAX_STOPS`` stops.
    """
    n = len(instance.stops)
    if n > MAX_STOPS:
        msg = f"the exact solver takes at most {MAX_STOPS} stops, got {n}"
        raise ValueError(msg)
    full = (1 << n) - 1
    prize = [0.0] * (1 << n)
    for mask in range(1, 1 << n):
        low = (mask & -mask).bit_length() - 1
        prize[mask] = prize[mask & (mask - 1)] + instance.stops[low].prize
    # best[mask] = (prize, routes of the units so far) using only stops in mask.
    best: list[tuple[float, list[list[int]]]] = [(0.0, []) for _ in range(1 << n)]
    for u in range(len(instance.units)):
        orders = _unit_orders(instance, u)
        nxt: list[tuple[float, list[list[int]]]] = []
        for mask in range(1 << n):
            top: tuple[float, list[list[int]]] = (-1.0, [])
            sub = mask
            while True:
                if sub in orders:
                    value = prize[sub] + best[mask & ~sub][0]
                    if value > top[0]:
                        top = (value, [*best[mask & ~sub][1], orders[sub]])
                if sub == 0:
                    break
                sub = (sub - 1) & mask
            if top[0] < 0:  # the unit cannot even go out and back: it stays home
                top = (best[mask][0], [*best[mask][1], []])
            nxt.append(top)
        best = nxt
    return best[full][1]
