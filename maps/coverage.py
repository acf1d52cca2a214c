"""The patrol coverage page: tracks by unit and shift, the covered area, coverage per micro-grid,
the ranked gaps outlined, the risk colours underneath; filtered by period, shift, unit and area
(a grid head's own area)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import folium
import shapely
from branca.element import Element, Figure
from shapely.geometry import shape
from sqlalchemy import Engine

from geo.coverage.compute import coverage_and_cover, tracks_geojson
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import Period, shift_names
from geo.errors import NotFoundError
from geo.levels import Level
from geo.risk import risk_geojson
from geo.settings import Settings
from maps.assets import url
from maps.basemap import basemap, shift_collection
from maps.pages import check_offline, escape_fields, offline_map, risk_underlay, unit_colour

GAP_NAMES = {"weekly": "7天未巡 no visit in 7 days", "shift": "本班未巡 red/orange, not this shift",
             "coverage": "覆盖不足 low coverage"}  # fmt: skip
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


def _merge_coverage(areas: dict[str, Any], coverage: dict[str, Any]) -> None:
    """Add each micro-grid's coverage figures to its risk feature, for the tooltip."""
    by_code = {f["properties"]["code"]: f["properties"] for f in coverage["features"]}
    for feature in areas["features"]:
        props = feature["properties"]
        cov = by_code.get(props["code"], {})
        share = cov.get("covered_share")
        hours = cov.get("hours_since_last_visit")
        props["covered"] = "—" if share is None else f"{100 * float(share):.0f}%"
        props["visits"] = cov.get("visits", 0)
        props["since"] = "从未 never" if hours is None else f"{float(hours):.0f} h"


def _form(form: dict[str, str], settings: Settings) -> str:
    periods = "".join(
        f'<option value="{v}"{" selected" if form["period"] == v else ""}>{label}</option>'
        for v, label in (("shift", "本班 shift"), ("day", "当日 day"), ("week", "本周 week"))
    )
    shifts = "".join(
        f'<option value="{i}"{" selected" if form["shift"] == str(i) else ""}>'
        f"班 shift {escape(name)}</option>"
        for i, name in enumerate(shift_names(settings), 1)
    )
    return (
        '<form method="get" action="/maps/coverage">'
        f'<select name="period">{periods}</select> '
        f'<input type="date" name="at" value="{escape(form["at"])}"> '
        f'<select name="shift">{shifts}</select><br>'
        f'<input name="area" placeholder="区域 area" size="10" value="{escape(form["area"])}"> '
        f'<input name="unit" placeholder="单位 unit" size="8" value="{escape(form["unit"])}"> '
        '<button type="submit">查询 show</button></form>'
    )


def _panel(
    period: Period,
    units: list[str],
    gaps: dict[str, Any],
    area: str | None,
    form: dict[str, str],
    settings: Settings,
) -> str:
    unit_rows = "".join(
        f'<div><i style="background:{unit_colour(i)}"></i>{escape(u)}</div>'
        for i, u in enumerate(units)
    )
    shift_rows = "".join(
        '<div><svg width="28" height="8"><line x1="0" y1="4" x2="28" y2="4" stroke="#333" '
        f'stroke-width="2.5" stroke-dasharray="{shift_dash(i)}"/></svg> 班 shift {escape(name)}'
        "</div>"
        for i, name in enumerate(shift_names(settings), 1)
    )
    features = gaps["features"]
    counts = {k: sum(k in f["properties"]["gaps"] for f in features) for k in GAP_NAMES}
    gap_rows = "".join(
        "<tr>"
        f"<td>{int(f['properties']['rank'])}</td>"
        f"<td>{escape(str(f['properties'].get('name') or f['properties']['code']))}</td>"
        f"<td>{escape(str(f['properties'].get('colour') or ''))}</td>"
        f"<td>{escape(' · '.join(GAP_NAMES[g].split()[0] for g in f['properties']['gaps']))}</td>"
        "</tr>"
        for f in features[:GAPS_LISTED]
    )
    return (
        '<div class="gs-legend gs-coverage-panel">'
        "<h4>巡逻覆盖 Patrol coverage</h4>"
        f'<div class="gs-count">{escape(period.label)} · '
        f"{escape(area or '全部区域 all areas')}</div>"
        + _form(form, settings)
        + f'<div><b class="gs-cover-key" style="background:{COVER_COLOUR}"></b>'
        "已覆盖 covered area</div>"
        f"<h4>巡逻单位 Units ({len(units)})</h4>"
        f'<div class="gs-units">{unit_rows or "<div>无轨迹 no tracks</div>"}</div>'
        f"<h4>班次 Shifts</h4>{shift_rows}"
        f"<h4>缺口 Gaps ({len(features)})</h4>"
        f'<div class="gs-count">截至 as of {escape(gaps["shift"]["label"])}</div>'
        + "".join(f"<div>{escape(GAP_NAMES[k])}: {n}</div>" for k, n in counts.items())
        + '<table class="gs-gaps"><tr><th>#</th><th>微网格</th><th>颜色</th><th>缺口</th></tr>'
        + gap_rows
        + "</table></div>"
    )


