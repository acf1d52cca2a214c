"""A patrol plan for a shift: candidates gathered, snapped, timed, solved, stored.

Candidates are the latest risk computation's red and orange micro-grids (significant Getis-Ord
hot spots among them are "hotspot" stops), the school gates (护学岗) in each of their windows
that overlaps the shift, and any the request lists itself (hot spots, unvisited gaps, points).
Each is worth its risk score. Dwell follows Koper's (1995) 10-15 minute band (settings
``route_dwell_s_*``); a school gate is held for the part of its window inside the shift (from the
unit's arrival when the window opened before the shift), worth that part's share of its risk.
Every candidate not planned is returned with the reason.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from geo import clock
from geo.coverage.gaps import gaps_on
from geo.crs import parse_crs, to_target
from geo.database import sql
from geo.errors import InputError, NotFoundError
from geo.jobs import JobCancelledError
from geo.routing.exact import solve_exact
from geo.routing.greedy import solve_greedy
from geo.routing.ils import solve_pyvrp
from geo.routing.matrix import snap, store_legs, travel_matrix
from geo.routing.model import (
    SOLVERS,
    UNREACHABLE,
    Instance,
    Stop,
    TimedRoute,
    Unit,
    better,
    collected,
    schedule,
    timed_routes,
)
from geo.routing.network import UnitKind
from geo.routing.solver import solve
from geo.settings import RoutingSettings, Settings

CANDIDATE_KINDS = ("hotspot", "red", "orange", "gap", "school_gate", "point")
MAX_SHIFT = timedelta(hours=24)
WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class CandidateInput:
    """A stop the dispatcher asks for.

    Attributes
    ----------
    lon, lat
        Where it is, in ``crs`` (default WGS84; ``gcj02``/``bd09`` accepted); or give
        ``area_code`` to stop at a point inside that area.
    risk
        What visiting it is worth; a school gate without one is worth the riskiest other
        candidate times ``route_school_gate_weight``.
    windows
        ``"HH:MM-HH:MM"`` local times; the visit must fit inside one (a school gate is held for
        the part inside the shift). None: any time in the shift.
    """

    id: str
    kind: str = "point"
    risk: float | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = None
    area_code: str | None = None
    dwell_s: int | None = None
    windows: tuple[str, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class UnitInput:
    """A patrol unit: its name, its station (a ``pois`` id of kind ``station``), how it moves."""

    name: str
    station: str
    kind: UnitKind = UnitKind.FOOT


@dataclass(frozen=True)
class PlanRequest:
    """What a dispatcher asks for: units, the shift, candidates and options."""

    units: list[UnitInput]
    shift_start: datetime
    shift_end: datetime
    candidates: list[CandidateInput] = field(default_factory=list)
    risk_areas: bool = True
    school_gates: bool = True
    gaps: bool = True
    solver: str = SOLVERS[0]
    time_limit_s: float | None = None
    exclude: tuple[str, ...] = ()
    """Candidate ids the dispatcher dropped from the plan: never considered."""
    pinned: tuple[str, ...] = ()
    """Candidate ids the dispatcher pinned: each is in the plan whenever a unit can reach it,
    stay and return within the shift alongside the other pins planned (the planner sees each worth
    more than all unpinned stops together, and :func:`keep_pinned` puts back any it dropped)."""
    based_on: int | None = None
    """The plan this request adjusts, when it re-plans one."""


class PlanCancelledError(JobCancelledError):
    """The dispatcher cancelled the plan before it was stored."""


class Progress:
    """What a running plan reports, and whether it should stop: the planning page's job
    (geo/routing/progress.py) passes one; the command line and the API's direct call none."""

    def stage(self, name: str, *, seconds: float = 0.0) -> None:
        """A stage begins: ``gather``, ``solve`` (expected to take ``seconds``), ``store``."""

    def cancelled(self) -> bool:
        """True when the plan should stop and store nothing."""
        return False


@dataclass
class _Place:
    id: str
    kind: str
    label: str
    risk: float | None
    x: float
    y: float
    dwell: int
    windows: list[tuple[clock_time, clock_time]]


@dataclass
class _StopRef:
    place: int
    window: str | None
    from_arrival: bool = False


