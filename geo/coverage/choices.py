"""What the coverage filters offer: the grids and the patrol units, picked from lists by name.

Areas are the level-2 and level-3 grids; units are the registered ones (geo/routing/units.py)
and every unit with fixes in the last :data:`UNITS_SEEN_DAYS` days, so a unit not yet
registered is still offered. A grid head sees their own area's grids and units only (row-level
security); the register, which is the dispatchers', is not read for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from geo.database import current_scope, sql
from geo.settings import Settings

UNITS_SEEN_DAYS = 35
"""Units with fixes this recently are offered: the demo's month of patrols and a little more."""


@dataclass(frozen=True)
class AreaChoice:
    """A grid a filter offers."""

    code: str
    name: str
    level: str


def filter_choices(
    engine: Engine, settings: Settings, *, now: datetime
) -> tuple[list[AreaChoice], list[str]]:
    """The grids and the unit names the coverage filters offer, as of ``now``."""
    params = {"region": settings.region, "since": now - timedelta(days=UNITS_SEEN_DAYS)}
    with engine.connect() as conn:
        areas = [
            AreaChoice(str(r.code), str(r.name or r.code), str(r.level))
            for r in conn.execute(sql("coverage_choices_areas", "geo.coverage"), params)
        ]
        units = set(conn.execute(sql("coverage_choices_units", "geo.coverage"), params).scalars())
        if current_scope() is None:
            units |= set(
                conn.execute(sql("coverage_choices_register", "geo.coverage"), params).scalars()
            )
    return areas, sorted(units)
