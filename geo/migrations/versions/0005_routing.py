"""The road network for pgRouting (vertices, edges with a cost per unit kind) and stored plans.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

# The kinds of patrol unit; each has its own travel cost on every edge (seconds; a negative cost
# bars the direction, pgRouting's convention).
UNIT_KINDS = ("foot", "bicycle", "vehicle")


def upgrade() -> None:
    srid = context.config.attributes["settings"].srid
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.create_table(
        "routing_vertices",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        *(
            sa.Column(
                f"main_{kind}",
                sa.Boolean,
                nullable=False,
                server_default=sa.false(),
                comment=f"in the largest strongly connected component for {kind} units",
            )
            for kind in UNIT_KINDS
        ),
        sa.Column("geom", Geometry("POINT", srid=srid, spatial_index=False), nullable=False),
    )
    op.create_index(
        "routing_vertices_geom_gist", "routing_vertices", ["geom"], postgresql_using="gist"
    )
    op.create_index("routing_vertices_region_idx", "routing_vertices", ["region"])

    cost_columns = []
    for kind in UNIT_KINDS:
        cost_columns += [
            sa.Column(f"cost_{kind}", sa.Float, nullable=False, comment="seconds, source→target"),
            sa.Column(
                f"reverse_cost_{kind}", sa.Float, nullable=False, comment="seconds, target→source"
            ),
        ]
    op.create_table(
        "routing_edges",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("road_id", sa.Text, nullable=False, comment="the road segment it was cut from"),
        sa.Column("name", sa.Text),
        sa.Column("road_class", sa.Text),
        sa.Column("source", sa.BigInteger),
        sa.Column("target", sa.BigInteger),
        sa.Column("length_m", sa.Float, nullable=False),
        *cost_columns,
        sa.Column("geom", Geometry("LINESTRING", srid=srid, spatial_index=False), nullable=False),
    )
    op.create_index("routing_edges_geom_gist", "routing_edges", ["geom"], postgresql_using="gist")
    op.create_index("routing_edges_region_idx", "routing_edges", ["region"])

    op.create_table(
        "route_plans",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shift_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", postgresql.JSONB, nullable=False),
        sa.Column(
            "result",
            postgresql.JSONB,
            nullable=False,
            comment="units, stops, times, left-out candidates; geometry is in the tables below",
        ),
    )
    op.create_index("route_plans_region_idx", "route_plans", ["region", "created_at"])
    op.create_table(
        "route_legs",
        sa.Column(
            "plan_id",
            sa.BigInteger,
            sa.ForeignKey("route_plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("unit_index", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, comment="leg k ends at stop k (last: home)"),
        sa.Column(
            "edge_ids",
            postgresql.ARRAY(sa.BigInteger),
            nullable=False,
            comment="routing_edges ids at planning time, in travel order",
        ),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("geom", Geometry("LINESTRING", srid=srid, spatial_index=False)),
    )
    op.create_table(
        "route_stops",
        sa.Column(
            "plan_id",
            sa.BigInteger,
            sa.ForeignKey("route_plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("unit_index", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, comment="0: the station; last: the station"),
        sa.Column("candidate_id", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=srid, spatial_index=False), nullable=False),
    )