def _parse_window(text: str, ident: str) -> tuple[clock_time, clock_time]:
    match = WINDOW.match(text)
    if match is None:
        msg = f"candidate {ident!r}: time window {text!r} is not HH:MM-HH:MM"
        raise InputError(msg)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
        msg = f"candidate {ident!r}: time window {text!r} is not a valid interval"
        raise InputError(msg)
    return clock_time(h1, m1), clock_time(h2, m2)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _check_request(request: PlanRequest) -> None:
    if not request.units:
        raise InputError("a plan needs at least one unit")
    names = [u.name for u in request.units]
    if len(set(names)) < len(names):
        msg = f"unit names must be unique, got {names}"
        raise InputError(msg)
    if request.solver not in SOLVERS:
        msg = f"unknown solver {request.solver!r}: use one of {', '.join(SOLVERS)}"
        raise InputError(msg)
    ids = [c.id for c in request.candidates]
    if len(set(ids)) < len(ids):
        msg = f"candidate ids must be unique, got {ids}"
        raise InputError(msg)
    for c in request.candidates:
        if c.kind not in CANDIDATE_KINDS:
            msg = f"candidate {c.id!r}: unknown kind {c.kind!r} (use {', '.join(CANDIDATE_KINDS)})"
            raise InputError(msg)
        if (c.lon is None or c.lat is None) and c.area_code is None:
            msg = f"candidate {c.id!r}: give lon and lat, or area_code"
            raise InputError(msg)
        if c.risk is not None and not (math.isfinite(c.risk) and c.risk >= 0):
            msg = f"candidate {c.id!r}: risk must be a finite number >= 0, got {c.risk}"
            raise InputError(msg)
        if c.risk is None and c.kind != "school_gate":
            msg = f"candidate {c.id!r}: a {c.kind} needs its risk"
            raise InputError(msg)


def _dwell(kind: str, routing: RoutingSettings) -> int:
    return routing.route_dwell_s_hotspot if kind == "hotspot" else routing.route_dwell_s_area


def _request_places(conn: Connection, settings: Settings, request: PlanRequest) -> list[_Place]:
    codes = sorted({c.area_code for c in request.candidates if c.area_code is not None})
    area_points = {
        r.code: r
        for r in conn.execute(
            sql("routing_area_points", "geo.routing"), {"region": settings.region, "codes": codes}
        )
    }
    places = []
    for c in request.candidates:
        if c.lon is not None and c.lat is not None:
            xs, ys = to_target([c.lon], [c.lat], parse_crs(c.crs or "EPSG:4326"), settings.srid)
            x, y = float(xs[0]), float(ys[0])
            if not (math.isfinite(x) and math.isfinite(y)):
                msg = f"candidate {c.id!r}: ({c.lon}, {c.lat}) cannot be converted"
                raise InputError(msg)
            label = c.label or c.id
        else:
            area = area_points.get(str(c.area_code))
            if area is None:
                msg = f"candidate {c.id!r}: no area with code {c.area_code!r}"
                raise InputError(msg)
            x, y, label = float(area.x), float(area.y), c.label or str(area.name)
        windows = [_parse_window(w, c.id) for w in c.windows]
        dwell = _dwell(c.kind, settings.routing) if c.dwell_s is None else c.dwell_s
        places.append(_Place(c.id, c.kind, label, c.risk, x, y, dwell, windows))
    return places


def _risk_places(conn: Connection, settings: Settings) -> list[_Place]:
    places = []
    for r in conn.execute(
        sql("routing_risk_candidates", "geo.routing"), {"region": settings.region}
    ):
        kind = "hotspot" if r.hotspot else str(r.colour)
        places.append(
            _Place(
                str(r.area_code),
                kind,
                str(r.name),
                float(r.score),
                float(r.x),
                float(r.y),
                _dwell(kind, settings.routing),
                [],
            )
        )
    return places


