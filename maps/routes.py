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
from maps.pages import check_offline, offline_map, risk_underlay, unit_colour


def _clock(iso: object) -> str:
    """``HH:MM`` of an ISO timestamp."""
    return escape(str(iso)[11:16])


def _legend(plan: dict[str, Any], distances: dict[int, float]) -> str:
    rows = []
    for i, unit in enumerate(plan["units"]):
        rows.append(
            "<tr>"
            f'<td><i style="background:{unit_colour(i)}"></i>{escape(str(unit["name"]))}</td>'
            f"<td>{len(unit['stops'])}</td>"
            f"<td>{distances.get(i, 0.0) / 1000:.1f} km</td>"
            f"<td>{_clock(unit['depart'])}–{_clock(unit['return'])}</td>"
            f"<td>{float(unit['risk_covered']):.1f}</td>"
            "</tr>"
        )
    left = len(plan["left_out"])
    return (
        '<div class="gs-legend gs-route-legend">'
        f"<h4>巡逻路线 Patrol plan #{int(plan['id'])}</h4>"
        "<table><tr><th>单位 Unit</th><th>停靠 Stops</th><th>距离 Distance</th>"
        "<th>时间 Time</th>"
        "<th>风险 Risk</th></tr>" + "".join(rows) + "</table>"
        f'<div class="gs-count">未安排的候选点 candidates left out: {left}</div>'
        "</div>"
    )


def routes_page(engine: Engine, settings: Settings, plan_id: int, *, today: date) -> str:
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
        areas, _ = simplify_coverage(json.loads(micro), tolerance_m=settings.map_simplify_m)
    if basemap(settings).gcj02:
        areas, routes = shift_collection(areas), shift_collection(routes)

    fmap, allowed = offline_map(settings)
    if areas["features"]:
        risk_underlay(areas).add_to(fmap)
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
            label, size = "站", 26
            station = props.get("station") or {}
            unit_name = escape(str(props.get("unit", "")))
            tip = f"{unit_name}: 出发/返回 {escape(str(station.get('name', '')))}"
        else:
            label, size = str(props.get("seq", "")), 24
            tip = (
                f"{escape(str(props.get('unit', '')))} #{escape(label)} "
                f"{escape(str(props.get('label') or props.get('candidate_id', '')))}<br>"
                f"到达 arrive {_clock(props.get('arrival'))} · "
                f"离开 leave {_clock(props.get('departure'))}"
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
            f"<title>巡逻路线 · plan {plan_id}</title>"
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
    root.html.add_child(Element(_legend(plan, distances)))
    return check_offline(root.render(), allowed=allowed)
