"""Work on foot through the API: reports with photos (checked by content, EXIF location gone,
thumbnails, only within scope), exactly once on a resend, check-ins refused outside the area
with where the point is, rectifications, rosters and their row-level security."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, text

from geo import clock
from geo.access import Role
from geo.settings import Settings
from tests.clients import api_client
from tests.fieldwork import ROSTER, gps_of, lonlat, photo_with_gps, place
from tests.frozen import Instant


@pytest.fixture
def grid(db: Engine, db_settings: Settings) -> Engine:
    place(db, db_settings, as_of=clock.utcnow() - timedelta(days=1))
    return db


def _an_hour_ago() -> str:
    return (clock.utcnow() - timedelta(hours=1)).isoformat()


def _report(
    client: Any,
    micro: str,
    *,
    client_id: str | None = None,
    photos: int = 1,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> Any:
    lon, lat = lonlat(micro)
    if files is None:
        files = [("photos", (f"p{i}.jpg", photo_with_gps(), "image/jpeg")) for i in range(photos)]
    return client.post(
        "/api/field/reports",
        data={
            "client_id": client_id or str(uuid.uuid4()),
            "kind": "incident",
            "lon": str(lon),
            "lat": str(lat),
            "accuracy_m": "12",
            "at": _an_hour_ago(),
            "what": "dispute",
            "description": "楼道堆物引发争吵",
        },
        files=files or None,
    )


@pytest.mark.usefixtures("grid")
def test_report_photo_loses_gps_and_stays_in_scope(db_settings: Settings) -> None:
    assert gps_of(photo_with_gps()), "the test photo must carry a GPS position to begin with"
    with (
        api_client(db_settings, Role.GRID_MEMBER, "M1") as member,
        api_client(db_settings, Role.GRID_MEMBER, "M2") as other,
        api_client(db_settings, Role.GRID_HEAD, "T1") as head,
    ):
        sent = _report(member, "M1")
        assert sent.status_code == 200, sent.text
        body = sent.json()
        assert body["area_code"] == "M1"
        assert len(body["photos"]) == 1
        photo = member.get(f"/api/field/photos/{body['photos'][0]}")
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert gps_of(photo.content) == {}
        assert Image.open(io.BytesIO(photo.content)).getexif() == {}
        thumb = head.get(f"/api/field/photos/{body['photos'][0]}/thumbnail")
        assert thumb.status_code == 200
        assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
        # A member of another grid: as if there were no photo.
        assert other.get(f"/api/field/photos/{body['photos'][0]}").status_code == 404
        assert other.get(f"/api/field/photos/{body['photos'][0]}/thumbnail").status_code == 404


@pytest.mark.usefixtures("grid")
def test_report_sent_twice_is_stored_once(db: Engine, db_settings: Settings) -> None:
    client_id = str(uuid.uuid4())
    with api_client(db_settings, Role.GRID_MEMBER, "M1") as member:
        first = _report(member, "M1", client_id=client_id)
        second = _report(member, "M1", client_id=client_id)
    assert first.status_code == second.status_code == 200
    assert first.json()["new"] is True
    assert second.json()["new"] is False
    assert first.json()["id"] == second.json()["id"]
    with db.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM incidents WHERE source_id = :c"), {"c": client_id}
        ).scalar_one()
        photos = conn.execute(text("SELECT count(*) FROM field_photos")).scalar_one()
    assert (n, photos) == (1, 1)


@pytest.mark.usefixtures("grid")
def test_photos_are_checked_by_content_and_counted(db: Engine, db_settings: Settings) -> None:
    lon, lat = lonlat("M1")
    form = {
        "kind": "hazard",
        "lon": str(lon),
        "lat": str(lat),
        "at": _an_hour_ago(),
        "what": "消防安全",
        "likelihood": "4",
        "severity": "5",
    }
    with api_client(db_settings, Role.GRID_MEMBER, "M1") as member:
        fake = member.post(
            "/api/field/reports",
            data={**form, "client_id": str(uuid.uuid4())},
            files=[("photos", ("x.jpg", b"<html>not an image</html>", "image/jpeg"))],
        )
        assert fake.status_code == 400
        assert "x.jpg" in fake.json()["detail"]
        assert "not an image" in fake.json()["detail"]
        gif = io.BytesIO()
        Image.new("RGB", (8, 8)).save(gif, format="GIF")
        refused = member.post(
            "/api/field/reports",
            data={**form, "client_id": str(uuid.uuid4())},
            files=[("photos", ("a.png", gif.getvalue(), "image/png"))],
        )
        assert refused.status_code == 400
        assert "GIF" in refused.json()["detail"]
        many = member.post(
            "/api/field/reports",
            data={**form, "client_id": str(uuid.uuid4())},
            files=[("photos", (f"{i}.jpg", photo_with_gps(), "image/jpeg")) for i in range(5)],
        )
        assert many.status_code == 400
        assert "at most 4" in many.json()["detail"]
        ok = member.post(
            "/api/field/reports",
            data={**form, "client_id": str(uuid.uuid4())},
            files=[("photos", ("ok.png", _png(), "image/png"))],
        )
        assert ok.status_code == 200, ok.text
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar_one() == 1


@pytest.mark.usefixtures("grid")
def test_photo_limits_are_settings(db_settings: Settings) -> None:
    settings = db_settings.replace(
        photo_max_count=2, photo_max_bytes=40_000, photo_max_pixels=500_000, photo_thumb_side=100
    )
    with api_client(settings, Role.GRID_MEMBER, "M1") as member:
        many = _report(member, "M1", photos=3)
        assert many.status_code == 400
        assert many.json()["detail"] == "3 photos: at most 2 per record (GRIDSAFE_PHOTO_MAX_COUNT)"
        wide = _report(
            member,
            "M1",
            files=[("photos", ("wide.jpg", photo_with_gps(size=(1000, 600)), "image/jpeg"))],
        )
        assert wide.status_code == 400
        assert (
            "'wide.jpg' has more than 500000 pixels (GRIDSAFE_PHOTO_MAX_PIXELS)"
            in (wide.json()["detail"])
        )
        noisy = io.BytesIO()
        Image.effect_noise((400, 400), 100).convert("RGB").save(noisy, format="PNG")
        assert len(noisy.getvalue()) > 40_000
        heavy = _report(
            member, "M1", files=[("photos", ("heavy.png", noisy.getvalue(), "image/png"))]
        )
        assert heavy.status_code == 400
        assert "at most 40000 bytes (GRIDSAFE_PHOTO_MAX_BYTES)" in heavy.json()["detail"]
        ok = _report(member, "M1", photos=2)
        assert ok.status_code == 200, ok.text
        thumb = member.get(f"/api/field/photos/{ok.json()['photos'][0]}/thumbnail")
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 100
        # The report page states the limits it was given.
        hint = member.get("/field/report").text
        assert "照片：最多 2 张，每张不超过 0.04 MB、0.5 百万像素" in hint


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "blue").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.usefixtures("grid")
def test_checkin_outside_says_where(db_settings: Settings, frozen: Instant) -> None:
    tapped = frozen.local - timedelta(minutes=5)
    with api_client(db_settings, Role.GRID_HEAD, "T1") as head:
        lon, lat = lonlat("M1")
        body = {"lon": lon, "lat": lat, "accuracy_m": 8, "at": tapped.isoformat()}
        first = head.post("/api/field/checkins", json=body)
        again = head.post("/api/field/checkins", json=body)
        assert first.status_code == 200, first.text
        assert first.json()["area_code"] == "M1"
        assert first.json()["new"] is True
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["new"] is False
        lon2, lat2 = lonlat("M2")
        refused = head.post("/api/field/checkins", json={**body, "lon": lon2, "lat": lat2})
        assert refused.status_code == 400
        assert "M2" in refused.json()["detail"]
        assert "T2" in refused.json()["detail"]
        assert "网格M2" in refused.json()["message"]
        assert "网格T2" in refused.json()["message"]
        late = head.post(
            "/api/field/checkins", json={**body, "at": (tapped + timedelta(hours=1)).isoformat()}
        )
        assert late.status_code == 400
        assert "future" in late.json()["detail"]
        stale = head.post(
            "/api/field/checkins", json={**body, "at": (tapped - timedelta(days=8)).isoformat()}
        )
        assert stale.status_code == 400
        assert "days ago" in stale.json()["detail"]
        nowhere = head.post("/api/field/checkins", json={**body, "lon": 100.0, "lat": 30.0})
        assert nowhere.status_code == 400
        assert "no micro-grid" in nowhere.json()["detail"]


@pytest.mark.usefixtures("grid")
def test_rectification_closes_hazard_once(db: Engine, db_settings: Settings) -> None:
    lon, lat = lonlat("M1")
    with (
        api_client(db_settings, Role.GRID_HEAD, "T1") as head,
        api_client(db_settings, Role.GRID_HEAD, "T2") as other,
    ):
        hazard = head.post(
            "/api/field/reports",
            data={
                "client_id": str(uuid.uuid4()),
                "kind": "hazard",
                "lon": str(lon),
                "lat": str(lat),
                "at": _an_hour_ago(),
                "what": "燃气安全",
                "likelihood": "3",
                "severity": "4",
            },
        ).json()
        step = {
            "client_id": str(uuid.uuid4()),
            "status": "done",
            "on_day": clock.today(db_settings.timezone).isoformat(),
        }
        url = f"/api/field/hazards/{hazard['id']}/rectifications"
        assert other.post(url, data=step).status_code == 404
        photo = [("photos", ("after.jpg", photo_with_gps("green"), "image/jpeg"))]
        first = head.post(url, data=step, files=photo)
        second = head.post(url, data=step, files=photo)
        assert first.status_code == 200, first.text
        assert first.json()["new"] is True
        assert second.json()["new"] is False
    with db.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM hazards WHERE id = :i"), {"i": hazard["id"]}
        ).scalar_one()
        steps = conn.execute(text("SELECT count(*) FROM hazard_rectifications")).scalar_one()
        photos = conn.execute(
            text("SELECT count(*) FROM field_photos WHERE record_kind = 'rectification'")
        ).scalar_one()
    assert (status, steps, photos) == ("closed", 1, 1)


@pytest.mark.usefixtures("grid")
def test_roster_is_data_and_scoped(db_settings: Settings) -> None:
    with (
        api_client(db_settings, Role.ADMIN) as admin,
        api_client(db_settings, Role.GRID_MEMBER, "M1") as member,
        api_client(db_settings, Role.GRID_HEAD, "T2") as other,
    ):
        assert member.put("/api/grids/T1/people", json=ROSTER).status_code == 403
        stored = admin.put("/api/grids/T1/people", json=ROSTER)
        assert stored.status_code == 200, stored.text
        bad = admin.put("/api/grids/M1/people", json=ROSTER)
        assert bad.status_code == 400
        assert "level-3" in bad.json()["detail"]
        seen = member.get("/api/grids/T1/people").json()
        assert seen["name"] == "网格T1"
        assert seen["people"][0]["name"] == "张网格"
        assert [s["name"] for s in seen["squads"]] == ["T1调解队", "T1排查队", "T1巡逻队"]
        assert other.get("/api/grids/T1/people").status_code == 404


@pytest.mark.usefixtures("grid")
def test_a_grid_heads_statistics_name_their_area(db_settings: Settings) -> None:
    with api_client(db_settings, Role.GRID_HEAD, "T1") as head:
        page = head.get("/stats").text
        other = head.get("/stats", params={"area": "T2"})
    header = page.split('<div class="sub">', 1)[1].split("</div>", 1)[0]
    assert "网格T1 (T1)" in header
    assert "全部区域" not in header
    assert "area=T1" in page  # the export links are of their area too
    assert other.status_code == 404
    with api_client(db_settings, Role.LEADER) as leader:
        header = leader.get("/stats").text.split('<div class="sub">', 1)[1].split("</div>")[0]
    assert "全部区域" in header


@pytest.mark.usefixtures("grid")
def test_a_grid_heads_dashboard_links_only_maps_of_their_levels(db_settings: Settings) -> None:
    with api_client(db_settings, Role.GRID_HEAD, "T1") as head:
        home = head.get("/").text
    assert "/maps/risk?level=subdistrict" not in home
    assert "/maps/risk?level=grid2" not in home
    assert "/maps/risk?level=grid3" in home
    assert 'href="/field"' in home


@pytest.mark.usefixtures("grid")
def test_a_report_outside_the_area_says_where_and_stores_nothing(
    db: Engine, db_settings: Settings
) -> None:
    with api_client(db_settings, Role.GRID_MEMBER, "M1") as member:
        refused = _report(member, "M2")
    assert refused.status_code == 400
    assert "网格M2" in refused.json()["message"]
    assert "网格T2" in refused.json()["message"]
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM field_photos")).scalar_one() == 0