def _gate_places(conn: Connection, settings: Settings) -> list[_Place]:
    places = []
    for r in conn.execute(
        sql("routing_pois", "geo.routing"), {"region": settings.region, "kinds": ["school_gate"]}
    ):
        props: dict[str, Any] = r.props or {}
        windows = [
            _parse_window(str(props[k]), str(r.poi_id))
            for k in sorted(props)
            if k.startswith("window") and props[k]
        ]
        places.append(
            _Place(
                str(r.poi_id),
                "school_gate",
                str(r.name or r.poi_id),
                None,
                float(r.x),
                float(r.y),
                0,
                windows,
            )
        )
    return places


def _gap_places(conn: Connection, settings: Settings, at: datetime) -> list[_Place]:
    """The coverage gap list's micro-grids as of the shift's start, or now for a shift still to
    come (geo/coverage/gaps.py never looks ahead of now)."""
    gaps = json.loads(gaps_on(conn, settings, at=at))["features"]
    codes = [str(f["properties"]["code"]) for f in gaps]
    points = {
        r.code: r
        for r in conn.execute(
            sql("routing_area_points", "geo.routing"), {"region": settings.region, "codes": codes}
        )
    }
    return [
        _Place(
            code,
            "gap",
            str(points[code].name),
            None,
            float(points[code].x),
            float(points[code].y),
            _dwell("gap", settings.routing),
            [],
        )
        for code in codes
        if code in points
    ]


def _gather(conn: Connection, settings: Settings, request: PlanRequest) -> list[_Place]:
    """Every candidate place: the request's own, then the risk map's, then the coverage gaps,
    then the school gates."""
    places = _request_places(conn, settings, request)
    if request.risk_areas:
        places += _risk_places(conn, settings)
    if request.gaps:
        places += _gap_places(conn, settings, request.shift_start)
    if request.school_gates:
        places += _gate_places(conn, settings)
    # The first of a repeated id wins: the request overrides the risk map, and a red or orange
    # micro-grid that is also a gap keeps its risk score.
    dropped = set(request.exclude)
    unique = [
        p for p in list({p.id: p for p in reversed(places)}.values())[::-1] if p.id not in dropped
    ]
    # School gates and gaps without a risk of their own rank against the riskiest candidate.
    top = max((p.risk for p in unique if p.risk is not None), default=1.0)
    weights = {
        "school_gate": settings.routing.route_school_gate_weight,
        "gap": settings.routing.route_gap_weight,
    }
    for p in unique:
        if p.risk is None:
            p.risk = top * weights.get(p.kind, settings.routing.route_gap_weight)
    return unique


@dataclass(frozen=True)
class _Slot:
    """One stop of a place: its start window, dwell and label, the share of the prize it is worth
    and whether it is held from the unit's arrival (see :func:`_gate_slot`)."""

    earliest: int
    latest: int
    dwell: int
    window: str | None
    share: float = 1.0
    from_arrival: bool = False


def _gate_slot(begin: int, end: int, horizon: int, label: str) -> _Slot | None:
    """A school gate's window ``begin … end`` (seconds since the shift start) clipped to the shift.

    The gate is held from the clipped window's start until its clipped end. When the window
    opened before the shift began, the unit holds it from its arrival: the stop starts at the
    clipped end with no dwell, so the wait before it is the hold (every solver times it by the
    shared schedule rule) and the plan reports it as dwell. This project's rule for the prize: a
    clipped gate is worth its risk times the share of the full window's length inside the shift
    (07:50-08:30 in a shift from 08:00: 30 of 40 minutes, 0.75).
    """
    opens, closes = max(begin, 0), min(end, horizon)
    if opens >= closes:
        return None
    share = (closes - opens) / (end - begin)
    if begin < 0:
        return _Slot(closes, closes, 0, label, share, from_arrival=True)
    return _Slot(opens, opens, closes - opens, label, share)


REASONS = {
    "dwell_too_long": "its dwell of {dwell_s} s is longer than the shift",
    "windows_outside": "its time windows ({windows}) are outside the shift",
    "no_window_fits": "no time window ({windows}) fits inside the shift",
    "off_network": (
        "off the road network: {distance_m} m from the nearest reachable vertex (limit {limit_m} m)"
    ),
    "window_unreachable": (
        "no unit can reach it in time for its window ({window}): the earliest arrival is "
        "{arrive}, the latest it allows {allowed}"
    ),
    "unreachable": "no unit can reach it, stay and return to its station within the shift",
    "not_chosen": "not chosen: the units' time went to stops covering more risk",
    "pinned_conflict": "pinned, but no unit can serve it together with the other pinned stops",
}
"""Why a candidate is left out, by code: the English of ``reason``; pages write the code and
its ``reason_params`` in the reader's language."""

