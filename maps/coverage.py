"""The patrol coverage page: tracks by unit and shift, the covered area, coverage per micro-grid,
the ranked gaps outlined, the risk colours underneath; filtered by period, shift, unit and area
(a grid head's own area)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape
from typing import Any

import folium
import shapely
from branca.element import Element, Figure
from shapely.geometry import shape
from sqlalchemy import Engine

from geo import clock
from geo.coverage.choices import AreaChoice, filter_choices
from geo.coverage.compute import coverage_and_cover, tracks_geojson
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import Period, PeriodKind, shift_names, shift_number
from geo.errors import NotFoundError
from geo.levels import Level
from geo.risk import risk_geojson
from geo.settings import Settings
from maps.assets import url
from maps.basemap import basemap, shift_collection
from maps.i18n import N_, Translator
from maps.pages import (
    UNDERLAY_TOOLTIP,
    check_offline,
    escape_fields,
    offline_map,
    risk_underlay,
    unit_colour,
)

GAP_NAMES = {
    "weekly": N_("No visit in 7 days"),
    "shift": N_("Red or orange, not visited this shift"),
    "coverage": N_("Low coverage"),
}
GAP_SHORT = {"weekly": N_("7 days"), "shift": N_("This shift"), "coverage": N_("Coverage")}
"""The gap kinds as the ranked table names them."""
TITLE = N_("Patrol coverage")
GAPS_LISTED = 12
"""Gaps named in the side panel (all are outlined on the map)."""

COVER_COLOUR = "#00acc1"
"""The covered area: a cyan apart from the four risk colours and the units' colours."""
COVER_OPACITY = 0.45
SHIFT_DASHES = ("", "9 5", "2 5")
"""Tracks of the day's first, second and third shift: solid, dashed, dotted (then again)."""


def shift_dash(number: int) -> str:
    """The dash pattern of the tracks of the day's shift ``number`` (1 for the first)."""
    return SHIFT_DASHES[(number - 1) % len(SHIFT_DASHES)]


def period_text(kind: PeriodKind, start: datetime, settings: Settings, t: Translator) -> str:
    """A period as the district reads it: a shift of a day, a day, or a week (2026年第49周)."""
    local = start.astimezone(clock.zone(settings.timezone))
    if kind is PeriodKind.SHIFT:
        name = shift_names(settings.coverage)[shift_number(start, settings) - 1]
        return t._("%(date)s, shift %(shift)s", date=t.date(local.date()), shift=name)
    if kind is PeriodKind.DAY:
        return t.date(local.date())
    return t.week(local.date())


def _merge_coverage(areas: dict[str, Any], coverage: dict[str, Any], t: Translator) -> None:
    """Add each micro-grid's coverage figures to its risk feature, for the tooltip."""
    by_code = {f["properties"]["code"]: f["properties"] for f in coverage["features"]}
    for feature in areas["features"]:
        props = feature["properties"]
        cov = by_code.get(props["code"], {})
        share = cov.get("covered_share")
        hours = cov.get("hours_since_last_visit")
        props["covered"] = "—" if share is None else f"{100 * float(share):.0f}%"
        props["visits"] = cov.get("visits", 0)
        props["since"] = (
            t._("never") if hours is None else t._("%(hours)s h", hours=f"{float(hours):.0f}")
        )


def _panel(
    period: Period,
    units: list[str],
    gaps: dict[str, Any],
    area: str | None,
    form: dict[str, str],
    settings: Settings,
    t: Translator,
    choices: tuple[list[AreaChoice], list[str]],
    *,
    bounds: list[list[float]],
) -> str:
    features = gaps["features"]
    gaps_shift = datetime.fromisoformat(gaps["shift"]["from"])
    return t.env.get_template("coverage_panel.html").render(
        bounds=json.dumps(bounds),
        area_choices=choices[0],
        unit_choices=choices[1],
        period_text=period_text(PeriodKind(form["period"]), period.start, settings, t),
        area=area,
        form=form,
        shifts=[
            (i, name, shift_dash(i)) for i, name in enumerate(shift_names(settings.coverage), 1)
        ],
        cover_colour=COVER_COLOUR,
        units=[(unit_colour(i), u) for i, u in enumerate(units)],
        gaps_total=len(features),
        gaps_as_of=period_text(PeriodKind.SHIFT, gaps_shift, settings, t),
        counts=[
            (name, sum(k in f["properties"]["gaps"] for f in features))
            for k, name in GAP_NAMES.items()
        ],
        gaps=[
            {
                "rank": int(f["properties"]["rank"]),
                "name": f["properties"].get("name") or f["properties"]["code"],
                "colour": f["properties"].get("colour"),
                "kinds": [GAP_SHORT[g] for g in f["properties"]["gaps"]],
            }
            for f in features[:GAPS_LISTED]
        ],
    )


