"""The web pages: the four-colour risk map (folium) and the dashboard.

Offline by construction: folium's default CDN scripts and stylesheets are replaced by the app's
own copies (maps/assets.py), no folium plugin that pulls a CDN is used, and every rendered page
is checked for URLs that leave the app before it is served.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template
from sqlalchemy import Engine

from geo import clock
from geo.errors import GridsafeError, NotFoundError
from geo.labels import area_labels
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
from geo.risk import AreaChange, Rule, Weight, composite_view, risk_changes, risk_geojson
from geo.risk.composite import Banding, CompositeView
from geo.settings import Settings
from geo.simplify import simplify_coverage
from maps.assets import external_urls, url
from maps.basemap import basemap, shift_collection, shift_points
from maps.i18n import N_, Translator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maps.chrome import NavLink

# The four colours of the safety map, saturated enough to read on a wall screen through the
# fill opacity; their names are in the catalogue (maps/i18n.py).
COLOURS = {"red": "#e31a1c", "orange": "#ff8c00", "yellow": "#ffd700", "blue": "#1f63c6"}
NO_COLOUR = "#bdbdbd"
FILL_OPACITY = 0.72
BACKGROUND = "#f4f2ec"
"""The map's background colour (maps.css); with FILL_OPACITY it fixes the painted colours."""

INCIDENT_MARKER_ZOOM = 17
"""From this zoom on, the incidents under the heat layer are also drawn as markers that show
their type and time when pointed at (a street block fills the screen)."""

HEAT_DAYS = 90
"""Default period of the incident heat layer: the 90 days up to the as-of date."""


RISK_MAP_TEXT: dict[str, str] = {
    "title": N_("Four-colour safety map"),
    "subtitle": N_("%(level)s · as of %(date)s · %(n)s areas"),
    "tiles": N_("vector tiles"),
    "legend": N_("Risk level"),
    "level": N_("Level"),
    "as_of": N_("As of"),
    "layers": N_("Layers"),
    "hazards": N_("Hazards"),
    "incidents": N_("Incidents"),
    "heat": N_("Incident heat"),
    "types": N_("Incident types"),
    "from": N_("From"),
    "to": N_("To"),
    "apply": N_("Apply"),
    "heat_count": N_("%(n)s incidents"),
    "score": N_("Risk score %(score)s"),
    "previous": N_("Previous"),
    "reason_hazard": N_("Hazard %(name)s (%(colour)s, %(method)s %(score)s)"),
    "reason_hotspot": N_("Hot spot (Gi* z %(z)s)"),
    "reason_child": N_("Worst child area %(name)s (%(colour)s)"),
    "close": N_("Close"),
    "why": N_("Why this colour"),
    "children": N_("Child areas (%(n)s)"),
    "show_children": N_("Show the child areas on the map"),
    "open_hazards": N_("Open hazards (%(n)s)"),
    "recent_incidents": N_("Recent incidents (%(n)s)"),
    "trend": N_("Trend"),
    "name": N_("Name"),
    "colour": N_("Colour"),
    "score_short": N_("Score"),
    "category": N_("Category"),
    "assessment": N_("Assessment"),
    "type": N_("Type"),
    "count": N_("Count"),
    "none": N_("None"),
    "loading": N_("Loading %(code)s…"),
    "rule": N_("Colour rule"),
    "red_children": N_("Red child areas (%(n)s): %(names)s"),
    "orange_children": N_("Orange child areas (%(n)s): %(names)s"),
    "worst_colour": N_("Worst child's colour %(colour)s"),
    "changed": N_("%(before)s → %(after)s"),
    "poster_A3": N_("A3 poster (PDF)"),
    "poster_A1": N_("A1 poster (PDF)"),
    "unchanged": N_("Unchanged"),
    "cannot_load": N_("Cannot load: %(error)s"),
}
"""Every word risk.js writes, translated on the server into the page's config (``text``);
``%(name)s`` placeholders are filled by the script."""


RULE_NAMES: dict[tuple[Rule, Weight], str] = {
    (Rule.WORST, Weight.AREA): N_("Worst child"),
    (Rule.COMPOSITE, Weight.AREA): N_("Composite, area-weighted"),
    (Rule.COMPOSITE, Weight.POPULATION): N_("Composite, population-weighted"),
}
"""The colour rules a leader chooses between on the risk map (geo/risk/composite.py)."""

