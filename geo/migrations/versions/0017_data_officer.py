"""The data officer (数据员): a sixth role, who imports files and reads the import history but
manages no users. Only the users' role check changes; a data officer sees everything (no area
scope), so they run as the connecting role like admins, leaders and dispatchers.

Revision ID: o0017
Revises: u0017
Create Date: 2026-12-05
"""

from alembic import op

revision = "o0017"
down_revision = "u0017"
branch_labels = None
depends_on = None

BEFORE = ("admin", "leader", "dispatcher", "grid_head", "grid_member")
ROLES = (*BEFORE, "data_officer")


def upgrade() -> None:
    op.drop_constraint("users_role_check", "users", type_="check")
    op.create_check_constraint("users_role_check", "users", f"role IN {ROLES!r}")


def downgrade() -> None:
    # Fails while a data officer's account exists: disable or re-role it first.
    op.drop_constraint("users_role_check", "users", type_="check")
    op.create_check_constraint("users_role_check", "users", f"role IN {BEFORE!r}")
