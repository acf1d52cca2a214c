"""The demo district's patrol units, registered from the generator's ``units.csv``.

The register itself is geo/routing/units.py; only the demo loader calls this.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine

from geo.routing.network import UnitKind
from geo.routing.units import PatrolUnit, save_unit
from geo.settings import Settings


def register_demo_units(engine: Engine, settings: Settings, path: Path) -> int:
    """Register every unit of ``path`` (unit, kind, station, shift); return how many."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with engine.begin() as conn:
        for row in rows:
            unit = PatrolUnit(
                row["unit"], UnitKind(row["kind"]), row["station"], (int(row["shift"]),)
            )
            save_unit(conn, settings, unit)
    return len(rows)