Why = tuple[str, dict[str, Any]]
"""A reason's code (a key of :data:`REASONS`) and its parameters."""


def _stops_of(
    place: _Place, shift_start: datetime, horizon: int, zone: ZoneInfo
) -> tuple[list[_Slot], Why | None]:
    """The stops of a place, or why it has none."""
    if not place.windows:
        if place.dwell > horizon:
            return [], ("dwell_too_long", {"dwell_s": place.dwell})
        return [_Slot(0, horizon - place.dwell, place.dwell, None)], None
    local = shift_start.astimezone(zone)
    days = {local.date(), (local + timedelta(seconds=horizon)).date()}
    out: list[_Slot] = []
    overlaps = False
    for opens, closes in place.windows:
        for day in sorted(days):
            begin = int((datetime.combine(day, opens, zone) - shift_start).total_seconds())
            end = int((datetime.combine(day, closes, zone) - shift_start).total_seconds())
            label = f"{opens:%H:%M}-{closes:%H:%M}"
            overlaps = overlaps or (begin < horizon and end > 0)
            if place.kind == "school_gate":
                slot = _gate_slot(begin, end, horizon, label)
                out += [slot] if slot is not None else []
            elif min(end, horizon) - place.dwell >= max(begin, 0):
                out.append(
                    _Slot(max(begin, 0), min(end, horizon) - place.dwell, place.dwell, label)
                )
    if not out:
        windows = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in place.windows)
        if not overlaps:
            return [], ("windows_outside", {"windows": windows})
        return [], ("no_window_fits", {"windows": windows})
    return out, None


def _iso(shift_start: datetime, seconds: int, zone: ZoneInfo) -> str:
    return (shift_start + timedelta(seconds=seconds)).astimezone(zone).isoformat()


@dataclass
class Prepared:
    """A request turned into an instance, with what is needed to explain and store the answer."""

    shift_start: datetime
    shift_end: datetime
    instance: Instance
    places: list[_Place]
    refs: list[_StopRef]
    stations: dict[str, Any]
    points: list[tuple[float, float]]
    vertices: dict[UnitKind, list[int | None]]
    snap_m: dict[UnitKind, list[float]]
    left_out: list[dict[str, Any]]
    total: float
    boost: dict[int, float] = field(default_factory=dict)
    """What each pinned stop's prize was raised by, for the planner only: the plan reports
    its risk without it."""


def _stations(conn: Connection, settings: Settings, request: PlanRequest) -> dict[str, Any]:
    stations = {
        str(r.poi_id): r
        for r in conn.execute(
            sql("routing_pois", "geo.routing"), {"region": settings.region, "kinds": ["station"]}
        )
    }
    for unit in request.units:
        if unit.station not in stations:
            known = ", ".join(sorted(stations)) or "none"
            msg = f"unit {unit.name!r}: no station {unit.station!r} (stations: {known})"
            raise InputError(msg)
    return stations


