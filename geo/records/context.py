"""What one import shares: the connection, the record kind, the settings it reads, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.engine import Connection

from geo import clock
from geo.address import AddressGazetteer
from geo.database import sql
from geo.records.kinds import RecordKind, record_kind
from geo.report import ImportReport
from geo.settings import Settings


@dataclass
class ImportContext:
    """What a whole import shares: the connection, settings, lookups and the report."""

    conn: Connection
    kind: RecordKind
    region: str
    srid: int
    zone: ZoneInfo
    min_score: float
    default_source: str
    report: ImportReport
    types: dict[str, str] = field(default_factory=dict)
    cell_m: float = 0.0
    gazetteer: AddressGazetteer | None = None
    building_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The connection the locate join runs on (records_locate.sql): a file import's second
    # connection, in a read transaction of its own, so that placing one batch overlaps writing
    # the previous one on ``conn``; None: ``conn`` itself.
    locator: Connection | None = None
    # Whether this import holds the turn to write (taken at its first upsert, kept to commit).
    writing: bool = False
    # When to stop waiting for a lock: None (a file import) waits as long as it takes; a request
    # gives up at this time.monotonic() instant with a BusyError (GRIDSAFE_SUBMIT_WAIT_S).
    deadline: float | None = None
    # Staging table → column → type, read from the catalog once per import (the binary COPY
    # writes each type's own form; records_stage.sql and the kinds' staged columns stay the one
    # place the types are named).
    stage_types: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each source this import wrote: whether it held no record when first written; and the
    # hashes of the keys written (geo.records.staging._key_hashes), sorted: a batch of fresh
    # sources whose keys are not among them is inserted without the upsert's probe.
    fresh: dict[str, bool] = field(default_factory=dict)
    written: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    # The connection's client encoding, which the staging payloads' text is written in.
    encoding: str = "utf-8"

    def geocoder(self) -> AddressGazetteer:
        """The buildings' gazetteer, built on first use."""
        if self.gazetteer is None:
            rows = self.conn.execute(
                sql("buildings_gazetteer", "geo.records"), {"region": self.region}
            ).all()
            self.gazetteer = AddressGazetteer((str(r[0]), str(r[1])) for r in rows)
            self.building_points = {str(r[0]): (float(r[2]), float(r[3])) for r in rows}
        return self.gazetteer


def import_context(
    conn: Connection, settings: Settings, kind: str, source_name: str, crs_name: str
) -> ImportContext:
    """A fresh context for importing records of ``kind`` from ``source_name``."""
    return ImportContext(
        conn=conn,
        kind=record_kind(kind),
        region=settings.region,
        srid=settings.srid,
        zone=clock.zone(settings.timezone),
        min_score=settings.intake.geocode_min_score,
        default_source=source_name,
        report=ImportReport(kind=kind, source=source_name, crs=crs_name),
    )
