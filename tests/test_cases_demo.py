"""The demo district's case histories have the reference sub-district's shape (read-only).

The reference: 182 cases received, 174 resolved (95 %), figures changing year on year. The demo
draws its cases from synthetic intake-channel incidents since 1 January of the previous year
(demo/cases.py), up to the moment it is loaded.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo import clock
from geo.settings import Settings
from geo.stats import case_stats, change_pct


def test_demo_cases_look_like_the_reference(demo: Engine, demo_settings: Settings) -> None:
    today = clock.today(demo_settings.timezone)  # the day the demo was loaded
    stats = case_stats(
        demo, demo_settings, area=None, start=today.replace(month=1, day=1), end=today
    )
    cases = stats["cases"]
    assert 120 <= cases["received"] <= 400  # a few hundred a year
    assert 90.0 <= cases["resolution_rate_pct"] < 100.0  # in the nineties
    assert cases["overdue"] > 0
    assert cases["previous"]["received"] > 0
    # Each period counted on its own (they may tie by chance: the demo's volumes differ ~5 %).
    assert cases["change_pct"]["received"] == change_pct(
        cases["received"], cases["previous"]["received"]
    )
    assert cases["resolution_rate_change_points"] is not None
    assert len(stats["by_platform"]) == 6  # all six intake channels occur
    fires = {r["type"]: r["change_pct"] for r in stats["incidents"]}
    assert fires["fire"] < -30.0  # the register's fires fall as the reference's did (-39 %)
    assert fires["police_call"] < 0.0


def test_demo_histories_follow_the_workflow(demo: Engine) -> None:
    with demo.connect() as conn:
        broken = conn.execute(
            text(
                "SELECT c.id FROM cases c "
                "JOIN LATERAL (SELECT count(*) AS n, max(version) AS v, "
                "  bool_and(at >= c.received_at) AS ordered FROM case_events e "
                "  WHERE e.case_id = c.id) e ON true "
                "WHERE e.n <> c.version OR e.v <> c.version OR NOT e.ordered"
            )
        ).all()
        reopened = conn.execute(
            text("SELECT count(*) FROM case_events WHERE reason IS NOT NULL")
        ).scalar_one()
        outside = conn.execute(
            text(
                "SELECT count(*) FROM cases c JOIN incidents i ON i.id = c.incident_id "
                "WHERE c.grid_code IS DISTINCT FROM "
                "(SELECT g.code FROM areas g WHERE g.level = 'grid3' AND g.code = ANY(i.area_path))"
            )
        ).scalar_one()
    assert broken == []  # one event per version, none before receipt
    assert reopened > 0
    assert outside == 0  # the responsible grid is the incident's level-3 grid