def prepare(conn: Connection, settings: Settings, request: PlanRequest) -> Prepared:
    """Gather, window and snap the candidates and build the instance; reads only.

    Raises
    ------
    InputError
        A bad unit, station, candidate, shift or option (the message names it).
    """
    _check_request(request)
    zone = clock.zone(settings.timezone)
    shift_start = _aware(request.shift_start, zone)
    shift_end = _aware(request.shift_end, zone)
    if not timedelta(0) < shift_end - shift_start <= MAX_SHIFT:
        msg = (
            f"the shift must end after it starts and last at most 24 h: {shift_start}, {shift_end}"
        )
        raise InputError(msg)
    horizon = int((shift_end - shift_start).total_seconds())
    places = _gather(conn, settings, request)
    stations = _stations(conn, settings, request)
    left_out: list[dict[str, Any]] = []
    refs: list[_StopRef] = []
    stops: list[Stop] = []
    total = 0.0  # the risk of every stop considered, and once for each place without one
    for i, place in enumerate(places):
        windows, why = _stops_of(place, shift_start, horizon, zone)
        risk = float(place.risk or 0.0)
        total += sum(risk * w.share for w in windows) if windows else risk
        if why is not None:
            left_out.append(_left(place, None, why))
        for w in windows:
            refs.append(_StopRef(i, w.window, w.from_arrival))
            stops.append(Stop(i, risk * w.share, w.dwell, w.earliest, w.latest))
    # A pinned stop outweighs every unpinned one together: the planner drops it last.
    pinned = set(request.pinned)
    boost = {
        k: sum(s.prize for s in stops) + 1.0
        for k, ref in enumerate(refs)
        if places[ref.place].id in pinned
    }
    stops = [replace(s, prize=s.prize + boost.get(k, 0.0)) for k, s in enumerate(stops)]

    # Sites: the candidate places (site i is place i), then one per station used.
    station_ids = sorted({u.station for u in request.units})
    points = [(p.x, p.y) for p in places]
    points += [(float(stations[s].x), float(stations[s].y)) for s in station_ids]
    kinds = list(dict.fromkeys(u.kind for u in request.units))
    vertices: dict[UnitKind, list[int | None]] = {}
    snap_m: dict[UnitKind, list[float]] = {}
    for kind in kinds:
        snaps = snap(conn, settings, kind, points)
        vertices[kind] = [
            s.vertex if s.distance_m <= settings.routing.route_snap_max_m else None for s in snaps
        ]
        snap_m[kind] = [s.distance_m for s in snaps]
    units = []
    for unit in request.units:
        site = len(places) + station_ids.index(unit.station)
        if vertices[unit.kind][site] is None:
            msg = (
                f"unit {unit.name!r}: station {unit.station!r} is "
                f"{snap_m[unit.kind][site]:.0f} m from the {unit.kind} network "
                f"(limit {settings.routing.route_snap_max_m:.0f} m); build the network or move it"
            )
            raise InputError(msg)
        units.append(Unit(site, site, 0, horizon, kinds.index(unit.kind)))
    travel = np.stack([travel_matrix(conn, settings, kind, vertices[kind]) for kind in kinds])
    return Prepared(
        shift_start,
        shift_end,
        Instance(travel, stops, units),
        places,
        refs,
        stations,
        points,
        vertices,
        snap_m,
        left_out,
        total,
        boost,
    )


def run_solver(
    instance: Instance, solver: str, time_limit_s: float, *, progress: Progress | None = None
) -> list[list[int]]:
    """Each unit's stop order by ``solver`` (one of :data:`SOLVERS`).

    ``best`` runs PyVRP and OR-Tools side by side under the same time limit and keeps the
    better plan (more risk, then less travel); ``pyvrp`` and ``ortools`` run one of them;
    ``greedy`` is the nearest-neighbour baseline and ``exact`` the optimum of a small case.
    PyVRP's search ends early when ``progress`` is cancelled.
    """
    stop = progress.cancelled if progress is not None else None
    if solver == "exact":
        return solve_exact(instance)
    if solver == "greedy":
        return solve_greedy(instance)
    if solver == "pyvrp":
        return solve_pyvrp(instance, time_limit_s=time_limit_s, stop=stop)
    if solver == "ortools":
        return solve(instance, time_limit_s=time_limit_s)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [
            pool.submit(solve_pyvrp, instance, time_limit_s=time_limit_s, stop=stop),
            pool.submit(solve, instance, time_limit_s=time_limit_s),
        ]
        return better(instance, [a.result() for a in answers])


def _pins(built: Prepared, pinned: Sequence[str]) -> list[list[int]]:
    """The stops of each pinned place, in the order the dispatcher pinned them."""
    of_place: dict[str, list[int]] = {}
    for k in built.boost:
        of_place.setdefault(built.places[built.refs[k].place].id, []).append(k)
    return [of_place[p] for p in dict.fromkeys(pinned) if p in of_place]


