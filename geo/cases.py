"""Cases: an incident's handling in a closed loop (闭环处置), with who did what and when.

Which incidents are cases
    A case is opened explicitly on one incident (one case per incident), when the incident is
    received through one of the six intake channels below. Not every incident is a case: the
    incident register also holds 110 police calls and 119 fire alarms that the police and the
    fire service handle in their own systems; only what reaches the grid through an intake
    channel is the grid's work. The channel defaults to the incident's ``source`` when that names
    one (``一码解纠纷``, ``12345``, ...); otherwise the caller names it (a police call forwarded to
    the grid by the district platform is a ``district_digital`` case).

The workflow (:data:`TRANSITIONS`)
    ``received`` → ``dispatched`` (to one of the responsible grid's three squads or to a
    department; the responsible grid is the level-3 grid of the incident's ``area_path``) →
    ``handling`` → ``resolved`` or ``unresolved`` → ``verified`` (closed). Reopening, always with
    a reason: from ``resolved``, ``unresolved`` or ``verified`` back to ``handling`` (the same
    assignee tries again, e.g. the resident was not satisfied on the return visit) or to
    ``dispatched`` (it goes to another squad or department). Nothing else: a case is not
    dispatched twice without being handled, nor verified before it is handled.

Who and when
    Every step is a row of ``case_events`` (from, to, actor, at, squad/department, note, reason,
    the case's version after it). ``cases`` keeps the current state and the times the statistics
    read: ``received_at``, the latest ``dispatched_at``, ``handled_at`` (entering resolved or
    unresolved; cleared on reopening, so it is the latest) and ``closed_at`` (verified).

Deadlines and overdue
    ``deadline_at = received_at + case_deadline_days[type]`` (settings, with their sources). A
    case is overdue when it was handled after its deadline, or is not handled and the deadline
    has passed: ``coalesce(handled_at, now) > deadline_at``.

Concurrency
    Optimistic locking: the caller sends the ``version`` it read; the step is
    ``UPDATE ... WHERE version = :expected`` (geo/sql/cases_update.sql). Of two dispatchers moving
    the same case at once, one wins and the other gets :class:`StaleCaseError` with the state and
    version now stored, so nothing is silently overwritten.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine, RowMapping, text
from sqlalchemy.engine import Connection

from geo import clock
from geo.database import sql
from geo.errors import GridsafeError, InputError, NotFoundError
from geo.settings import CaseSettings, Settings

__all__ = [
    "PLATFORMS",
    "SQUADS",
    "TRANSITIONS",
    "CaseConflictError",
    "StaleCaseError",
    "State",
    "TransitionRefusedError",
    "area_row",
    "day_bounds",
    "deadline_days",
    "defuse",
    "export_cases",
    "get_case",
    "list_cases",
    "open_case",
    "open_case_in",
    "parse_platform",
    "parse_squad",
    "transition",
    "transition_in",
]


class State(StrEnum):
    """A case's state; the value is the word used in the API and the database."""

    RECEIVED = "received"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    VERIFIED = "verified"


HANDLED = (State.RESOLVED, State.UNRESOLVED)
"""The two outcomes of handling."""

REOPENABLE = (State.RESOLVED, State.UNRESOLVED, State.VERIFIED)
"""States a case is reopened from (with a reason), back to handling or dispatched."""

TRANSITIONS: dict[State, tuple[State, ...]] = {
    State.RECEIVED: (State.DISPATCHED,),
    State.DISPATCHED: (State.HANDLING,),
    State.HANDLING: HANDLED,
    State.RESOLVED: (State.VERIFIED, State.HANDLING, State.DISPATCHED),
    State.UNRESOLVED: (State.VERIFIED, State.HANDLING, State.DISPATCHED),
    State.VERIFIED: (State.HANDLING, State.DISPATCHED),
}
"""The allowed next states of each state; every other move is refused."""

PLATFORMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "one_code": ("一码解纠纷", "one-code dispute platform", ()),
    "three_zero": ("三零平台", "three-zero platform", ()),
    "district_digital": ("区数字化平台", "district digital platform", ()),
    "court_mediation": ("法院调解平台", "court mediation platform", ()),
    "patrol": ("巡逻", "patrol", ("巡查", "网格巡查")),
    "hotline": ("12345热线", "12345 hotline", ("12345",)),
}
"""Intake channels: code -> (Chinese name, English name, other source spellings)."""

