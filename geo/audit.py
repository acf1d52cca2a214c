"""The audit log: every change to the data people work with, who made it, and before/after.

The database writes it (statement triggers, migration ``a0009``), so no code path can change
data without leaving an entry, and it refuses to be edited. Here it is only read: filtered by
table, user, time and record, and paged by id in either direction (keyset pagination, so a
page deep in a large log costs what the first does; indexes of migration ``u0017``).

The statement is put together from the filters given (SQLAlchemy Core, every value bound),
rather than one text with ``:x IS NULL OR ...`` for each filter: each combination then gets a
plan that uses its index instead of one generic plan for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Text,
    column,
    func,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import JSONB

from geo.database import sql

LOG = table(
    "audit_log",
    column("id", BigInteger),
    column("at", DateTime(timezone=True)),
    column("actor", Text),
    column("action", Text),
    column("entity", Text),
    column("rows", BigInteger),
    column("before", JSONB),
    column("after", JSONB),
)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; None: any.

    Attributes
    ----------
    entity
        The table changed.
    actor
        The actor exactly as logged (``alice (admin)``, ``cli:ops``).
    user
        The account that made the change, whatever role it had then (the actor's first word).
    since, until
        The entry's instant is at or after ``since`` and before ``until``.
    record
        A row's ``id`` (digits) or ``code`` that the entry's rows before or after hold.
    """

    entity: str | None = None
    actor: str | None = None
    user: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    record: str | None = None


def actor_user(actor: str) -> str:
    """The account an actor label names: ``alice`` of ``alice (admin)``; the label itself for
    actors that are not accounts (``cli:ops``, ``db:gridsafe``)."""
    return actor.split(" ", 1)[0]


def _record_probe(record: str) -> list[dict[str, Any]]:
    record = record.strip()
    key: dict[str, Any] = {"id": int(record)} if record.isdigit() else {"code": record}
    return [key]


def audit_entries(
    engine: Engine,
    *,
    entity: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
    where: AuditFilter | None = None,
    after_id: int | None = None,
) -> list[dict[str, Any]]:
    """Entries newest first that match ``where`` (or the ``entity``, ``actor`` and ``since``
    shortcuts); one page of ``limit``: those older than ``before_id``, or the ones just newer
    than ``after_id``."""
    f = where or AuditFilter(entity=entity, actor=actor, since=since)
    query = select(LOG)
    if f.entity is not None:
        query = query.where(LOG.c.entity == f.entity)
    if f.actor is not None:
        query = query.where(LOG.c.actor == f.actor)
    if f.user is not None:
        # The expression of the index audit_log_user_idx (migration u0017).
        query = query.where(func.split_part(LOG.c.actor, " ", 1) == f.user)
    if f.since is not None:
        query = query.where(LOG.c.at >= f.since)
    if f.until is not None:
        query = query.where(LOG.c.at < f.until)
    if f.record is not None and f.record.strip():
        probe = literal(_record_probe(f.record), JSONB)
        query = query.where(or_(LOG.c.before.op("@>")(probe), LOG.c.after.op("@>")(probe)))
    if after_id is not None:
        query = query.where(LOG.c.id > after_id).order_by(LOG.c.id.asc())
    else:
        if before_id is not None:
            query = query.where(LOG.c.id < before_id)
        query = query.order_by(LOG.c.id.desc())
    with engine.connect() as conn:
        rows = list(conn.execute(query.limit(limit)).all())
    if after_id is not None:
        rows.reverse()
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


def audited_tables(engine: Engine) -> list[str]:
    """The tables the log holds entries of, by name (a skip scan of the entity index, so it
    costs one index probe per table, not a read of the log)."""
    with engine.connect() as conn:
        return list(conn.execute(sql("audit_tables")).scalars())


@dataclass(frozen=True)
class FieldChange:
    """One column of one row: its value before and after (None: the row had no such value:
    an insert's before, a delete's after)."""

    name: str
    before: Any
    after: Any
    changed: bool


@dataclass(frozen=True)
class RowChange:
    """One row an entry changed: its key (``id`` or ``code`` when it has one) and its fields."""

    key: str | None
    fields: list[FieldChange]


_MISSING: Any = object()


def _key(row: dict[str, Any]) -> str | None:
    for name in ("id", "code"):
        if name in row:
            return str(row[name])
    return None


def row_changes(action: str, before: Any, after: Any) -> list[RowChange]:
    """The rows of an entry field by field, before beside after.

    An UPDATE keeps each row's key and its changed columns only (migration ``a0011``): the
    rows before and after are paired by key, and a column present on both sides with the
    same value is a key (unchanged). An INSERT has only rows after, a DELETE only rows before.
    A statement too big to keep row by row has its count and key ranges instead of rows (an
    object, not a list): no rows are returned for it.
    """
    olds = before if isinstance(before, list) else []
    news = after if isinstance(after, list) else []
    if action == "UPDATE":
        by_key = {_key(r): r for r in olds}
        pairs = [(by_key.get(_key(n), {}), n) for n in news]
        seen = {_key(n) for n in news}
        pairs += [(o, {}) for o in olds if _key(o) not in seen]
    else:
        pairs = [(o, {}) for o in olds] + [({}, n) for n in news]
    out = []
    for old, new in pairs:
        names = list(dict.fromkeys([*old, *new]))
        fields = [
            FieldChange(
                name,
                old.get(name) if name in old else None,
                new.get(name) if name in new else None,
                old.get(name, _MISSING) != new.get(name, _MISSING),
            )
            for name in names
        ]
        out.append(RowChange(_key(old or new), fields))
    return out


def source_version(conn: Connection, entities: Sequence[str], region: str) -> int:
    """The version of what an answer is drawn from: how many statements ever changed the
    audited tables ``entities`` in ``region`` or in no single region (grows with every
    committed change, in any commit order).

    Read outside any area scope: the audit log is not readable within one (its count says
    nothing of any area).
    """
    return int(
        conn.execute(
            sql("source_version"), {"entities": list(entities), "region": region}
        ).scalar_one()
    )