def _track_layers(
    tracks: dict[str, Any], names: list[str], settings: Settings, t: Translator
) -> list[Any]:
    """One layer of tracks per shift of the day (toggled in the layer control), each piece in
    its unit's colour and its shift's dashes; a track of one fix is a dot."""
    index = {u: i for i, u in enumerate(names)}
    for feature in tracks["features"]:
        props = feature["properties"]
        props["colour"] = unit_colour(index[str(props["unit"])])
        props["dash"] = shift_dash(int(props["shift_no"]))
    fields = ("unit", "unit_kind", "shift", "fixes")
    escape_fields(tracks, fields)
    layers = []
    for number, name in enumerate(shift_names(settings.coverage), 1):
        features = [f for f in tracks["features"] if f["properties"]["shift_no"] == number]
        if not features:
            continue
        layers.append(
            folium.GeoJson(
                {"type": "FeatureCollection", "features": features},
                name=t._("Tracks, shift %(shift)s", shift=name),
                style_function=lambda f: {
                    "color": f["properties"]["colour"],
                    "fillColor": f["properties"]["colour"],
                    "fillOpacity": 0.9,
                    "weight": 2.5,
                    "opacity": 0.85,
                    "dashArray": f["properties"]["dash"],
                },
                marker=folium.CircleMarker(radius=4),
                tooltip=folium.GeoJsonTooltip(
                    fields=list(fields),
                    aliases=[t._("Patrol unit"), t._("Kind"), t._("Shift"), t._("Fixes")],
                ),
            )
        )
    return layers


def coverage_page(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    period: Period,
    area: str | None = None,
    units: list[str] | None = None,
    form: dict[str, str],
    now: datetime | None = None,
) -> str:
    """Render coverage over ``period`` and the gaps as of its end (now, if that is earlier),
    within ``area`` (all: None).

    Parameters
    ----------
    form
        The filter form's current values (``period``, ``at``, ``shift``, ``area``, ``unit``).

    Raises
    ------
    NotFoundError
        ``area`` names no area, or no micro-grids are loaded.
    """
    at = min(period.end - timedelta(microseconds=1), now or clock.utcnow())
    tracks = json.loads(tracks_geojson(engine, settings, period=period, area=area, units=units))
    coverage_text, cover_text = coverage_and_cover(
        engine, settings, period=period, area=area, units=units
    )
    coverage, cover = json.loads(coverage_text), json.loads(cover_text)
    gaps = json.loads(gaps_geojson(engine, settings, at=at, area=area))
    as_of = at.astimezone(clock.zone(settings.timezone)).date()
    try:
        underlay = risk_geojson(
            engine, region=settings.region, level=Level.MICRO, as_of=as_of, settings=settings
        )
    except NotFoundError:
        # No map computed as early as the period (a read computes only today's): the areas
        # under the coverage are drawn in today's colours rather than not at all.
        underlay = risk_geojson(
            engine, region=settings.region, level=Level.MICRO, as_of=None, settings=settings
        )
    areas = json.loads(underlay)
    if area is not None:
        codes = {f["properties"]["code"] for f in coverage["features"]}
        areas["features"] = [f for f in areas["features"] if f["properties"]["code"] in codes]
    if not areas["features"]:
        msg = "no micro-grids to show; import the boundaries first"
        raise NotFoundError(msg, code="no_areas")
    _merge_coverage(areas, coverage, t)
    if basemap(settings.maps).gcj02:
        areas, cover, tracks, gaps = (shift_collection(c) for c in (areas, cover, tracks, gaps))

    fmap, allowed = offline_map(settings, t)
    risk_underlay(
        areas,
        t,
        tooltip=UNDERLAY_TOOLTIP
        | {"covered": N_("Covered"), "visits": N_("Visits"), "since": N_("Since the last visit")},
    ).add_to(fmap)
    folium.GeoJson(
        cover,
        name=t._("Covered area"),
        style_function=lambda _f: {
            "fillColor": COVER_COLOUR,
            "fillOpacity": COVER_OPACITY,
            "stroke": False,
        },
        # Painted over the micro-grids, it leaves the pointer to them (their tooltips).
        interactive=False,
    ).add_to(fmap)
    names = sorted({str(f["properties"]["unit"]) for f in tracks["features"]})
    for layer in _track_layers(tracks, names, settings, t):
        layer.add_to(fmap)
    gap_layer = folium.FeatureGroup(name=t._("Gaps"))
    folium.GeoJson(
        gaps,
        style_function=lambda _f: {
            "fill": False,
            "color": "#000000",
            "weight": 3,
            "dashArray": "6 4",
        },
        # Leaflet's canvas counts an unfilled polygon's inside as a hit: without this the
        # outlines would take the pointer from the micro-grids' tooltips.
        interactive=False,
    ).add_to(gap_layer)
    for feature in gaps["features"][:GAPS_LISTED]:
        point = shapely.get_coordinates(shape(feature["geometry"]).representative_point())[0]
        folium.Marker(
            [point[1], point[0]],
            icon=folium.DivIcon(
                html=f'<div class="gs-gap-rank">{int(feature["properties"]["rank"])}</div>',
                icon_size=(22, 22),
                icon_anchor=(11, 11),
            ),
        ).add_to(gap_layer)
    gap_layer.add_to(fmap)
    folium.LayerControl(position="bottomleft", collapsed=False).add_to(fmap)
    west, south, east, north = shapely.total_bounds(
        [shape(f["geometry"]) for f in areas["features"]]
    )
    bounds = [[float(south), float(west)], [float(north), float(east)]]
    # The panel fits the view again beside itself once drawn (coverage_panel.html).
    fmap.fit_bounds(bounds)
    root = fmap.get_root()
    if not isinstance(root, Figure):  # a folium Map's root is always its Figure
        msg = f"folium map root is a {type(root).__name__}, not a Figure"
        raise TypeError(msg)
    root.header.add_child(
        Element(
            f"<title>{escape(t._(TITLE))}</title>"
            '<link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{url("gridsafe/maps.css")}">'
        ),
        name="title",
    )
    choices = filter_choices(engine, settings, now=now or clock.utcnow())
    panel = _panel(period, names, gaps, area, form, settings, t, choices, bounds=bounds)
    root.html.add_child(Element(panel))
    return check_offline(root.render(), allowed=allowed)
