"""The phone pages of grid heads and members: my area, cases, a case, report, check in,
hazards, a hazard's rectification and the grid's people.

Laid out for a 360 px touch screen first (one column, large targets, a tab bar at the top) and
wide enough on a desk. Every page links ``field.css`` and ``field.js`` (served by the app,
cached) and Leaflet only where a map is drawn; nothing comes from elsewhere. The words the
script shows come from the catalogue, handed to it in a JSON block.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import Engine

from geo import clock
from geo.access import User
from geo.cases import SQUADS, get_case, list_cases
from geo.errors import GridsafeError, NotFoundError
from geo.field.home import OPEN_CASE_STATES, area_summary, micro_grids
from geo.field.people import DUTIES, my_grids, roster
from geo.field.street import HAZARD_CATEGORIES, hazard, open_hazards
from geo.records import incident_types
from geo.settings import Settings
from maps.assets import asset_file, url
from maps.i18n import N_, Translator
from maps.pages import COLOURS, check_offline

STATES: dict[str, str] = {
    "received": N_("Received"),
    "dispatched": N_("Dispatched"),
    "handling": N_("Being handled"),
    "resolved": N_("Resolved"),
    "unresolved": N_("Not resolved"),
    "verified": N_("Verified"),
}
"""Each case state's name on the pages."""

MOVES: dict[str, str] = {
    "dispatched": N_("Dispatch to a squad"),
    "handling": N_("Start handling"),
    "resolved": N_("Mark resolved"),
    "unresolved": N_("Mark not resolved"),
    "verified": N_("Verify and close"),
}
"""The button of each move to a state."""

REOPEN: dict[str, str] = {
    "handling": N_("Reopen: handle again"),
    "dispatched": N_("Reopen: dispatch again"),
}
"""The button of each move that reopens a case (a reason is required)."""

SQUAD_NAMES: dict[str, str] = {
    "mediation": N_("Dispute mediation squad"),
    "inspection": N_("Hazard inspection squad"),
    "patrol": N_("Security patrol squad"),
}
"""A squad kind's name when the grid's roster gives none."""

POSTS: dict[str, str] = {
    "grid_head": N_("Grid head"),
    "building_head": N_("Building head"),
    "road_head": N_("Road-section head"),
    "member": N_("Member"),
    "secretary": N_("Secretary"),
}

RECTIFICATION: dict[str, str] = {
    "pending": N_("Not started"),
    "in_progress": N_("Under way"),
    "done": N_("Done"),
}

GAP_KINDS: dict[str, str] = {
    "weekly": N_("not visited this week"),
    "shift": N_("red/orange, not visited this shift"),
    "coverage": N_("low patrol coverage"),
}

SCRIPT_WORDS: dict[str, str] = {
    "waiting": N_("Waiting to be sent: %(n)s"),
    "sent": N_("Sent."),
    "saved": N_("No connection: kept on this phone, it will be sent when the connection returns."),
    "stale": N_(
        "Someone else changed this case meanwhile: it is now “%(state)s”. "
        "Reload the page and decide again."
    ),
    "refused": N_("Not done: %(detail)s"),
    "accuracy": N_("Position from the phone, accurate to about %(m)s m"),
    "tapped": N_("Position from the map"),
    "no_position": N_("Choose the position: tap the map or use the phone's position."),
    "no_geolocation": N_("The phone did not give its position: %(reason)s"),
    "locating": N_("Finding the phone's position…"),
    "checked_in": N_("Checked in at %(name)s."),
    "reason_needed": N_("Give the reason for reopening."),
    "no_photo": N_("No photo chosen"),
    "photos_chosen": N_("%(n)s photos chosen: %(names)s"),
    "too_many_photos": N_("Too many photos: at most %(n)s"),
}
"""What field.js says, by key (filled in the reader's language)."""


OFFLINE_PAGES = ("/field", "/field/cases", "/field/report", "/field/checkin")
"""The tab pages the service worker fetches when it is installed: they open with no connection
even before they were first opened."""

SERVICE_WORKER_SCOPE = "/field"
"""The pages the service worker answers for (``/field`` and below)."""


def _page_assets() -> list[str]:
    return [
        url(name)
        for name in (
            "gridsafe/maps.css",
            "gridsafe/field.css",
            "gridsafe/field.js",
            "vendor/leaflet/leaflet.css",
            "vendor/leaflet/leaflet.js",
        )
    ]


