"""The data desk's JSON: the import history and its rejected rows as a file, the remembered
mappings, the incident type synonyms. For admins and data officers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from api.auth import IMPORTERS, permit
from api.deps import EngineDep, SettingsDep
from api.models.imports import ImportRun, ImportRunSummary, RememberedMapping, Synonym, SynonymIn
from api.shell import request_translator
from geo.errors import NotFoundError
from geo.imports import get_import, list_imports, rejected_file
from geo.imports.mappings import list_mappings
from geo.records.vocabulary import (
    add_type_synonym,
    remove_type_synonym,
    synonym_word,
    type_synonyms,
)
from maps.reasons import reason_text

router = APIRouter(prefix="/api", tags=["imports"], dependencies=[permit(*IMPORTERS)])


@router.get("/imports", response_model=list[ImportRunSummary])
def imports(
    engine: EngineDep,
    settings: SettingsDep,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="page: runs older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
) -> list[dict[str, Any]]:
    """The import runs, newest first: when, who, kind, source, file, digest, counts."""
    return list_imports(engine, settings.region, before_id=before_id, limit=limit)


@router.get("/imports/mappings", response_model=list[RememberedMapping])
def mappings(engine: EngineDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """The column mapping kept for each kind of file from each source."""
    return list_mappings(engine, settings.region)


@router.get("/imports/{run_id}", response_model=ImportRun)
def one_import(engine: EngineDep, settings: SettingsDep, run_id: int) -> dict[str, Any]:
    """One run with the mapping it used and its whole report (every rejected row's reason)."""
    return get_import(engine, settings.region, run_id)


@router.get(
    "/imports/{run_id}/rejected",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def rejected_rows(
    request: Request, engine: EngineDep, settings: SettingsDep, run_id: int
) -> Response:
    """The run's rejected rows as the same kind of file (CSV in its encoding, Excel...) with
    a 原因 column giving each row's reason in the caller's language: fix them, upload again."""
    t = request_translator(request)
    found = rejected_file(engine, settings.region, run_id, reason=lambda p: reason_text(p, t))
    # An ASCII name for old clients, the file's own (Chinese) name for the others (RFC 6266).
    plain = f"rejected-{run_id}{found.name[found.name.rfind('.') :]}"
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(found.name)}"
    return Response(
        found.content, media_type=found.media_type, headers={"Content-Disposition": disposition}
    )


@router.get("/synonyms", response_model=list[Synonym])
def synonyms(engine: EngineDep) -> list[dict[str, Any]]:
    """The words that mean an incident type (打架斗殴 → assault), shipped and added."""
    return type_synonyms(engine)


@router.put("/synonyms/{word}", response_model=Synonym)
def put_synonym(engine: EngineDep, word: str, body: SynonymIn) -> dict[str, Any]:
    """Make ``word`` mean the type ``code`` (a word already meaning another type is moved)."""
    add_type_synonym(engine, word=word, code=body.code)
    return {"word": synonym_word(word), "code": body.code, "builtin": False}


@router.delete("/synonyms/{word}", status_code=204)
def delete_synonym(engine: EngineDep, word: str) -> Response:
    """Forget the synonym ``word`` (404: there is none)."""
    if not remove_type_synonym(engine, word=word):
        msg = f"no synonym {word!r}"
        raise NotFoundError(msg, code="synonym_not_found", params={"word": word})
    return Response(status_code=204)
