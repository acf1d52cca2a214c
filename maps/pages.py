"""The web pages: the four-colour risk map (folium) and the dashboard.

Offline by construction: folium's default CDN scripts and stylesheets are replaced by the app's
own copies (maps/assets.py), no folium plugin that pulls a CDN is used, and every rendered page
is checked for URLs that leave the app before it is served.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Environment, PackageLoader, Template, select_autoescape
from sqlalchemy import Engine

from geo import clock
from geo.errors import GridsafeError, NotFoundError
from geo.levels import Level
from geo.mapdata import (
    area_bounds,
    colour_counts,
    incident_points,
    incident_types,
    incidents_month_vs_last_year,
    level_counts,
    open_hazards,
)
from geo.risk import risk_geojson
from geo.settings import Settings
from geo.simplify import simplify_coverage
from maps.assets import external_urls, url
from maps.basemap import basemap, shift_collection, shift_points

LEVEL_NAMES: dict[Level, tuple[str, str]] = {
    Level.SUBDISTRICT: ("街道", "Sub-district"),
    Level.GRID2: ("二级网格", "Level-2 grid"),
    Level.GRID3: ("三级网格", "Level-3 grid"),
    Level.MICRO: ("微网格", "Micro-grid"),
}

# The four colours of the safety map, saturated enough to read on a wall screen through the
# fill opacity; names after the usual 四色 bands (重大/较大/一般/低风险).
COLOURS = {"red": "#e31a1c", "orange": "#ff8c00", "yellow": "#ffd700", "blue": "#1f63c6"}
COLOUR_NAMES = {
    "red": {"zh": "红", "en": "Red", "meaning_zh": "重大风险", "meaning_en": "major risk"},
    "orange": {"zh": "橙", "en": "Orange", "meaning_zh": "较大风险", "meaning_en": "high risk"},
    "yellow": {"zh": "黄", "en": "Yellow", "meaning_zh": "一般风险", "meaning_en": "moderate"},
    "blue": {"zh": "蓝", "en": "Blue", "meaning_zh": "低风险", "meaning_en": "low risk"},
}
NO_COLOUR = "#bdbdbd"
FILL_OPACITY = 0.72
BACKGROUND = "#f4f2ec"
"""The map's background colour (maps.css); with FILL_OPACITY it fixes the painted colours."""

HEAT_DAYS = 90
"""Default period of the incident heat layer: the 90 days up to the as-of date."""


class OfflineViolationError(GridsafeError):
    """A rendered page references a URL outside the app (a CDN left in a template)."""


def check_offline(html: str, *, allowed: tuple[str, ...] = ()) -> str:
    """Return ``html`` unchanged, or raise when it references a URL outside the app."""
    found = external_urls(html, allowed=allowed)
    if found:
        msg = f"page references {len(found)} URL(s) outside the app: {sorted(set(found))[:5]}"
        raise OfflineViolationError(msg)
    return html


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


class _RiskMapScript(JSCSSMixin, MacroElement):
    """Loads the app's Leaflet plugins and script, and starts the risk map on the folium map."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "gridsafeRiskMap({{ this._parent.get_name() }}, {{ this.config }});"
        "{% endmacro %}"
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "GridsafeRiskMap"
        self.default_js = [
            ("vectorgrid", url("vendor/vectorgrid/vectorgrid.js")),
            ("leaflet_heat", url("vendor/leaflet-heat/leaflet-heat.js")),
            ("gridsafe_risk", url("gridsafe/risk.js")),
        ]
        self.default_css = [("gridsafe_css", url("gridsafe/maps.css"))]
        self.config = _script_json(config)


def offline_map(settings: Settings) -> tuple[folium.Map, tuple[str, ...]]:
    """A folium map whose scripts come from the app, with the configured basemap."""
    base = basemap(settings)
    fmap = folium.Map(
        tiles=None,
        prefer_canvas=True,
        zoom_control=True,
        max_zoom=19,
        min_zoom=10,
    )
    # folium's defaults point at CDNs (jsdelivr, code.jquery.com, cdnjs, netdna); the page needs
    # only Leaflet itself: no jQuery, Bootstrap or awesome-markers is used.
    fmap.default_js = [("leaflet", url("vendor/leaflet/leaflet.js"))]
    fmap.default_css = [("leaflet_css", url("vendor/leaflet/leaflet.css"))]
    for layer in base.layers:
        folium.TileLayer(
            layer.url, attr=layer.attribution, subdomains=layer.subdomains, max_zoom=19
        ).add_to(fmap)
    return fmap, base.allowed


# One colour per unit, chosen to stand apart from the four risk colours beneath them.
UNIT_COLOURS = ["#6a3d9a", "#00838f", "#212121", "#c2185b", "#2e7d32", "#5d4037", "#283593"]


def unit_colour(index: int) -> str:
    """The colour of the ``index``-th patrol unit on a map."""
    return UNIT_COLOURS[index % len(UNIT_COLOURS)]


UNDERLAY_OPACITY = FILL_OPACITY * 0.6
"""Risk colours beneath routes and tracks: lighter than on the risk map so the lines stand out."""


def escape_fields(collection: dict[str, Any], fields: tuple[str, ...]) -> None:
    """HTML-escape, in place, the text values of ``fields`` in a FeatureCollection's features:
    folium's GeoJsonTooltip puts them into the page as HTML."""
    for feature in collection["features"]:
        props = feature["properties"]
        for name in fields:
            if isinstance(props.get(name), str):
                props[name] = html.escape(props[name])


