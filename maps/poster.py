"""The four-colour map as a printed poster (A3 or A1 PDF), drawn offline with matplotlib.

Everything comes from the store: the areas of a level in their colours (the stored computation
answering the date, geo/risk), their names where they fit (geo/labels.py), the district's roads
as the background (geo/background.py). The poster carries a title with the district's name
and date, a legend with counts, a scale bar, a north arrow and a table of the red and orange
areas with their main reasons. Chinese text needs a CJK font on the server (fonts-wqy-zenhei,
installed by scripts/setup.sh).

The map is drawn in a local equirectangular projection about the district's centre (metres
east and north), which for a district a few kilometres across keeps distances within a
fraction of a percent, so the scale bar holds.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date
from enum import StrEnum
from typing import Any

import matplotlib as mpl
import shapely
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from sqlalchemy import Engine

from geo.background import road_lines
from geo.labels import area_labels
from geo.levels import Level
from geo.risk import Rule, Weight, risk_geojson
from geo.settings import Settings
from maps.i18n import Translator
from maps.pages import (
    COLOURS,
    NO_COLOUR,
    POSTER_TEXT,
    RISK_MAP_TEXT,
    RULE_NAMES,
    RULE_WORST,
    TABLE_ROWS,
    district_name,
    red_orange_rows,
)

CJK_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
"""Font families tried in order; the first two hold Chinese."""

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
"""Metres per degree (WGS84 near the ground), for the local projection."""


REASONS_CHARS = 17
"""Characters of the table's reasons column (from 0.86 of the width to the edge)."""


class Paper(StrEnum):
    """The poster's paper, landscape."""

    A3 = "A3"
    A1 = "A1"

    @property
    def inches(self) -> tuple[float, float]:
        """Width and height in inches."""
        mm = {"A3": (420.0, 297.0), "A1": (841.0, 594.0)}[self.value]
        return (mm[0] / 25.4, mm[1] / 25.4)


def _project(lat0: float) -> Any:
    k = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))

    def to_metres(lon: float, lat: float) -> tuple[float, float]:
        return (lon * k, lat * M_PER_DEG_LAT)

    return to_metres


def _path(geom: shapely.Geometry, to_metres: Any) -> Path:
    """A matplotlib path of a (multi)polygon, holes included."""
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for poly in shapely.get_parts(geom):
        for ring in [poly.exterior, *poly.interiors]:
            pts = [to_metres(x, y) for x, y in ring.coords]
            verts += pts
            codes += (
                [int(Path.MOVETO)] + [int(Path.LINETO)] * (len(pts) - 2) + [int(Path.CLOSEPOLY)]
            )
    return Path(verts, codes)


