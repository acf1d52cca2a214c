"""Reports, rectifications and check-ins made from the street, each sent by a phone.

A phone may send the same thing twice (it kept a report while it had no connection and sends
it when the connection returns, and an answer can be lost on the way back), so every write is
keyed by what the phone made:

- a report is an incident or a hazard stored through :func:`geo.records.submit_records` with
  source :data:`FIELD_SOURCE` and the phone's UUID as its ``source_id``: sent again, the same
  record is upserted, unchanged;
- a check-in is stored through :func:`geo.coverage.checkins.import_checkin_records`, keyed by
  person and the time of the tap on the phone: sent again, the same visit;
- a rectification step is keyed by the phone's UUID (``hazard_rectifications.client_id``);
- photos are keyed by their record and their digest (:mod:`geo.field.photos`).

A position outside the caller's area is refused with where it lies instead
(:func:`where_is`): the micro-grid and level-3 grid holding it, or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Engine

from geo import clock
from geo.areas import require_area
from geo.coverage.checkins import import_checkin_records
from geo.database import current_scope, sql, unscoped
from geo.errors import InputError, NotFoundError
from geo.field import photos as photo_store
from geo.records import submit_records
from geo.settings import Settings

FIELD_SOURCE = "网格巡查"
"""The source of every report made on a phone (an intake spelling of the ``patrol`` platform,
``geo.cases.PLATFORMS``), so a case can be opened on it without naming a platform."""

HAZARD_CATEGORIES = (
    "消防安全",
    "燃气安全",
    "用电安全",
    "电动车充电",
    "建筑安全",
    "道路交通",
    "危险化学品",
    "特种设备",
    "环境卫生",
    "其他",
)
"""The hazard categories a phone offers (the hazard register takes any text)."""

RECTIFICATION_STATUSES = ("pending", "in_progress", "done")
"""A rectification step's status: not started (待整改), under way (整改中), done (已整改)."""

MAX_CLOCK_SKEW = timedelta(minutes=10)
"""How far in the future a phone's time may be (its clock runs fast) before it is refused."""
MAX_AGE = timedelta(days=7)
"""How old a kept report or check-in may be when it arrives."""


class OutsideAreaError(InputError):
    """A position outside the caller's area; the message says where it is."""


@dataclass(frozen=True)
class Place:
    """Where a point lies: its micro-grid and level-3 grid (codes and names), or nowhere."""

    micro_code: str | None = None
    micro_name: str | None = None
    grid_code: str | None = None
    grid_name: str | None = None


def where_is(engine: Engine, settings: Settings, *, lon: float, lat: float) -> Place:
    """The micro-grid (and its level-3 grid) holding a WGS84 point, in the whole region.

    Read outside the caller's scope: it only names areas, to tell a grid head that the point
    they stand on is in someone else's grid.
    """
    with unscoped(), engine.connect() as conn:
        row = (
            conn.execute(
                sql("field_where", "geo.field"),
                {"region": settings.region, "srid": settings.srid, "lon": lon, "lat": lat},
            )
            .mappings()
            .first()
        )
    return Place(**row) if row is not None else Place()


def outside(engine: Engine, settings: Settings, *, lon: float, lat: float) -> OutsideAreaError:
    """The refusal of a point outside the caller's area, naming where it is."""
    return _outside(where_is(engine, settings, lon=lon, lat=lat), lon=lon, lat=lat)


def _outside(place: Place, *, lon: float, lat: float) -> OutsideAreaError:
    scope = current_scope() or "-"
    if place.micro_code is None:
        msg = f"the position ({lon:.6f}, {lat:.6f}) lies in no micro-grid of the district"
    else:
        msg = (
            f"the position ({lon:.6f}, {lat:.6f}) lies in micro-grid {place.micro_name} "
            f"({place.micro_code}) of grid {place.grid_name} ({place.grid_code}), outside "
            f"your area ({scope})"
        )
    params: dict[str, object] = {**place.__dict__, "scope": scope, "lon": lon, "lat": lat}
    return OutsideAreaError(
        msg, code="outside_area" if place.micro_code else "outside_district", params=params
    )


