"""Admin answers: accounts and the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.models.common import Answer, Instant
from geo.access import Role


class Account(Answer):
    """An account (never its password hash)."""

    id: int
    username: str
    role: Role
    scope: str | None = Field(description="the area it is limited to; null: the whole region")
    scope_name: str | None = Field(description="the name of the scope area")
    display_name: str | None
    language: str | None = Field(description="the pages' language it chose; null: the default")
    disabled: bool
    created_at: Instant
    last_sign_in: Instant | None = Field(
        description="its latest password sign-in still in the sign-in log; null: none known"
    )


class NewAccount(BaseModel):
    """An account to add: grid heads and members need an area scope, the other roles none."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="the login name, no spaces")
    display_name: str | None = Field(default=None, max_length=200)
    role: Role
    password: str = Field(
        max_length=1000, description="the initial password (the deployment's rules apply)"
    )
    scope: str | None = Field(
        default=None, max_length=200, description="area code (grid heads and members)"
    )


class AccountChange(BaseModel):
    """What to change of an account; a field left out stays as it is. A new role that sees
    everything drops the old scope; a scoped role needs one."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    scope: str | None = Field(default=None, description="area code; null: no scope")
    display_name: str | None = Field(default=None, max_length=200)
    disabled: bool | None = Field(
        default=None, description="true: disable and revoke its tokens; false: enable"
    )


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
