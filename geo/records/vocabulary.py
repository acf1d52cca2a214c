"""The incident type vocabulary: built-in types and those a deployment adds."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo.database import sql
from geo.errors import InputError


def type_lookup(conn: Connection) -> dict[str, str]:
    """Incident type code, Chinese name and English name (case-folded) → code."""
    lookup: dict[str, str] = {}
    for code, zh, en in conn.execute(sql("incident_types_lookup", "geo.records")):
        for word in (code, zh, en):
            lookup[str(word).strip().casefold()] = str(code)
    return lookup


def incident_types(engine: Engine) -> list[dict[str, Any]]:
    """The incident type vocabulary, built-in types first."""
    with engine.connect() as conn:
        rows = conn.execute(sql("incident_types_list", "geo.records")).mappings()
        return [dict(r) for r in rows]


_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def add_incident_type(
    engine: Engine, *, code: str, name_zh: str, name_en: str, zero: str | None = None
) -> bool:
    """Add a type to the vocabulary, or rename a deployment-added one; True if it was new.

    Raises
    ------
    InputError
        The code is not lower-case ``[a-z][a-z0-9_]``, a name is empty or clashes with another
        type's, ``zero`` is not petition/accident/case, or the code is a built-in type.
    """
    if not _CODE_RE.match(code):
        msg = f"type code {code!r}: use 2-40 characters of a-z, 0-9 and _, starting with a letter"
        raise InputError(msg)
    if not name_zh.strip() or not name_en.strip():
        msg = "a type needs a Chinese and an English name"
        raise InputError(msg)
    if zero not in {None, "petition", "accident", "case"}:
        msg = f"zero {zero!r}: use petition, accident or case"
        raise InputError(msg)
    with engine.begin() as conn:
        lookup = type_lookup(conn)
        for word in (name_zh, name_en):
            other = lookup.get(word.strip().casefold())
            if other is not None and other != code:
                msg = f"name {word!r} is already used by type {other!r}"
                raise InputError(msg)
        builtin = conn.execute(sql("incident_types_builtin", "geo.records"), {"c": code}).scalar()
        if builtin:
            msg = f"{code!r} is a built-in type and cannot be changed"
            raise InputError(msg)
        conn.execute(
            sql("incident_types_upsert", "geo.records"),
            {"c": code, "zh": name_zh.strip(), "en": name_en.strip(), "z": zero},
        )
    return builtin is None
