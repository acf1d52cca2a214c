"""Records outside every area have an empty ``area_path``, not one holding a null.

The imports' upsert (geo/records/sql/records_upsert.sql) wrote the path of a record in no
micro-grid as ``COALESCE(a.ancestors || a.code, '{}')``; with no area both operands are null,
and appending a null to a null array is ``{NULL}`` (an array holding one null), not null, so
the COALESCE kept it and the API listed the path as ``[null]``. The upsert now writes ``'{}'``,
as the re-assignment after a boundary change (geo/sql/records_relocate.sql) always did. This
rewrites the paths stored before, in ``incidents`` and ``hazards`` (partitioned by region: the
statement on the parent reaches every partition), so that re-importing those records does not
count them as updated. Safe to repeat: only ``{NULL}`` paths of records with no area are
written, and after the first run there are none. ``updated_at`` is left alone (the record did
not change, its stored form did); the audit triggers log the statement as any other.

Downgrade leaves the paths as they are: ``'{}'`` is what both versions of the code mean.

Revision ID: p0018
Revises: s0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "p0018"
down_revision = "s0018"
branch_labels = None
depends_on = None

TABLES = ("incidents", "hazards")

REPAIR = "UPDATE {table} SET area_path = '{{}}' WHERE area_code IS NULL AND area_path = '{{NULL}}'"


def upgrade() -> None:
    for table in TABLES:
        op.execute(REPAIR.format(table=table))


def downgrade() -> None:
    """Nothing to undo (see the module's docstring)."""
