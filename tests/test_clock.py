"""One clock: "now" and "today" are the district's everywhere, and nothing reads another.

Two kinds of test. A scan of the source fails on any read of the server's date or a zone-less
"now" (``date.today()``, ``datetime.now()``, ``.astimezone()`` with no zone, ...), and on any
``datetime.now(`` outside ``geo/clock.py``: one module owns the clock. And the defaults a
person sees without choosing a date (the dashboard's day and month, the risk page, tiles,
statistics, coverage periods, gaps, overdue cases) are checked at each shared frozen instant
(tests/frozen.py): around the district's midnight, at a shift change, at the turn of the year,
and in districts with daylight saving the day after the change.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo import clock
from geo.cases import open_case
from geo.coverage.periods import shift_of
from geo.levels import Level
from geo.risk import run_risk
from geo.settings import Settings
from geo.tiles import TileFilter, tile
from maps.i18n import translator
from tests.clients import api_client
from tests.frozen import Instant
from tests.test_maps import X0, Y0, build_district
from tests.test_tiles import tile_of

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("geo", "api", "maps", "scripts", "bench", "tests")
OWNED = ("geo", "api", "maps", "scripts")
"""Where ``datetime.now(`` may not appear at all (only geo/clock.py reads the clock)."""


def _name(node: ast.expr) -> str:
    """``a.b.c`` for an attribute chain of names, else ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else f"?.{node.attr}"
    return ""


def clock_reads(source: str, *, owner: bool) -> list[tuple[int, str]]:
    """The forbidden clock reads in ``source``: ``(line, what)``.

    Always: ``date.today()``, ``datetime.today()``, ``datetime.utcnow()``, ``time.localtime()``,
    ``datetime.now()`` and ``.astimezone()`` with no zone. With ``owner`` (a module of the
    service, not geo/clock.py): any ``datetime.now(...)``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        bare = not node.args and not node.keywords
        last_two = ".".join(name.split(".")[-2:])
        if last_two in {"date.today", "datetime.today", "datetime.utcnow", "time.localtime"}:
            found.append((node.lineno, f"{name}()"))
        elif last_two == "datetime.now" and (bare or owner):
            found.append((node.lineno, f"{name}(...)" if not bare else f"{name}()"))
        elif name.endswith(".astimezone") and bare:
            found.append((node.lineno, ".astimezone() with no zone"))
    return found


def test_nothing_but_the_clock_reads_the_time() -> None:
    offences = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            owner = rel.parts[0] in OWNED and rel != Path("geo/clock.py")
            for line, what in clock_reads(path.read_text(encoding="utf-8"), owner=owner):
                offences.append(f"{rel}:{line}: {what}")
    assert offences == [], "read the time through geo/clock.py:\n" + "\n".join(offences)


def test_the_scan_catches_every_kind_of_read() -> None:
    planted = """
import datetime as dt, time
from datetime import date, datetime, UTC
a = date.today()
b = datetime.now()
c = dt.datetime.now()
d = datetime.utcnow()
e = datetime.today()
f = moment.astimezone()
g = time.localtime()
h = datetime.now(UTC)
ok = moment.astimezone(UTC)
"""
    lines = [line for line, _ in clock_reads(planted, owner=False)]
    assert lines == [4, 5, 6, 7, 8, 9, 10]
    assert [line for line, _ in clock_reads(planted, owner=True)] == [4, 5, 6, 7, 8, 9, 10, 11]


def test_the_clock_is_the_districts(frozen: Instant) -> None:
    now = clock.now(frozen.timezone)
    assert abs(now - frozen.local) < timedelta(minutes=1)
    assert now.utcoffset() == frozen.local.utcoffset()
    assert clock.today(frozen.timezone) == frozen.local.date()
    assert clock.utcnow().utcoffset() == timedelta(0)
    start = clock.day_start(clock.today(frozen.timezone), frozen.timezone)
    assert start.hour == 0
    assert start <= now < start + timedelta(days=1, hours=1)  # 25 h on a DST day


@pytest.fixture(scope="module")
def district(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    """The hand-made district of tests/test_maps.py (areas, hazards since 2025-01-01)."""
    engine, settings = make_db("clock")
    build_district(engine, settings)
    return engine, settings


@pytest.fixture
def today_data(
    district: tuple[Engine, Settings], frozen: Instant
) -> Iterator[tuple[Engine, Settings]]:
    """At the frozen instant, in the instant's zone: a risk run 20 minutes ago, an incident 20
    minutes ago, one a year before it and one 10 minutes after the same time last year (not yet
    "the same stretch" of last year), and two fire cases (1-day deadline) received 20 minutes
    and 25 hours ago. Removed afterwards."""
    engine, base = district
    settings = base.replace(timezone=frozen.timezone)
    recent = frozen.local - timedelta(minutes=20)
    last_year = clock.read(
        recent.replace(year=recent.year - 1, tzinfo=None).isoformat(), frozen.timezone
    )
    with engine.begin() as conn:
        ids = {}
        for key, when in (
            ("now", recent),
            ("last_year", last_year),
            ("last_year_later", last_year + timedelta(minutes=30)),
            ("late", frozen.local - timedelta(hours=25)),
        ):
            ids[key] = conn.execute(
                text(
                    "INSERT INTO incidents (region, source, source_id, type, occurred_at, "
                    "reported_at, geom, area_code, area_path) "
                    "SELECT :r, '三零平台', :s, 'fire', :t, :t, ST_PointOnSurface(a.geom), a.code, "
                    "a.ancestors || a.code FROM areas a WHERE a.code = 'M11' RETURNING id"
                ),
                {"r": settings.region, "s": f"clock-{key}", "t": when},
            ).scalar_one()
    run_risk(engine, settings, as_of=recent)
    for key in ("now", "late"):
        open_case(engine, settings, incident_id=ids[key], actor="登记员")
    yield engine, settings
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events"))
        conn.execute(text("DELETE FROM cases"))
        conn.execute(text("DELETE FROM incidents WHERE source_id LIKE 'clock-%'"))
        conn.execute(text("DELETE FROM risk_runs WHERE as_of > '2025-12-31'"))


def _month_figures(html: str) -> tuple[str, int, int]:
    """The dashboard's incidents this month: (first day – last day, count, count a year earlier)."""
    got = re.search(
        r'id="incidents">.*?<div class="big">(\d+)</div>\s*<p>(\S+) – (\S+) ·.*?<b>(\d+)</b>',
        html,
        re.DOTALL,
    )
    assert got is not None, html
    return f"{got[2]}/{got[3]}", int(got[1]), int(got[4])


def test_page_and_api_defaults_are_the_districts_today(
    today_data: tuple[Engine, Settings], frozen: Instant
) -> None:
    engine, settings = today_data
    today = frozen.local.date()
    with api_client(settings) as client:
        dashboard = client.get("/").text
        risk_page = client.get("/maps/risk", params={"level": "micro"}).text
        stats = client.get("/api/stats").json()
        day = client.get("/api/coverage", params={"period": "day"}).json()
        shift = client.get("/api/coverage", params={"period": "shift"}).json()
        week = client.get("/api/coverage", params={"period": "week"}).json()
        overdue = client.get("/api/cases", params={"overdue": "true"}).json()
        on_time = client.get("/api/cases", params={"overdue": "false"}).json()
    # The dashboard: the district's date, the run of 20 minutes ago, this month against last year.
    assert f'<time id="gs-today" datetime="{today.isoformat()}">' in dashboard
    assert "尚未计算风险" not in dashboard
    late_this_month = (frozen.local - timedelta(hours=25)).month == today.month
    zh = translator("zh_CN")
    first_day = zh.date(today.replace(day=1))
    assert _month_figures(dashboard) == (f"{first_day}/{zh.date(today)}", 1 + late_this_month, 1)
    # The risk page and its tiles: as of the district's today, so today's run is drawn.
    assert f"as_of={today.isoformat()}" in risk_page
    x, y = tile_of(X0 + 200, Y0 + 200, 14)
    flt = TileFilter(level=Level.MICRO)
    default_tile = tile(engine, settings, layer="areas", z=14, x=x, y=y, flt=flt)
    explicit = TileFilter(level=Level.MICRO, as_of=today)
    assert default_tile == tile(engine, settings, layer="areas", z=14, x=x, y=y, flt=explicit)
    assert b"colour" in default_tile
    # Statistics: this year to date, the district's year.
    assert stats["period"] == {"from": date(today.year, 1, 1).isoformat(), "to": today.isoformat()}
    # Coverage periods hold the district's now: its day, its shift, its ISO week.
    assert day["period"]["label"] == today.isoformat()
    assert shift["period"]["label"] == shift_of(frozen.local, settings).label
    assert shift["period"]["label"].startswith(f"{today.isoformat()} shift ")
    year, number, _ = today.isocalendar()
    assert week["period"]["label"] == f"{year}-W{number:02d}"
    # Overdue is judged now: the fire case of 25 hours ago is late, the one of 20 minutes is not.
    assert overdue["total"] == 1
    assert on_time["total"] == 1