def keep_pinned(
    instance: Instance, routes: Sequence[Sequence[int]], pins: Sequence[Sequence[int]]
) -> list[list[int]]:
    """``routes`` with every pinned place on them that fits, whatever the solver answered.

    ``pins`` lists, for each pinned place in the dispatcher's order, its stops (one per
    window); pins the solver planned stay. A place none of whose stops is planned is inserted
    where it loses the least unpinned risk, then adds the least travel: at each position of each
    unit's route, for each of its stops, the unpinned stops worth least are taken off until the
    route keeps its windows and the shift. A place that fits no route even with only the pinned
    stops on it stays out (:func:`_why_not` says why).
    """
    out = [list(order) for order in routes]
    pinned = {s for stops in pins for s in stops}
    for stops in pins:
        if any(s in order for order in out for s in stops):
            continue
        best: tuple[tuple[float, int], int, list[int]] | None = None
        for u, order in enumerate(out):
            for s in stops:
                for at in range(len(order) + 1):
                    trial = [*order[:at], s, *order[at:]]
                    while (timed := schedule(instance, u, trial)) is None:
                        loose = [k for k in trial if k not in pinned]
                        if not loose:
                            break
                        trial.remove(min(loose, key=lambda k: instance.stops[k].prize))
                    if timed is None:
                        continue
                    lost = collected(instance, [order]) - collected(instance, [trial])
                    key = (lost + instance.stops[s].prize, timed.travel)
                    if best is None or key < best[0]:
                        best = key, u, trial
        if best is not None:
            out[best[1]] = best[2]
    return out


def _why_not(built: Prepared, stop: int, settings: Settings) -> Why:
    """Why a stop is not on any route."""
    place = built.refs[stop].place
    if all(v[place] is None for v in built.vertices.values()):
        nearest = min(d[place] for d in built.snap_m.values())
        limit = settings.routing.route_snap_max_m
        return "off_network", {"distance_m": round(nearest), "limit_m": round(limit)}
    instance, ref = built.instance, built.refs[stop]
    units = range(len(instance.units))
    if ref.window is not None:
        site, latest = instance.stops[stop].site, instance.stops[stop].latest
        first = min(n.start + instance.time(n, n.start_site, site) for n in instance.units)
        if latest < first < UNREACHABLE:  # no path at all is told below
            zone = clock.zone(settings.timezone)
            arrive, allowed = (
                f"{(built.shift_start + timedelta(seconds=t)).astimezone(zone):%H:%M:%S}"
                for t in (first, latest)
            )
            params = {"window": ref.window, "arrive": arrive, "allowed": allowed}
            return "window_unreachable", params
    if all(schedule(instance, u, [stop]) is None for u in units):
        return "unreachable", {}
    if stop in built.boost:
        return "pinned_conflict", {}
    return "not_chosen", {}