SQUADS: dict[str, tuple[str, str]] = {
    "mediation": ("矛盾调解", "dispute mediation"),
    "inspection": ("隐患排查", "hazard inspection"),
    "patrol": ("治安巡逻", "security patrol"),
}
"""The three squads of every level-3 grid (docs/architecture.md), one per "zero": petitions,
accidents, cases."""


class CaseConflictError(GridsafeError):
    """The request conflicts with the case as stored (HTTP 409); ``details`` says how."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class TransitionRefusedError(CaseConflictError):
    """The case's state does not allow that step; ``details['allowed']`` lists those it does."""


class StaleCaseError(CaseConflictError):
    """Someone moved the case since the caller read it (the optimistic lock's refusal)."""


def _lookup(value: str, names: Mapping[str, tuple[str, ...]], what: str) -> str:
    key = value.strip().casefold()
    for code, spellings in names.items():
        if key in {s.casefold() for s in (code, *spellings)}:
            return code
    msg = f"unknown {what} {value!r}: use one of {', '.join(names)}"
    raise InputError(msg)


def parse_platform(value: str) -> str:
    """The platform code of a code, Chinese or English name or source spelling (``12345``).

    Raises
    ------
    InputError
        No platform is spelled that way.
    """
    return _lookup(value, {c: (zh, en, *alt) for c, (zh, en, alt) in PLATFORMS.items()}, "platform")


def _platform_of_source(source: str) -> str | None:
    try:
        return parse_platform(source)
    except InputError:
        return None


def parse_squad(value: str) -> str:
    """The squad code of a code or its Chinese or English name (``矛盾调解``)."""
    return _lookup(value, SQUADS, "squad")


def deadline_days(cases: CaseSettings, incident_type: str) -> float:
    """Days from receipt by which a case of this type must be handled (the settings)."""
    return cases.case_deadline_days.get(incident_type, cases.case_deadline_default_days)


