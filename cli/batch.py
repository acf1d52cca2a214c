"""``gridsafe batch``: a job over many regions, one dask task per region (geo/scale/batch.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import fail, out
from cli.risk import AsOf
from geo import clock
from geo.errors import GridsafeError
from geo.settings import get_settings

if TYPE_CHECKING:
    from geo.coverage.periods import Period
    from geo.scale.batch import Job

# geo.scale.batch (dask, the risk engine) is imported by the commands, so that `gridsafe --help`
# starts without it.

batch_app = typer.Typer(
    help=(
        "Jobs over many regions, one dask task per region (GRIDSAFE_DASK_SCHEDULER, else a "
        "local cluster); safe to run again."
    ),
    no_args_is_help=True,
)

Regions = Annotated[
    str, typer.Option("--regions", help="the regions, comma-separated (e.g. 410105010,410105011)")
]
Here = Annotated[
    bool,
    typer.Option("--here", help="run in this process, region after region, without dask"),
]


def _batch(job: Job, regions: str, *, here: bool, period: Period | None, when: datetime) -> None:
    from geo.scale.batch import (  # noqa: PLC0415 - see the imports above
        dask_client,
        region_list,
        run_here,
        run_on_dask,
        task,
    )

    settings = get_settings()
    try:
        # Checked before a cluster is started for nothing.
        names = region_list(regions.split(","))
        run = task(job, settings, period=period, when=when)
        if here:
            done = run_here(run, names)
        else:
            with dask_client(settings.batch) as client:
                done = run_on_dask(run, names, client)
    except GridsafeError as exc:
        raise fail(exc) from exc
    kinds = list(dict.fromkeys(k for d in done for k in d.counts))
    table = Table(title=f"batch {job.value}: {len(done)} region(s)")
    table.add_column("region")
    for kind in kinds:
        table.add_column(kind, justify="right")
    table.add_column("seconds", justify="right")
    for d in done:
        table.add_row(d.region, *(str(d.counts.get(k, "")) for k in kinds), f"{d.seconds:.1f}")
    out.print(table)


@batch_app.command("locate")
def locate_cmd(regions: Regions, here: Here = False) -> None:
    """Place every record of each region again in its micro-grids (only changes are written)."""
    from geo.scale.batch import Job  # noqa: PLC0415 - see the imports above

    _batch(Job.LOCATE, regions, here=here, period=None, when=clock.utcnow())


@batch_app.command("coverage")
def coverage_cmd(
    regions: Regions,
    month: Annotated[
        datetime, typer.Option("--month", formats=["%Y-%m"], help="the month, YYYY-MM (local)")
    ],
    here: Here = False,
) -> None:
    """Store the covers of every closed shift of a month, per region (stored shifts are kept)."""
    from geo.scale.batch import Job, month_period  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    period = month_period(month.date(), settings)
    _batch(Job.COVERAGE, regions, here=here, period=period, when=clock.utcnow())


@batch_app.command("risk")
def risk_cmd(
    regions: Regions,
    as_of: AsOf = None,
    here: Here = False,
) -> None:
    """Compute and keep each region's own risk run (its own Gi* and false-discovery control)."""
    from geo.risk import as_of_instant  # noqa: PLC0415 - see the imports above
    from geo.scale.batch import Job  # noqa: PLC0415 - see the imports above

    settings = get_settings()
    when = as_of_instant(as_of.date() if as_of else None, settings.timezone)
    _batch(Job.RISK, regions, here=here, period=None, when=when)
