"""The audit log browsed as a page: indexes for its filters, each read newest first by id.

- ``audit_log_user_idx`` on ``(split_part(actor, ' ', 1), id)``: the changes of one account,
  whatever role it had when it made them (an actor is logged as ``name (role)``);
- ``audit_log_entity_id_idx`` on ``(entity, id)``: one table's changes, paged by id;
- ``audit_log_before_idx`` and ``audit_log_after_idx``, GIN (``jsonb_path_ops``) on the rows
  before and after: the changes of one record (``before @> '[{"id": 42}]'``).

The log is append-only and can be large; these keep every page of the admin's audit view one
index range, however deep (``geo/audit.py``).

Revision ID: u0017
Revises: i0017
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "u0017"
down_revision = "i0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX audit_log_user_idx ON audit_log (split_part(actor, ' ', 1), id)")
    op.create_index("audit_log_entity_id_idx", "audit_log", ["entity", "id"])
    op.execute("CREATE INDEX audit_log_before_idx ON audit_log USING gin (before jsonb_path_ops)")
    op.execute("CREATE INDEX audit_log_after_idx ON audit_log USING gin (after jsonb_path_ops)")


def downgrade() -> None:
    for name in ("audit_log_after_idx", "audit_log_before_idx", "audit_log_entity_id_idx"):
        op.drop_index(name, table_name="audit_log")
    op.drop_index("audit_log_user_idx", table_name="audit_log")
