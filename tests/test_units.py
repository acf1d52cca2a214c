"""The register of patrol units and stations: kept and edited through the API and its page,
units seen in tracks but not registered listed as such, bad input named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo.access import Role
from geo.settings import Settings
from tests.browser import Tab, serve, sign_in
from tests.clients import api_client

STATION = {"name": "农业路警务站", "lon": 113.70, "lat": 34.78}


def _fix(engine: Engine, settings: Settings, unit: str, kind: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT fixes_partition(:t)"), {"t": at})
        conn.execute(
            text(
                "INSERT INTO fixes (region, unit, unit_kind, t, geom) "
                "VALUES (:r, :u, :k, :t, ST_Transform(ST_SetSRID(ST_Point(113.7, 34.78), 4326), "
                ":srid))"
            ),
            {"r": settings.region, "u": unit, "k": kind, "t": at, "srid": settings.srid},
        )


def test_units_and_stations_are_kept_edited_and_listed(db: Engine, db_settings: Settings) -> None:
    seen = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    _fix(db, db_settings, "B07", "bicycle", seen)
    _fix(db, db_settings, "F01", "foot", seen)
    with api_client(db_settings, Role.DISPATCHER) as client:
        assert client.put("/api/stations/S1", json=STATION).status_code == 201
        moved = client.put("/api/stations/S1", json={**STATION, "name": "农业路站", "lat": 34.79})
        assert moved.status_code == 200
        [station] = moved.json()
        assert (station["poi_id"], station["name"]) == ("S1", "农业路站")
        assert abs(station["lat"] - 34.79) < 1e-6
        body = {"kind": "foot", "station": "S1", "shifts": [2, 1]}
        created = client.put("/api/units/F01", json=body)
        assert created.status_code == 201
        register = created.json()
        [unit] = register["units"]
        last_fix = datetime.fromisoformat(unit.pop("last_fix"))
        assert last_fix == seen
        assert unit == {
            "name": "F01",
            "kind": "foot",
            "station": "S1",
            "station_name": "农业路站",
            "shifts": [1, 2],
        }
        assert [u["name"] for u in register["unregistered"]] == ["B07"]
        assert register["unregistered"][0]["kind"] == "bicycle"
        changed = client.put("/api/units/F01", json={**body, "kind": "vehicle", "shifts": [3]})
        assert changed.status_code == 200
        assert changed.json()["units"][0]["kind"] == "vehicle"
        assert changed.json()["units"][0]["shifts"] == [3]
        assert client.get("/api/stations").json()[0]["units"] == 1
        assert client.delete("/api/units/F01").status_code == 200
        listed = client.get("/api/units").json()
        assert listed["units"] == []
        assert [u["name"] for u in listed["unregistered"]] == ["B07", "F01"]


def test_bad_units_and_stations_are_named(db: Engine, db_settings: Settings) -> None:
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO pois (region, poi_id, kind, name, geom) "
                "VALUES (:r, 'G1', 'school_gate', '小学', ST_Point(0, 0, :srid))"
            ),
            {"r": db_settings.region, "srid": db_settings.srid},
        )
    with api_client(db_settings, Role.DISPATCHER) as client:
        client.put("/api/stations/S1", json=STATION)
        wrong = client.put("/api/units/F01", json={"station": "农业路"})
        assert wrong.status_code == 400
        assert "no station '农业路'" in wrong.json()["detail"]
        assert "S1 农业路警务站" in wrong.json()["detail"]
        shift = client.put("/api/units/F01", json={"station": "S1", "shifts": [4]})
        assert shift.status_code == 400
        assert "no shift 4" in shift.json()["detail"]
        taken = client.put("/api/stations/G1", json=STATION)
        assert taken.status_code == 400
        assert "not a station" in taken.json()["detail"]
        assert (
            client.put("/api/units/F01", json={"station": "S1", "kind": "horse"}).status_code == 422
        )
        assert client.delete("/api/units/nobody").status_code == 404
    with api_client(db_settings, Role.LEADER) as client:
        assert client.get("/api/units").status_code == 200
        assert client.put("/api/units/F01", json={"station": "S1"}).status_code == 403


def test_the_demo_registers_its_units(demo: Engine, demo_settings: Settings) -> None:
    with api_client(demo_settings, Role.DISPATCHER) as client:
        register = client.get("/api/units").json()
        stations = client.get("/api/stations").json()
    units = register["units"]
    assert len(units) == 24
    assert register["unregistered"] == []  # every unit its tracks name is registered
    assert {u["station_name"] for u in units} == {s["name"] for s in stations}
    assert sum(s["units"] for s in stations) == 24
    by_shift = {n: [u for u in units if n in u["shifts"]] for n in (1, 2, 3)}
    assert all(len(on) == 8 for on in by_shift.values())
    assert all(u["last_fix"] is not None for u in units)


def test_leaders_read_the_register_and_plans_without_edit_controls(
    db: Engine, db_settings: Settings
) -> None:
    with api_client(db_settings, Role.DISPATCHER) as client:
        client.put("/api/stations/S1", json=STATION)
        client.put("/api/units/F01", json={"station": "S1", "shifts": [1]})
        dispatcher = (client.get("/maps/units").text, client.get("/maps/routes").text)
    with api_client(db_settings, Role.LEADER) as client:
        leader = (client.get("/maps/units").text, client.get("/maps/routes").text)
    assert 'class="gs-save"' in dispatcher[0]
    assert 'class="gs-save"' not in leader[0]
    assert "F01" in leader[0]
    assert 'id="gs-run">' in dispatcher[1]
    assert 'id="gs-run" disabled>' in leader[1]
    assert "F01" in leader[1]


def test_a_leader_sees_the_register_as_a_plain_table(
    db: Engine, db_settings: Settings, desktop: BrowserContext, artifacts: Path
) -> None:
    with api_client(db_settings, Role.DISPATCHER) as client:
        client.put("/api/stations/S1", json=STATION)
        client.put("/api/units/F01", json={"station": "S1", "kind": "bicycle", "shifts": [1, 3]})
    with serve(db_settings) as base:
        tab = Tab.open(desktop, base)
        sign_in(tab, db_settings, Role.LEADER)
        tab.goto("/maps/units", ready="#gs-units")
        tab.shot(artifacts / "units_leader.png")
        page = tab.page
        controls = page.locator("#gs-units, #gs-stations").locator("input, select, button")
        assert controls.count() == 0
        row = tab.page.locator("#gs-units tr[data-unit='F01']")
        cells = row.locator("td").all_inner_texts()
        assert cells[:3] == ["F01", "骑巡", "农业路警务站"]
        assert cells[3] == "1 (00-08)、3 (16-24)"
        station = page.locator("#gs-stations tr[data-station='S1'] td").all_inner_texts()
        assert station[:2] == ["S1", "农业路警务站"]
        assert page.get_by_role("button", name="保存").count() == 0
        tab.assert_offline()
