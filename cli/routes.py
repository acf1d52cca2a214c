"""``gridsafe network build``, ``gridsafe import osm`` and ``gridsafe routes plan``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import fail, out
from geo.database import make_engine
from geo.errors import GridsafeError, InputError
from geo.routing.model import SOLVERS
from geo.routing.network import UnitKind, build_network
from geo.settings import get_settings

if TYPE_CHECKING:
    from geo.routing.plan import UnitInput

# The planner (OR-Tools, PyVRP) and the OSM reader (geopandas) are imported by the commands
# that use them, so that `gridsafe --help` and every other command start without them.

network_app = typer.Typer(help="The road network for routing (pgRouting).", no_args_is_help=True)
routes_app = typer.Typer(help="Patrol route plans.", no_args_is_help=True)


@network_app.command("build")
def build_cmd() -> None:
    """Rebuild the routing network from the roads table (safe to repeat)."""
    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        stats = build_network(engine, settings)
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    for line in stats.lines():
        out.print(line, highlight=False)
    if stats.edges == 0:
        raise typer.Exit(1)


def import_osm_cmd(path: Path) -> None:
    """Import the routable ways of an OSM extract (.osm.pbf) as roads, then build the network."""
    from geo.routing.osm import import_osm_roads  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        report = import_osm_roads(engine, settings, path)
        for line in report.lines():
            out.print(line, markup=False, highlight=False)
        stats = build_network(engine, settings)
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    for line in stats.lines():
        out.print(line, highlight=False)


def _unit(text: str) -> UnitInput:
    from geo.routing.plan import UnitInput  # noqa: PLC0415 - see the imports above

    parts = text.split(":")
    if len(parts) not in {2, 3}:
        msg = f"--unit {text!r}: write NAME:STATION or NAME:STATION:KIND"
        raise InputError(msg)
    kind = UnitKind(parts[2]) if len(parts) == 3 else UnitKind.FOOT
    return UnitInput(name=parts[0], station=parts[1], kind=kind)


@routes_app.command("plan")
def plan_cmd(
    unit: Annotated[
        list[str], typer.Option(help="NAME:STATION[:foot|bicycle|vehicle], once per unit")
    ],
    start: Annotated[datetime, typer.Option(help="shift start, local time")],
    end: Annotated[datetime, typer.Option(help="shift end, local time")],
    solver: Annotated[str, typer.Option(help=f"one of {', '.join(SOLVERS)}")] = SOLVERS[0],
    time_limit: Annotated[
        float | None, typer.Option(help="search seconds (pyvrp, best, ortools)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole plan as JSON")] = False,
) -> None:
    """Plan routes for a shift over the risk map's red/orange micro-grids and the school gates."""
    from geo.routing.plan import PlanRequest, plan_routes  # noqa: PLC0415 - as above

    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        request = PlanRequest(
            units=[_unit(u) for u in unit],
            shift_start=start,
            shift_end=end,
            solver=solver,
            time_limit_s=time_limit,
        )
        plan = plan_routes(engine, settings, request)
    except GridsafeError as exc:
        raise fail(exc) from exc
    except ValueError as exc:  # an unknown unit kind
        raise fail(InputError(str(exc))) from exc
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(plan, ensure_ascii=False))
        return
    table = Table(title=f"plan {plan['id']}")
    for column in ("unit", "seq", "stop", "kind", "risk", "arrival", "departure"):
        table.add_column(column)
    for u in plan["units"]:
        for s in u["stops"]:
            table.add_row(
                u["name"], str(s["seq"]), s["label"], s["kind"], f"{s['risk']:.1f}",
                s["arrival"][11:19], s["departure"][11:19],
            )  # fmt: skip
    out.print(table)
    summary = plan["summary"]
    out.print(
        f"risk covered {summary['risk_covered']:.1f} of {summary['risk_total']:.1f}; "
        f"{len(plan['left_out'])} stop(s) left out (GET /api/routes/{plan['id']} for why)",
        highlight=False,
    )
