"""``gridsafe db partition REGION`` moves a loaded region out of the default partitions.

t0017's ``region_partitions(region)`` refused a region with rows in a default partition. Its
new version (``0018_region_move.sql`` beside this file) creates each of the region's
partitions standalone, moves the region's rows into it from the default partition (one
``DELETE ... RETURNING`` feeding an ``INSERT``: every column as it was, ids included; the
identity sequences are not touched), then attaches it, which clones the parent's keys,
indexes, foreign keys and row triggers onto it and checks them. Everything happens in the
caller's one transaction: the foreign keys between the partitioned tables cascade deletes
(``cases`` to ``incidents``, ``case_events`` to ``cases``), so those three must move together
anyway, and a move cut short leaves the region exactly as it was, to be run again.

The move writes no audit entry and changes none (the default's row triggers on DELETE, the
audit log's append-only guard among them, are disabled for the move inside the transaction):
no row changes, only the partition holding it. The function now returns, per partition
created, its table, its name and the rows moved (``TABLE (parent, part, moved)``), hence a
new function, not a replaced one.

Revision ID: r0018
Revises: o0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "r0018"
down_revision = "o0017"
branch_labels = None
depends_on = None


def _t0017_region_partitions() -> str:
    """t0017's ``region_partitions(text)`` (which refuses a loaded region), with its grants."""
    path = Path(__file__).with_name("0017_region_partitions.py")
    spec = importlib.util.spec_from_file_location("gridsafe_migration_t0017", path)
    assert spec is not None  # noqa: S101 - the file is ours
    assert spec.loader is not None  # noqa: S101
    t0017 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(t0017)
    functions = str(t0017.PARTITION_FUNCTIONS)
    start = functions.index("CREATE FUNCTION region_partitions(")
    return functions[start : functions.index("DROP FUNCTION fixes_partition", start)]


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute("DROP FUNCTION region_partitions(text)")
    op.execute(_t0017_region_partitions())
