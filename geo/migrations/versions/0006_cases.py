"""Cases: the closed-loop workflow on incidents, and the log of every step.

A case is one incident's handling (one case per incident): received, dispatched to a squad or a
department with the responsible level-3 grid, handled, resolved or unresolved, verified (closed),
and reopened with a reason. ``cases`` holds the current state and the times the statistics read;
``case_events`` keeps who moved it from which state to which, when, and why. ``version`` is the
optimistic lock: every transition is ``UPDATE ... WHERE version = :expected`` (geo/cases.py).

The vocabularies are frozen here as CHECK constraints, as they stood at this revision.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

STATES = ("received", "dispatched", "handling", "resolved", "unresolved", "verified")
PLATFORMS = ("one_code", "three_zero", "district_digital", "court_mediation", "patrol", "hotline")
SQUADS = ("mediation", "inspection", "patrol")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column(
            "incident_id",
            sa.BigInteger,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("platform", sa.Text, nullable=False, comment="intake platform (geo/cases.py)"),
        sa.Column("state", sa.Text, nullable=False, server_default="received"),
        sa.Column(
            "outcome", sa.Text, comment="resolved | unresolved once handled; null while open"
        ),
        sa.Column("grid_code", sa.Text, comment="the responsible level-3 grid; null: outside"),
        sa.Column("squad", sa.Text, comment="the grid's squad it is dispatched to"),
        sa.Column("department", sa.Text, comment="or the department it is dispatched to"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), comment="latest dispatch"),
        sa.Column("handled_at", sa.DateTime(timezone=True), comment="entered resolved/unresolved"),
        sa.Column("closed_at", sa.DateTime(timezone=True), comment="verified"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint(f"state IN {STATES!r}", name="cases_state_check"),
        sa.CheckConstraint(f"platform IN {PLATFORMS!r}", name="cases_platform_check"),
        sa.CheckConstraint(f"squad IS NULL OR squad IN {SQUADS!r}", name="cases_squad_check"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('resolved', 'unresolved')", name="cases_outcome_check"
        ),
        sa.CheckConstraint(
            "(outcome IS NULL) = (handled_at IS NULL)", name="cases_outcome_time_check"
        ),
    )
    op.create_index("cases_received_idx", "cases", ["region", "received_at"])
    op.create_index("cases_state_idx", "cases", ["region", "state"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "case_id",
            sa.BigInteger,
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_state", sa.Text, comment="null for the opening event"),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("squad", sa.Text),
        sa.Column("department", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("reason", sa.Text, comment="why it was reopened"),
        sa.Column("version", sa.Integer, nullable=False, comment="the case's version after it"),
    )
    op.create_index("case_events_case_idx", "case_events", ["case_id", "at"])


def downgrade() -> None:
    op.drop_table("case_events")
    op.drop_table("cases")
