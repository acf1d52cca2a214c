"""Incidents and hazards located into the grid hierarchy, and the incident type vocabulary.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The built-in vocabulary; a deployment adds rows to incident_types. `zero` names the
# "three-zero" goal a type counts against: petition (零上访), accident (零事故), case (零案件).
INCIDENT_TYPES = [
    ("fire", "火灾", "fire", "accident"),
    ("robbery", "抢劫抢夺", "robbery/snatching", "case"),
    ("theft", "盗窃", "theft", "case"),
    ("assault", "故意伤害", "assault", "case"),
    ("fraud", "诈骗", "fraud", "case"),
    ("drugs", "涉毒", "drugs", "case"),
    ("mass_incident", "群体性事件", "mass incident", "petition"),
    ("petition", "信访", "petition", "petition"),
    ("dispute", "矛盾纠纷", "dispute", "petition"),
    ("domestic_violence", "家庭暴力", "domestic violence", "case"),
    ("police_call", "110警情", "police call", None),
    ("traffic_accident", "交通事故", "traffic accident", "accident"),
    ("workplace_accident", "安全生产事故", "workplace accident", "accident"),
    ("noise", "噪音扰民", "noise complaint", None),
    ("other", "其他", "other", None),
]


def _located(srid: int) -> list[sa.Column[Any]]:
    """The columns every located record shares: where it is and which areas hold it."""
    return [
        sa.Column("address", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=srid, spatial_index=False)),
        sa.Column("located_by", sa.Text, comment="coordinates | address: how geom was obtained"),
        sa.Column("geocode_score", sa.Float, comment="address match score, 0-100"),
        sa.Column("source_crs", sa.Text, comment="the CRS the coordinates arrived in"),
        sa.Column("area_code", sa.Text, comment="the micro-grid holding geom; null: outside"),
        sa.Column(
            "area_path",
            postgresql.ARRAY(sa.Text),
            nullable=False,
            server_default="{}",
            comment="codes from the top area down to area_code",
        ),
        sa.Column("props", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    ]


def upgrade() -> None:
    srid = context.config.attributes["settings"].srid
    op.create_table(
        "incident_types",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("zero", sa.Text),
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(
            "zero IS NULL OR zero IN ('petition', 'accident', 'case')", name="incident_types_zero"
        ),
    )
    op.bulk_insert(
        sa.table(
            "incident_types",
            sa.column("code"),
            sa.column("name_zh"),
            sa.column("name_en"),
            sa.column("zero"),
            sa.column("builtin"),
        ),
        [
            {"code": c, "name_zh": zh, "name_en": en, "zero": z, "builtin": True}
            for c, zh, en, z in INCIDENT_TYPES
        ],
    )

    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False, comment="intake platform or system"),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, sa.ForeignKey("incident_types.code"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reported_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when it became known: what a computation as of a date may use",
        ),
        sa.Column("description", sa.Text),
        *_located(srid),
        sa.UniqueConstraint("region", "source", "source_id", name="incidents_source_key"),
    )
    op.create_index("incidents_geom_gist", "incidents", ["geom"], postgresql_using="gist")
    op.create_index("incidents_area_idx", "incidents", ["region", "area_code", "occurred_at"])
    op.create_index("incidents_path_gin", "incidents", ["area_path"], postgresql_using="gin")
    op.create_index("incidents_time_idx", "incidents", ["region", "occurred_at"])

    op.create_table(
        "hazards",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False, comment="e.g. fire safety, gas, building"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("method", sa.Text, nullable=False, comment="LEC or LS"),
        sa.Column("lec_l", sa.Float),
        sa.Column("lec_e", sa.Float),
        sa.Column("lec_c", sa.Float),
        sa.Column("ls_l", sa.SmallInteger),
        sa.Column("ls_s", sa.SmallInteger),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("identified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        *_located(srid),
        sa.UniqueConstraint("region", "source", "source_id", name="hazards_source_key"),
        sa.CheckConstraint("method IN ('LEC', 'LS')", name="hazards_method_check"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="hazards_status_check"),
        sa.CheckConstraint(
            "(method = 'LEC' AND lec_l IS NOT NULL AND lec_e IS NOT NULL AND lec_c IS NOT NULL)"
            " OR (method = 'LS' AND ls_l BETWEEN 1 AND 5 AND ls_s BETWEEN 1 AND 5)",
            name="hazards_assessment_check",
        ),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="hazards_closed_check"
        ),
    )
    op.create_index("hazards_geom_gist", "hazards", ["geom"], postgresql_using="gist")
    op.create_index("hazards_area_idx", "hazards", ["region", "area_code"])
    op.create_index("hazards_path_gin", "hazards", ["area_path"], postgresql_using="gin")
