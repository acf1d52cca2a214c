"""Incidents and hazards: checking rows, placing them in the grid hierarchy, storing, listing.

Modules, one concern each: ``kinds`` (what differs between incidents and hazards), ``context``
(what one import shares), ``checks`` (the row checks), ``staging`` (COPY into staging tables,
the locate join and the upsert), ``imports`` (a file or JSON objects in), ``queries`` (GeoJSON
out), ``vocabulary`` (the incident types). Their SQL is in ``geo/records/sql/``.
"""

from geo.records.imports import import_records, submit_records
from geo.records.kinds import KINDS, Placement, RecordKind
from geo.records.queries import list_records
from geo.records.staging import write_lock_key
from geo.records.vocabulary import add_incident_type, incident_types

__all__ = [
    "KINDS",
    "Placement",
    "RecordKind",
    "add_incident_type",
    "import_records",
    "incident_types",
    "list_records",
    "submit_records",
    "write_lock_key",
]
