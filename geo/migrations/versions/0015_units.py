"""Patrol units as data, and route plans that are saved, re-planned and listed by shift.

``patrol_units``: the dispatcher's register of units (name, how it moves, its home station,
a ``pois`` row of kind ``station``, and the shifts of the day it works, numbered from 1 as in
``geo/coverage/periods.py``). Tracks name units by the same ``name``; a unit seen in tracks and
not registered is listed as such (geo/routing/units.py), never invented.

``route_plans`` gains ``saved_at`` (a plan the dispatcher kept; others are drafts of the
planning page), ``based_on`` (the plan an adjusted one was re-planned from) and an index by
shift for the list of plans by day and shift.

The app's login gets its grants on the new table from the owner's default privileges
(a0013); grid heads' scoped role gets none (units, like routes, are the dispatchers'). Changes to
the register are audited like every table people change (a0011's triggers, keyed by region and
name).

Revision ID: d0015
Revises: m0014
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d0015"
down_revision = "m0014"
branch_labels = None
depends_on = None

UNIT_KINDS = ("foot", "bicycle", "vehicle")


def upgrade() -> None:
    op.create_table(
        "patrol_units",
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, comment="as the tracks name it"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("station", sa.Text, nullable=False, comment="pois.poi_id of kind station"),
        sa.Column(
            "shifts",
            postgresql.ARRAY(sa.Integer),
            nullable=False,
            server_default="{}",
            comment="shift numbers of the day (1 = the first) it works",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("region", "name", name="patrol_units_pkey"),
        sa.CheckConstraint(f"kind IN {UNIT_KINDS!r}", name="patrol_units_kind_check"),
        sa.CheckConstraint("name <> ''", name="patrol_units_name_check"),
    )
    for event, rows in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER patrol_units_audit_{event[:3].lower()} AFTER {event} "
            f"ON patrol_units REFERENCING {rows} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_changes('region', 'name')"
        )
    op.add_column("route_plans", sa.Column("saved_at", sa.DateTime(timezone=True)))
    op.add_column(
        "route_plans",
        sa.Column("based_on", sa.BigInteger, comment="the plan this one was re-planned from"),
    )
    op.create_index("route_plans_shift_idx", "route_plans", ["region", "shift_start"])


def downgrade() -> None:
    op.drop_index("route_plans_shift_idx", table_name="route_plans")
    op.drop_column("route_plans", "based_on")
    op.drop_column("route_plans", "saved_at")
    op.drop_table("patrol_units")