def risk_underlay(
    areas: dict[str, Any],
    *,
    fields: tuple[str, ...] = ("name", "colour"),
    aliases: tuple[str, ...] = ("微网格", "颜色"),
) -> folium.GeoJson:
    """Micro-grids in their risk colours beneath other layers, with a tooltip of ``fields``.

    The tooltip's text values are HTML-escaped in ``areas`` (folium's tooltip sets them as
    HTML), so a name cannot inject markup.
    """
    escape_fields(areas, fields)
    return folium.GeoJson(
        areas,
        name="风险 Risk",
        style_function=lambda f: {
            "fillColor": COLOURS.get(f["properties"].get("colour") or "", NO_COLOUR),
            "fillOpacity": UNDERLAY_OPACITY,
            "color": "#ffffff",
            "weight": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(aliases)),
    )


def risk_page(
    engine: Engine,
    settings: Settings,
    *,
    level: Level,
    as_of: date,
    today: date,
    focus: str | None = None,
) -> str:
    """Render the four-colour map of one level as of a date.

    Up to ``settings.map_embed_max_features`` areas are embedded as GeoJSON (coverage-simplified,
    geo/simplify.py), with names as labels; above that the areas come from vector tiles.

    Raises
    ------
    NotFoundError
        No areas are loaded, or ``focus`` names no area.
    """
    counts = level_counts(engine, settings)
    if counts.bounds is None:
        msg = "no areas are loaded yet; import boundaries first (gridsafe import boundaries)"
        raise NotFoundError(msg)
    base = basemap(settings)
    n = counts.counts[level]
    mode = "embed" if n <= settings.map_embed_max_features else "tiles"
    areas = None
    if mode == "embed":
        collection = json.loads(
            risk_geojson(
                engine, region=settings.region, level=level, as_of=as_of, settings=settings
            )
        )
        areas, _ = simplify_coverage(collection, tolerance_m=settings.map_simplify_m)
        if base.gcj02:
            areas = shift_collection(areas)

    def frame(bounds: tuple[float, float, float, float]) -> list[list[float]]:
        west, south, east, north = bounds
        if base.gcj02:
            (west, south), (east, north) = shift_points([(west, south), (east, north)])
        return [[south, west], [north, east]]

    zh, en = LEVEL_NAMES[level]
    config = {
        "level": level.value,
        "level_name": f"{zh} {en}",
        "levels": [
            {"value": lv.value, "zh": LEVEL_NAMES[lv][0], "en": LEVEL_NAMES[lv][1], "count": c}
            for lv, c in counts.counts.items()
        ],
        "area_count": n,
        "as_of": as_of.isoformat(),
        "today": today.isoformat(),
        "period_from": (as_of - timedelta(days=HEAT_DAYS - 1)).isoformat(),
        "mode": mode,
        "areas": areas,
        "tile_url": f"/tiles/areas/{{z}}/{{x}}/{{y}}.mvt?level={level.value}&as_of={as_of}",
        "detail_url": "/api/risk/",
        "area_url": "/api/areas/",
        "hazards_url": "/maps/data/hazards",
        "incidents_url": "/maps/data/incidents",
        "colours": COLOURS,
        "colour_names": COLOUR_NAMES,
        "colour_counts": colour_counts(engine, settings, as_of=as_of)[level],
        "no_colour": NO_COLOUR,
        "fill_opacity": FILL_OPACITY,
        "background": base.background,
        "bounds": frame(counts.bounds),
        "focus_bounds": frame(area_bounds(engine, settings, focus)) if focus else None,
        "incident_types": incident_types(engine),
    }
    fmap, allowed = offline_map(settings)
    root = fmap.get_root()
    if not isinstance(root, Figure):  # a folium Map's root is always its Figure
        msg = f"folium map root is a {type(root).__name__}, not a Figure"
        raise TypeError(msg)
    root.header.add_child(
        # An empty inline icon: no /favicon.ico request, which would 404.
        Element(f'<title>四色安全图谱 · {zh} · {as_of}</title><link rel="icon" href="data:,">'),
        name="title",
    )
    root.html.add_child(Element('<div id="gs-detail" class="gs-detail" hidden></div>'))
    _RiskMapScript(config).add_to(fmap)
    return check_offline(root.render(), allowed=allowed)


