"""The incident type vocabulary: built-in types and those a deployment adds, and the synonyms
that map a ledger's own words onto them (打架斗殴 → ``assault``; migration ``i0017`` ships the
common ones, an officer adds more)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo.database import sql
from geo.errors import InputError


def type_lookup(conn: Connection) -> dict[str, str]:
    """Incident type code, Chinese name, English name and synonyms (case-folded) → code.

    A type's own code and names win over a synonym spelt the same."""
    lookup: dict[str, str] = {}
    for word, code in conn.execute(sql("type_synonyms_lookup", "geo.records")):
        lookup[str(word).strip().casefold()] = str(code)
    for code, zh, en in conn.execute(sql("incident_types_lookup", "geo.records")):
        for word in (code, zh, en):
            lookup[str(word).strip().casefold()] = str(code)
    return lookup


def _names(conn: Connection) -> dict[str, str]:
    """Incident type code, Chinese and English name (case-folded) → code: no synonyms."""
    return {
        str(word).strip().casefold(): str(code)
        for code, zh, en in conn.execute(sql("incident_types_lookup", "geo.records"))
        for word in (code, zh, en)
    }


def type_synonyms(engine: Engine) -> list[dict[str, Any]]:
    """Every synonym: ``word`` (case-folded), ``code`` and ``builtin`` (shipped with gridsafe)."""
    with engine.connect() as conn:
        rows = conn.execute(sql("type_synonyms_list", "geo.records")).mappings()
        return [dict(r) for r in rows]


def synonym_word(word: str) -> str:
    """A word as synonyms keep it: trimmed, NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", word).strip().casefold()


def add_type_synonym(engine: Engine, *, word: str, code: str) -> bool:
    """Make ``word`` mean the incident type ``code`` (or point it at another); True if new.

    Raises
    ------
    InputError
        An empty word, an unknown type code, or a word that is a type's own code or name.
    """
    key = synonym_word(word)
    if not key:
        raise InputError("a synonym needs a word", code="synonym_empty")
    with engine.begin() as conn:
        names = _names(conn)
        if code not in names.values():
            msg = f"no incident type {code!r} (see `gridsafe types list`)"
            raise InputError(msg, code="synonym_unknown_type", params={"code": code})
        if key in names:
            msg = f"{word!r} is already the name of type {names[key]!r}"
            raise InputError(
                msg, code="synonym_is_a_name", params={"word": word, "code": names[key]}
            )
        new = conn.execute(sql("type_synonyms_put", "geo.records"), {"w": key, "c": code}).scalar()
    return bool(new)


def remove_type_synonym(engine: Engine, *, word: str) -> bool:
    """Forget the synonym ``word``; True if there was one."""
    with engine.begin() as conn:
        result = conn.execute(sql("type_synonyms_delete", "geo.records"), {"w": synonym_word(word)})
    return bool(result.rowcount)


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
        lookup = _names(conn)  # a type's name may be a synonym's word: the name wins
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
