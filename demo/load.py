"""Load the demo district into a database, through the same importers a data officer uses.

The district's files come from the package (:data:`demo.DATA`); its incidents, hazards,
patrols and check-ins are generated into a temporary folder for the moment of loading and
imported from there as files, so the demo exercises the real import path. Every step is safe
to repeat: imports upsert, and the seeded cases and accounts skip what exists.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from demo import DATA, activity, patrols
from demo.cases import seed_demo_cases
from demo.units import register_demo_units
from demo.users import seed_demo_users
from geo import clock
from geo.boundaries import import_boundaries
from geo.coverage.checkins import import_checkins
from geo.coverage.covered import refresh
from geo.coverage.periods import last_days
from geo.coverage.tracks import import_tracks
from geo.database import make_engine, prepare_database
from geo.errors import InputError
from geo.layers import import_layer
from geo.levels import Level
from geo.records import import_records
from geo.report import ImportReport
from geo.risk import run_risk
from geo.routing.network import build_network
from geo.settings import Settings

Say = Callable[[str], None]
"""Where the load reports each step (one line each): the command line prints them."""

PATROL_INTERVAL_S = 60.0
"""Seconds between the demo patrols' fixes: about 320,000 fixes of 24 units for the month,
which keeps their import near 40 s (30 s doubles it)."""


def load_demo(settings: Settings, *, now: datetime | None = None, say: Say = print) -> None:
    """Load the demo district into the configured database (each step safe to repeat).

    Its activity (incidents, hazards, cases, patrols, check-ins) ends at ``now`` (default: the
    district's now) and reaches back to 1 January of the previous year, and the risk map is
    computed as of that moment, so the pages open complete on the district's today. In demo
    mode (``GRIDSAFE_MODE=demo``) it also adds one account per role.

    Raises
    ------
    GridsafeError
        A step failed; the steps before it stay loaded, the failed one left nothing behind.
    """
    moment = now if now is not None else clock.now(settings.timezone)
    say(prepare_database(settings))
    engine = make_engine(settings.db)
    try:
        for level in Level:
            path = DATA / f"{level.value}.geojson"
            _report(import_boundaries(engine, settings, path, level=level), say)
        for kind in ("buildings", "roads", "pois"):
            path = DATA / f"{kind}.geojson"
            _report(import_layer(engine, settings, path, kind=kind), say)
        for line in build_network(engine, settings).lines():
            say(line)
        _load_activity(engine, settings, end=moment, say=say)
        run_id, risk = run_risk(engine, settings, as_of=moment)
        colours = risk.summary["colours"][Level.MICRO.value]
        say(f"risk run {run_id}: micro-grids by colour {colours}")
        opened = seed_demo_cases(engine, settings, now=moment)
        say(f"cases: {opened} opened on intake-channel incidents")
        _load_patrols(engine, settings, end=moment, say=say)
        if settings.access.mode == "demo":
            for user in seed_demo_users(engine, settings):
                where = f" in {user.scope}" if user.scope else ""
                say(f"demo account {user.username} ({user.role}{where}), password 'demo'")
    finally:
        engine.dispose()


def _report(report: ImportReport, say: Say) -> None:
    """Say an import's report; a demo file that loaded nothing is an error."""
    for line in report.lines():
        say(line)
    if report.loaded == 0:
        msg = f"{report.source}: the demo file loaded nothing"
        raise InputError(msg)


def _load_activity(engine: Engine, settings: Settings, *, end: datetime, say: Say) -> None:
    """Generate the demo's incidents and hazards (seeded, ending at ``end``) and import them
    the normal way."""
    with tempfile.TemporaryDirectory(prefix="gridsafe-demo-") as tmp:
        activity.generate(DATA, Path(tmp), end=end, timezone=settings.timezone)
        for name, kind, crs in (
            ("incidents.csv", "incidents", None),
            ("incidents_gcj02.csv", "incidents", "gcj02"),
            ("incidents_address.csv", "incidents", None),
            ("hazards.csv", "hazards", None),
        ):
            report = import_records(engine, settings, Path(tmp) / name, kind=kind, crs=crs)
            say(report.lines()[0])


def _load_patrols(engine: Engine, settings: Settings, *, end: datetime, say: Say) -> None:
    """Generate the demo's month of patrols (seeded, ending at ``end``) and import it."""
    with tempfile.TemporaryDirectory(prefix="gridsafe-patrols-") as tmp:
        patrols.generate(
            Path(tmp), end=end, timezone=settings.timezone, interval_s=PATROL_INTERVAL_S
        )
        tracks = import_tracks(engine, settings, Path(tmp) / "tracks.csv")
        registered = register_demo_units(engine, settings, Path(tmp) / "units.csv")
        say(f"patrol units: {registered} registered")
        visits = import_checkins(engine, settings, Path(tmp) / "visits.csv")
        for line in (*tracks.lines()[:2], visits.lines()[0]):
            say(line)
    # The last week's closed shifts stored now, so the coverage page's week opens in seconds
    # (geo/coverage/covered.py); the week costs about 20 s more here.
    shifts = refresh(engine, settings, period=last_days(end, 7), now=end)
    say(f"coverage: covers of {shifts} closed shift(s) of the last week stored")
