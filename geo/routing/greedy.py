"""The baseline: greedy nearest neighbour, the rule a dispatcher without a solver follows.

The unit whose clock is earliest moves next, to the nearest stop (by travel time; ties to the
larger prize) it can still serve inside its window and come home from before the shift ends;
a unit with no such stop goes home. It ignores prizes when choosing, which is the point of the
comparison: how much risk the solver's routing adds over "go to the closest place next".
"""

from __future__ import annotations

from geo.routing.model import Instance


def solve_greedy(instance: Instance) -> list[list[int]]:
    """Return each unit's stop order by the nearest-neighbour rule."""
    routes: list[list[int]] = [[] for _ in instance.units]
    clock = [u.start for u in instance.units]
    here = [u.start_site for u in instance.units]
    active = set(range(len(instance.units)))
    left = set(range(len(instance.stops)))
    while active and left:
        u = min(active, key=lambda k: (clock[k], k))
        unit = instance.units[u]
        choice: tuple[int, float, int] | None = None
        for s in left:
            stop = instance.stops[s]
            leg = instance.time(unit, here[u], stop.site)
            start = max(clock[u] + leg, stop.earliest)
            home = start + stop.dwell + instance.time(unit, stop.site, unit.end_site)
            if start > stop.latest or home > unit.end:
                continue
            key = (leg, -stop.prize, s)
            if choice is None or key < choice:
                choice = key
        if choice is None:
            active.discard(u)
            continue
        s = choice[2]
        stop = instance.stops[s]
        start = max(clock[u] + choice[0], stop.earliest)
        clock[u], here[u] = start + stop.dwell, stop.site
        routes[u].append(s)
        left.discard(s)
    return routes
