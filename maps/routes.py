"""The route plan page: each unit's path in its own colour, numbered stops, the risk map beneath."""

from __future__ import annotations

import json
from datetime import date
from html import escape
from typing import Any

import folium
from branca.element import Element, Figure
from sqlalchemy import Engine

from geo.errors import NotFoundError
from geo.levels import Level
from geo.risk import risk_geojson
from geo.routing.plan import get_plan, plan_geojson
from geo.settings import Settings
from geo.simplify import simplify_coverage
from maps.assets import url
from maps.basemap import basemap, shift_collection
from maps.i18n import N_, Translator
from maps.pages import check_offline, offline_map, risk_underlay, unit_colour

PLAN_TITLE = N_("Patrol plan #%(id)s")


def _clock(iso: object) -> str:
    """``HH:MM`` of an ISO timestamp."""
    return str(iso)[11:16]


def _legend(plan: dict[str, Any], distances: dict[int, float], t: Translator) -> str:
    return t.env.get_template("route_legend.html").render(
        plan_id=int(plan["id"]),
        units=[
            {
                "colour": unit_colour(i),
                "name": unit["name"],
                "stops": len(unit["stops"]),
                "km": f"{distances.get(i, 0.0) / 1000:.1f}",
                "depart": _clock(unit["depart"]),
                "back": _clock(unit["return"]),
                "risk": f"{float(unit['risk_covered']):.1f}",
            }
            for i, unit in enumerate(plan["units"])
        ],
        left_out=len(plan["left_out"]),
    )


def routes_page(
    engine: Engine, settings: Settings, t: Translator, plan_id: int, *, today: date
) -> str:
    """Render a stored plan over the micro-grid risk map.

    Raises
    ------
    NotFoundError
        No plan has that id.
    """
    plan = get_plan(engine, settings, plan_id)
    routes = json.loads(plan_geojson(engine, settings, plan_id))
    try:
        micro = risk_geojson(
            engine, region=settings.region, level=Level.MICRO, as_of=today, settings=settings
        )
    except NotFoundError:  # no micro-grids loaded: the routes alone, on the background
        areas: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    else:
        areas, _ = simplify_coverage(json.loads(micro), tolerance_m=settings.maps.map_simplify_m)
    if basemap(settings.maps).gcj02:
        areas, routes = shift_collection(areas), shift_collection(routes)

    fmap, allowed = offline_map(settings, t)
    if areas["features"]:
        risk_underlay(areas, t).add_to(fmap)
    stations_drawn: set[int] = set()
    for feature in routes["features"]:
        props = feature["properties"]
        unit_index = int(props.get("unit_index", 0))
        colour = unit_colour(unit_index)
        if props["feature"] == "path":
            folium.GeoJson(
                feature,
                style_function=lambda _f, c=colour: {"color": c, "weight": 5, "opacity": 0.9},
                tooltip=escape(str(props.get("name", ""))),
            ).add_to(fmap)
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        if props["feature"] == "station":
            if unit_index in stations_drawn:  # the route ends where it began
                continue
            stations_drawn.add(unit_index)
            label, size = t._("Station (one character)"), 26
            station = props.get("station") or {}
            tip = escape(
                t._(
                    "%(unit)s: starts and returns at %(station)s",
                    unit=props.get("unit", ""),
                    station=station.get("name", ""),
                )
            )
        else:
            label, size = str(props.get("seq", "")), 24
            tip = (
                f"{escape(str(props.get('unit', '')))} #{escape(label)} "
                f"{escape(str(props.get('label') or props.get('candidate_id', '')))}<br>"
                + escape(
                    t._(
                        "arrive %(arrive)s · leave %(leave)s",
                        arrive=_clock(props.get("arrival")),
                        leave=_clock(props.get("departure")),
                    )
                )
            )
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                html=(
                    f'<div class="gs-stop" style="background:{colour};width:{size}px;'
                    f'height:{size}px;line-height:{size}px">{escape(label)}</div>'
                ),
                icon_size=(size, size),
                icon_anchor=(size // 2, size // 2),
            ),
            tooltip=tip,
        ).add_to(fmap)
    bounds = [
        [c[1], c[0]]
        for f in routes["features"]
        for c in (
            f["geometry"]["coordinates"]
            if f["geometry"]["type"] == "LineString"
            else [f["geometry"]["coordinates"]]
        )
    ]
    if bounds:
        fmap.fit_bounds(bounds, padding=(30, 30))
    root = fmap.get_root()
    if not isinstance(root, Figure):  # a folium Map's root is always its Figure
        msg = f"folium map root is a {type(root).__name__}, not a Figure"
        raise TypeError(msg)
    root.header.add_child(
        Element(
            f"<title>{escape(t._(PLAN_TITLE, id=plan_id))}</title>"
            '<link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{url("gridsafe/maps.css")}">'
        ),
        name="title",
    )
    distances = {
        int(f["properties"]["unit_index"]): float(f["properties"]["distance_m"])
        for f in routes["features"]
        if f["properties"]["feature"] == "path"
    }
    root.html.add_child(Element(_legend(plan, distances, t)))
    return check_offline(root.render(), allowed=allowed)
