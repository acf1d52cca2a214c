"""Admin answers: accounts and the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.models.common import Answer, Instant
from geo.access import Role


class Account(Answer):
    """An account (never its password hash)."""

    username: str
    role: Role
    scope: str | None = Field(description="the area it is limited to; null: the whole region")
    display_name: str | None
    disabled: bool


class KeyRange(Answer):
    """The smallest and largest value of one key column."""

    min: Any
    max: Any


class BulkRows(Answer):
    """The rows of a statement too big to copy: how many, and the range of each key column."""

    rows: int
    keys: dict[str, KeyRange]


Rows = list[dict[str, Any]] | BulkRows
"""The rows themselves (secret columns left out), or for a big statement their key ranges."""


class AuditEntry(Answer):
    """One change: who made it, when, and the rows before and after (up to a limit)."""

    id: int
    at: Instant
    actor: str
    action: str = Field(description="INSERT, UPDATE or DELETE")
    entity: str = Field(description="the table changed")
    rows: int = Field(description="rows the statement changed")
    before: Rows | None = Field(description="the rows before (UPDATE, DELETE)")
    after: Rows | None = Field(description="the rows after (INSERT, UPDATE)")
