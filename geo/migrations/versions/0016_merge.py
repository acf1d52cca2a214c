"""Join the three 0015 branches (shared rules, field work, patrol units) into one line again.

Revision ID: m0016
Revises: r0015, p0015, d0015
Create Date: 2026-12-04
"""

revision = "m0016"
down_revision = ("r0015", "p0015", "d0015")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: a merge point only."""
