"""The audit log: every change to the data people work with, who made it, and before/after.

The database writes it (statement triggers, migration ``a0009``), so no code path can change
data without leaving an entry, and it refuses to be edited. Here it is only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from geo.database import sql


def audit_entries(
    engine: Engine,
    *,
    entity: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries newest first, optionally of one table, one actor, since an instant, paged."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("audit_list"),
            {
                "entity": entity,
                "actor": actor,
                "since": since,
                "before_id": before_id,
                "limit": limit,
            },
        ).all()
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "entity": r.entity,
            "rows": r.rows,
            "before": r.before,
            "after": r.after,
        }
        for r in rows
    ]


def source_version(conn: Connection, entities: Sequence[str]) -> int:
    """The version of what an answer is drawn from: how many statements ever changed the
    audited tables ``entities`` (grows with every committed change, in any commit order).

    Read outside any area scope: the audit log is not readable within one (its count says
    nothing of any area).
    """
    return int(conn.execute(sql("source_version"), {"entities": list(entities)}).scalar_one())