def _clip(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters: whole reasons (parted by "、"), then "…" when some
    are left out, so no count or name is cut in two."""
    if len(text) <= n:
        return text
    head = text[: n - 1]
    cut = head.rfind("、")
    return (head[:cut] if cut > 0 else head) + "…"


def _scale_length(width_m: float) -> float:
    target = width_m / 5
    nice = [n * 10**e for e in range(0, 6) for n in (1, 2, 2.5, 5)]
    return max(n for n in nice if n <= target) if target >= 1 else 1.0


def risk_poster(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    level: Level,
    as_of: date,
    paper: Paper,
    incident_names: dict[str, str],
) -> bytes:
    """The poster of ``level`` as of ``as_of`` on ``paper``, as PDF bytes.

    Raises
    ------
    NotFoundError
        No stored computation answers a past ``as_of``.
    """
    fc = json.loads(
        risk_geojson(engine, region=settings.region, level=level, as_of=as_of, settings=settings)
    )
    district = district_name(engine, settings, as_of)
    features = fc["features"]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    west, south, east, north = shapely.total_bounds(geoms) if geoms else (0, 0, 1, 1)
    to_metres = _project((south + north) / 2)
    k = paper.inches[0] / Paper.A3.inches[0]  # type sizes grow with the paper

    with mpl.rc_context({"font.family": CJK_FONTS, "pdf.fonttype": 3}):
        fig = Figure(figsize=paper.inches)
        FigureCanvasPdf(fig)
        ax = fig.add_axes((0.02, 0.05, 0.64, 0.83))
        ax.set_axis_off()
        ax.set_aspect("equal")
        for road in road_lines(engine, settings):
            for line in shapely.get_parts(road):
                xs, ys = zip(*(to_metres(x, y) for x, y in line.coords), strict=True)
                ax.plot(xs, ys, color="#9a9a9a", linewidth=0.6 * k, zorder=2)
        for f, g in zip(features, geoms, strict=True):
            colour = f["properties"]["colour"]
            ax.add_patch(
                PathPatch(
                    _path(g, to_metres),
                    facecolor=COLOURS.get(colour, NO_COLOUR),
                    alpha=0.72,
                    edgecolor="white",
                    linewidth=1.2 * k,
                    zorder=1,
                )
            )
        x0, y0 = to_metres(west, south)
        x1, y1 = to_metres(east, north)
        pad = 0.02 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        _labels(fig, ax, engine, settings, level, to_metres, k)
        _scale_bar(ax, x0, y0, x1 - x0, k)
        ax.annotate(
            t._(POSTER_TEXT["north"]),
            xy=(0.97, 0.97),
            xytext=(0.97, 0.89),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=14 * k,
            fontweight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 2 * k},
        )
        rule = t._(RULE_NAMES[Rule.WORST, Weight.AREA])
        fig.text(
            0.02,
            0.955,
            t._(POSTER_TEXT["title"], district=district),
            fontsize=26 * k,
            fontweight="bold",
            va="center",
        )
        fig.text(
            0.02,
            0.915,
            t._(POSTER_TEXT["subtitle"], level=t.level(level), date=t.date(as_of), rule=rule),
            fontsize=14 * k,
            color="#444",
            va="center",
        )
        counts = {c: sum(1 for f in features if f["properties"]["colour"] == c) for c in COLOURS}
        _legend(fig, t, counts, k)
        _table(fig, t, features, incident_names, k)
        out = io.BytesIO()
        fig.savefig(
            out, format="pdf", metadata={"Title": t._(POSTER_TEXT["title"], district=district)}
        )
    return out.getvalue()


def _labels(
    fig: Figure, ax: Any, engine: Engine, settings: Settings, level: Level, to_metres: Any, k: float
) -> None:
    """Names where they fit inside their area and clear of each other (as on the page)."""
    fig.canvas.draw()  # fixes the axes' transform
    size = (9 if level is not Level.MICRO else 5) * k
    taken: list[tuple[float, float, float, float]] = []
    px_per_m = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
    pt_per_px = 72.0 / fig.dpi
    for lb in area_labels(engine, settings, level):
        w_pt = max(len(line) for line in lb.lines) * size + 2
        h_pt = len(lb.lines) * size * 1.25
        w_m, h_m = w_pt / pt_per_px / px_per_m, h_pt / pt_per_px / px_per_m
        fits = (w_m * w_m + h_m * h_m) / 4 <= lb.radius_m**2 or (
            w_m / 2 <= lb.half_width_m and h_m / 2 <= lb.half_height_m
        )
        x, y = to_metres(lb.lon, lb.lat)
        box = (x - w_m / 2, y - h_m / 2, x + w_m / 2, y + h_m / 2)
        clear = not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken
        )
        if fits and clear:
            taken.append(box)
            ax.text(
                x,
                y,
                "\n".join(lb.lines),
                ha="center",
                va="center",
                fontsize=size,
                fontweight="bold",
                color="#111",
                zorder=5,
                linespacing=1.1,
            )


def _scale_bar(ax: Any, x0: float, y0: float, width_m: float, k: float) -> None:
    length = _scale_length(width_m)
    ax.add_patch(Rectangle((x0, y0), length, width_m * 0.006, color="#222", zorder=6))
    ax.text(
        x0 + length / 2,
        y0 + width_m * 0.012,
        f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m",
        ha="center",
        va="bottom",
        fontsize=11 * k,
        zorder=6,
    )


def _legend(fig: Figure, t: Translator, counts: dict[str, int], k: float) -> None:
    fig.text(0.69, 0.86, t._(RISK_MAP_TEXT["legend"]), fontsize=16 * k, fontweight="bold")
    fig.text(0.69, 0.835, t._(RULE_WORST), fontsize=10 * k, color="#444")
    for i, (c, hex_colour) in enumerate(COLOURS.items()):
        y = 0.80 - i * 0.035
        fig.patches.append(
            Rectangle(
                (0.69, y), 0.025, 0.022, transform=fig.transFigure, facecolor=hex_colour, alpha=0.85
            )
        )
        fig.text(
            0.722,
            y + 0.004,
            f"{t.colour(c)} · {t.meaning(c)}  ({counts[c]})",
            fontsize=13 * k,
        )


def _table(
    fig: Figure,
    t: Translator,
    features: list[dict[str, Any]],
    types: dict[str, str],
    k: float,
) -> None:
    rows = red_orange_rows(t, [f["properties"] for f in features], types)
    limit = TABLE_ROWS
    fig.text(0.69, 0.63, t._(POSTER_TEXT["table"]), fontsize=15 * k, fontweight="bold")
    step = 0.56 / (limit + 2)
    y = 0.60
    head = (t._(POSTER_TEXT["area"]), t._(POSTER_TEXT["colour"]), t._(POSTER_TEXT["reasons"]))
    for x, text in zip((0.69, 0.82, 0.86), head, strict=True):
        fig.text(x, y, text, fontsize=10 * k, fontweight="bold")
    for name, colour, reasons in rows[:limit]:
        y -= step
        fig.text(0.69, y, name[:12], fontsize=9 * k)
        fig.text(
            0.82, y, t.colour(colour), fontsize=9 * k, color=COLOURS[colour], fontweight="bold"
        )
        fig.text(0.86, y, _clip(reasons, REASONS_CHARS), fontsize=9 * k)
    if len(rows) > limit:
        fig.text(0.69, y - step, t._(POSTER_TEXT["more"], n=len(rows) - limit), fontsize=9 * k)
