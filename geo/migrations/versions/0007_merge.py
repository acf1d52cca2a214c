"""Join the feature branches (records, risk, patrols, routing, cases) into one line again.

The features were built side by side, each migration branching off 0002; later migrations build
on this one, so the schema has a single head again.

Revision ID: 0007
Revises: 0004, 0005, 0006 (0004 builds on 0003_records and 0003_risk)
Create Date: 2026-11-24
"""

revision = "0007"
# 0003_records and 0003_risk are reached through 0004, which builds on both.
down_revision = ("0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: a merge point only."""