def service_worker(settings: Settings) -> str:
    """The service worker's script (``maps/static/field_sw.js``) with what it fetches when it is
    installed (the tab pages and their assets) and a version that changes with either."""
    path, _ = asset_file("gridsafe/field_sw.js", settings)
    script = path.read_text(encoding="utf-8")
    precache = [*OFFLINE_PAGES, *_page_assets()]
    version = hashlib.blake2b((script + json.dumps(precache)).encode(), digest_size=8).hexdigest()
    return f"var PRECACHE = {json.dumps(precache)};\nvar VERSION = {json.dumps(version)};\n{script}"


def photo_limits(settings: Settings) -> dict[str, Any]:
    """The photo limits the pages state (from ``settings.intake``): count, MB and megapixels."""
    intake = settings.intake
    return {
        "n": intake.photo_max_count,
        "mb": f"{round(intake.photo_max_bytes / 2**20, 2):g}",
        "mp": f"{round(intake.photo_max_pixels / 1e6, 1):g}",
    }


def refusal(t: Translator, exc: GridsafeError) -> str:
    """A refused write in the reader's language: where a point outside the area lies, else
    the error's own (English) words."""
    if exc.code == "outside_area":
        return t._(
            "This position is in micro-grid %(micro)s of grid %(grid)s, outside your area.",
            micro=exc.params["micro_name"],
            grid=exc.params["grid_name"],
        )
    if exc.code == "outside_district":
        return t._("This position is in no micro-grid of the district, outside your area.")
    return t._("Not done: %(detail)s", detail=str(exc))


def _words(t: Translator) -> Markup:
    words = {key: t._(message) for key, message in SCRIPT_WORDS.items()}
    data: dict[str, object] = {
        **words,
        "states": {s: t._(m) for s, m in STATES.items()},
        "colours": COLOURS,
    }
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - JSON with "<" escaped, inside a JSON script block


