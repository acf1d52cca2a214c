"""Adjusting a plan: a pinned stop is planned before stops worth more, a dropped one is not
considered, and the plan reports each stop's own risk, not the pin's weight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from geo.routing.network import UnitKind
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes
from geo.settings import Settings
from tests.test_maps import build_district
from tests.test_routes_page import _plan


def test_pinned_and_dropped_stops(make_db: Callable[..., tuple[Engine, Settings]]) -> None:
    engine, settings = make_db("routepin")
    build_district(engine, settings)
    first = _plan(engine, settings)
    stored = first["request"]
    assert [s["candidate_id"] for s in first["units"][0]["stops"]] != []
    base = PlanRequest(
        units=_units(stored),
        shift_start=datetime(2026, 11, 24, 8, 0),
        shift_end=datetime(2026, 11, 24, 8, 25),  # room for one or two stops, not three
        candidates=_candidates(stored),
        risk_areas=False,
        school_gates=False,
        gaps=False,
        time_limit_s=0.5,
    )
    plain = plan_routes(engine, settings, base)
    planned = [s["candidate_id"] for s in plain["units"][0]["stops"]]
    left = {c["candidate_id"] for c in plain["left_out"]}
    assert "P03" in left  # the least risky, furthest from the richer ones
    pinned = plan_routes(engine, settings, replace(base, pinned=("P03",)))
    stops = pinned["units"][0]["stops"]
    assert "P03" in [s["candidate_id"] for s in stops]
    assert {s["candidate_id"]: s["risk"] for s in stops}["P03"] == 3.0
    assert pinned["summary"]["risk_covered"] <= pinned["summary"]["risk_total"]
    assert pinned["request"]["pinned"] == ["P03"]
    dropped = plan_routes(engine, settings, replace(base, exclude=(planned[0],)))
    considered = [s["candidate_id"] for s in dropped["units"][0]["stops"]]
    considered += [c["candidate_id"] for c in dropped["left_out"]]
    assert planned[0] not in considered


def _units(stored: dict) -> list[UnitInput]:
    return [UnitInput(u["name"], u["station"], UnitKind(u["kind"])) for u in stored["units"]]


def _candidates(stored: dict) -> list[CandidateInput]:
    return [CandidateInput(**{**c, "windows": tuple(c["windows"])}) for c in stored["candidates"]]
