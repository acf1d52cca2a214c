"""Remembered column mappings: the one an officer confirmed, per region, kind and source.

Next month's file from the same platform imports with the same columns and no questions
(basis ``remembered`` in :mod:`geo.imports.guess`). A mapping is field → column, several
columns joined by a space (a date and a time of day), or None (the file has no such column).
"""

from __future__ import annotations

import json
from typing import cast

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo.database import sql
from geo.intake.fields import ColumnMapping

PACKAGE = "geo.imports"

StoredMapping = dict[str, str | list[str] | None]


def plain_mapping(mapping: ColumnMapping) -> StoredMapping:
    """A mapping as JSON keeps it: columns as text, several as a list."""
    out: StoredMapping = {}
    for name, columns in mapping.items():
        if columns is None or isinstance(columns, str):
            out[str(name)] = columns
        else:
            out[str(name)] = [str(c) for c in columns]
    return out


def remembered_mapping(
    engine: Engine | Connection, region: str, *, kind: str, source: str
) -> StoredMapping | None:
    """The mapping confirmed for ``source``'s files of ``kind`` (None: none yet)."""
    params = {"region": region, "kind": kind, "source": source}
    statement = sql("mapping_get", PACKAGE)
    if isinstance(engine, Connection):
        found = engine.execute(statement, params).scalar()
    else:
        with engine.connect() as conn:
            found = conn.execute(statement, params).scalar()
    return None if found is None else cast(StoredMapping, found)


def remember_mapping(
    conn: Connection, region: str, *, kind: str, source: str, mapping: ColumnMapping
) -> None:
    """Keep ``mapping`` for ``source``'s files of ``kind`` (replacing the one kept before)."""
    conn.execute(
        sql("mapping_put", PACKAGE),
        {
            "region": region,
            "kind": kind,
            "source": source,
            "mapping": json.dumps(plain_mapping(mapping), ensure_ascii=False),
        },
    )


def forget_mapping(engine: Engine, region: str, *, kind: str, source: str) -> bool:
    """Drop the mapping kept for ``source``'s files of ``kind``; True if there was one."""
    with engine.begin() as conn:
        result = conn.execute(
            sql("mapping_delete", PACKAGE), {"region": region, "kind": kind, "source": source}
        )
    return bool(result.rowcount)


def list_mappings(engine: Engine, region: str) -> list[dict[str, object]]:
    """Every remembered mapping of the region: kind, source, mapping and when it was kept."""
    with engine.connect() as conn:
        rows = conn.execute(sql("mapping_list", PACKAGE), {"region": region}).mappings()
        return [{**r, "updated_at": r["updated_at"].isoformat()} for r in rows]
