"""Does the map point at the right places? Hit rate and PAI of red+orange, against baselines.

For a split date t and a period p, the map is computed as of t (only what was known at t) and
scored on the incidents that occur in (t, t + p]::

    hit rate = n_hot / N                 (share of next-period incidents inside red+orange)
    PAI      = (n_hot / N) / (a_hot / A) (Chainey, Tompson & Uhlig 2008, "The utility of hotspot
                                          mapping for predicting spatial patterns of crime",
                                          Security Journal 21, 4-28)

with a_hot / A the share of the micro-grids' area that is red or orange. Two baselines are scored
the same way on the same area share: last period's raw counts (the micro-grids with the most
incidents in (t - p, t], known by t, taken in that order until their area reaches a_hot; the last
one counted for the fraction of it needed, its incidents pro rata) and a uniform map (any area
share a holds a share a of the incidents: PAI = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from geo.assessment import Colour
from geo.database import sql
from geo.levels import Level
from geo.risk.compute import RiskResult, as_of_instant, compute_risk
from geo.settings import Settings

HOT = (Colour.RED, Colour.ORANGE)


@dataclass(frozen=True)
class Score:
    """One map's score on the next period's incidents."""

    name: str
    area_share: float
    incidents_inside: float
    hit_rate: float | None
    pai: float | None


@dataclass(frozen=True)
class Evaluation:
    """The risk map and its baselines scored on one split."""

    split: datetime
    period_days: int
    incidents_next: int
    scores: list[Score]
    result: RiskResult


def _counts(
    engine: Engine,
    region: str,
    start: datetime,
    end: datetime,
    known_by: datetime | None,
) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sql("risk_counts", "geo.risk"),
            {"region": region, "start": start, "end": end, "known_by": known_by},
        ).all()
    return {r.area_code: int(r.n) for r in rows}


def _score(name: str, inside: float, area_share: float, total: int) -> Score:
    hit = inside / total if total else None
    pai = hit / area_share if hit is not None and area_share > 0 else None
    return Score(name, area_share, inside, hit, pai)


def raw_count_hits(
    past: dict[str, int],
    future: dict[str, int],
    areas: dict[str, float],
    target_m2: float,
) -> float:
    """Next-period incidents inside the top micro-grids by past count, up to ``target_m2``.

    Micro-grids are taken by past count (ties: the smaller, i.e. denser, first; then by code);
    the one that crosses the target counts for the fraction of its area needed.
    """
    order = sorted(areas, key=lambda c: (-past.get(c, 0), areas[c], c))
    inside = 0.0
    left = target_m2
    for code in order:
        if left <= 0:
            break
        take = min(1.0, left / areas[code]) if areas[code] > 0 else 1.0
        inside += take * future.get(code, 0)
        left -= areas[code]
    return inside


def evaluate(
    engine: Engine, settings: Settings, *, split: date | datetime, period_days: int = 90
) -> Evaluation:
    """Score the map as of ``split`` on the incidents of the next ``period_days`` days.

    Nothing is written: the map is computed, not kept.
    """
    if period_days <= 0:
        msg = f"period_days must be positive, got {period_days}"
        raise ValueError(msg)
    as_of = as_of_instant(split, settings.timezone)
    period = timedelta(days=period_days)
    result = compute_risk(engine, settings, as_of=as_of)
    micro = result.level(Level.MICRO)
    areas = {a.code: a.area_m2 for a in micro}
    total_m2 = sum(areas.values())
    region = settings.region
    future = {
        c: n for c, n in _counts(engine, region, as_of, as_of + period, None).items() if c in areas
    }
    past = _counts(engine, region, as_of - period, as_of, as_of)
    total = sum(future.values())

    hot_m2 = sum(a.area_m2 for a in micro if a.colour in HOT)
    share = hot_m2 / total_m2 if total_m2 else 0.0
    inside = float(sum(future.get(a.code, 0) for a in micro if a.colour in HOT))
    scores = [
        _score("risk map (red+orange)", inside, share, total),
        _score(
            "last period's raw counts",
            raw_count_hits(past, future, areas, hot_m2),
            share,
            total,
        ),
        _score("uniform", share * total, share, total),
    ]
    return Evaluation(as_of, period_days, total, scores, result)