def _track_layers(tracks: dict[str, Any], names: list[str], settings: Settings) -> list[Any]:
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
    for number, name in enumerate(shift_names(settings), 1):
        features = [f for f in tracks["features"] if f["properties"]["shift_no"] == number]
        if not features:
            continue
        layers.append(
            folium.GeoJson(
                {"type": "FeatureCollection", "features": features},
                name=f"轨迹 tracks, 班 shift {name}",
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
                    aliases=["单位 unit", "方式 kind", "班次 shift", "定位 fixes"],
                ),
            )
        )
    return layers


def coverage_page(
    engine: Engine,
    settings: Settings,
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
    at = min(period.end - timedelta(microseconds=1), now or datetime.now(UTC))
    tracks = json.loads(tracks_geojson(engine, settings, period=period, area=area, units=units))
    coverage_text, cover_text = coverage_and_cover(
        engine, settings, period=period, area=area, units=units
    )
    coverage, cover = json.loads(coverage_text), json.loads(cover_text)
    gaps = json.loads(gaps_geojson(engine, settings, at=at, area=area))
    as_of = at.astimezone(ZoneInfo(settings.timezone)).date()
    areas = json.loads(
        risk_geojson(
            engine, region=settings.region, level=Level.MICRO, as_of=as_of, settings=settings
        )
    )
    if area is not None:
        codes = {f["properties"]["code"] for f in coverage["features"]}
        areas["features"] = [f for f in areas["features"] if f["properties"]["code"] in codes]
    if not areas["features"]:
        msg = "no micro-grids to show; import the boundaries first"
        raise NotFoundError(msg)
    _merge_coverage(areas, coverage)
    if basemap(settings).gcj02:
        areas, cover, tracks, gaps = (shift_collection(c) for c in (areas, cover, tracks, gaps))

    fmap, allowed = offline_map(settings)
    risk_underlay(
        areas,
        fields=("name", "colour", "covered", "visits", "since"),
        aliases=("微网格", "颜色", "覆盖率 covered", "巡访 visits", "距上次 since last"),
    ).add_to(fmap)
    folium.GeoJson(
        cover,
        name="已覆盖 covered area",
        style_function=lambda _f: {
            "fillColor": COVER_COLOUR,
            "fillOpacity": COVER_OPACITY,
            "stroke": False,
        },
        # Painted over the micro-grids, it leaves the pointer to them (their tooltips).
        interactive=False,
    ).add_to(fmap)
    names = sorted({str(f["properties"]["unit"]) for f in tracks["features"]})
    for layer in _track_layers(tracks, names, settings):
        layer.add_to(fmap)
    gap_layer = folium.FeatureGroup(name="缺口 gaps")
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
    fmap.fit_bounds([[south, west], [north, east]])
    root = fmap.get_root()
    if not isinstance(root, Figure):  # a folium Map's root is always its Figure
        msg = f"folium map root is a {type(root).__name__}, not a Figure"
        raise TypeError(msg)
    root.header.add_child(
        Element(
            "<title>巡逻覆盖 Patrol coverage</title>"
            '<link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{url("gridsafe/maps.css")}">'
        ),
        name="title",
    )
    root.html.add_child(Element(_panel(period, names, gaps, area, form, settings)))
    return check_offline(root.render(), allowed=allowed)
