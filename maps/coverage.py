"""The patrol coverage page: tracks by unit, coverage per micro-grid, the ranked gaps outlined,
the risk colours underneath; filtered by period, unit and area (a grid head's own area)."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

import folium
import shapely
from branca.element import Element, Figure
from shapely.geometry import shape
from sqlalchemy import Engine

from geo.coverage.compute import coverage_geojson, tracks_geojson
from geo.coverage.gaps import gaps_geojson
from geo.coverage.periods import Period
from geo.errors import NotFoundError
from geo.levels import Level
from geo.risk import risk_geojson
from geo.settings import Settings
from maps.assets import url
from maps.basemap import basemap, shift_collection
from maps.pages import check_offline, offline_map, risk_underlay, unit_colour

GAP_NAMES = {"weekly": "7天未巡 no visit in 7 days", "shift": "本班未巡 red/orange, not this shift",
             "coverage": "覆盖不足 low coverage"}  # fmt: skip
GAPS_LISTED = 12
"""Gaps named in the side panel (all are outlined on the map)."""


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


def _panel(
    period: Period, units: list[str], gaps: dict[str, Any], area: str | None, form: dict[str, str]
) -> str:
    unit_rows = "".join(
        f'<div><i style="background:{unit_colour(i)}"></i>{escape(u)}</div>'
        for i, u in enumerate(units)
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
    options = "".join(
        f'<option value="{v}"{" selected" if form["period"] == v else ""}>{label}</option>'
        for v, label in (("shift", "本班 shift"), ("day", "当日 day"), ("week", "本周 week"))
    )
    return (
        '<div class="gs-legend gs-coverage-panel">'
        "<h4>巡逻覆盖 Patrol coverage</h4>"
        f'<div class="gs-count">{escape(period.label)} · '
        f"{escape(area or '全部区域 all areas')}</div>"
        '<form method="get" action="/maps/coverage">'
        f'<select name="period">{options}</select> '
        f'<input type="date" name="at" value="{escape(form["at"])}"> '
        f'<input name="area" placeholder="区域 area" size="10" value="{escape(form["area"])}"> '
        f'<input name="unit" placeholder="单位 unit" size="8" value="{escape(form["unit"])}"> '
        '<button type="submit">查询 show</button></form>'
        f"<h4>巡逻单位 Units ({len(units)})</h4>{unit_rows or '<div>无轨迹 no tracks</div>'}"
        f"<h4>缺口 Gaps ({len(features)})</h4>"
        + "".join(f"<div>{escape(GAP_NAMES[k])}: {n}</div>" for k, n in counts.items())
        + '<table class="gs-gaps"><tr><th>#</th><th>微网格</th><th>颜色</th><th>缺口</th></tr>'
        + gap_rows
        + "</table></div>"
    )


def coverage_page(
    engine: Engine,
    settings: Settings,
    *,
    period: Period,
    at: datetime,
    area: str | None = None,
    units: list[str] | None = None,
    form: dict[str, str],
) -> str:
    """Render coverage over ``period`` and the gaps as of ``at``, within ``area`` (all: None).

    Parameters
    ----------
    form
        The filter form's current values (``period``, ``at``, ``area``, ``unit``).

    Raises
    ------
    NotFoundError
        ``area`` names no area, or no micro-grids are loaded.
    """
    tracks = json.loads(tracks_geojson(engine, settings, period=period, area=area, units=units))
    coverage = json.loads(
        coverage_geojson(engine, settings, period=period, level=Level.MICRO, area=area, units=units)
    )
    gaps = json.loads(gaps_geojson(engine, settings, at=at, area=area))
    areas = json.loads(
        risk_geojson(
            engine, region=settings.region, level=Level.MICRO, as_of=at.date(), settings=settings
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
        areas, tracks, gaps = (shift_collection(c) for c in (areas, tracks, gaps))

    fmap, allowed = offline_map(settings)
    risk_underlay(
        areas,
        fields=("name", "colour", "covered", "visits", "since"),
        aliases=("微网格", "颜色", "覆盖率 covered", "巡访 visits", "距上次 since last"),
    ).add_to(fmap)
    names = sorted({str(f["properties"]["unit"]) for f in tracks["features"]})
    index = {u: i for i, u in enumerate(names)}
    for feature in tracks["features"]:
        colour = unit_colour(index[str(feature["properties"]["unit"])])
        folium.GeoJson(
            feature,
            style_function=lambda _f, c=colour: {"color": c, "weight": 2.5, "opacity": 0.85},
            tooltip=escape(
                f"{feature['properties']['unit']} ({feature['properties']['unit_kind']})"
            ),
        ).add_to(fmap)
    folium.GeoJson(
        gaps,
        name="缺口 Gaps",
        style_function=lambda _f: {
            "fill": False,
            "color": "#000000",
            "weight": 3,
            "dashArray": "6 4",
        },
    ).add_to(fmap)
    for feature in gaps["features"][:GAPS_LISTED]:
        point = shapely.get_coordinates(shape(feature["geometry"]).representative_point())[0]
        folium.Marker(
            [point[1], point[0]],
            icon=folium.DivIcon(
                html=f'<div class="gs-gap-rank">{int(feature["properties"]["rank"])}</div>',
                icon_size=(22, 22),
                icon_anchor=(11, 11),
            ),
        ).add_to(fmap)
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
    root.html.add_child(Element(_panel(period, names, gaps, area, form)))
    return check_offline(root.render(), allowed=allowed)