def day_bounds(
    settings: Settings, start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    """The instants ``[start 00:00, end + 1 day 00:00)`` in the local time zone: ``end`` counts.

    Raises
    ------
    InputError
        ``start`` is after ``end``.
    """
    if start is not None and end is not None and start > end:
        msg = f"the period starts ({start}) after it ends ({end})"
        raise InputError(msg)
    lo = clock.day_start(start, settings.timezone) if start is not None else None
    hi = clock.day_start(end + timedelta(days=1), settings.timezone) if end is not None else None
    return lo, hi


def area_row(conn: Connection, settings: Settings, code: str) -> RowMapping:
    """The area with this code (code, name, level, ancestors).

    Raises
    ------
    NotFoundError
        No area of this region has that code.
    """
    row = (
        conn.execute(
            text("SELECT code, name, level, ancestors FROM areas WHERE region = :r AND code = :c"),
            {"r": settings.region, "c": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        msg = f"no area with code {code!r}"
        raise NotFoundError(msg)
    return row


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock.utcnow()


def _required_text(value: str | None, what: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        msg = f"{what} is required"
        raise InputError(msg)
    return cleaned


# --------------------------------------------------------------------------- opening


def open_case_in(
    conn: Connection,
    settings: Settings,
    *,
    incident_id: int,
    actor: str,
    platform: str | None = None,
    received_at: datetime | None = None,
    note: str | None = None,
) -> int:
    """Open a case on an incident inside the caller's transaction; return its id.

    See :func:`open_case` for the parameters and errors.
    """
    who = _required_text(actor, "actor")
    incident = (
        conn.execute(sql("cases_incident"), {"region": settings.region, "incident_id": incident_id})
        .mappings()
        .first()
    )
    if incident is None:
        msg = f"no incident with id {incident_id}"
        raise NotFoundError(msg)
    if incident["case_id"] is not None:
        msg = f"incident {incident_id} already has case {incident['case_id']}"
        raise CaseConflictError(msg, case_id=incident["case_id"])
    if platform is not None:
        code = parse_platform(platform)
    else:
        found = _platform_of_source(incident["source"])
        if found is None:
            msg = (
                f"incident {incident_id} came from {incident['source']!r}, which is not an "
                f"intake platform: name the platform ({', '.join(PLATFORMS)})"
            )
            raise InputError(msg)
        code = found
    received = received_at if received_at is not None else incident["reported_at"]
    if received.tzinfo is None:
        received = received.replace(tzinfo=clock.zone(settings.timezone))
    deadline = received + timedelta(days=deadline_days(settings.cases, incident["type"]))
    case_id = conn.execute(
        sql("cases_insert"),
        {
            "region": settings.region,
            "incident_id": incident_id,
            "platform": code,
            "grid_code": incident["grid_code"],
            "received_at": received,
            "deadline_at": deadline,
        },
    ).scalar()
    if case_id is None:  # another request opened it between our read and our insert
        msg = f"incident {incident_id} already has a case"
        raise CaseConflictError(msg)
    conn.execute(
        sql("cases_event_insert"),
        {
            "case_id": case_id,
            "from_state": None,
            "to_state": State.RECEIVED.value,
            "actor": who,
            "at": received,
            "squad": None,
            "department": None,
            "note": note,
            "reason": None,
            "version": 1,
        },
    )
    return int(case_id)


def open_case(
    engine: Engine,
    settings: Settings,
    *,
    incident_id: int,
    actor: str,
    platform: str | None = None,
    received_at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Open the case of an incident in state ``received``; return it.

    Parameters
    ----------
    incident_id
        The incident the case is about (one case per incident).
    actor
        Who registered it.
    platform
        The intake channel (code, Chinese or English name); default: the incident's source,
        when that names one.
    received_at
        When it was received; default the incident's ``reported_at``. The deadline counts from it.
    note
        Free text kept on the opening event.

    Raises
    ------
    NotFoundError
        No such incident.
    CaseConflictError
        The incident already has a case.
    InputError
        No actor, an unknown platform, or none given for an incident from another source.
    """
    with engine.begin() as conn:
        case_id = open_case_in(
            conn,
            settings,
            incident_id=incident_id,
            actor=actor,
            platform=platform,
            received_at=received_at,
            note=note,
        )
    return get_case(engine, settings, case_id)


# --------------------------------------------------------------------------- transitions


def _assignee(
    case_id: int, target: State, squad: str | None, department: str | None
) -> tuple[str | None, str | None] | None:
    """(squad, department) of a dispatch, exactly one of them; None for any other step."""
    if target is not State.DISPATCHED:
        if squad is not None or department is not None:
            msg = (
                f"a squad or department is given only when dispatching, not when going to {target}"
            )
            raise InputError(msg)
        return None
    if (squad is None) == (department is None):
        msg = (
            f"dispatching case {case_id} needs a squad ({', '.join(SQUADS)}) or a department, "
            "not both"
        )
        raise InputError(msg)
    if squad is not None:
        return parse_squad(squad), None
    return None, _required_text(department, "department")


def _stale(case_id: int, expected_version: int, row: RowMapping) -> StaleCaseError:
    """The 409 for a caller who read ``expected_version``: the state and version now stored
    (``row``, from cases_current) and the moves allowed from there."""
    state = State(row["state"])
    msg = (
        f"case {case_id} changed since version {expected_version}: it is now {state} "
        f"at version {row['version']}; read it again"
    )
    allowed = [s.value for s in TRANSITIONS[state]]
    return StaleCaseError(
        msg, case_id=case_id, state=state.value, version=row["version"], allowed=allowed
    )


def transition_in(
    conn: Connection,
    settings: Settings,
    case_id: int,
    *,
    to: State | str,
    actor: str,
    expected_version: int,
    squad: str | None = None,
    department: str | None = None,
    note: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> int:
    """Move a case one step inside the caller's transaction; return its new version.

    See :func:`transition` for the parameters and errors.
    """
    try:
        target = State(to)
    except ValueError:
        msg = f"unknown state {to!r}: use one of {', '.join(State)}"
        raise InputError(msg) from None
    who = _required_text(actor, "actor")
    row = (
        conn.execute(sql("cases_current"), {"region": settings.region, "case_id": case_id})
        .mappings()
        .first()
    )
    if row is None:
        msg = f"no case with id {case_id}"
        raise NotFoundError(msg)
    current = State(row["state"])
    allowed = [s.value for s in TRANSITIONS[current]]
    if row["version"] != expected_version:
        raise _stale(case_id, expected_version, row)
    if target not in TRANSITIONS[current]:
        msg = (
            f"case {case_id} is {current}: it cannot go to {target}; allowed: {', '.join(allowed)}"
        )
        raise TransitionRefusedError(
            msg, case_id=case_id, state=current.value, version=row["version"], allowed=allowed
        )
    reopening = current in REOPENABLE and target in (State.HANDLING, State.DISPATCHED)
    if reopening:
        reason = _required_text(reason, f"reopening case {case_id} from {current} (reason)")
    values = {
        "outcome": row["outcome"],
        "squad": row["squad"],
        "department": row["department"],
        "dispatched_at": row["dispatched_at"],
        "handled_at": row["handled_at"],
        "closed_at": row["closed_at"],
    }
    when = at if at is not None else clock.utcnow()
    if row["last_at"] is not None and when < row["last_at"]:
        msg = f"case {case_id}: a step at {when} is before its latest step at {row['last_at']}"
        raise InputError(msg)
    assignee = _assignee(case_id, target, squad, department)
    if assignee is not None:
        values["squad"], values["department"] = assignee
        values["dispatched_at"] = when
    if target in HANDLED:
        values["outcome"] = target.value
        values["handled_at"] = when
    if target is State.VERIFIED:
        values["closed_at"] = when
    if reopening:
        values |= {"outcome": None, "handled_at": None, "closed_at": None}
    version = conn.execute(
        sql("cases_update"),
        {
            "region": settings.region,
            "case_id": case_id,
            "expected": expected_version,
            "state": target.value,
            **values,
        },
    ).scalar()
    if version is None:  # moved by someone else between our read and our update
        # The update waited for their commit; a new statement sees what they stored.
        now_stored = (
            conn.execute(sql("cases_current"), {"region": settings.region, "case_id": case_id})
            .mappings()
            .one()
        )
        raise _stale(case_id, expected_version, now_stored)
    conn.execute(
        sql("cases_event_insert"),
        {
            "case_id": case_id,
            "from_state": current.value,
            "to_state": target.value,
            "actor": who,
            "at": when,
            "squad": values["squad"] if target is State.DISPATCHED else None,
            "department": values["department"] if target is State.DISPATCHED else None,
            "note": note,
            "reason": reason,
            "version": version,
        },
    )
    return int(version)


def transition(
    engine: Engine,
    settings: Settings,
    case_id: int,
    *,
    to: State | str,
    actor: str,
    expected_version: int,
    squad: str | None = None,
    department: str | None = None,
    note: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Move a case one step of the workflow and log who did it; return the case after.

    Parameters
    ----------
    to
        The next state; it must be among ``TRANSITIONS[current]``.
    actor
        Who makes the step.
    expected_version
        The ``version`` the caller read: the step applies only if nobody moved the case since.
    squad, department
        Where it is dispatched: exactly one, only when going to ``dispatched``.
    note
        Free text kept on the event.
    reason
        Why it is reopened; required when going from resolved, unresolved or verified back to
        handling or dispatched.
    at
        When the step happened (default now); not before the case's latest step.

    Raises
    ------
    NotFoundError
        No such case.
    StaleCaseError
        The case's version is no longer ``expected_version`` (someone else moved it).
    TransitionRefusedError
        The current state does not allow ``to``; the error lists the allowed states.
    InputError
        A missing actor, squad/department or reason, an unknown state or squad, a time before
        the latest step.
    """
    with engine.begin() as conn:
        transition_in(
            conn,
            settings,
            case_id,
            to=to,
            actor=actor,
            expected_version=expected_version,
            squad=squad,
            department=department,
            note=note,
            reason=reason,
            at=at,
        )
    return get_case(engine, settings, case_id)


# --------------------------------------------------------------------------- reading back


def get_case(
    engine: Engine, settings: Settings, case_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """One case with its incident's type and areas, its history and the states allowed next.

    Raises
    ------
    NotFoundError
        No such case.
    """
    with engine.connect() as conn:
        body = conn.execute(
            sql("cases_get"), {"region": settings.region, "case_id": case_id, "now": _now(now)}
        ).scalar()
    if body is None:
        msg = f"no case with id {case_id}"
        raise NotFoundError(msg)
    case: dict[str, Any] = json.loads(body)
    case["allowed"] = [s.value for s in TRANSITIONS[State(case["state"])]]
    return case


def list_cases(
    engine: Engine,
    settings: Settings,
    *,
    area: str | None = None,
    start: date | None = None,
    end: date | None = None,
    state: str | None = None,
    platform: str | None = None,
    overdue: bool | None = None,
    limit: int = 1000,
    offset: int = 0,
    now: datetime | None = None,
) -> str:
    """Cases as a GeoJSON FeatureCollection (EPSG:4326) with ``total``, newest receipt first.

    Parameters
    ----------
    area
        Only cases whose incident lies in this area or under it.
    start, end
        Received on these local days (both included).
    state, platform, overdue
        Only cases in this state, from this intake platform, overdue (or not) as of ``now``.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    InputError
        An unknown state or platform, or ``start`` after ``end``.
    """
    if state is not None:
        try:
            state = State(state).value
        except ValueError:
            msg = f"unknown state {state!r}: use one of {', '.join(State)}"
            raise InputError(msg) from None
    code = parse_platform(platform) if platform is not None else None
    lo, hi = day_bounds(settings, start, end)
    with engine.connect() as conn:
        if area is not None:
            area_row(conn, settings, area)
        body = conn.execute(
            sql("cases_list"),
            {
                "region": settings.region,
                "area": area,
                "start": lo,
                "end": hi,
                "state": state,
                "platform": code,
                "overdue": overdue,
                "limit": limit,
                "offset": offset,
                "now": _now(now),
            },
        ).scalar_one()
    return str(body)


# --------------------------------------------------------------------------- export

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet would run as a formula (OWASP, "CSV Injection")."""

TIME_COLUMNS = (
    "occurred_at",
    "received_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
    "deadline_at",
)


def defuse(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_cases(
    engine: Engine,
    settings: Settings,
    *,
    fmt: Literal["csv", "xlsx"],
    headers: Mapping[str, str],
    sheet: str,
    area: str | None = None,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> bytes:
    """Cases received in a period, with every timestamp and their areas, as CSV or Excel.

    ``headers`` gives each column of ``cases_rows.sql`` the header the reader sees, ``sheet``
    the Excel sheet's name (the file is opened by a person, so the caller passes both in the
    reader's language). Each case names its level-2 grid, level-3 grid and micro-grid by code
    and name, as far as the caller's scope lets them read those areas. Times are local
    (``settings.timezone``) without offset, the zone named in the column header, so both Excel
    and pandas read them as the wall-clock times users know. Text that came from users
    (descriptions, addresses, names of areas and departments) is defused: a cell starting
    with ``= + - @``, tab or CR gets a leading apostrophe. CSV is UTF-8 with a BOM, which Excel
    on Chinese Windows needs to read Chinese text.

    Raises
    ------
    NotFoundError
        ``area`` names no area.
    InputError
        An unknown format, or ``start`` after ``end``.
    """
    if fmt not in ("csv", "xlsx"):
        msg = f"unknown export format {fmt!r}: use csv or xlsx"
        raise InputError(msg)
    lo, hi = day_bounds(settings, start, end)
    with engine.connect() as conn:
        if area is not None:
            area_row(conn, settings, area)
        result = conn.execute(
            sql("cases_rows"),
            {"region": settings.region, "area": area, "start": lo, "end": hi, "now": _now(now)},
        )
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    zone = settings.timezone
    for column in TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(zone)
        frame[column] = frame[column].dt.tz_localize(None)
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(
            frame[column]
        ):
            frame[column] = frame[column].map(defuse)
    frame.columns = pd.Index(
        [f"{headers[c]} ({zone})" if c in TIME_COLUMNS else headers[c] for c in frame.columns]
    )
    buffer = io.BytesIO()
    if fmt == "csv":
        frame.to_csv(buffer, index=False, encoding="utf-8-sig")
    else:
        frame.to_excel(buffer, index=False, sheet_name=sheet, engine="openpyxl")
    return buffer.getvalue()
