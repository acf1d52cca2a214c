"""The areas API and the admin boundary upload, through the real app on a real PostGIS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely import box
from sqlalchemy import Engine

from api.app import create_app
from geo.settings import Settings
from tests.clients import api_client

X0, Y0 = 472_000.0, 3_848_000.0


@pytest.fixture
def client(db: Engine, db_settings: Settings) -> Iterator[TestClient]:
    with api_client(db_settings) as c:
        yield c


def upload(client: TestClient, path: Path, level: str, **form: str) -> dict:
    with path.open("rb") as fh:
        response = client.post(
            "/api/admin/boundaries",
            files={"file": (path.name, fh, "application/geo+json")},
            data={"level": level, **form},
        )
    return {"status": response.status_code, **response.json()}


def geojson(path: Path, rows: list[dict]) -> Path:
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4547").to_file(path, engine="pyogrio")
    return path


def test_upload_then_read(client: TestClient, tmp_path: Path) -> None:
    top = geojson(
        tmp_path / "s.geojson",
        [{"code": "S", "name": "街道", "geometry": box(X0, Y0, X0 + 1000, Y0 + 1000)}],
    )
    assert upload(client, top, "subdistrict")["inserted"] == 1
    kids = geojson(
        tmp_path / "g.geojson",
        [
            {"code": "A", "name": "甲", "geometry": box(X0, Y0, X0 + 500, Y0 + 1000)},
            {"code": "B", "name": "乙", "geometry": box(X0 + 500, Y0, X0 + 1000, Y0 + 1000)},
        ],
    )
    assert upload(client, kids, "grid2")["inserted"] == 2

    listing = client.get("/api/areas", params={"level": "grid2"})
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("application/geo+json")
    features = listing.json()["features"]
    assert [f["properties"]["code"] for f in features] == ["A", "B"]
    assert {f["properties"]["parent_code"] for f in features} == {"S"}
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0]
    assert 113.6 < lon < 113.8
    assert 34.7 < lat < 34.8

    one = client.get("/api/areas/A").json()
    assert one["properties"]["ancestors"] == [{"code": "S", "name": "街道", "level": "subdistrict"}]
    assert one["properties"]["children"] == []
    top_feature = client.get("/api/areas/S").json()
    assert [c["code"] for c in top_feature["properties"]["children"]] == ["A", "B"]
    assert client.get("/api/areas", params={"parent": "S"}).json()["features"][1]["id"] == "B"


def test_errors_are_clear(client: TestClient, tmp_path: Path) -> None:
    missing = client.get("/api/areas/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no area with code 'NOPE'"}
    assert client.get("/api/areas", params={"level": "grid9"}).status_code == 422

    orphan = geojson(
        tmp_path / "o.geojson",
        [{"code": "O", "name": "孤", "geometry": box(X0, Y0, X0 + 10, Y0 + 10)}],
    )
    rejected = upload(client, orphan, "grid2")
    assert rejected["status"] == 422
    assert rejected["problems"] == [
        {"row": 1, "id": "O", "reason": "orphan: lies in no subdistrict area and names no parent"}
    ]
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello", encoding="utf-8")
    wrong = upload(client, text_file, "grid2")
    assert wrong["status"] == 400
    assert "unsupported format '.txt'" in wrong["detail"]


def test_upload_size_limit(db: Engine, db_settings: Settings, tmp_path: Path) -> None:
    small = db_settings.replace(max_upload_bytes=1000)
    big = tmp_path / "big.geojson"
    big.write_text(json.dumps({"type": "FeatureCollection", "features": [], "pad": "x" * 5000}))
    with api_client(small) as client:
        response = upload(client, big, "grid2")
    assert response["status"] == 413
    assert "over the limit of 1000 bytes" in response["detail"]


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["postgis"].startswith("3.")


def test_healthz_without_database(db_settings: Settings) -> None:
    down = db_settings.replace(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    with TestClient(create_app(down)) as client:  # /healthz is public
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(down.db.retry_after_s)
