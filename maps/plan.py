"""The planning page (``/maps/routes``) and the route sheet of one unit (A4, printable).

The planning page is a Leaflet map and a form; ``static/plan.js`` starts a plan as a background
job (``POST /api/routes/jobs``), shows its progress, can cancel it, then draws the plan: each
unit's path and numbered stops (spread apart where they crowd), a timetable per unit, the risk
covered against the ceiling of every stop considered, and every candidate left out with its
reason; stops are dropped and units removed, then the plan is re-planned and saved. The route
sheet is drawn on the server (an SVG of the path, no script), so it prints as it shows.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from geo.coverage.periods import shift_names
from geo.settings import Settings
from maps.assets import url
from maps.i18n import N_, Translator
from maps.pages import UNIT_COLOURS, check_offline, unit_colour
from maps.units_page import kind_names

CANDIDATE_KINDS = {
    "hotspot": N_("Hot spot"),
    "red": N_("Red area"),
    "orange": N_("Orange area"),
    "gap": N_("Coverage gap"),
    "school_gate": N_("School gate"),
    "point": N_("Own point"),
}
"""Why a stop is on the plan: the kind of candidate it came from."""

PLAN_TEXT = {
    "stage_queue": N_("Waiting to start…"),
    "stage_gather": N_("Gathering the candidate stops…"),
    "stage_solve": N_("Searching for the best routes… %(s)s s"),
    "stage_store": N_("Storing the plan…"),
    "cancelled": N_("Cancelled: nothing was stored."),
    "failed": N_("The plan failed: %(error)s"),
    "no_units": N_("Pick at least one unit."),
    "bad_point": N_("Own points, line %(line)s: write name, longitude, latitude, risk"),
    "title": N_("Patrol plan #%(id)s"),
    "summary": N_(
        "%(date)s %(start)s–%(end)s · risk covered %(covered)s of %(total)s (%(share)s) · "
        "%(planned)s of %(considered)s stops planned"
    ),
    "unit_head": N_("%(unit)s · %(station)s · %(depart)s–%(back)s · %(km)s km · risk %(risk)s"),
    "seq": N_("No."),
    "place": N_("Place"),
    "why": N_("Why"),
    "arrive": N_("Arrive"),
    "stay": N_("Stay"),
    "leave": N_("Leave"),
    "minutes": N_("%(n)s min"),
    "risk_window": N_("risk %(risk)s · window %(window)s"),
    "risk_only": N_("risk %(risk)s"),
    "drop": N_("Drop"),
    "pin": N_("Pin"),
    "pinned": N_("Pinned"),
    "dropped": N_("Dropped"),
    "remove_unit": N_("Remove unit"),
    "removed": N_("Removed"),
    "sheet": N_("Route sheet"),
    "left_title": N_("Left out (%(n)s)"),
    "reason": N_("Reason"),
    "kind": N_("Kind"),
    "saved": N_("Saved at %(time)s"),
    "open": N_("Open"),
    "draft": N_("Draft"),
    "no_plans": N_("No plan for this day yet."),
    "plan_row": N_("#%(id)s · %(start)s–%(end)s · %(units)s"),
    "not_reachable": N_("Cannot reach the server: %(error)s"),
    "status_reached": N_("Reached"),
    "status_late": N_("Late (%(min)s min)"),
    "status_missed": N_("Missed"),
    "status_pending": N_("Still ahead"),
    "review_summary": N_(
        "As of %(time)s: %(reached)s reached, %(late)s late, %(missed)s missed, %(pending)s "
        "still ahead · planned risk covered %(share)s"
    ),
    "stayed": N_("Stayed %(min)s min"),
    "reason_dwell_too_long": N_("Its stay of %(dwell_s)s s is longer than the shift"),
    "reason_windows_outside": N_("Its time windows (%(windows)s) are outside the shift"),
    "reason_no_window_fits": N_("No time window (%(windows)s) fits inside the shift"),
    "reason_off_network": N_(
        "Off the road network: %(distance_m)s m from the nearest road (limit %(limit_m)s m)"
    ),
    "reason_window_unreachable": N_(
        "No unit can reach it within its window (%(window)s): the earliest arrival is "
        "%(arrive)s, the latest it allows %(allowed)s"
    ),
    "reason_unreachable": N_(
        "No unit can reach it, stay and return to its station within the shift"
    ),
    "reason_not_chosen": N_("Not chosen: the units' time went to stops covering more risk"),
    "reason_pinned_conflict": N_(
        "Pinned, but no unit can serve it together with the other pinned stops"
    ),
}
"""Every word plan.js writes, translated on the server into the page's config."""


