"""The four-colour risk map: one row per computation, one score per computation and area.

Revision ID: 0003_risk
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_risk"
down_revision = "0002"
branch_labels = None
depends_on = None

COLOURS = ("red", "orange", "yellow", "blue")


def upgrade() -> None:
    op.create_table(
        "risk_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column(
            "as_of",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="only records known at this instant (reported_at <= as_of) were used",
        ),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column(
            "params",
            postgresql.JSONB,
            nullable=False,
            comment="every setting and derived threshold the computation applied",
        ),
        sa.Column("summary", postgresql.JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("risk_runs_as_of_idx", "risk_runs", ["region", "as_of", "id"])

    # No foreign key to areas: a colour's history outlives a redrawn boundary.
    op.create_table(
        "risk_scores",
        sa.Column(
            "run_id",
            sa.BigInteger,
            sa.ForeignKey("risk_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("colour", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False, comment="0-100, see geo/risk/colours.py"),
        sa.Column("hazard_colour", sa.Text, nullable=False),
        sa.Column("incident_colour", sa.Text, nullable=False),
        sa.Column("intensity_km2", sa.Float, comment="weighted, decayed incidents per km²"),
        sa.Column("smoothed_km2", sa.Float, comment="empirical-Bayes smoothed intensity"),
        sa.Column("per_1000", sa.Float, comment="weighted, decayed incidents per 1000 residents"),
        sa.Column("gi_z", sa.Float, comment="Getis-Ord Gi* z (micro-grids only)"),
        sa.Column("gi_p", sa.Float, comment="conditional-permutation pseudo p-value"),
        sa.Column("significant", sa.Boolean, comment="hot spot after FDR control"),
        sa.Column("reasons", postgresql.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "area_code", name="risk_scores_pkey"),
        sa.CheckConstraint(f"colour IN {COLOURS!r}", name="risk_scores_colour_check"),
        sa.CheckConstraint(f"hazard_colour IN {COLOURS!r}", name="risk_scores_hazard_check"),
        sa.CheckConstraint(f"incident_colour IN {COLOURS!r}", name="risk_scores_incident_check"),
    )
    op.create_index("risk_scores_area_idx", "risk_scores", ["region", "area_code", "run_id"])
    op.create_index("risk_scores_level_idx", "risk_scores", ["run_id", "level"])
