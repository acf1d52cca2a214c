"""Hazards counting at a date, each scored and coloured by its assessment (geo/assessment.py).

A hazard counts from the instant it was identified until the instant it was closed: one closed on
a day no longer counts in a computation as of the end of that day. The bands are the settings'
(``lec_*_min``, ``ls_*_min``); the scoring and the allowed values are geo/assessment.py's, the one
place those rules live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from geo.assessment import Assessment, Colour, Method, parse_method
from geo.database import sql
from geo.settings import RiskSettings


@dataclass(frozen=True)
class ScoredHazard:
    """One counting hazard with its score (D or R) and colour."""

    id: int
    area_code: str
    source_id: str
    name: str
    category: str
    method: Method
    values: tuple[float, ...]
    score: float
    colour: Colour

    def reason(self) -> dict[str, Any]:
        """The hazard as a reason behind a colour (JSON-ready)."""
        return {
            "id": self.id,
            "source_id": self.source_id,
            "name": self.name,
            "category": self.category,
            "method": self.method.value,
            "values": list(self.values),
            "score": self.score,
            "colour": self.colour.value,
        }


def rank_key(h: ScoredHazard) -> tuple[int, float, int]:
    """Sort key putting the worst hazard first: colour, then score, then the older id."""
    return (-h.colour.severity, -h.score, h.id)


def _assess(row: Any) -> Assessment:
    method = parse_method(row.method)
    if method is Method.LEC:
        return Assessment.lec(row.lec_l, row.lec_e, row.lec_c)
    return Assessment.ls(row.ls_l, row.ls_s)


def counting_hazards(
    conn: Connection, risk: RiskSettings, *, region: str, as_of: datetime
) -> tuple[list[ScoredHazard], list[dict[str, Any]]]:
    """The hazards counting at ``as_of``, scored; and those whose stored assessment is invalid.

    Returns
    -------
    tuple
        The scored hazards, and one ``{"id", "source_id", "reason"}`` per hazard that could not
        be scored (an LEC L of 7 written around the importer): it is left out of the colours and
        named in the run's summary rather than guessed at.
    """
    scored: list[ScoredHazard] = []
    invalid: list[dict[str, Any]] = []
    for row in conn.execute(sql("risk_hazards", "geo.risk"), {"region": region, "as_of": as_of}):
        try:
            assessment = _assess(row)
        except (TypeError, ValueError) as exc:
            invalid.append({"id": row.id, "source_id": row.source_id, "reason": str(exc)})
            continue
        scored.append(
            ScoredHazard(
                id=row.id,
                area_code=row.area_code,
                source_id=row.source_id,
                name=row.name,
                category=row.category,
                method=assessment.method,
                values=assessment.values,
                score=assessment.score,
                colour=assessment.colour(risk),
            )
        )
    return scored, invalid