def _json(value: object) -> Markup:
    return Markup(json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c"))  # noqa: S704


def _render(
    t: Translator, template: str, *, title: str, tab: str, with_map: bool = False, **values: Any
) -> str:
    html = t.env.get_template(template).render(
        title=title,
        tab=tab,
        css=url("gridsafe/maps.css"),
        field_css=url("gridsafe/field.css"),
        field_js=url("gridsafe/field.js"),
        leaflet_js=url("vendor/leaflet/leaflet.js") if with_map else None,
        leaflet_css=url("vendor/leaflet/leaflet.css") if with_map else None,
        words=_words(t),
        colours=COLOURS,
        states=STATES,
        **values,
    )
    return check_offline(html)


def _local(settings: Settings, value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(clock.zone(settings.timezone))


def home_page(
    engine: Engine, settings: Settings, t: Translator, user: User, *, at: datetime
) -> str:
    """My area: micro-grids with colours, visits this week, gaps, open cases and hazards."""
    summary = area_summary(engine, settings, area=user.scope, at=at)
    for gap in summary["gaps"]:
        gap["kinds"] = [t._(GAP_KINDS[k]) for k in gap["gaps"] if k in GAP_KINDS]
        gap["last"] = _local(settings, gap.get("last_visit_at"))
    return _render(
        t,
        "field_home.html",
        title=t._("My area"),
        tab="home",
        with_map=True,
        s=summary,
        micro_json=_json(summary["micro"]),
        grids=my_grids(engine, settings),
    )


def _open_cases(
    engine: Engine, settings: Settings, area: str | None, at: datetime
) -> list[dict[str, Any]]:
    body = json.loads(list_cases(engine, settings, area=area, now=at, limit=10_000))
    cases = [f["properties"] for f in body["features"] if f["properties"]["state"] != "verified"]
    for case in cases:
        case["received"] = _local(settings, case["received_at"])
        case["deadline"] = _local(settings, case["deadline_at"])
    # Overdue first, then the newest received.
    cases.sort(key=lambda c: c["received_at"], reverse=True)
    cases.sort(key=lambda c: not c["overdue"])
    return cases


def cases_page(
    engine: Engine, settings: Settings, t: Translator, user: User, *, at: datetime
) -> str:
    """The cases of the caller's area not yet closed: overdue first, then newest."""
    cases = _open_cases(engine, settings, user.scope, at)
    return _render(
        t,
        "field_cases.html",
        title=t._("Cases"),
        tab="cases",
        cases=cases,
        open_states=OPEN_CASE_STATES,
    )


def _squads(
    engine: Engine, settings: Settings, t: Translator, grid: str | None
) -> list[dict[str, Any]]:
    named: dict[str, dict[str, Any]] = {}
    if grid is not None:
        try:
            named = {s["kind"]: s for s in roster(engine, settings, grid)["squads"]}
        except NotFoundError:
            named = {}
    out = []
    for kind in SQUADS:
        squad = named.get(kind)
        leader = next((m["name"] for m in squad["members"] if m["leads"]), None) if squad else None
        out.append(
            {
                "kind": kind,
                "name": squad["name"] if squad else t._(SQUAD_NAMES[kind]),
                "leader": leader,
            }
        )
    return out


def case_page(
    engine: Engine, settings: Settings, t: Translator, case_id: int, *, can_move: bool
) -> str:
    """A case: what, where, deadline, history, and the moves the caller may make."""
    case = get_case(engine, settings, case_id)
    squads = _squads(engine, settings, t, case.get("grid_code"))
    squad_names = {s["kind"]: s["name"] for s in squads}
    for event in case["events"]:
        event["when"] = _local(settings, event["at"])
        event["squad_name"] = squad_names.get(event["squad"]) if event["squad"] else None
    reopening = case["state"] in ("resolved", "unresolved", "verified")
    moves = [
        {"to": to, "label": t._(REOPEN[to] if reopening and to in REOPEN else MOVES[to])}
        for to in case["allowed"]
    ]
    return _render(
        t,
        "field_case.html",
        title=t._("Case %(id)s", id=case_id),
        tab="cases",
        case=case,
        received=_local(settings, case["received_at"]),
        deadline=_local(settings, case["deadline_at"]),
        squads=squads,
        squad_name=squad_names.get(case["squad"]) if case["squad"] else None,
        moves=moves if can_move else [],
        reopening=reopening,
        can_move=can_move,
    )


def report_page(engine: Engine, settings: Settings, t: Translator, user: User) -> str:
    """Report an incident or a hazard: position, type or category, description, photos."""
    micro = micro_grids(engine, settings, area=user.scope, at=clock.utcnow())
    return _render(
        t,
        "field_report.html",
        title=t._("Report"),
        tab="report",
        with_map=True,
        micro_json=_json(micro),
        types=incident_types(engine),
        categories=HAZARD_CATEGORIES,
        limits=photo_limits(settings),
    )


def checkin_page(
    engine: Engine, settings: Settings, t: Translator, user: User, *, at: datetime
) -> str:
    """Check in at the phone's position; this week's visits so far."""
    summary = area_summary(engine, settings, area=user.scope, at=at)
    return _render(
        t,
        "field_checkin.html",
        title=t._("Check in"),
        tab="checkin",
        with_map=True,
        s=summary,
        micro_json=_json(summary["micro"]),
    )


def hazards_page(engine: Engine, settings: Settings, t: Translator, user: User) -> str:
    """The open hazards of the caller's area, each linking to its rectification."""
    rows = open_hazards(engine, settings, area=user.scope)
    for row in rows:
        row["found"] = row["identified_at"].astimezone(clock.zone(settings.timezone))
    return _render(t, "field_hazards.html", title=t._("Open hazards"), tab="home", hazards=rows)


def hazard_page(engine: Engine, settings: Settings, t: Translator, hazard_id: int) -> str:
    """A hazard, its photos and its rectification steps, and the form for the next step."""
    found = hazard(engine, settings, hazard_id)
    return _render(
        t,
        "field_hazard.html",
        title=t._("Hazard %(id)s", id=hazard_id),
        tab="home",
        h=found,
        steps=RECTIFICATION,
        today=clock.today(settings.timezone),
        limits=photo_limits(settings),
    )


def grid_page(engine: Engine, settings: Settings, t: Translator, code: str) -> str:
    """A level-3 grid's people (三长九员一书记) and its three squads."""
    found = roster(engine, settings, code)
    people = found["people"]
    groups = [
        (t._(POSTS[post]), [p for p in people if p["post"] == post])
        for post in ("grid_head", "building_head", "road_head", "secretary")
    ]
    members = sorted(
        (p for p in people if p["post"] == "member"),
        key=lambda p: DUTIES.index(p["duty"]) if p["duty"] in DUTIES else len(DUTIES),
    )
    return _render(
        t,
        "field_grid.html",
        title=t._("The grid's people"),
        tab="home",
        r=found,
        groups=groups,
        members=members,
        squad_kinds={k: t._(v) for k, v in SQUAD_NAMES.items()},
    )