def hazards_json(engine: Engine, settings: Settings, *, as_of: date) -> dict[str, Any]:
    """Open hazards as map markers (GCJ-02-shifted under an Amap basemap)."""
    hazards = open_hazards(engine, settings, as_of=as_of)
    points = [(h.lon, h.lat) for h in hazards]
    if basemap(settings).gcj02:
        points = shift_points(points)
    return {
        "hazards": [
            {
                "id": h.id,
                "name": h.name,
                "category": h.category,
                "method": h.method,
                "score": round(h.score, 1),
                "colour": h.colour.value,
                "area_code": h.area_code,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
            }
            for h, (lon, lat) in zip(hazards, points, strict=True)
        ]
    }


def incidents_heat_json(
    engine: Engine,
    settings: Settings,
    *,
    types: tuple[str, ...],
    date_from: date | None,
    date_to: date | None,
) -> dict[str, Any]:
    """Incident positions for the heat layer, ``[lat, lon]`` as Leaflet.heat takes them."""
    points = incident_points(engine, settings, types=types, date_from=date_from, date_to=date_to)
    if basemap(settings).gcj02:
        points = shift_points(points)
    return {"count": len(points), "points": [[round(y, 6), round(x, 6)] for x, y in points]}


TEMPLATES = Environment(
    loader=PackageLoader("maps", "templates"), autoescape=select_autoescape(), trim_blocks=True
)
"""The Jinja templates of ``maps/templates`` (every page that is not a folium map)."""


def dashboard_page(
    engine: Engine, settings: Settings, *, now: datetime, pages: list[tuple[str, str]]
) -> str:
    """Render the dashboard of the district's day holding ``now``: areas and colours per level,
    open hazards, incidents this month against the same days last year, and links to the map
    pages the app serves.

    Parameters
    ----------
    pages
        ``(title, path)`` of the other pages the app serves, linked from the dashboard.
    """
    today = now.astimezone(clock.zone(settings.timezone)).date()
    counts = level_counts(engine, settings)
    colours = colour_counts(engine, settings, as_of=today)
    hazards = open_hazards(engine, settings, as_of=today)
    hazard_colours = {c: sum(1 for h in hazards if h.colour.value == c) for c in COLOURS}
    months = incidents_month_vs_last_year(engine, settings, now=now)
    change = (
        None
        if months.last_year == 0
        else round(100.0 * (months.this_year - months.last_year) / months.last_year)
    )
    html = TEMPLATES.get_template("dashboard.html").render(
        today=today,
        region=settings.region,
        levels=[
            {
                "value": lv.value,
                "zh": LEVEL_NAMES[lv][0],
                "en": LEVEL_NAMES[lv][1],
                "count": counts.counts[lv],
                "colours": colours[lv],
                "scored": sum(colours[lv].values()),
            }
            for lv in Level
        ],
        colours=COLOURS,
        colour_names=COLOUR_NAMES,
        hazards_total=len(hazards),
        hazard_colours=hazard_colours,
        months=months,
        change=change,
        pages=pages,
        css=url("gridsafe/maps.css"),
    )
    return check_offline(html)
