"""The register page: patrol units (kind, home station, shifts) and stations, edited in place,
and the units seen in tracks that are not registered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geo import clock
from geo.coverage.periods import shift_names
from geo.settings import Settings
from maps.assets import url
from maps.i18n import N_, Translator
from maps.pages import check_offline

KIND_NAMES = {"foot": N_("On foot"), "bicycle": N_("Bicycle"), "vehicle": N_("Vehicle")}
"""How a unit moves, as a person reads it (the API keeps the words foot, bicycle, vehicle)."""
REGISTER_TEXT = {
    "failed": N_("Not saved:"),
    "name_needed": N_("Give the new unit a name."),
    "station_needed": N_("Give the station a number, a name, a longitude and a latitude."),
}


def kind_names(t: Translator) -> dict[str, str]:
    """Each unit kind's name in the reader's language."""
    return {k: t._(v) for k, v in KIND_NAMES.items()}


def fix_text(iso: str | None, settings: Settings, t: Translator) -> str:
    """A fix's time as the district reads it (date and ``HH:MM``), or "no fix"."""
    if iso is None:
        return t._("No fix")
    local = datetime.fromisoformat(iso).astimezone(clock.zone(settings.timezone))
    return f"{t.date(local.date())} {local:%H:%M}"


def units_page(
    settings: Settings,
    t: Translator,
    register: dict[str, list[dict[str, Any]]],
    stations: list[dict[str, Any]],
    *,
    can_edit: bool,
) -> str:
    """Render the register (from :func:`geo.routing.units.unit_register`) and the stations;
    unless ``can_edit``, a plain table with no form controls."""
    for unit in register["units"] + register["unregistered"]:
        unit["last_fix_text"] = fix_text(unit["last_fix"], settings, t)
    html = t.env.get_template("units.html").render(
        css=url("gridsafe/maps.css"),
        script=url("gridsafe/units.js"),
        units=register["units"],
        unregistered=register["unregistered"],
        stations=stations,
        station_names={s["poi_id"]: s["name"] for s in stations},
        kinds=list(kind_names(t).items()),
        kind_names=kind_names(t),
        shifts=list(enumerate(shift_names(settings.coverage), 1)),
        text={k: t._(v) for k, v in REGISTER_TEXT.items()},
        can_edit=can_edit,
    )
    return check_offline(html)
