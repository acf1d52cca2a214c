"""Places on the network and travel times between them, from pgRouting.

A place (a stop, a station) is snapped to the nearest vertex of the main connected part of the
network for the unit kind (``routing_vertices.main_<kind>``), so every snapped place can reach
every other and come back. Travel times are ``pgr_dijkstraCostMatrix`` on that kind's costs,
rounded up to whole seconds for the solver.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from geo.database import sql
from geo.routing.model import UNREACHABLE
from geo.routing.network import UnitKind
from geo.settings import Settings


@dataclass(frozen=True)
class Snap:
    """Where a place joins the network: the vertex id (None: no network) and how far it is."""

    vertex: int | None
    distance_m: float


def snap(
    conn: Connection,
    settings: Settings,
    kind: UnitKind,
    points: Sequence[tuple[float, float]],
) -> list[Snap]:
    """Snap points (x, y in the store's SRID) to the kind's main network part."""
    if not points:
        return []
    rows = conn.execute(
        sql("routing_snap", "geo.routing"),
        {
            "xs": [p[0] for p in points],
            "ys": [p[1] for p in points],
            "srid": settings.srid,
            "region": settings.region,
            "kind": kind.value,
        },
    ).all()
    return [
        Snap(
            None if r.vertex is None else int(r.vertex),
            math.inf if r.vertex is None else float(r.distance_m),
        )
        for r in rows
    ]


def travel_matrix(
    conn: Connection, settings: Settings, kind: UnitKind, vertices: Sequence[int | None]
) -> NDArray[np.int64]:
    """Whole seconds from each vertex to each other for ``kind`` (``UNREACHABLE``: no path).

    ``None`` stands for a place that did not snap; it is unreachable from and to everywhere.
    """
    n = len(vertices)
    out = np.full((n, n), UNREACHABLE, dtype=np.int64)
    known = sorted({v for v in vertices if v is not None})
    cost: dict[tuple[int, int], float] = {(v, v): 0.0 for v in known}
    if len(known) > 1:
        column, reverse = kind.cost_columns
        rows = conn.execute(
            sql("routing_matrix", "geo.routing"),
            {
                "cost_column": column,
                "reverse_cost_column": reverse,
                "region": settings.region,
                "vids": known,
            },
        ).all()
        cost.update({(int(r.start_vid), int(r.end_vid)): float(r.agg_cost) for r in rows})
    for i, a in enumerate(vertices):
        for j, b in enumerate(vertices):
            if a is not None and b is not None and (a, b) in cost:
                out[i, j] = math.ceil(cost[a, b] - 1e-9)
    return out


def store_legs(
    conn: Connection,
    settings: Settings,
    kind: UnitKind,
    *,
    plan_id: int,
    legs: Sequence[tuple[int, int, int, int]],
) -> None:
    """Store the road path of each leg ``(unit_index, seq, from_vertex, to_vertex)`` of a plan."""
    if not legs:
        return
    column, reverse = kind.cost_columns
    conn.execute(
        sql("routing_legs_insert", "geo.routing"),
        {
            "plan_id": plan_id,
            "units": [leg[0] for leg in legs],
            "seqs": [leg[1] for leg in legs],
            "sources": [leg[2] for leg in legs],
            "targets": [leg[3] for leg in legs],
            "cost_column": column,
            "reverse_cost_column": reverse,
            "region": settings.region,
        },
    )