def require_inside(engine: Engine, settings: Settings, *, lon: float, lat: float) -> str:
    """The micro-grid of the caller's area holding a WGS84 point.

    Raises
    ------
    OutsideAreaError
        The point lies outside the caller's area (or every area); the message says where.
    """
    place = where_is(engine, settings, lon=lon, lat=lat)
    if place.micro_code is not None:
        with engine.connect() as conn:
            try:
                require_area(conn, settings.region, place.micro_code)
            except NotFoundError:
                pass
            else:
                return place.micro_code
    raise _outside(place, lon=lon, lat=lat)


def _phone_time(settings: Settings, at: datetime, what: str) -> datetime:
    if at.tzinfo is None:
        at = at.replace(tzinfo=clock.zone(settings.timezone))
    now = clock.utcnow()
    if at > now + MAX_CLOCK_SKEW:
        msg = f"{what}: the phone's time {at.isoformat()} is in the future"
        raise InputError(msg)
    if at < now - MAX_AGE:
        msg = f"{what}: made at {at.isoformat()}, more than {MAX_AGE.days} days ago"
        raise InputError(msg)
    return at


def _position(lon: float, lat: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"position ({lon}, {lat}) is not a longitude and latitude"
        raise InputError(msg)


def report(
    engine: Engine,
    settings: Settings,
    *,
    kind: Literal["incident", "hazard"],
    client_id: UUID,
    actor: str,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    at: datetime,
    what: str,
    description: str | None,
    likelihood: int | None = None,
    severity: int | None = None,
    photos: list[tuple[str, bytes]] | None = None,
) -> dict[str, Any]:
    """Store an incident (``what`` is its type) or a hazard (``what`` is its category, assessed
    by the LS matrix ``likelihood`` × ``severity``) with its photos; return where it went.

    Raises
    ------
    OutsideAreaError
        The position is outside the caller's area (the message says where it is).
    InputError
        A bad position, time, type, assessment or photo; nothing is stored.
    """
    _position(lon, lat)
    when = _phone_time(settings, at, "report").isoformat()
    prepared = photo_store.prepare_all(photos or [], settings.intake)
    # Refused before anything is written: a scoped write outside the area would be refused by
    # row-level security without saying where the point is.
    require_inside(engine, settings, lon=lon, lat=lat)
    record: dict[str, Any] = {
        "source": FIELD_SOURCE,
        "source_id": str(client_id),
        "lon": lon,
        "lat": lat,
        "description": (description or "").strip() or None,
        "accuracy_m": accuracy_m,
        "reported_by": actor,
    }
    if kind == "incident":
        record |= {"type": what, "occurred_at": when, "reported_at": when}
    else:
        record |= {
            "category": what,
            "name": what,
            "method": "LS",
            "l": likelihood,
            "s": severity,
            "identified_at": when,
        }
    table = "incidents" if kind == "incident" else "hazards"
    result, placements = submit_records(engine, settings, [record], kind=table)
    placed = placements[0]
    if placed.rejected is not None:
        raise InputError(f"{kind}: {placed.rejected}")
    with engine.begin() as conn:
        row = conn.execute(
            sql("field_record_id", "geo.field"),
            {"region": settings.region, "table": table, "source_id": str(client_id)},
        ).one()
        photo_store.store(
            conn,
            region=settings.region,
            record_kind=kind,
            record_id=int(row.id),
            area_code=str(row.area_code),
            photos=prepared,
            taken_by=actor,
        )
        ids = photo_store.photo_ids(
            conn, region=settings.region, record_kind=kind, record_id=int(row.id)
        )
    return {
        "kind": kind,
        "id": int(row.id),
        "client_id": str(client_id),
        "area_code": placed.area_code,
        "area_path": placed.area_path,
        "new": result.inserted == 1,
        "photos": ids,
    }


def rectify(
    engine: Engine,
    settings: Settings,
    *,
    hazard_id: int,
    client_id: UUID,
    actor: str,
    status: str,
    on_day: date,
    note: str | None,
    photos: list[tuple[str, bytes]] | None = None,
) -> dict[str, Any]:
    """Record a step of a hazard's rectification (整改) with its photos; ``done`` closes the
    hazard on ``on_day``.

    Raises
    ------
    NotFoundError
        No such hazard in the caller's area.
    InputError
        An unknown status, a day in the future, a bad photo.
    """
    if status not in RECTIFICATION_STATUSES:
        msg = f"unknown rectification status {status!r}: use {', '.join(RECTIFICATION_STATUSES)}"
        raise InputError(msg)
    if on_day > clock.today(settings.timezone):
        msg = f"rectification day {on_day} is in the future"
        raise InputError(msg)
    prepared = photo_store.prepare_all(photos or [], settings.intake)
    with engine.begin() as conn:
        hazard = conn.execute(
            sql("field_hazard_get", "geo.field"), {"region": settings.region, "id": hazard_id}
        ).first()
        if hazard is None or hazard.area_code is None:
            msg = f"no hazard {hazard_id}"
            raise NotFoundError(msg)
        step = conn.execute(
            sql("field_rectification_insert", "geo.field"),
            {
                "region": settings.region,
                "client_id": client_id,
                "hazard_id": hazard_id,
                "area_code": hazard.area_code,
                "status": status,
                "on_day": on_day,
                "note": (note or "").strip() or None,
                "actor": actor,
            },
        ).one()
        if status == "done" and step.new:
            closed = clock.day_start(on_day, settings.timezone)
            conn.execute(
                sql("field_hazard_close", "geo.field"),
                {"region": settings.region, "id": hazard_id, "closed_at": closed},
            )
        photo_store.store(
            conn,
            region=settings.region,
            record_kind="rectification",
            record_id=int(step.id),
            area_code=str(hazard.area_code),
            photos=prepared,
            taken_by=actor,
        )
    return {"hazard_id": hazard_id, "id": int(step.id), "status": status, "new": bool(step.new)}


def rectifications(engine: Engine, settings: Settings, hazard_id: int) -> list[dict[str, Any]]:
    """A hazard's rectification steps, oldest first, each with its photo ids."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("field_rectifications", "geo.field"),
            {"region": settings.region, "hazard_id": hazard_id},
        ).mappings()
        return [dict(r) for r in rows]


def check_in(
    engine: Engine,
    settings: Settings,
    *,
    person: str,
    lon: float,
    lat: float,
    at: datetime,
) -> dict[str, Any]:
    """Record a visit (每周遍访) at a phone's position, in the micro-grid holding it.

    Raises
    ------
    OutsideAreaError
        The position is outside the caller's area (the message says where it is).
    InputError
        A bad position or time.
    """
    _position(lon, lat)
    # To the second: the visit's key is (person, time), and two taps in one second are one visit.
    when = _phone_time(settings, at, "check-in").replace(microsecond=0)
    result = import_checkin_records(
        engine,
        settings,
        [{"person": person, "time": when.isoformat(), "lon": lon, "lat": lat}],
        source_name="phone",
    )
    if result.rejected:
        reason = result.rejected[0].reason
        if "outside" in reason:
            raise outside(engine, settings, lon=lon, lat=lat)
        raise InputError(f"check-in: {reason}")
    with engine.connect() as conn:
        row = (
            conn.execute(
                sql("field_checkin_get", "geo.field"),
                {"region": settings.region, "person": person, "t": when},
            )
            .mappings()
            .first()
        )
    if row is None:
        msg = "the check-in was not stored"
        raise NotFoundError(msg)
    return {**dict(row), "new": result.inserted == 1}


def hazard(engine: Engine, settings: Settings, hazard_id: int) -> dict[str, Any]:
    """One hazard of the caller's area with its photos and rectification steps.

    Raises
    ------
    NotFoundError
        No such hazard in the caller's area.
    """
    with engine.connect() as conn:
        row = (
            conn.execute(
                sql("field_hazard", "geo.field"), {"region": settings.region, "id": hazard_id}
            )
            .mappings()
            .first()
        )
    if row is None:
        msg = f"no hazard {hazard_id}"
        raise NotFoundError(msg)
    return {**dict(row), "steps": rectifications(engine, settings, hazard_id)}


def open_hazards(engine: Engine, settings: Settings, *, area: str | None) -> list[dict[str, Any]]:
    """The open hazards at or under ``area`` (None: all the caller sees), newest found first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("field_hazards_open", "geo.field"), {"region": settings.region, "area": area}
        ).mappings()
        return [dict(r) for r in rows]
