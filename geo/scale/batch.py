"""Batch jobs for many regions: one dask task per region, or the same loop in this process.

A job is one region's work through the store's own functions, so a batch gives the same answer
as running the command once per region (tests/test_batch.py checks it):

- **locate**: every incident, hazard, patrol fix and check-in of the region placed again in its
  micro-grids (:func:`geo.locate.relocate`, ``gridsafe locate``); only rows whose micro-grid
  changed are written;
- **coverage**: the covers of every closed shift of a month stored in the coverage cache
  (:func:`geo.coverage.covered.refresh`); a shift already stored is not computed again;
- **risk**: the four-colour map of the region computed and kept as its own run
  (:func:`geo.risk.run_risk`): its own Gi* over its own micro-grids and its own false-discovery
  control. One pooled test over every region's micro-grids would need thousands of
  permutations to find anything (bench/RESULTS.md, the risk section), and a cluster in one
  region would compete with the chance peaks of all the others.

Each task opens its own connection (nothing is shared between tasks but the settings), works
on one region, commits per region (per shift for coverage), and can be run again: locate and
coverage write only what is missing or changed, so a batch that failed half-way is finished by
running it again. Nothing depends on a commit spanning regions.

Where the tasks run (``settings.batch``): a dask.distributed scheduler named by
``GRIDSAFE_DASK_SCHEDULER``, whose workers need the package and reach the database; otherwise a
LocalCluster of ``GRIDSAFE_DASK_WORKERS`` processes started for the run. dask-geopandas is not
used: the spatial work stays in PostGIS, where the border rule is written once
(:mod:`geo.locate`), and dask only spreads the regions over workers (docs/batch.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING

from geo import clock
from geo.coverage.covered import refresh
from geo.coverage.periods import Period, between
from geo.database import make_engine
from geo.errors import GridsafeError
from geo.locate import relocate
from geo.risk import run_risk
from geo.settings import BatchSettings, Settings

if TYPE_CHECKING:
    from distributed import Client


class BatchError(GridsafeError):
    """A batch was asked for no region, or for a month that does not exist."""


class Job(StrEnum):
    """The batch jobs (``gridsafe batch JOB``)."""

    LOCATE = "locate"
    COVERAGE = "coverage"
    RISK = "risk"


@dataclass(frozen=True)
class RegionDone:
    """What one region's task did: counts by kind and its wall time on the worker."""

    region: str
    job: Job
    counts: dict[str, int]
    seconds: float


def month_period(month: date, settings: Settings) -> Period:
    """The local calendar month holding ``month`` (its first day 00:00 to the next month's)."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return between(
        clock.day_start(first, settings.timezone), clock.day_start(following, settings.timezone)
    )


def locate_region(settings: Settings, region: str) -> RegionDone:
    """Place ``region``'s records again in its micro-grids (one transaction)."""
    t0 = time.perf_counter()
    engine = make_engine(settings.db)
    try:
        moved = relocate(engine, settings.replace(region=region))
    finally:
        engine.dispose()
    counts = {
        "incidents": moved.incidents,
        "hazards": moved.hazards,
        "fixes": moved.fixes,
        "checkins": moved.checkins,
    }
    return RegionDone(region, Job.LOCATE, counts, time.perf_counter() - t0)


def coverage_region(
    settings: Settings, region: str, *, period: Period, now: datetime
) -> RegionDone:
    """Store the covers of ``region``'s closed shifts in ``period`` that are not stored yet
    (one transaction per shift). ``now`` says which shifts are closed: the caller's clock, not
    the worker's."""
    t0 = time.perf_counter()
    engine = make_engine(settings.db)
    try:
        shifts = refresh(engine, settings.replace(region=region), period=period, now=now)
    finally:
        engine.dispose()
    return RegionDone(region, Job.COVERAGE, {"shifts": shifts}, time.perf_counter() - t0)


def risk_region(settings: Settings, region: str, *, as_of: datetime) -> RegionDone:
    """Compute and keep ``region``'s own risk run as of ``as_of``."""
    t0 = time.perf_counter()
    engine = make_engine(settings.db)
    try:
        run_id, result = run_risk(engine, settings.replace(region=region), as_of=as_of)
    finally:
        engine.dispose()
    counts = {"run": run_id, "micro_grids": int(result.params["micro_grids"])}
    counts["hot_spots"] = int(result.summary["hot_spots"])
    return RegionDone(region, Job.RISK, counts, time.perf_counter() - t0)


Task = Callable[[str], RegionDone]


def task(job: Job, settings: Settings, *, period: Period | None, when: datetime) -> Task:
    """One region's task of ``job``: ``when`` is the coverage's "now" and the risk's as-of;
    ``period`` the coverage's month."""
    if job is Job.LOCATE:
        return partial(locate_region, settings)
    if job is Job.COVERAGE:
        if period is None:
            msg = "the coverage batch needs a month"
            raise BatchError(msg)
        return partial(coverage_region, settings, period=period, now=when)
    return partial(risk_region, settings, as_of=when)


def region_list(regions: Sequence[str]) -> list[str]:
    """The regions named, blanks dropped, each once, in order.

    Raises
    ------
    BatchError
        When none is named.
    """
    unique = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    if not unique:
        msg = "no region given: name one or more regions (--regions A,B)"
        raise BatchError(msg)
    return unique


def run_here(run: Task, regions: Sequence[str]) -> list[RegionDone]:
    """The single-process path: the regions one after another in this process."""
    return [run(region) for region in region_list(regions)]


def run_on_dask(run: Task, regions: Sequence[str], client: Client) -> list[RegionDone]:
    """One dask task per region on ``client``'s cluster; the results in the regions' order.

    A task that fails raises here (dask re-raises the worker's exception); what the other
    regions' tasks wrote stays, and the batch run again does only what is left.
    """
    names = region_list(regions)
    futures = client.map(run, names, pure=False)
    done: list[RegionDone] = client.gather(futures, errors="raise")  # type: ignore[no-untyped-call]
    return done


@contextmanager
def dask_client(batch: BatchSettings) -> Iterator[Client]:
    """A client of the scheduler ``GRIDSAFE_DASK_SCHEDULER``, or of a LocalCluster of
    ``GRIDSAFE_DASK_WORKERS`` single-threaded processes started here and stopped after."""
    # Imported here: every `gridsafe` command imports this module, only a batch on dask needs
    # dask.distributed, and importing it takes a second or two.
    from distributed import Client, LocalCluster  # noqa: PLC0415

    if batch.dask_scheduler:
        with Client(batch.dask_scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=batch.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client
