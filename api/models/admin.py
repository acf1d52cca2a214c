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


class AuditEntry(Answer):
    """One change: who made it, when, and the rows before and after (up to a limit)."""

    id: int
    at: Instant
    actor: str
    action: str = Field(description="INSERT, UPDATE or DELETE")
    entity: str = Field(description="the table changed")
    rows: int = Field(description="rows the statement changed")
    before: list[dict[str, Any]] | None
    after: list[dict[str, Any]] | None
