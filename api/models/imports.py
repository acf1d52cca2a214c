"""Data desk answers: the import history, remembered mappings, type synonyms."""

from __future__ import annotations

from pydantic import Field

from api.models.common import Answer, Instant, Json

MappingValue = str | list[str] | None
"""A field's column, its columns joined by a space (a date and a time of day), or none."""


class ImportRunSummary(Answer):
    """One import run as the history lists it."""

    id: int
    finished_at: Instant
    actor: str | None = Field(description="who ran it (an account, cli:<user>, or the database)")
    kind: str = Field(description="incidents, hazards, tracks, visits, boundaries:<level>, ...")
    source: str = Field(description="the platform or ledger the file came from")
    file_name: str | None = Field(description="the file's name as sent; null: posted rows")
    file_format: str | None = Field(description="csv, excel, vector or gpx")
    sha256: str = Field(description="the file's digest (empty for posted rows)")
    loaded: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int = Field(description="rejected rows (GET /api/imports/{id}/rejected: the file)")


class ImportRun(ImportRunSummary):
    """One import run with the mapping it used and its whole report."""

    encoding: str | None = Field(description="a CSV file's text encoding")
    header: list[str] | None = Field(description="the file's columns")
    mapping: dict[str, MappingValue] | None = Field(description="field -> the file's column(s)")
    report: Json = Field(description="the import's report (counts, rejected rows, warnings)")


class RememberedMapping(Answer):
    """The column mapping kept for one kind of file from one source."""

    kind: str
    source: str
    mapping: dict[str, MappingValue]
    updated_at: Instant


class Synonym(Answer):
    """A word that means an incident type."""

    word: str = Field(description="as written, case-folded")
    code: str = Field(description="the incident type it means")
    builtin: bool = Field(description="shipped with gridsafe")


class SynonymIn(Answer):
    """What a synonym means."""

    code: str = Field(description="the incident type's code (GET /api/incidents types)")
