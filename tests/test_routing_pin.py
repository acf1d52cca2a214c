"""Adjusting a plan: a pinned stop is planned before stops worth more whichever planner runs, a
pin that cannot be served says why, a dropped stop is not considered, and the plan reports each
stop's own risk, not the pin's weight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from geo.routing.network import UnitKind
from geo.routing.plan import CandidateInput, PlanRequest, UnitInput, plan_routes
from geo.settings import Settings
from tests.test_maps import X0, Y0, build_district
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


def _left(plan: dict) -> dict[str, str]:
    return {c["candidate_id"]: c["reason_code"] for c in plan["left_out"]}


def _stops(plan: dict) -> list[str]:
    return [s["candidate_id"] for u in plan["units"] for s in u["stops"]]


def test_a_pin_is_certain_when_it_fits(make_db: Callable[..., tuple[Engine, Settings]]) -> None:
    engine, settings = make_db("routepinsure")
    build_district(engine, settings)
    stored = _plan(engine, settings)["request"]
    base = PlanRequest(
        units=_units(stored),
        shift_start=datetime(2026, 11, 24, 8, 0),
        # Room for one stop: P30 and P03 are 300 m out, P33 600 m (just fits, alone).
        shift_end=datetime(2026, 11, 24, 8, 25),
        candidates=_candidates(stored),
        risk_areas=False,
        school_gates=False,
        gaps=False,
        time_limit_s=0.5,
    )
    # The nearest-neighbour baseline goes to P30 first whatever the pin is worth; the pin holds.
    for solver in ("greedy", "pyvrp", "ortools"):
        plain = plan_routes(engine, settings, replace(base, solver=solver))
        assert _stops(plain) == ["P30"], solver  # the richest of the nearest
        pinned = plan_routes(engine, settings, replace(base, solver=solver, pinned=("P33",)))
        assert _stops(pinned) == ["P33"], solver
        assert _left(pinned)["P30"] == "not_chosen"
    # Two pins that cannot both be served: one is planned, the other says why.
    both = plan_routes(engine, settings, replace(base, solver="greedy", pinned=("P03", "P30")))
    [served] = _stops(both)
    [other] = {"P03", "P30"} - {served}
    assert _left(both)[other] == "pinned_conflict"
    reason = next(c["reason"] for c in both["left_out"] if c["candidate_id"] == other)
    assert "together with the other pinned stops" in reason
    # A pin off the roads cannot be served: it says so and takes nothing from the other pin.
    far = CandidateInput(
        id="FAR", kind="point", risk=9.0, lon=X0 - 5000, lat=Y0 - 5000, crs="EPSG:4547"
    )
    off = plan_routes(
        engine,
        settings,
        replace(base, candidates=[*base.candidates, far], pinned=("FAR", "P03")),
    )
    assert _stops(off) == ["P03"]
    assert _left(off)["FAR"] == "off_network"


def _units(stored: dict) -> list[UnitInput]:
    return [UnitInput(u["name"], u["station"], UnitKind(u["kind"])) for u in stored["units"]]


def _candidates(stored: dict) -> list[CandidateInput]:
    return [CandidateInput(**{**c, "windows": tuple(c["windows"])}) for c in stored["candidates"]]
