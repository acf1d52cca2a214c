"""Join the two 0013 branches (least privilege, scoped keys) into one line again.

Revision ID: m0014
Revises: a0013, k0013
Create Date: 2026-12-04
"""

revision = "m0014"
down_revision = ("a0013", "k0013")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: a merge point only."""
