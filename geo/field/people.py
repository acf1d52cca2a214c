"""Each level-3 grid's people (三长九员一书记) and its three squads, kept as data.

The people: one grid head (网格长), building heads (楼栋长) and road-section heads (路段长), the
nine specialist members (九员) each by their duty (:data:`DUTIES`), and the grid's secretary
(书记). The squads: one per "zero" (``geo.cases.SQUADS``: dispute mediation, hazard
inspection, security patrol), each with a name and members, one of whom may lead it. A case is
dispatched to one of them by the kind (``geo.cases.transition``); pages name the squad by its
name here.

An admin replaces a grid's roster whole (:func:`replace_roster`); grid heads and members read
the roster of their own grid (row-level security, migration p0015).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, text

from geo.cases import SQUADS, area_row
from geo.database import sql
from geo.errors import InputError, NotFoundError
from geo.settings import Settings

POSTS = ("grid_head", "building_head", "road_head", "member", "secretary")
"""The posts of a grid's people, in the order a roster lists them."""

DUTIES = (
    "治安员",
    "调解员",
    "安全员",
    "消防员",
    "环卫员",
    "宣传员",
    "信息员",
    "帮扶员",
    "督导员",
)
"""The nine members' duties (九员)."""


def _text(value: object, what: str) -> str:
    cleaned = str(value or "").strip()
    if not cleaned:
        msg = f"{what} is required"
        raise InputError(msg)
    return cleaned


def _check_person(index: int, person: Mapping[str, Any]) -> dict[str, Any]:
    where = f"people[{index}]"
    post = _text(person.get("post"), f"{where}.post")
    if post not in POSTS:
        msg = f"{where}.post {post!r}: use one of {', '.join(POSTS)}"
        raise InputError(msg)
    duty = person.get("duty")
    if post == "member":
        duty = _text(duty, f"{where}.duty (a member's duty)")
        if duty not in DUTIES:
            msg = f"{where}.duty {duty!r}: use one of {', '.join(DUTIES)}"
            raise InputError(msg)
    elif duty:
        msg = f"{where}.duty: only members have a duty, not a {post}"
        raise InputError(msg)
    return {
        "post": post,
        "duty": duty if post == "member" else None,
        "name": _text(person.get("name"), f"{where}.name"),
        "phone": str(person.get("phone") or "").strip() or None,
        "position": index,
    }


def replace_roster(
    engine: Engine,
    settings: Settings,
    grid: str,
    *,
    people: Sequence[Mapping[str, Any]],
    squads: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Replace a level-3 grid's people and squads; return the roster as stored.

    ``people``: ``{post, duty, name, phone}`` each; ``squads``: kind → ``{name, members:
    [{name, phone, leads}]}`` for each of the three kinds.

    Raises
    ------
    NotFoundError
        No such area.
    InputError
        Not a level-3 grid, a bad post or duty, a missing name, a squad kind missing or unknown,
        two grid heads or two secretaries.
    """
    checked = [_check_person(i, p) for i, p in enumerate(people)]
    for single in ("grid_head", "secretary"):
        if sum(p["post"] == single for p in checked) > 1:
            msg = f"a grid has one {single}, the roster names several"
            raise InputError(msg)
    if set(squads) != set(SQUADS):
        msg = f"squads: give exactly the three kinds {', '.join(SQUADS)} (got {', '.join(squads)})"
        raise InputError(msg)
    with engine.begin() as conn:
        area = area_row(conn, settings, grid)
        if area["level"] != "grid3":
            msg = f"{grid} is a {area['level']}: people and squads belong to a level-3 grid"
            raise InputError(msg)
        params = {"region": settings.region, "grid": grid}
        conn.execute(
            text("DELETE FROM grid_people WHERE region = :region AND grid_code = :grid"), params
        )
        conn.execute(
            text("DELETE FROM squads WHERE region = :region AND grid_code = :grid"), params
        )
        for person in checked:
            conn.execute(sql("field_person_insert", "geo.field"), {**params, **person})
        for kind, squad in squads.items():
            name = _text(squad.get("name"), f"squads.{kind}.name")
            conn.execute(
                text(
                    "INSERT INTO squads (region, grid_code, kind, name) "
                    "VALUES (:region, :grid, :kind, :name)"
                ),
                {**params, "kind": kind, "name": name},
            )
            for j, member in enumerate(squad.get("members") or []):
                conn.execute(
                    sql("field_squad_member_insert", "geo.field"),
                    {
                        **params,
                        "kind": kind,
                        "name": _text(member.get("name"), f"squads.{kind}.members[{j}].name"),
                        "phone": str(member.get("phone") or "").strip() or None,
                        "leads": bool(member.get("leads")),
                    },
                )
    return roster(engine, settings, grid)


def roster(engine: Engine, settings: Settings, grid: str) -> dict[str, Any]:
    """A level-3 grid's people (by post, members by duty) and its squads with their members.

    Raises
    ------
    NotFoundError
        No such level-3 grid among those the caller may see (a member scoped to a
        micro-grid sees the grid it lies in).
    """
    with engine.connect() as conn:
        body = conn.execute(
            sql("field_roster", "geo.field"), {"region": settings.region, "grid": grid}
        ).scalar()
    if body is None:
        msg = f"no level-3 grid {grid!r}"
        raise NotFoundError(msg, code="area_not_found", params={"code": grid})
    return dict(body)


def my_grids(engine: Engine, settings: Settings) -> list[dict[str, str]]:
    """The level-3 grids of the caller's scope (the one a micro-grid lies in, or those at or
    under a larger scope); none for callers without a scope."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name FROM scope_grids() WHERE region = :region "
                "AND COALESCE(current_setting('gridsafe.scope', true), '') <> '' ORDER BY code"
            ),
            {"region": settings.region},
        ).mappings()
        return [dict(r) for r in rows]
