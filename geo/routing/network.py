"""The road network in pgRouting: edges cut from the ``roads`` table, vertices, cost per unit kind.

Roads are cut at every vertex two roads share, as OSM ways meet at shared nodes and as the
demo district's segments are noded; roads that merely cross (a bridge over a street) stay
apart. Every edge carries a travel time in seconds for each kind of patrol unit, forwards and
backwards; a negative cost bars a direction (pgRouting's convention): one-way streets for bicycles
and vehicles, motorways for walkers, footways for cars.

Road classes are OSM ``highway`` values; which kind may use which class follows the OSM wiki's
worldwide defaults ("OSM tags for routing/Access restrictions").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine

from geo.database import sql
from geo.settings import Settings


class UnitKind(StrEnum):
    """How a patrol unit moves (the same words as patrol tracks use)."""

    FOOT = "foot"
    BICYCLE = "bicycle"
    VEHICLE = "vehicle"

    @property
    def cost_columns(self) -> tuple[str, str]:
        """The ``routing_edges`` columns of this kind's forward and reverse cost."""
        return f"cost_{self.value}", f"reverse_cost_{self.value}"


# Road classes each kind may not use (OSM wiki, "OSM tags for routing/Access restrictions",
# worldwide defaults; a patrol bicycle may ride pedestrian streets and footways).
BARRED: dict[UnitKind, tuple[str, ...]] = {
    UnitKind.FOOT: ("motorway", "motorway_link"),
    UnitKind.BICYCLE: ("motorway", "motorway_link", "steps", "corridor", "elevator"),
    UnitKind.VEHICLE: (
        "footway",
        "pedestrian",
        "path",
        "steps",
        "cycleway",
        "bridleway",
        "corridor",
        "elevator",
        "platform",
    ),
}


@dataclass(frozen=True)
class NetworkStats:
    """The size of a region's network after a build.

    Attributes
    ----------
    main
        Vertices in the largest strongly connected component per unit kind: the part of the
        network where every vertex can reach every other and come back.
    """

    roads: int
    edges: int
    vertices: int
    length_m: float
    main: dict[str, int]

    def lines(self) -> list[str]:
        """Human-readable lines for the command line."""
        main = ", ".join(f"{kind} {count}" for kind, count in self.main.items())
        return [
            f"network from {self.roads} roads: {self.edges} edges "
            f"({self.length_m / 1000:.1f} km), {self.vertices} vertices",
            f"  vertices in the main connected part per unit kind: {main}",
        ]


def build_network(engine: Engine, settings: Settings) -> NetworkStats:
    """Rebuild the region's routing network from its ``roads``, in one transaction.

    Costs use the speeds of ``settings`` (``route_speed_kmh_*``); a vehicle goes at the road's
    ``maxspeed_kmh`` when that is lower than the town cap.
    """
    params: dict[str, object] = {
        "region": settings.region,
        "tol": settings.routing.route_node_tolerance_m,
        "speed_foot": settings.routing.route_speed_kmh_foot,
        "speed_bicycle": settings.routing.route_speed_kmh_bicycle,
        "speed_vehicle": settings.routing.route_speed_kmh_vehicle,
        **{f"barred_{kind.value}": list(BARRED[kind]) for kind in UnitKind},
    }
    region = {"region": settings.region}
    with engine.begin() as conn:
        conn.execute(sql("routing_clear", "geo.routing"), region)
        conn.execute(sql("routing_edges_build", "geo.routing"), params)
        conn.execute(sql("routing_vertices_build", "geo.routing"), region)
        conn.execute(sql("routing_edges_ends", "geo.routing"), region)
        for kind in UnitKind:
            cost, reverse = kind.cost_columns
            conn.execute(
                sql("routing_components", "geo.routing"),
                {
                    **region,
                    "kind": kind.value,
                    "cost_column": cost,
                    "reverse_cost_column": reverse,
                },
            )
        row = conn.execute(sql("routing_network_stats", "geo.routing"), region).one()
    return NetworkStats(
        roads=int(row.roads),
        edges=int(row.edges),
        vertices=int(row.vertices),
        length_m=float(row.length_m),
        main={kind.value: int(getattr(row, f"main_{kind.value}")) for kind in UnitKind},
    )
