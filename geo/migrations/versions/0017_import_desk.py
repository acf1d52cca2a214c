"""The data desk: remembered column mappings, type synonyms, and a fuller import history.

``import_mappings``: the column mapping an officer confirmed for one (region, kind, source):
field → the file's column (or columns joined by a space, a date and a separate time). The next
import of the same source uses it without asking (geo/imports/mappings.py).

``type_synonyms``: free-text words that mean an incident type (打架斗殴 → ``assault``), each
case-folded word once, like the vocabulary itself (``incident_types`` is not per region);
``builtin`` marks the ones shipped with gridsafe (seeded here for the built-in vocabulary of
0002), which an officer may remove like the ones they add.

``import_runs`` gains who ran the import (the audit actor of its transaction), the file's name,
format and text encoding, and the mapping used; ``import_rejected`` keeps each rejected row's
cells as the file held them, with the reason's code and parameters, so the rejected rows can be
given back as the same kind of file with a reason column (geo/imports/history.py).

The app's login gets its grants on the new tables from the owner's default privileges (a0013);
grid heads' scoped role may read the synonyms (a grid member's report reads the vocabulary) and
nothing else of them. Mappings and synonyms are audited like every table people
change. ``incidents`` and ``hazards`` get an index by id alone: an import looks for its rows'
ids under other sources (the same records exported again under another name).

Revision ID: i0017
Revises: t0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "i0017"
down_revision = "t0017"
branch_labels = None
depends_on = None

SCOPED = "gridsafe_scoped"

# Words a ledger writes for the built-in incident types (0002): the platforms' own names.
BUILTIN_SYNONYMS = [
    ("打架斗殴", "assault"),
    ("斗殴", "assault"),
    ("殴打他人", "assault"),
    ("伤害", "assault"),
    ("故意伤害案", "assault"),
    ("打架", "assault"),
    ("盗窃案", "theft"),
    ("偷盗", "theft"),
    ("扒窃", "theft"),
    ("入室盗窃", "theft"),
    ("抢劫", "robbery"),
    ("抢夺", "robbery"),
    ("飞车抢夺", "robbery"),
    ("诈骗案", "fraud"),
    ("电信诈骗", "fraud"),
    ("电信网络诈骗", "fraud"),
    ("吸毒", "drugs"),
    ("贩毒", "drugs"),
    ("毒品", "drugs"),
    ("火警", "fire"),
    ("火情", "fire"),
    ("起火", "fire"),
    ("失火", "fire"),
    ("聚集", "mass_incident"),
    ("群体事件", "mass_incident"),
    ("上访", "petition"),
    ("信访事项", "petition"),
    ("纠纷", "dispute"),
    ("邻里纠纷", "dispute"),
    ("民间纠纷", "dispute"),
    ("家庭纠纷", "dispute"),
    ("家暴", "domestic_violence"),
    ("报警", "police_call"),
    ("110", "police_call"),
    ("交通事故案", "traffic_accident"),
    ("车祸", "traffic_accident"),
    ("交通肇事", "traffic_accident"),
    ("生产安全事故", "workplace_accident"),
    ("工伤事故", "workplace_accident"),
    ("噪音", "noise"),
    ("噪声扰民", "noise"),
    ("扰民", "noise"),
    ("其它", "other"),
]


def _audit(table: str, *keys: str) -> None:
    for event, rows in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        args = ", ".join(f"'{k}'" for k in keys)
        op.execute(
            f"CREATE TRIGGER {table}_audit_{event[:3].lower()} AFTER {event} "
            f"ON {table} REFERENCING {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION audit_changes({args})"
        )


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, comment="incidents, hazards, boundaries:micro"),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column(
            "mapping",
            postgresql.JSONB,
            nullable=False,
            comment="field -> column, or a list of columns joined by a space",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("region", "kind", "source", name="import_mappings_pkey"),
    )
    _audit("import_mappings", "region", "kind", "source")
    op.create_table(
        "type_synonyms",
        sa.Column("word", sa.Text, nullable=False, comment="case-folded, trimmed"),
        sa.Column(
            "code",
            sa.Text,
            sa.ForeignKey("incident_types.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("word", name="type_synonyms_pkey"),
        sa.CheckConstraint("word <> ''", name="type_synonyms_word_check"),
    )
    _audit("type_synonyms", "word")
    # A grid member's report reads the vocabulary, synonyms included (like incident_types).
    op.execute(f"GRANT SELECT ON type_synonyms TO {SCOPED}")
    synonyms = sa.table(
        "type_synonyms",
        sa.column("word", sa.Text),
        sa.column("code", sa.Text),
        sa.column("builtin", sa.Boolean),
    )
    op.bulk_insert(
        synonyms,
        [{"word": w.casefold(), "code": c, "builtin": True} for w, c in BUILTIN_SYNONYMS],
    )
    # A file's rows are looked up by id across sources (records_other_source.sql).
    for table in ("incidents", "hazards"):
        op.create_index(f"{table}_source_id_idx", table, ["region", "source_id"])
    op.add_column("import_runs", sa.Column("actor", sa.Text, comment="who ran it (audit actor)"))
    op.add_column("import_runs", sa.Column("file_name", sa.Text))
    op.add_column("import_runs", sa.Column("file_format", sa.Text, comment="csv, excel, vector"))
    op.add_column("import_runs", sa.Column("encoding", sa.Text, comment="a CSV's text encoding"))
    op.add_column("import_runs", sa.Column("header", postgresql.JSONB, comment="the file's"))
    op.add_column(
        "import_runs", sa.Column("mapping", postgresql.JSONB, comment="field -> column used")
    )
    # A region table like its run (t0017's rules): region leads the key and the foreign key.
    op.create_table(
        "import_rejected",
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("row", sa.Integer, nullable=False, comment="row number in the file"),
        sa.Column("cells", postgresql.JSONB, nullable=False, comment="as the file held them"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("params", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("region", "run_id", "row", name="import_rejected_pkey"),
        sa.ForeignKeyConstraint(
            ["region", "run_id"],
            ["import_runs.region", "import_runs.id"],
            name="import_rejected_run_fkey",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON type_synonyms FROM {SCOPED}")
    op.drop_table("import_rejected")
    for column in ("mapping", "header", "encoding", "file_format", "file_name", "actor"):
        op.drop_column("import_runs", column)
    for table in ("incidents", "hazards"):
        op.drop_index(f"{table}_source_id_idx", table_name=table)
    op.drop_table("type_synonyms")
    op.drop_table("import_mappings")
