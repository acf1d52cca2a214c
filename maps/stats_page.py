"""The case statistics page (案件统计): the leaders' figures, trends as inline SVG, three zeros.

Charts are drawn server-side as SVG shapes laid out here and written by the Jinja template
(autoescaped, so type names users added cannot inject markup); no chart library, no script,
so the page works offline and prints. Every number comes from :func:`geo.stats.case_stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from geo.settings import Settings
from geo.stats import case_stats
from maps.assets import url
from maps.i18n import N_, Translator
from maps.pages import check_offline

CURRENT, PREVIOUS = "#1d4f91", "#b7c4d6"
"""Bar colours: this period dark, a year earlier pale (the dashboard's link blue)."""

CHART_W, CHART_H, PAD = 640, 240, 36
THIS = N_("%(month)s this period: %(n)s")
LAST_YEAR = N_("%(month)s same period last year: %(n)s")
"""A bar's tooltip: the month (or incident type), the period and the count."""
TOP_TYPES = 8

EXPORT_HEADERS: dict[str, str] = {
    "case_id": N_("Case number"),
    "incident_id": N_("Incident number"),
    "source": N_("Source"),
    "source_id": N_("Source record number"),
    "platform": N_("Intake platform"),
    "type": N_("Type code"),
    "type_zh": N_("Type name (Chinese)"),
    "state": N_("State"),
    "outcome": N_("Outcome"),
    "grid2_code": N_("Level-2 grid code"),
    "grid2_name": N_("Level-2 grid"),
    "grid_code": N_("Level-3 grid code"),
    "grid3_name": N_("Level-3 grid"),
    "area_code": N_("Micro-grid code"),
    "micro_name": N_("Micro-grid"),
    "area_path": N_("Area path"),
    "squad": N_("Squad"),
    "department": N_("Department"),
    "occurred_at": N_("Occurred at"),
    "received_at": N_("Received at"),
    "dispatched_at": N_("Dispatched at"),
    "handled_at": N_("Handled at"),
    "closed_at": N_("Closed at"),
    "deadline_at": N_("Deadline"),
    "overdue": N_("Overdue"),
    "address": N_("Address"),
    "description": N_("Description"),
}
"""The case export's header of each column of ``geo/sql/cases_rows.sql``: the export is a
file a person opens in Excel, so its headers are in the reader's language (the JSON API keeps
the English field names)."""
EXPORT_SHEET = N_("Cases")
"""The name of the Excel export's sheet."""


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, with its label and value for the tooltip."""

    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str


@dataclass(frozen=True)
class Label:
    """A text label at a position."""

    x: float
    y: float
    text: str
    anchor: str = "middle"


def _scale(values: list[int]) -> float:
    top = max(values, default=0)
    return (CHART_H - 2 * PAD) / top if top else 0.0


def monthly_chart(by_month: dict[str, dict[str, dict[str, int]]], t: Translator) -> dict[str, Any]:
    """Grouped bars: cases received per month, this period against the same month a year earlier.

    The previous period's months are paired with the current ones in order (a period of the
    same days a year earlier has the same months).
    """
    current = list(by_month["current"].items())
    previous = list(by_month["previous"].values())
    values = [c["received"] for _, c in current] + [p["received"] for p in previous]
    k = _scale(values)
    slot = (CHART_W - 2 * PAD) / max(len(current), 1)
    w = slot * 0.38
    base = CHART_H - PAD
    bars, labels = [], []
    for i, (month, counts) in enumerate(current):
        x = PAD + i * slot + slot * 0.1
        before = previous[i]["received"] if i < len(previous) else 0
        bars.append(
            Bar(
                x, base - before * k, w, before * k, PREVIOUS, t._(LAST_YEAR, month=month, n=before)
            )
        )
        now = counts["received"]
        bars.append(Bar(x + w, base - now * k, w, now * k, CURRENT, t._(THIS, month=month, n=now)))
        labels.append(Label(x + w, base + 16, t.month(date.fromisoformat(month + "-01"))))
        labels.append(Label(x + w * 1.5, base - now * k - 4, str(now)))
    return {"bars": bars, "labels": labels, "width": CHART_W, "height": CHART_H, "base": base}


def incidents_chart(incidents: list[dict[str, Any]], t: Translator) -> dict[str, Any]:
    """Horizontal bars: the most frequent incident types, this period against a year earlier."""
    rows = incidents[:TOP_TYPES]
    values = [r["count"] for r in rows] + [r["previous"] for r in rows]
    top = max(values, default=0)
    left, row_h = 150, 26
    span = CHART_W - left - 90
    bars, labels = [], []
    for i, r in enumerate(rows):
        name = r["name_zh"] if t.language == "zh_CN" else r["name_en"]
        y = 10 + i * row_h
        for j, (value, fill, what) in enumerate(
            ((r["previous"], PREVIOUS, LAST_YEAR), (r["count"], CURRENT, THIS))
        ):
            w = span * value / top if top else 0.0
            bars.append(Bar(left, y + j * 10, w, 9, fill, t._(what, month=name, n=value)))
        labels.append(Label(left - 6, y + 15, name, "end"))
        change = r["change_pct"]
        text = "—" if change is None else f"{change:+.2f}%"
        labels.append(Label(left + span + 8, y + 15, text, "start"))
    return {"bars": bars, "labels": labels, "width": CHART_W, "height": 20 + len(rows) * row_h}


def export_headers(t: Translator) -> dict[str, str]:
    """The case export's column headers in ``t``'s language."""
    return {column: t._(header) for column, header in EXPORT_HEADERS.items()}


def export_links(area: str | None, start: date, end: date) -> dict[str, str]:
    """The export of what the page shows, per format: the cases of the period in the chosen
    area, or, with none chosen, in every area the reader may see (the whole district for a
    leader, their own area for a grid head)."""
    chosen = {"area": area} if area else {}
    period = {"from": start.isoformat(), "to": end.isoformat()}
    return {
        fmt: "/api/cases/export?" + urlencode({"format": fmt, **chosen, **period})
        for fmt in ("csv", "xlsx")
    }


def stats_page(
    engine: Engine,
    settings: Settings,
    t: Translator,
    *,
    area: str | None,
    start: date,
    end: date,
) -> str:
    """Render the statistics page of an area and a period (local days, both included)."""
    stats = case_stats(engine, settings, area=area, start=start, end=end)
    grids = {g["key"]: g for g in stats["by_grid"]}
    html = t.env.get_template("stats.html").render(
        s=stats,
        area=area or "",
        exports=export_links(area, start, end),
        start=start,
        end=end,
        previous_start=date.fromisoformat(stats["previous_period"]["from"]),
        previous_end=date.fromisoformat(stats["previous_period"]["to"]),
        monthly=monthly_chart(stats["by_month"], t),
        incidents=incidents_chart(stats["incidents"], t),
        grid_cases=grids,
        current=CURRENT,
        previous=PREVIOUS,
        css=url("gridsafe/maps.css"),
    )
    return check_offline(html)
