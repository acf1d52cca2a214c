"""``gridsafe risk``: compute the four-colour map, and evaluate it against baselines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from cli.common import fail, out
from geo.assessment import Colour
from geo.database import make_engine
from geo.errors import GridsafeError
from geo.levels import Level
from geo.settings import get_settings

# geo.risk (scipy, esda, libpysal) is imported by the commands that use it, so that
# `gridsafe --help` and every other command start without it.
AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="use only what was known by the end of this day (local time); default: now",
    ),
]
"""The ``--as-of`` day of a risk computation (``gridsafe risk compute``, ``batch risk``)."""

risk_app = typer.Typer(help="The four-colour risk map.", no_args_is_help=True)


@risk_app.command("compute")
def compute_cmd(
    as_of: AsOf = None,
) -> None:
    """Compute the map as of a date, keep it, and print the colours per level."""
    from geo.risk import as_of_instant, run_risk  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    engine = make_engine(settings.db)
    when = as_of_instant(as_of.date() if as_of else None, settings.timezone)
    try:
        run_id, result = run_risk(engine, settings, as_of=when)
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    table = Table(title=f"risk run {run_id} as of {when.isoformat()}")
    table.add_column("level")
    for colour in Colour:
        table.add_column(colour.value, justify="right")
    for level in Level:
        counts = result.summary["colours"][level.value]
        table.add_row(level.value, *(str(counts[c.value]) for c in Colour))
    out.print(table)
    s = result.summary
    out.print(
        f"incidents used {s['incidents_used']}, hazards counting {s['hazards_counting']}, "
        f"hot spots {s['hot_spots']}, invalid hazards {len(s['hazards_invalid'])}",
        highlight=False,
    )


@risk_app.command("evaluate")
def evaluate_cmd(
    split: Annotated[
        datetime,
        typer.Option("--split", formats=["%Y-%m-%d"], help="the map is as of the end of this day"),
    ],
    period_days: Annotated[
        int, typer.Option("--period-days", min=1, help="the next period scored, in days")
    ] = 90,
) -> None:
    """Hit rate and PAI of red+orange for the next period, against raw counts and uniform."""
    from geo.risk import evaluate  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        ev = evaluate(engine, settings, split=split.date(), period_days=period_days)
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    table = Table(
        title=(
            f"as of {ev.split.date()}: {ev.incidents_next} incidents in the next "
            f"{ev.period_days} days"
        )
    )
    for name in ("map", "area share", "incidents inside", "hit rate", "PAI"):
        table.add_column(name, justify="left" if name == "map" else "right")
    for s in ev.scores:
        table.add_row(
            s.name,
            f"{s.area_share:.1%}",
            f"{s.incidents_inside:.1f}",
            "-" if s.hit_rate is None else f"{s.hit_rate:.1%}",
            "-" if s.pai is None else f"{s.pai:.2f}",
        )
    out.print(table)