def plan_routes(
    engine: Engine, settings: Settings, request: PlanRequest, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Plan, store and return routes for ``request`` (see :func:`get_plan` for the shape).

    Raises
    ------
    InputError
        A bad unit, station, candidate, shift or option (the message names it).
    PlanCancelledError
        ``progress`` was cancelled: nothing is stored.
    """
    zone = clock.zone(settings.timezone)
    report = progress or Progress()
    with engine.begin() as conn:
        report.stage("gather")
        built = prepare(conn, settings, request)
        shift_start, shift_end = built.shift_start, built.shift_end
        began = time.perf_counter()
        limit = request.time_limit_s or settings.routing.route_time_limit_s
        report.stage("solve", seconds=limit)
        routes = run_solver(built.instance, request.solver, limit, progress=report)
        routes = keep_pinned(built.instance, routes, _pins(built, request.pinned))
        seconds = time.perf_counter() - began
        if report.cancelled():
            msg = "the plan was cancelled before it was stored"
            raise PlanCancelledError(msg, code="plan_cancelled")
        report.stage("store")
        timed = timed_routes(built.instance, routes)
        visited = {s for order in routes for s in order}
        left_out = built.left_out + [
            _left(built.places[ref.place], ref.window, _why_not(built, k, settings))
            for k, ref in enumerate(built.refs)
            if k not in visited
        ]
        units_out = [
            _unit_result(built, u, unit, timed[u], shift_start, zone)
            for u, unit in enumerate(request.units)
        ]
        covered = sum(float(u["risk_covered"]) for u in units_out)
        result = {
            "shift": {"start": shift_start.isoformat(), "end": shift_end.isoformat()},
            "units": units_out,
            "left_out": left_out,
            "summary": {
                "solver": request.solver,
                "solve_s": round(seconds, 3),
                "candidates": len(built.places),
                "stops_considered": len(built.instance.stops),
                "stops_planned": len(visited),
                "risk_total": round(built.total, 6),
                "risk_covered": round(covered, 6),
                "share_covered": round(covered / built.total, 6) if built.total > 0 else None,
            },
        }
        plan_id = int(
            conn.execute(
                sql("routing_plan_insert", "geo.routing"),
                {
                    "region": settings.region,
                    "shift_start": shift_start,
                    "shift_end": shift_end,
                    "based_on": request.based_on,
                    "request": json.dumps(_request_json(request), ensure_ascii=False),
                    "result": json.dumps(result, ensure_ascii=False),
                },
            ).scalar_one()
        )
        _store_geometry(conn, settings, plan_id, request, built, routes)
    return get_plan(engine, settings, plan_id)


def _left(place: _Place, window: str | None, why: Why) -> dict[str, Any]:
    return {
        "candidate_id": place.id,
        "kind": place.kind,
        "label": place.label,
        "risk": place.risk,
        "window": window,
        "reason": REASONS[why[0]].format(**why[1]),
        "reason_code": why[0],
        "reason_params": why[1],
    }


def _unit_result(
    built: Prepared,
    u: int,
    unit: UnitInput,
    route: TimedRoute,
    shift_start: datetime,
    zone: ZoneInfo,
) -> dict[str, Any]:
    instance = built.instance
    start = instance.units[u].start
    stops = []
    for seq, visit in enumerate(route.visits, start=1):
        ref = built.refs[visit.stop]
        place = built.places[ref.place]
        # A gate open before the shift is held from the unit's arrival: its wait is the hold.
        begun = visit.arrival if ref.from_arrival else visit.start
        stops.append(
            {
                "seq": seq,
                "candidate_id": place.id,
                "kind": place.kind,
                "label": place.label,
                "risk": instance.stops[visit.stop].prize - built.boost.get(visit.stop, 0.0),
                "window": ref.window,
                "travel_s": visit.travel,
                "arrival": _iso(shift_start, visit.arrival, zone),
                "start": _iso(shift_start, begun, zone),
                "departure": _iso(shift_start, visit.departure, zone),
                "wait_s": begun - visit.arrival,
                "dwell_s": visit.departure - begun,
            }
        )
    return {
        "name": unit.name,
        "kind": unit.kind.value,
        "station": {"id": unit.station, "name": built.stations[unit.station].name},
        "depart": _iso(shift_start, start, zone),
        "return": _iso(shift_start, route.back, zone),
        "back_travel_s": route.back_travel,
        "duration_s": route.back - start,
        "travel_s": route.travel,
        "risk_covered": round(
            sum(instance.stops[v.stop].prize - built.boost.get(v.stop, 0.0) for v in route.visits),
            6,
        ),
        "stops": stops,
    }


def _request_json(request: PlanRequest) -> dict[str, Any]:
    out = asdict(request)
    out["shift_start"] = request.shift_start.isoformat()
    out["shift_end"] = request.shift_end.isoformat()
    out["units"] = [{**asdict(u), "kind": u.kind.value} for u in request.units]
    out["exclude"] = list(request.exclude)
    out["pinned"] = list(request.pinned)
    return out


def _store_geometry(
    conn: Connection,
    settings: Settings,
    plan_id: int,
    request: PlanRequest,
    built: Prepared,
    routes: Sequence[Sequence[int]],
) -> None:
    """Store each unit's stations and stops (points) and its legs' road paths.

    Stops carry their candidate id, stations none: the GeoJSON export tells them apart by it.
    """
    instance = built.instance
    rows: list[tuple[int, int, str | None, tuple[float, float]]] = []
    legs: dict[UnitKind, list[tuple[int, int, int, int]]] = {k: [] for k in built.vertices}
    for u, order in enumerate(routes):
        unit, vertices = instance.units[u], built.vertices[request.units[u].kind]
        sites = [unit.start_site, *(instance.stops[s].site for s in order), unit.end_site]
        ids = [None, *(built.places[instance.stops[s].site].id for s in order), None]
        rows += [(u, seq, ids[seq], built.points[site]) for seq, site in enumerate(sites)]
        for seq in range(1, len(sites)):
            a, b = vertices[sites[seq - 1]], vertices[sites[seq]]
            if a is not None and b is not None:
                legs[request.units[u].kind].append((u, seq, a, b))
    conn.execute(
        sql("routing_stops_insert", "geo.routing"),
        {
            "plan_id": plan_id,
            "srid": settings.srid,
            "units": [r[0] for r in rows],
            "seqs": [r[1] for r in rows],
            "candidates": [r[2] for r in rows],
            "xs": [r[3][0] for r in rows],
            "ys": [r[3][1] for r in rows],
        },
    )
    for kind, kind_legs in legs.items():
        store_legs(conn, settings, kind, plan_id=plan_id, legs=kind_legs)


def get_plan(engine: Engine, settings: Settings, plan_id: int) -> dict[str, Any]:
    """Return a stored plan.

    The shape: ``id``, ``created_at``, ``saved_at`` (None for a draft), ``based_on`` (the plan
    it re-planned), ``request`` (as asked), ``shift``, ``summary``, ``left_out`` (each with its
    ``reason``) and ``units``, each with its ``station`` (and its point), ``stops`` in order (with
    ``arrival``, ``start``, ``departure``, ``travel_s``, ``wait_s``, ``dwell_s``, ``risk`` and a
    point), ``legs`` (leg ``k`` ends at stop ``k``, the last at the station: ``travel_s``,
    ``distance_m``, ``edge_ids``), ``distance_m``, ``duration_s``, ``risk_covered`` and ``path``,
    the legs joined along the roads. Geometry is GeoJSON in EPSG:4326.

    Raises
    ------
    NotFoundError
        No plan has that id in this region.
    """
    with engine.connect() as conn:
        row = conn.execute(
            sql("routing_plan_get", "geo.routing"), {"id": plan_id, "region": settings.region}
        ).first()
    if row is None:
        msg = f"no route plan with id {plan_id}"
        raise NotFoundError(msg, code="plan_not_found", params={"id": plan_id})
    plan: dict[str, Any] = {
        "id": int(row.id),
        "created_at": row.created_at.isoformat(),
        "saved_at": row.saved_at.isoformat() if row.saved_at is not None else None,
        "based_on": row.based_on,
        "request": row.request,
        **row.result,
    }
    paths = {p["unit_index"]: p["geometry"] for p in row.paths}
    points = {(s["unit_index"], s["seq"]): s["geometry"] for s in row.stops}
    legs = {(leg["unit_index"], leg["seq"]): leg for leg in row.legs}
    for u, unit in enumerate(plan["units"]):
        unit["station"]["geometry"] = points.get((u, 0))
        unit["path"] = paths.get(u)
        travel = [s["travel_s"] for s in unit["stops"]] + [unit["back_travel_s"]]
        unit["legs"] = []
        for seq, seconds in enumerate(travel, start=1):
            leg = legs.get((u, seq), {"edge_ids": [], "distance_m": 0.0})
            unit["legs"].append(
                {
                    "seq": seq,
                    "travel_s": seconds,
                    "distance_m": float(leg["distance_m"]),
                    "edge_ids": leg["edge_ids"],
                }
            )
        for stop in unit["stops"]:
            stop["geometry"] = points.get((u, stop["seq"]))
            stop["distance_m"] = unit["legs"][stop["seq"] - 1]["distance_m"]
        unit["distance_m"] = round(sum(leg["distance_m"] for leg in unit["legs"]), 1)
    return plan


def plan_geojson(engine: Engine, settings: Settings, plan_id: int) -> str:
    """A stored plan as a GeoJSON FeatureCollection (paths, stations, stops), EPSG:4326."""
    with engine.connect() as conn:
        out = conn.execute(
            sql("routing_plan_geojson", "geo.routing"), {"id": plan_id, "region": settings.region}
        ).scalar()
    if out is None:
        msg = f"no route plan with id {plan_id}"
        raise NotFoundError(msg, code="plan_not_found", params={"id": plan_id})
    return str(out)
