"""Stored plans found again: listed by day and shift, and kept (saved) by the dispatcher."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from geo import clock
from geo.coverage.periods import shift_number, shift_on
from geo.database import sql
from geo.errors import NotFoundError
from geo.settings import Settings


def list_plans(
    engine: Engine,
    settings: Settings,
    *,
    day: date,
    shift: int | None = None,
    saved_only: bool = False,
) -> list[dict[str, Any]]:
    """Plans of shifts starting on the local ``day`` (or in its shift number ``shift``), newest
    shift first: ``id``, ``created_at``, ``saved_at``, ``based_on``, ``shift`` (start, end and
    its ``number`` of the day when it starts at a shift's start), ``units`` (names), ``summary``.

    Raises
    ------
    InputError
        The day has no shift of that number.
    """
    if shift is None:
        start = clock.day_start(day, settings.timezone)
        until = clock.day_start(day + timedelta(days=1), settings.timezone)
    else:
        period = shift_on(day, shift, settings)
        start, until = period.start, period.start + timedelta(seconds=1)
    with engine.connect() as conn:
        rows = conn.execute(
            sql("routing_plans_list", "geo.routing"),
            {"region": settings.region, "start": start, "until": until, "saved_only": saved_only},
        ).all()
    return [
        {
            "id": int(r.id),
            "created_at": r.created_at.isoformat(),
            "saved_at": r.saved_at.isoformat() if r.saved_at is not None else None,
            "based_on": r.based_on,
            "shift": {
                "start": _local(r.shift_start, settings),
                "end": _local(r.shift_end, settings),
                "number": shift_number(r.shift_start, settings),
            },
            "units": list(r.units),
            "summary": r.summary,
        }
        for r in rows
    ]


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(clock.zone(settings.timezone)).isoformat()


def save_plan(engine: Engine, settings: Settings, plan_id: int) -> str:
    """Keep plan ``plan_id``; the time it was first kept (ISO).

    Raises
    ------
    NotFoundError
        No plan has that id.
    """
    with engine.begin() as conn:
        saved = conn.execute(
            sql("routing_plan_save", "geo.routing"), {"id": plan_id, "region": settings.region}
        ).scalar()
    if saved is None:
        msg = f"no route plan with id {plan_id}"
        raise NotFoundError(msg, code="plan_not_found", params={"id": plan_id})
    return _local(saved, settings)
