"""The demo district's case histories: a seeded sample of its intake-channel incidents, handled.

The synthetic register (demo/activity.py) has about ten times the reference
sub-district's volume, so not every intake-channel incident becomes a case here: a fixed share
(:data:`SHARE`) of them is drawn with a seeded generator, which gives a few hundred cases a
year, the reference's order (182 received, 174 resolved). Each case then goes through the real
workflow (:func:`geo.cases.transition_in`, so the demo obeys the same rules as users do):

* dispatched after an exponential delay (mean 2 h) to the squad whose "zero" the incident type
  counts against (petition -> dispute mediation, accident -> hazard inspection, case -> security
  patrol; police calls to patrol, noise to mediation), or to the sub-district's comprehensive
  governance centre (综治中心) when the incident lies outside every grid;
* taken up after an exponential delay (mean 3 h), handled in a log-normal time (sigma 0.8)
  around a typical duration per type (:data:`TYPICAL_HOURS`, judgement), so that a few cases
  overrun their deadline, mostly short-deadline police calls and noise;
* resolved with probability 0.93 in the previous year and 0.955 in the current one (the
  reference's 95 %, improving year on year), else unresolved; verified one to three days
  later; 3 % of the resolved are reopened after the return visit and resolved again.

Steps dated after ``now`` (the moment the demo is loaded) are not taken, so recent cases are
still open. Loading again adds
nothing: the sample is the same and incidents that have a case are skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from geo import clock
from geo.cases import PLATFORMS, SQUADS, State, open_case_in, transition_in
from geo.database import sql
from geo.settings import Settings

SHARE = 0.035
"""Share of intake-channel incidents that become demo cases."""

SEED = 8
TYPICAL_HOURS = {
    "dispute": 60.0,
    "petition": 240.0,
    "mass_incident": 120.0,
    "noise": 20.0,
    "police_call": 10.0,
    "fire": 10.0,
}
"""Median handling time per type (judgement); other types 40 h."""

SQUAD_OF_ZERO = {"petition": "mediation", "accident": "inspection", "case": "patrol"}
SQUAD_OF_TYPE = {"police_call": "patrol", "noise": "mediation"}
ZERO_OF_TYPE = {
    "dispute": "petition",
    "petition": "petition",
    "mass_incident": "petition",
    "fire": "accident",
    "traffic_accident": "accident",
    "workplace_accident": "accident",
}
DISPATCHERS = ("调度员王芳", "调度员李强", "调度员张敏")
REOPEN_REASON = "回访群众不满意，重新处理"
REOPEN_SHARE = 0.03


def _assignee(kind: str, *, outside: bool) -> dict[str, str]:
    if outside:
        return {"department": "街道综治中心"}
    squad = SQUAD_OF_TYPE.get(kind) or SQUAD_OF_ZERO[ZERO_OF_TYPE.get(kind, "case")]
    return {"squad": squad}


def seed_demo_cases(engine: Engine, settings: Settings, *, now: datetime | None = None) -> int:
    """Open and walk the demo's case histories; return how many cases were opened."""
    instant = now if now is not None else clock.utcnow()
    this_year = instant.astimezone(clock.zone(settings.timezone)).year
    sources = [spelling for zh, _en, alt in PLATFORMS.values() for spelling in (zh, *alt)]
    rng = np.random.default_rng(SEED)
    opened = 0
    with engine.begin() as conn:
        candidates = (
            conn.execute(
                sql("case_candidates", "demo"), {"region": settings.region, "sources": sources}
            )
            .mappings()
            .all()
        )
        drawn = rng.random(len(candidates)) < SHARE
        for row, take in zip(candidates, drawn, strict=True):
            # Every candidate draws its numbers, taken or not, so the sample and the histories
            # do not depend on which cases exist already.
            draws, normal = rng.random(7), float(rng.standard_normal())
            if not take or row["has_case"]:
                continue
            received: datetime = row["reported_at"]
            case_id = open_case_in(
                conn, settings, incident_id=row["id"], actor="登记员", received_at=received
            )
            opened += 1
            kind = row["type"]
            hours = TYPICAL_HOURS.get(kind, 40.0)
            dispatched = received + timedelta(hours=max(1 / 6, -2.0 * np.log1p(-draws[0])))
            taken_up = dispatched + timedelta(hours=-3.0 * np.log1p(-draws[1]))
            handled = taken_up + timedelta(hours=hours * float(np.exp(0.8 * normal)))
            local_year = received.astimezone(clock.zone(settings.timezone)).year
            resolve_p = 0.955 if local_year >= this_year else 0.93
            outcome = State.RESOLVED if draws[2] < resolve_p else State.UNRESOLVED
            verified = handled + timedelta(hours=24 + 48 * draws[3])
            assignee = _assignee(kind, outside=row["outside"])
            team = f"{SQUADS[assignee['squad']][0]}组" if "squad" in assignee else "综治中心"
            steps: list[tuple[State, datetime, dict[str, str]]] = [
                (
                    State.DISPATCHED,
                    dispatched,
                    {"actor": DISPATCHERS[int(draws[4] * len(DISPATCHERS))], **assignee},
                ),
                (State.HANDLING, taken_up, {"actor": team}),
                (outcome, handled, {"actor": team}),
            ]
            if outcome is State.RESOLVED and draws[5] < REOPEN_SHARE:
                back = handled + timedelta(hours=24)
                again = back + timedelta(hours=hours * 0.5)
                steps += [
                    (State.HANDLING, back, {"actor": "网格长", "reason": REOPEN_REASON}),
                    (State.RESOLVED, again, {"actor": team}),
                ]
                verified = again + timedelta(hours=24 + 48 * draws[6])
            steps.append((State.VERIFIED, verified, {"actor": "网格长"}))
            version = 1
            for state, at, extra in steps:
                if at > instant:
                    break
                version = transition_in(
                    conn, settings, case_id, to=state, expected_version=version, at=at, **extra
                )
    return opened
