"""What differs between incidents and hazards (:class:`RecordKind`); a submitted record's answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from sqlalchemy import TextClause, text

from geo.database import sql
from geo.errors import InputError

PACKAGE = "geo.records"

KindName = Literal["incidents", "hazards"]


STORED_COMMON = (
    "address",
    "geom",
    "located_by",
    "geocode_score",
    "source_crs",
    "area_code",
    "area_path",
    "props",
)
"""What the upsert stores besides the key and the kind's own columns (records_upsert.sql)."""


@dataclass(frozen=True)
class RecordKind:
    """What differs between incidents and hazards.

    Attributes
    ----------
    name
        ``incidents`` or ``hazards``: the table and the report's kind.
    required
        The fields every record needs besides a location (for hazards, the time it was found;
        for incidents, when it happened): a file with no column for one is refused whole.
    staged
        The kind's own staging-table columns and their SQL types, in COPY order (after the
        common ones).
    times
        The staged columns that are times: each travels as epoch seconds ``foo_s`` and is
        stored as ``foo_at``; every other column is stored under its own name.
    category
        The column the lists' ``types`` filter matches.
    time
        The stored time the lists sort by and ``start``/``end`` filter on.
    filters
        Columns the lists match exactly when a value is given (``status`` of hazards).
    """

    name: KindName
    required: tuple[str, ...]
    staged: tuple[tuple[str, str], ...]
    times: tuple[str, ...]
    category: str
    time: str
    filters: tuple[str, ...] = ()

    @property
    def stage_columns(self) -> tuple[str, ...]:
        """The staged columns' names, in COPY order."""
        return tuple(name for name, _ in self.staged)

    def stored(self, column: str) -> str:
        """The stored column a staged one becomes (``occurred_s`` → ``occurred_at``)."""
        return f"{column.removesuffix('_s')}_at" if column in self.times else column

    def names(self) -> dict[str, str]:
        """What the SQL templates of :func:`kind_sql` are written out with: identifiers only."""
        staged = [
            f"to_timestamp(k.{c}) AS {self.stored(c)}" if c != self.stored(c) else f"k.{c}"
            for c in self.stage_columns
        ]
        columns = [self.stored(c) for c in self.stage_columns] + list(STORED_COMMON)

        def compared(table: str) -> str:
            return ", ".join(
                f"ST_AsBinary({table}.{c})" if c == "geom" else f"{table}.{c}" for c in columns
            )

        return {
            "table": self.name,
            "stage_columns": ",\n    ".join(f"{c} {t}" for c, t in self.staged),
            "staged": ",\n           ".join(staged),
            "time_staged": next(c for c in self.stage_columns if self.stored(c) == self.time),
            "columns": ", ".join(columns),
            "located": ", ".join(f"l.{c}" for c in columns),
            "assign": ",\n        ".join(f"{c} = EXCLUDED.{c}" for c in columns),
            "stored": compared("t"),
            "excluded": compared("EXCLUDED"),
            "category": self.category,
            "time": self.time,
            "filters": "\n      ".join(
                f"AND (CAST(:{c} AS text) IS NULL OR r.{c} = :{c})" for c in self.filters
            ),
        }


KINDS: dict[str, RecordKind] = {
    "incidents": RecordKind(
        "incidents",
        required=("type", "occurred_at"),
        staged=(
            ("type", "text NOT NULL"),
            ("occurred_s", "double precision NOT NULL"),
            ("reported_s", "double precision NOT NULL"),
            ("description", "text"),
        ),
        times=("occurred_s", "reported_s"),
        category="type",
        time="occurred_at",
    ),
    "hazards": RecordKind(
        "hazards",
        required=("category", "identified_at"),
        staged=(
            ("category", "text NOT NULL"),
            ("name", "text NOT NULL"),
            ("description", "text"),
            ("method", "text NOT NULL"),
            ("lec_l", "double precision"),
            ("lec_e", "double precision"),
            ("lec_c", "double precision"),
            ("ls_l", "smallint"),
            ("ls_s", "smallint"),
            ("status", "text NOT NULL"),
            ("identified_s", "double precision NOT NULL"),
            ("closed_s", "double precision"),
        ),
        times=("identified_s", "closed_s"),
        category="category",
        time="identified_at",
        filters=("status",),
    ),
}


@cache
def kind_sql(name: str, kind: KindName) -> TextClause:
    """``geo/records/sql/records_{name}.sql`` written out for one record kind.

    The template's ``{table}``, ``{columns}``, ... are filled with :meth:`RecordKind.names`,
    identifiers from :data:`KINDS` only, never input; ``{properties}`` (the list's) with the
    kind's own ``{kind}_properties.sql``. Values stay bound parameters.
    ``insert`` is the upsert without its conflict clause (``records_conflict.sql``), for a
    batch none of whose keys can be stored yet.
    """
    record = KINDS[kind]
    names = record.names()
    if name == "list":
        names["properties"] = sql(f"{kind}_properties", PACKAGE).text.strip()
    if name in ("upsert", "insert"):
        conflict = sql("records_conflict", PACKAGE).text.format(**names)
        names["conflict"] = conflict if name == "upsert" else ""
        name = "upsert"
    return text(sql(f"records_{name}", PACKAGE).text.format(**names))


COMMON_STAGE = (
    "row",
    "area_code",
    "source",
    "source_id",
    "address",
    "x",
    "y",
    "located_by",
    "geocode_score",
    "source_crs",
    "props",
)


@dataclass(frozen=True)
class Placement:
    """Where one submitted record ended up (the POST endpoints' per-record answer)."""

    row: int
    source: str | None
    source_id: str | None
    area_code: str | None
    area_path: list[str]
    located_by: str | None
    rejected: str | None


def record_kind(kind: str) -> RecordKind:
    """The kind named ``kind``; InputError when there is none."""
    if kind not in KINDS:
        msg = f"unknown record kind {kind!r}: use incidents or hazards"
        raise InputError(msg)
    return KINDS[kind]
