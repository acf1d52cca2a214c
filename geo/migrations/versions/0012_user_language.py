"""Each user's language for the pages (``users.language``): zh_CN, en, or null for the
deployment's (``GRIDSAFE_LANGUAGE``). Kept on the account, so it follows the user to every
device and never changes what another user sees.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "l0012"
down_revision = "a0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("language", sa.Text, comment="the pages' language; null: the deployment's"),
    )
    op.create_check_constraint("users_language_check", "users", "language IN ('zh_CN', 'en')")


def downgrade() -> None:
    op.drop_constraint("users_language_check", "users")
    op.drop_column("users", "language")
