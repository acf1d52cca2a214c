"""What differs between incidents and hazards (:class:`RecordKind`); a submitted record's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from geo.errors import InputError

KindName = Literal["incidents", "hazards"]


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
    stage_columns
        Staging-table columns in COPY order (after the common ones).
    """

    name: KindName
    required: tuple[str, ...]
    stage_columns: tuple[str, ...]


KINDS: dict[str, RecordKind] = {
    "incidents": RecordKind(
        "incidents",
        ("type", "occurred_at"),
        ("type", "occurred_s", "reported_s", "description"),
    ),
    "hazards": RecordKind(
        "hazards",
        ("category", "identified_at"),
        (
            "category",
            "name",
            "description",
            "method",
            "lec_l",
            "lec_e",
            "lec_c",
            "ls_l",
            "ls_s",
            "status",
            "identified_s",
            "closed_s",
        ),
    ),
}

COMMON_STAGE = (
    "row",
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
