"""A plan against what happened, on hand-made tracks with known visits: a stop stayed at for
the planned time is reached, one stayed at too briefly is missed, one reached 20 minutes after
its planned start is late, and stops still ahead in a running shift are pending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from geo.routing.review import review_plan
from geo.settings import Settings
from tests.test_maps import build_district
from tests.test_routes_page import _plan


def _stay(
    engine: Engine, settings: Settings, unit: str, lonlat: list[float], t0: datetime, minutes: int
) -> None:
    """Fixes every minute at ``lonlat`` from ``t0`` for ``minutes`` minutes (both ends)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT fixes_partition(:t)"), {"t": t0})
        for k in range(minutes + 1):
            conn.execute(
                text(
                    "INSERT INTO fixes (region, unit, unit_kind, t, geom) VALUES (:r, :u, 'foot', "
                    ":t, ST_Transform(ST_SetSRID(ST_Point(:lon, :lat), 4326), :srid))"
                ),
                {
                    "r": settings.region,
                    "u": unit,
                    "t": t0 + timedelta(minutes=k),
                    "lon": lonlat[0],
                    "lat": lonlat[1],
                    "srid": settings.srid,
                },
            )


def test_planned_stops_against_hand_made_tracks(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("routereview")
    build_district(engine, settings)
    plan = _plan(engine, settings, hours=4)
    [unit] = plan["units"]
    first, second, third = unit["stops"]
    starts = [datetime.fromisoformat(s["start"]) for s in unit["stops"]]
    stay_min = [s["dwell_s"] // 60 for s in unit["stops"]]
    where = [s["geometry"]["coordinates"] for s in unit["stops"]]
    # Stop 1 as planned; stop 2 for 3 minutes only; stop 3 for its stay, 20 minutes late.
    _stay(engine, settings, unit["name"], where[0], starts[0], stay_min[0])
    _stay(engine, settings, unit["name"], where[1], starts[1], 3)
    _stay(engine, settings, unit["name"], where[2], starts[2] + timedelta(minutes=20), stay_min[2])
    # Another unit's fixes at stop 2 do not count for this one.
    _stay(engine, settings, "别的单位", where[1], starts[1], stay_min[1])

    after = review_plan(engine, settings, plan["id"], now=starts[2] + timedelta(hours=2))
    stops = after["units"][0]["stops"]
    assert [s["status"] for s in stops] == ["reached", "missed", "late"]
    assert stops[0]["late_s"] == 0
    assert stops[0]["stayed_s"] == stay_min[0] * 60
    assert stops[1]["stayed_s"] == 180  # the longest stay, too short
    assert stops[1]["arrived"] is None
    assert stops[2]["late_s"] == 20 * 60
    assert datetime.fromisoformat(stops[2]["arrived"]) == starts[2] + timedelta(minutes=20)
    risk = [float(s["risk"]) for s in (first, second, third)]
    summary = after["summary"]
    assert (summary["reached"], summary["late"], summary["missed"]) == (1, 1, 1)
    assert summary["share_covered"] == pytest.approx((risk[0] + risk[2]) / sum(risk), abs=1e-6)

    # While the shift runs, between stop 1 and stop 2: stop 1 reached, the rest still ahead.
    running = review_plan(engine, settings, plan["id"], now=starts[1] - timedelta(minutes=1))
    assert [s["status"] for s in running["units"][0]["stops"]] == [
        "reached",
        "pending",
        "pending",
    ]
    assert running["summary"]["share_covered"] == pytest.approx(1.0)


def test_a_unit_that_never_came_missed_every_stop(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("routereview2")
    build_district(engine, settings)
    plan = _plan(engine, settings, hours=4)
    [unit] = plan["units"]
    start = datetime.fromisoformat(plan["shift"]["start"])
    # All shift long at the station: never within any stop's radius.
    station = unit["station"]["geometry"]["coordinates"]
    _stay(engine, settings, unit["name"], station, start, 4 * 60 - 1)
    end = datetime.fromisoformat(plan["shift"]["end"])
    review = review_plan(engine, settings, plan["id"], now=end + timedelta(days=1))
    assert [s["status"] for s in review["units"][0]["stops"]] == ["missed"] * 3
    assert review["summary"]["share_covered"] == 0.0
    assert review["as_of"] == end.isoformat()