RULE_WORST = N_("A parent takes its worst child's colour")
RULE_BANDS = {
    Banding.QUARTILES: N_(
        "Own score by quartiles of this level: red > %(red)s, orange > %(orange)s, "
        "yellow > %(yellow)s"
    ),
    Banding.SCORE: N_(
        "Own score in fixed bands: red ≥ %(red)s, orange ≥ %(orange)s, yellow ≥ %(yellow)s"
    ),
}
"""What the legend says about the rule shown."""

POSTER_TEXT = {
    "table": N_("Red and orange areas"),
    "reasons": N_("Main reasons"),
    "area": N_("Area"),
    "colour": N_("Colour"),
    "more": N_("… and %(n)s more"),
    "north": N_("N"),
    "title": N_("%(district)s four-colour safety map"),
    "subtitle": N_("%(level)s · as of %(date)s · %(rule)s"),
}
"""The words of the map on paper: the poster (maps/poster.py) and the page's print layout."""

TABLE_ROWS = 28
"""Rows of the table of red and orange areas on paper (the poster's type grows with the paper,
so on A1 too)."""


def district_name(engine: Engine, settings: Settings, as_of: date) -> str:
    """The name of the sub-district the caller sees (the region's key when none is loaded)."""
    top = json.loads(
        risk_geojson(
            engine, region=settings.region, level=Level.SUBDISTRICT, as_of=as_of, settings=settings
        )
    )
    return str(top["features"][0]["properties"]["name"]) if top["features"] else settings.region


def main_reasons(t: Translator, props: dict[str, Any], types: dict[str, str]) -> str:
    """An area's main reasons in a line: its first hazards and incident types, else its red and
    orange children. ``types`` names the incident types."""
    r = props.get("reasons") or {}
    parts = [str(h["name"]) for h in r.get("hazards", [])[:2]]
    parts += [f"{types.get(i['type'], i['type'])}×{i['count']}" for i in r.get("incidents", [])[:2]]
    if not parts:
        parts = [
            f"{k['name']}（{t.colour(k['colour'])}）"
            for k in r.get("children", [])[:2]
            if k["colour"] in ("red", "orange")
        ]
    return "、".join(parts)


def red_orange_rows(
    t: Translator, areas: Sequence[dict[str, Any]], types: dict[str, str]
) -> list[tuple[str, str, str]]:
    """The table of the map on paper: (name, colour, main reasons) of the red and orange areas
    among ``areas`` (features' properties), red first, then by falling score."""
    rows = sorted(
        (p for p in areas if p["colour"] in ("red", "orange")),
        key=lambda p: (p["colour"] != "red", -(p["score"] or 0), p["code"]),
    )
    return [(str(p["name"]), str(p["colour"]), main_reasons(t, p, types)) for p in rows]


