"""The demo lives on the day it is loaded: its activity ends at the moment of loading, reaches
back to 1 January of the previous year, and the first pages a leader opens are complete.

The shared demo was loaded at 00:30 of the district's day (tests/frozen.py ``DEMO_LOADED``), the
hour at which a server in UTC used to show yesterday and "risk not computed yet"; the clock
stands there during these tests (tests/conftest.py). The generators are also run at every shared
frozen instant, on their own.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from demo import DATA, activity, patrols
from geo import clock
from geo.access import Role
from geo.levels import Level
from geo.mapdata import colour_counts
from geo.settings import Settings
from tests.clients import api_client
from tests.frozen import DEMO_LOADED, Instant


def test_right_after_loading_the_first_pages_are_complete(
    demo: Engine, demo_settings: Settings
) -> None:
    today = clock.today(demo_settings.timezone)
    assert today == DEMO_LOADED.local.date()
    with api_client(demo_settings, Role.LEADER) as client:
        dashboard = client.get("/").text
        risk = client.get("/maps/risk").text
        coverage = client.get("/maps/coverage").text
        stats = client.get("/api/stats").json()
    with demo.connect() as conn:
        runs = conn.execute(text("SELECT as_of FROM risk_runs")).scalars().all()
    # Risk computed as of the moment of loading: the dashboard and the risk page show it.
    assert runs == [DEMO_LOADED.local]
    assert f'<time id="gs-today" datetime="{today.isoformat()}">' in dashboard
    assert "尚未计算风险" not in dashboard
    assert f"as_of={today.isoformat()}" in risk
    assert sum(colour_counts(demo, demo_settings, as_of=today)[Level.MICRO].values()) == 652
    # This month so far against the same days last year: both filled, a plausible change.
    got = re.search(
        r'id="incidents">.*?<div class="big">(\d+)</div>.*?<b>(\d+)</b>', dashboard, re.DOTALL
    )
    assert got is not None
    this_month, last_year = int(got[1]), int(got[2])
    assert this_month > 50
    assert 0.5 * last_year < this_month < 1.5 * last_year
    # The statistics' default, this year to date, against the same days of the previous year.
    assert stats["period"] == {"from": f"{today.year}-01-01", "to": today.isoformat()}
    assert stats["cases"]["received"] > 50
    assert stats["cases"]["previous"]["received"] > 50
    # The coverage page opens on the district's today.
    assert f'value="{today.isoformat()}"' in coverage


def test_the_activity_ends_at_the_moment_of_loading(demo: Engine) -> None:
    loaded = DEMO_LOADED.local
    with demo.connect() as conn:
        first, last = conn.execute(
            text("SELECT min(occurred_at), max(occurred_at) FROM incidents")
        ).one()
        last_fix = conn.execute(text("SELECT max(t) FROM fixes")).scalar_one()
        last_checkin = conn.execute(text("SELECT max(t) FROM checkins")).scalar_one()
        last_case = conn.execute(text("SELECT max(received_at) FROM cases")).scalar_one()
        last_hazard = conn.execute(text("SELECT max(identified_at) FROM hazards")).scalar_one()
    start = clock.day_start(date(loaded.year - 1, 1, 1), DEMO_LOADED.timezone)
    assert start <= first < start + timedelta(days=1)
    assert loaded - timedelta(hours=3) < last <= loaded
    assert loaded - timedelta(minutes=5) < last_fix <= loaded
    assert loaded - timedelta(days=7) < last_checkin <= loaded
    assert loaded - timedelta(days=7) < last_case <= loaded
    assert (
        loaded - timedelta(days=30) < last_hazard < clock.day_start(loaded.date(), "Asia/Shanghai")
    )


def test_the_activity_generator_ends_at_any_moment(frozen: Instant, tmp_path: Path) -> None:
    now = clock.now(frozen.timezone)
    paths = activity.generate(DATA, tmp_path, end=now, timezone=frozen.timezone)
    incidents = pd.read_csv(paths["incidents"])
    when = pd.to_datetime(incidents["occurred_at"])
    wall = now.replace(tzinfo=None)
    assert when.max() < wall
    assert when.min() >= datetime(now.year - 1, 1, 1)
    previous = incidents[when.dt.year == now.year - 1]
    assert (
        12_000 < len(previous) < 15_000
    )  # a whole year (87 % of it in this file, 13 % in the others)
    # Year on year over the same stretch of the current year: police calls about 13 % fewer.
    current = incidents[when.dt.year == now.year]
    day_of_year = now.timetuple().tm_yday
    if day_of_year > 60:
        same = previous[when[previous.index].dt.day_of_year < day_of_year]
        ratio = (current["type"] == "police_call").sum() / (same["type"] == "police_call").sum()
        assert 0.77 < ratio < 0.97
    hazards = pd.read_csv(paths["hazards"])
    assert hazards["identified_at"].max() < now.date().isoformat()
    assert hazards["closed_at"].dropna().max() < now.date().isoformat()


def test_the_patrol_generator_ends_at_any_moment(frozen: Instant, tmp_path: Path) -> None:
    end = clock.now(frozen.timezone)
    patrols.make_tracks(tmp_path, end=end, seed=6, interval_s=60.0, units=3, days=2)
    patrols.make_visits(tmp_path, end=end, seed=6)
    wall = end.replace(tzinfo=None)
    with (tmp_path / "tracks.csv").open(encoding="utf-8") as fh:
        times = sorted(datetime.fromisoformat(row["time"]) for row in csv.DictReader(fh))
    assert times[-1] < wall
    assert wall - times[-1] < timedelta(hours=1)  # a unit on duty until now (or its break)
    with (tmp_path / "visits.csv").open(encoding="utf-8") as fh:
        visits = [datetime.fromisoformat(row["时间"]) for row in csv.DictReader(fh)]
    assert max(visits) < wall