def planning_page(
    settings: Settings,
    t: Translator,
    *,
    register: dict[str, list[dict[str, Any]]],
    today: date,
    current_shift: int,
    plan_id: int | None,
    can_edit: bool,
) -> str:
    """The planning page for the registered units, opening on ``today``'s ``current_shift``
    (or on plan ``plan_id``); its plan, re-plan and save buttons work when ``can_edit``."""
    starts = sorted(settings.coverage.shift_start_hours)
    ends = [*starts[1:], 24]
    shifts = [
        {"number": i, "name": name, "start": s, "hours": e - s}
        for i, (name, s, e) in enumerate(
            zip(shift_names(settings.coverage), starts, ends, strict=True), 1
        )
    ]
    units = register["units"]
    config = {
        "text": {k: t._(v) for k, v in PLAN_TEXT.items()},
        "kinds": {k: t._(v) for k, v in CANDIDATE_KINDS.items()},
        "shifts": shifts,
        "units": units,
        "colours": UNIT_COLOURS,
        "plan_id": plan_id,
        "poll_ms": 400,
    }
    html = t.env.get_template("plan.html").render(
        css=url("gridsafe/maps.css"),
        leaflet_css=url("vendor/leaflet/leaflet.css"),
        leaflet_js=url("vendor/leaflet/leaflet.js"),
        spread_js=url("gridsafe/spread.js"),
        script=url("gridsafe/plan.js"),
        today=today.isoformat(),
        shifts=shifts,
        current_shift=current_shift,
        units=units,
        kind_names=kind_names(t),
        time_limit=round(settings.routing.route_time_limit_s),
        can_edit=can_edit,
        config=config,
    )
    return check_offline(html)


SHEET_W, SHEET_H, SHEET_PAD = 680.0, 420.0, 24.0
"""The sheet's map: an SVG box of this size (px at 96 dpi: fits an A4 page's width)."""


def _projector(points: list[list[float]]) -> Any:
    """Lon/lat to the sheet's SVG box: equirectangular scaled by cos(latitude), which at a
    sub-district's few kilometres differs from any conformal projection by far less than a
    stroke's width."""
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    k = math.cos(math.radians(sum(lats) / len(lats)))
    w = max((max(lons) - min(lons)) * k, 1e-6)
    h = max(max(lats) - min(lats), 1e-6)
    scale = min((SHEET_W - 2 * SHEET_PAD) / w, (SHEET_H - 2 * SHEET_PAD) / h)
    x0, y1 = min(lons), max(lats)

    def project(p: list[float]) -> tuple[float, float]:
        return (
            round(SHEET_PAD + (p[0] - x0) * k * scale, 1),
            round(SHEET_PAD + (y1 - p[1]) * scale, 1),
        )

    return project


def sheet_page(settings: Settings, t: Translator, plan: dict[str, Any], unit_index: int) -> str:
    """The route sheet of the plan's unit ``unit_index``: its map and timetable, for A4."""
    unit = plan["units"][unit_index]
    path = (unit.get("path") or {}).get("coordinates") or []
    station = (unit["station"].get("geometry") or {}).get("coordinates")
    stops = [s for s in unit["stops"] if s.get("geometry")]
    everything = (
        path + [s["geometry"]["coordinates"] for s in stops] + ([station] if station else [])
    )
    project = _projector(everything) if everything else None
    svg_path = " ".join(f"{x},{y}" for x, y in map(project, path)) if project else ""
    marks = (
        [{"seq": s["seq"], "xy": project(s["geometry"]["coordinates"])} for s in stops]
        if project
        else []
    )
    rows = [
        {
            "seq": s["seq"],
            "label": s["label"],
            "why": t._(CANDIDATE_KINDS.get(s["kind"], s["kind"])),
            "risk": f"{float(s['risk']):.1f}",
            "window": s.get("window"),
            "arrive": s["arrival"][11:16],
            "start": s["start"][11:16],
            "leave": s["departure"][11:16],
            "stay": round(int(s["dwell_s"]) / 60),
        }
        for s in unit["stops"]
    ]
    html = t.env.get_template("route_sheet.html").render(
        css=url("gridsafe/maps.css"),
        plan=plan,
        unit=unit,
        unit_index=unit_index,
        colour=unit_colour(unit_index),
        day=plan["shift"]["start"][:10],
        shift_from=plan["shift"]["start"][11:16],
        shift_to=plan["shift"]["end"][11:16],
        kind_name=kind_names(t).get(unit["kind"], unit["kind"]),
        rows=rows,
        width=SHEET_W,
        height=SHEET_H,
        path=svg_path,
        marks=marks,
        station=project(station) if project and station else None,
        km=f"{float(unit.get('distance_m', 0.0)) / 1000:.1f}",
    )
    return check_offline(html)