def _print_sheet(
    engine: Engine,
    settings: Settings,
    t: Translator,
    config: dict[str, Any],
    collection: dict[str, Any] | None,
    composite: CompositeView | None,
) -> str:
    """What only printing shows of the risk page (maps.css @media print), as on the poster: the
    title with the district's name and the date, and the table of the red and orange areas in
    the colours shown (of ``collection``, the level's areas; none when they are not embedded).
    ``config`` is the page's."""
    shown = [f["properties"] for f in collection["features"]] if collection else []
    if composite is not None:
        shown = [
            {
                **p,
                "colour": composite.areas[p["code"]][0].value,
                "score": composite.areas[p["code"]][1],
            }
            for p in shown
            if p["code"] in composite.areas
        ]
    types = {k["code"]: k["name"] for k in config["incident_types"]}
    rows = red_orange_rows(t, shown, types)
    as_of = date.fromisoformat(config["as_of"])
    title = t._(POSTER_TEXT["title"], district=district_name(engine, settings, as_of))
    subtitle = t._(
        POSTER_TEXT["subtitle"],
        level=config["level_name"],
        date=config["as_of_text"],
        rule=config["rule_name"],
    )
    cells = "".join(
        f'<tr class="gs-{colour}"><td>{html.escape(name)}</td><td>{html.escape(t.colour(colour))}'
        f"</td><td>{html.escape(reasons)}</td></tr>"
        for name, colour, reasons in rows[:TABLE_ROWS]
    )
    more = (
        f"<p>{html.escape(t._(POSTER_TEXT['more'], n=len(rows) - TABLE_ROWS))}</p>"
        if len(rows) > TABLE_ROWS
        else ""
    )
    head = "".join(
        f"<th>{html.escape(t._(POSTER_TEXT[key]))}</th>" for key in ("area", "colour", "reasons")
    )
    return (
        f'<header class="gs-print-head"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)}</p></header>"
        f'<section class="gs-print-table"><h2>{html.escape(t._(POSTER_TEXT["table"]))}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>{more}</section>"
    )


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
        super().__init__()  # type: ignore[no-untyped-call, unused-ignore]
        self._name = "GridsafeRiskMap"
        self.default_js = [
            ("vectorgrid", url("vendor/vectorgrid/vectorgrid.js")),
            ("leaflet_heat", url("vendor/leaflet-heat/leaflet-heat.js")),
            ("gridsafe_risk", url("gridsafe/risk.js")),
        ]
        self.default_css = [("gridsafe_css", url("gridsafe/maps.css"))]
        self.config = _script_json(config)


