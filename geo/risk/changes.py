"""What changed on the four-colour map between two dates: which areas went up or down a colour,
and the reasons behind that (hazards that came or went, incident counts that rose or fell, red
or orange children that came or went).

Both maps are stored computations (geo/risk/store.py chooses the one answering each date; a
past date no computation answers is not found): a comparison never recomputes the past.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from geo import clock
from geo.assessment import Colour
from geo.database import sql
from geo.errors import InputError
from geo.levels import Level
from geo.risk.store import resolve_run
from geo.settings import Settings


@dataclass(frozen=True)
class CountChange:
    """Incidents of one type in the window of each computation."""

    type: str
    before: int
    after: int


@dataclass(frozen=True)
class AreaChange:
    """One area whose colour differs between the two computations."""

    code: str
    name: str
    before: Colour | None
    after: Colour | None
    score_before: float | None
    score_after: float | None
    hazards_new: list[dict[str, Any]] = field(default_factory=list)
    hazards_gone: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[CountChange] = field(default_factory=list)
    children_new: list[dict[str, Any]] = field(default_factory=list)
    children_gone: list[dict[str, Any]] = field(default_factory=list)

    @property
    def step(self) -> int:
        """Colour steps up (positive) or down (negative); an area new or gone counts from blue."""
        return _severity(self.after) - _severity(self.before)


@dataclass(frozen=True)
class Changes:
    """The areas of one level that changed colour between two dates, worst rise first."""

    level: Level
    since: datetime
    """The as-of instant of the earlier computation (local time)."""
    until: datetime
    """The as-of instant of the later computation (local time)."""
    areas: list[AreaChange]

    def up(self) -> list[AreaChange]:
        """The areas that went up."""
        return [a for a in self.areas if a.step > 0]

    def down(self) -> list[AreaChange]:
        """The areas that went down."""
        return [a for a in self.areas if a.step < 0]


def _severity(colour: Colour | None) -> int:
    return 0 if colour is None else colour.severity


def _colour(value: str | None) -> Colour | None:
    return None if value is None else Colour(value)


def _keyed(items: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {item[key]: item for item in items}


def _red_orange(reasons: dict[str, Any]) -> list[dict[str, Any]]:
    return [k for k in reasons.get("children", []) if k["colour"] in ("red", "orange")]


def _compare(row: Any) -> AreaChange:
    before: dict[str, Any] = row.reasons_before or {}
    after: dict[str, Any] = row.reasons_after or {}
    hazards_before = _keyed(before.get("hazards", []), "id")
    hazards_after = _keyed(after.get("hazards", []), "id")
    counts_before = {i["type"]: int(i["count"]) for i in before.get("incidents", [])}
    counts_after = {i["type"]: int(i["count"]) for i in after.get("incidents", [])}
    incidents = [
        CountChange(kind, counts_before.get(kind, 0), counts_after.get(kind, 0))
        for kind in sorted(set(counts_before) | set(counts_after))
        if counts_before.get(kind, 0) != counts_after.get(kind, 0)
    ]
    incidents.sort(key=lambda c: -abs(c.after - c.before))
    kids_before = _keyed(_red_orange(before), "code")
    kids_after = _keyed(_red_orange(after), "code")
    return AreaChange(
        code=row.code,
        name=row.name,
        before=_colour(row.colour_before),
        after=_colour(row.colour_after),
        score_before=row.score_before,
        score_after=row.score_after,
        hazards_new=[h for k, h in hazards_after.items() if k not in hazards_before],
        hazards_gone=[h for k, h in hazards_before.items() if k not in hazards_after],
        incidents=incidents,
        children_new=[
            k for c, k in kids_after.items() if kids_before.get(c, {}).get("colour") != k["colour"]
        ],
        children_gone=[k for c, k in kids_before.items() if c not in kids_after],
    )


def risk_changes(
    engine: Engine,
    settings: Settings,
    *,
    level: Level,
    since: date | datetime,
    until: date | datetime,
) -> Changes:
    """The areas of ``level`` whose colour differs between the computations answering
    ``since`` and ``until``, ranked by how far they rose (falls last, the steepest last), then
    by the change of score.

    Raises
    ------
    InputError
        ``since`` is after ``until``.
    NotFoundError
        No stored computation answers one of the dates.
    """
    if since > until:
        msg = f"from {since} is after to {until}"
        raise InputError(msg)
    region = settings.region
    earlier = resolve_run(engine, settings, region, since)
    later = resolve_run(engine, settings, region, until)
    with engine.connect() as conn:
        rows = conn.execute(
            sql("risk_changes", "geo.risk"),
            {"before_id": earlier.id, "after_id": later.id, "level": level.value},
        ).all()
    changed = [_compare(r) for r in rows if r.colour_before != r.colour_after]
    changed.sort(
        key=lambda a: (-a.step, -((a.score_after or 0.0) - (a.score_before or 0.0)), a.code)
    )
    tz = clock.zone(settings.timezone)
    return Changes(level, earlier.as_of.astimezone(tz), later.as_of.astimezone(tz), changed)