class _Attribution(MacroElement):
    """The map's corner names the app and the data source only (not Leaflet's default
    prefix and flag)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix }});"
        "{% for source in this.sources %}"
        "{{ this._parent.get_name() }}.attributionControl.addAttribution({{ source }});"
        "{% endfor %}"
        "{% endmacro %}"
    )

    def __init__(self, prefix: str, sources: list[str]) -> None:
        super().__init__()  # type: ignore[no-untyped-call, unused-ignore]
        self._name = "GridsafeAttribution"
        self.prefix = _script_json(html.escape(prefix))
        self.sources = [_script_json(html.escape(s)) for s in sources]


def offline_map(settings: Settings, t: Translator) -> tuple[folium.Map, tuple[str, ...]]:
    """A folium map whose scripts come from the app, with the configured basemap and an
    attribution naming the app and the data source."""
    base = basemap(settings.maps)
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
            layer.url, attr=t._(layer.attribution), subdomains=layer.subdomains, max_zoom=19
        ).add_to(fmap)
    district = t._("Data: the district's grid records")
    _Attribution(t._("Grid safety"), [district]).add_to(fmap)
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


UNDERLAY_TOOLTIP = {"name": N_("Micro-grid"), "colour_name": N_("Colour")}


def risk_underlay(
    areas: dict[str, Any], t: Translator, *, tooltip: dict[str, str] = UNDERLAY_TOOLTIP
) -> folium.GeoJson:
    """Micro-grids in their risk colours beneath other layers, with a tooltip of the
    ``tooltip`` fields (property: catalogue message).

    Each feature gets ``colour_name``, its colour's name in the page's language. The tooltip's
    text values are HTML-escaped in ``areas`` (folium's tooltip sets them as HTML), so a name
    cannot inject markup.
    """
    for feature in areas["features"]:
        props = feature["properties"]
        props["colour_name"] = t.colour(props.get("colour"))
    escape_fields(areas, tuple(tooltip))
    return folium.GeoJson(
        areas,
        name=t._("Risk"),
        style_function=lambda f: {
            "fillColor": COLOURS.get(f["properties"].get("colour") or "", NO_COLOUR),
            "fillOpacity": UNDERLAY_OPACITY,
            "color": "#ffffff",
            "weight": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=list(tooltip), aliases=[t._(alias) for alias in tooltip.values()]
        ),
    )


def risk_page(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    level: Level,
    as_of: date,
    today: date,
    focus: str | None = None,
    rule: Rule = Rule.WORST,
    weight: Weight | None = None,
    since: date | None = None,
) -> str:
    """Render the four-colour map of one level as of a date, its parents coloured by ``rule``
    (micro-grids always by their own colour; geo/risk/composite.py), the composite view's score
    weighted by ``weight`` (default ``settings.risk.risk_composite_weight``). With ``since``,
    the map shows what changed from the stored map of that date to ``as_of``: the areas that
    changed in their new colour, outlined by direction, and a ranked list with the reasons.

    Up to ``settings.maps.map_embed_max_features`` areas are embedded as GeoJSON
    (coverage-simplified, geo/simplify.py); above that the areas come from vector tiles. Either
    way the names come with their places inside the areas (geo/labels.py); the page shows those
    that fit.

    Raises
    ------
    NotFoundError
        No areas are loaded, or ``focus`` names no area.
    """
    counts = level_counts(engine, settings)
    if counts.bounds is None:
        msg = "no areas are loaded yet; import boundaries first (gridsafe import boundaries)"
        raise NotFoundError(msg, code="no_areas")
    base = basemap(settings.maps)
    n = counts.counts[level]
    mode = "embed" if n <= settings.maps.map_embed_max_features else "tiles"
    areas = collection = None
    if mode == "embed":
        collection = json.loads(
            risk_geojson(
                engine, region=settings.region, level=level, as_of=as_of, settings=settings
            )
        )
        areas, _ = simplify_coverage(collection, tolerance_m=settings.maps.map_simplify_m)
        if base.gcj02:
            areas = shift_collection(areas)

    if level is Level.MICRO:
        rule = Rule.WORST
    # The worst-child rule weighs nothing; its one entry in RULE_NAMES is the area's.
    if rule is Rule.WORST:
        weight = Weight.AREA
    elif weight is None:
        weight = Weight(settings.risk.risk_composite_weight)
    composite = (
        composite_view(engine, settings, level=level, as_of=as_of, weight=weight)
        if rule is Rule.COMPOSITE
        else None
    )
    if composite is None:
        rule_text = t._(RULE_WORST)
    else:
        red, orange, yellow = (f"{b:.1f}" for b in composite.bands)
        rule_text = t._(RULE_BANDS[composite.banding], red=red, orange=orange, yellow=yellow)
    changes = (
        _changes_section(engine, settings, t, level=level, since=since, until=as_of)
        if since
        else None
    )
    if changes is not None and changes["missing"]:
        msg = f"no stored risk map answers {since} or {as_of}"
        raise NotFoundError(msg, code="no_risk_run")
    labels = area_labels(engine, settings, level)
    label_points = [(lb.lon, lb.lat) for lb in labels]
    if base.gcj02:
        label_points = shift_points(label_points)

    def frame(bounds: tuple[float, float, float, float]) -> list[list[float]]:
        west, south, east, north = bounds
        if base.gcj02:
            (west, south), (east, north) = shift_points([(west, south), (east, north)])
        return [[south, west], [north, east]]

    config = {
        "level": level.value,
        "level_name": t.level(level),
        # Only the levels the caller has areas at (a grid head's scope starts at level 3).
        "levels": [
            {"value": lv.value, "name": t.level(lv), "count": c}
            for lv, c in counts.counts.items()
            if c or lv == level
        ],
        "area_count": n,
        "as_of": as_of.isoformat(),
        "as_of_text": t.date(as_of),
        "today": today.isoformat(),
        "period_from": (as_of - timedelta(days=HEAT_DAYS - 1)).isoformat(),
        "mode": mode,
        "areas": areas,
        "labels": [
            {
                "lines": lb.lines,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "r": round(lb.radius_m, 1),
                "hw": round(lb.half_width_m, 1),
                "hh": round(lb.half_height_m, 1),
            }
            for lb, (lon, lat) in zip(labels, label_points, strict=True)
        ],
        "tile_url": f"/tiles/areas/{{z}}/{{x}}/{{y}}.mvt?level={level.value}&as_of={as_of}",
        "detail_url": "/api/risk/",
        "area_url": "/api/areas/",
        "hazards_url": "/maps/data/hazards",
        "incidents_url": "/maps/data/incidents",
        "incident_marker_zoom": INCIDENT_MARKER_ZOOM,
        "colours": COLOURS,
        "colour_names": {c: {"name": t.colour(c), "meaning": t.meaning(c)} for c in COLOURS},
        "text": {key: t._(message) for key, message in RISK_MAP_TEXT.items()},
        "colour_counts": (
            composite.counts() if composite else colour_counts(engine, settings, as_of=as_of)[level]
        ),
        "rule": rule.value,
        "weight": weight.value,
        "rule_name": t._(CHANGES_NAME) if changes else t._(RULE_NAMES[rule, weight]),
        "rule_text": rule_text,
        "changes": changes["rows"] if changes else None,
        "changes_title": (
            t._(
                CHANGES_TITLE,
                since=t.date(changes["since_run"]),
                until=t.date(changes["until_run"]),
                up=changes["up"],
                down=changes["down"],
            )
            if changes
            else None
        ),
        # The choices of rule; none at the micro-grids, which have no children.
        "rules": [
            {"rule": r.value, "weight": w.value, "name": t._(name)}
            for (r, w), name in RULE_NAMES.items()
        ]
        if level is not Level.MICRO
        else [],
        "composite": (
            {
                code: [colour.value, None if own is None else round(own, 2)]
                for code, (colour, own) in composite.areas.items()
            }
            if composite
            else None
        ),
        "no_colour": NO_COLOUR,
        "fill_opacity": FILL_OPACITY,
        "background": base.background,
        "bounds": frame(counts.bounds),
        "focus_bounds": frame(area_bounds(engine, settings, focus)) if focus else None,
        "incident_types": [
            {"code": k["code"], "name": k["name_zh"] if t.language == "zh_CN" else k["name_en"]}
            for k in incident_types(engine)
        ],
    }
    fmap, allowed = offline_map(settings, t)
    root = fmap.get_root()
    if not isinstance(root, Figure):  # a folium Map's root is always its Figure
        msg = f"folium map root is a {type(root).__name__}, not a Figure"
        raise TypeError(msg)
    root.header.add_child(
        # An empty inline icon: no /favicon.ico request, which would 404.
        Element(
            "<title>"
            + html.escape(" · ".join((t._(RISK_MAP_TEXT["title"]), t.level(level), t.date(as_of))))
            + '</title><link rel="icon" href="data:,">'
        ),
        name="title",
    )
    root.html.add_child(Element('<div id="gs-detail" class="gs-detail" hidden></div>'))
    root.html.add_child(
        Element(_print_sheet(engine, settings, t, config, collection, composite)), name="print"
    )
    _RiskMapScript(config).add_to(fmap)
    return check_offline(root.render(), allowed=allowed)


def hazards_json(engine: Engine, settings: Settings, *, as_of: date) -> dict[str, Any]:
    """Open hazards as map markers (GCJ-02-shifted under an Amap basemap)."""
    hazards = open_hazards(engine, settings, as_of=as_of)
    points = [(h.lon, h.lat) for h in hazards]
    if basemap(settings.maps).gcj02:
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
    """Incident positions for the heat layer, ``[lat, lon]`` as Leaflet.heat takes them, and
    beside each (``details``) its type and local time, for the markers shown on zoom."""
    found = incident_points(engine, settings, types=types, date_from=date_from, date_to=date_to)
    points = [(p.lon, p.lat) for p in found]
    if basemap(settings.maps).gcj02:
        points = shift_points(points)
    tz = clock.zone(settings.timezone)
    return {
        "count": len(points),
        "points": [[round(y, 6), round(x, 6)] for x, y in points],
        "details": [
            [p.type, p.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")] for p in found
        ],
    }


CHANGE_DAYS = 7
"""The dashboard compares today's map with the map of this many days before."""

CHANGES_NAME = N_("What changed on the map")
CHANGES_TITLE = N_("Maps of %(since)s and %(until)s: %(up)s areas up, %(down)s down.")

CHANGE_REASONS = {
    "hazard_new": N_("New hazard %(name)s (%(colour)s)"),
    "hazard_gone": N_("Hazard no longer open: %(name)s"),
    "incidents": N_("%(type)s incidents %(before)s → %(after)s"),
    "child_new": N_("Child area now %(colour)s: %(name)s"),
    "child_gone": N_("Child area no longer red or orange: %(name)s"),
}
"""How the dashboard says why an area's colour changed."""


def change_reasons(change: AreaChange, t: Translator, type_names: dict[str, str]) -> list[str]:
    """The reasons behind one area's change of colour, in the reader's language."""
    out = [
        t._(CHANGE_REASONS["hazard_new"], name=h["name"], colour=t.colour(h["colour"]))
        for h in change.hazards_new
    ]
    out += [t._(CHANGE_REASONS["hazard_gone"], name=h["name"]) for h in change.hazards_gone]
    out += [
        t._(
            CHANGE_REASONS["incidents"],
            type=type_names.get(c.type, c.type),
            before=c.before,
            after=c.after,
        )
        for c in change.incidents
    ]
    out += [
        t._(CHANGE_REASONS["child_new"], name=k["name"], colour=t.colour(k["colour"]))
        for k in change.children_new
    ]
    out += [t._(CHANGE_REASONS["child_gone"], name=k["name"]) for k in change.children_gone]
    return out


def _changes_section(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    level: Level,
    since: date,
    until: date,
) -> dict[str, Any]:
    """What the dashboard's "what changed" section shows; ``missing`` when no stored map
    answers a date."""
    section: dict[str, Any] = {"level": level.value, "since": since, "until": until}
    try:
        changes = risk_changes(engine, settings, level=level, since=since, until=until)
    except NotFoundError:
        return section | {"missing": True, "rows": []}
    names = {
        k["code"]: k["name_zh"] if t.language == "zh_CN" else k["name_en"]
        for k in incident_types(engine)
    }
    rows = [
        {
            "code": a.code,
            "name": a.name,
            "step": a.step,
            "before": a.before.value if a.before else None,
            "after": a.after.value if a.after else None,
            "reasons": change_reasons(a, t, names),
        }
        for a in changes.areas
    ]
    return section | {
        "missing": False,
        "rows": rows,
        "up": len(changes.up()),
        "down": len(changes.down()),
        "since_run": changes.since.date(),
        "until_run": changes.until.date(),
    }


def dashboard_page(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    now: datetime,
    pages: Sequence[NavLink],
    change_level: Level = Level.GRID3,
    change_from: date | None = None,
    change_to: date | None = None,
) -> str:
    """Render the dashboard of the district's day holding ``now``: areas and colours per level,
    what changed on the map between two dates (by default the last :data:`CHANGE_DAYS` days),
    open hazards, incidents this month against the same days last year, and links to the map
    pages the app serves.

    Parameters
    ----------
    pages
        The other pages the caller may open (titles are catalogue messages).
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
    html = t.env.get_template("dashboard.html").render(
        today=today,
        region=settings.region,
        levels=[
            {
                "value": lv.value,
                "name": t.level(lv),
                "count": counts.counts[lv],
                "colours": colours[lv],
                "scored": sum(colours[lv].values()),
            }
            for lv in Level
        ],
        colours=COLOURS,
        hazards_total=len(hazards),
        hazard_colours=hazard_colours,
        months=months,
        change=change,
        pages=pages,
        changes=_changes_section(
            engine,
            settings,
            t,
            level=change_level,
            since=change_from or today - timedelta(days=CHANGE_DAYS),
            until=change_to or today,
        ),
        change_levels=[{"value": lv.value, "name": t.level(lv)} for lv in Level],
        css=url("gridsafe/maps.css"),
    )
    return check_offline(html)


_DOCS = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<meta name="csrf-token" content="{{ csrf }}">
<link rel="icon" type="image/png" href="{{ favicon }}">
<link rel="stylesheet" href="{{ css }}">
</head>
<body>
<div id="swagger-ui" data-openapi="{{ openapi_url }}"></div>
<script src="{{ bundle }}"></script>
<script src="{{ script }}"></script>
</body>
</html>
""",
    autoescape=True,
)


def docs_page(*, title: str, openapi_url: str, csrf: str | None) -> str:
    """The API docs page (Swagger UI, served by the app), with the signed-in user's CSRF token
    for ``docs.js`` to send with every change (empty when nobody is signed in)."""
    html = _DOCS.render(
        title=title,
        csrf=csrf or "",
        openapi_url=openapi_url,
        favicon=url("vendor/swagger-ui/favicon-32x32.png"),
        css=url("vendor/swagger-ui/swagger-ui.css"),
        bundle=url("vendor/swagger-ui/swagger-ui-bundle.js"),
        script=url("gridsafe/docs.js"),
    )
    return check_offline(html)
