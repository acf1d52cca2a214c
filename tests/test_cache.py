"""The response cache (api/cache.py), the checked-credential cache (api/auth.py) and the
single-flight of on-demand risk runs (geo/risk/store.py)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from api.app import create_app
from api.cache import Kept, ResponseCache
from geo.access import Role, disable_user, revoke_token, set_language
from geo.database import make_engine
from geo.risk.store import resolve_run, run_risk
from geo.settings import Settings
from maps.chrome import PageParts, chrome_parts
from tests.clients import make_user, token_for
from tests.test_maps import AS_OF, build_district

PAGE = {"level": "micro", "as_of": AS_OF.isoformat()}
LATER = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 23, 59, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def cachedist(make_db: Callable[..., tuple[Engine, Settings]]) -> tuple[Engine, Settings]:
    """The hand-made district of tests/test_maps.py with its risk map, in its own database."""
    engine, settings = make_db("cache")
    build_district(engine, settings)
    return engine, settings


def _app(settings: Settings, credential_cache_s: float = 60.0) -> Any:
    """The app, keeping checked credentials ``credential_cache_s`` (long: the loaded test
    machine may take seconds per page, and these tests count statements)."""
    access = settings.access.model_copy(update={"credential_cache_s": credential_cache_s})
    return create_app(settings.model_copy(update={"access": access}))


def _client(settings: Settings, app: Any, role: Role = Role.LEADER, **kw: Any) -> TestClient:
    user = make_user(settings, role, kw.pop("scope", None))
    if "language" in kw:
        engine = make_engine(settings.db)
        set_language(engine, user.username, kw.pop("language"))
        engine.dispose()
    token = token_for(settings, user)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _config(html: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(
        html.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
    )
    return config


def _codes(html: str) -> set[str]:
    return {f["properties"]["code"] for f in _config(html)["areas"]["features"]}


def _statements(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def listen(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


# --------------------------------------------------------------------------- the kept pieces


def test_kept_pages_are_one_gzip_stream_with_each_responses_parts() -> None:
    big = "x" * 70_000 + "".join(chr(0x4E00 + i % 500) for i in range(30_000))
    page = f"<html><head><title>t</title></head><body><script>{big}</script><p>end</p></body>"
    parts = chrome_parts(page)
    assert parts.holes.count("nonce") == 1
    values = {"nonce": ' nonce="abc"', "head": "<meta x>", "bar": "<div>" + "y" * 70_000}
    kept = Kept.of(parts, "text/html")
    expected = parts.fill(values).encode()
    assert gzip.decompress(kept.gzip(values)) == expected
    assert kept.plain(values) == expected
    assert kept.nbytes < len(expected) / 2  # kept compressed
    # Empty pieces and holes at the start and the end.
    edges = PageParts(pieces=("", "mid", ""), holes=("a", "b"))
    kept = Kept.of(edges, "text/plain")
    assert gzip.decompress(kept.gzip({"a": "", "b": "é"})) == "midé".encode()
    whole = Kept.of('{"a": 1}', "application/json")
    assert gzip.decompress(whole.gzip()) == b'{"a": 1}'


def test_the_cache_is_bounded_by_bytes_least_recently_used_out() -> None:
    def kept(n: int) -> Kept:
        return Kept.of(bytes(range(256)) * n, "application/octet-stream")

    size = kept(40).nbytes
    cache = ResponseCache(max_bytes=3 * size)
    for key in "abc":
        cache.put(key, kept(40))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", kept(40))
    assert cache.get("b") is None
    assert {k for k in "acd" if cache.get(k) is not None} == {"a", "c", "d"}
    assert cache.nbytes <= cache.max_bytes
    cache.put("huge", Kept.of(bytes(range(256)) * 10_000, "application/octet-stream"))
    assert cache.get("huge") is None  # larger than the whole bound: never kept
    assert len(cache) == 3


# --------------------------------------------------------------------------- pages and answers


def test_the_risk_page_is_built_once_and_revalidated_before_any_work(
    cachedist: tuple[Engine, Settings],
) -> None:
    _engine, settings = cachedist
    app = _app(settings)
    with _client(settings, app) as client:
        first = client.get("/maps/risk", params=PAGE)
        assert first.status_code == 200
        assert first.headers["content-encoding"] == "gzip"
        etag = first.headers["etag"]
        cache: ResponseCache = app.state.responses
        assert len(cache) == 1
        engine = app.state.engine
        seen, stop = _statements(engine)
        try:
            again = client.get("/maps/risk", params=PAGE)
            not_modified = client.get("/maps/risk", params=PAGE, headers={"If-None-Match": etag})
        finally:
            stop()
        assert again.status_code == 200
        assert again.headers["etag"] == etag
        assert _config(again.text) == _config(first.text)
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        # Two answers from the cache: one version read each, nothing of the page read again.
        assert len(seen) == 2
        assert all("audit_log" in s for s in seen)
        # Every response has its own nonce on the same kept page.
        nonce = first.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
        nonce2 = again.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
        assert nonce != nonce2
        assert f'nonce="{nonce2}"' in again.text
        assert f'nonce="{nonce}"' not in again.text
        # A client that does not take gzip gets the same page, uncompressed.
        plain = client.get("/maps/risk", params=PAGE, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert _config(plain.text) == _config(first.text)
        # Another user's page: their name in the header, another ETag, the same kept page.
        # (Not entered: the app's lifespan, and its pool, are the outer client's.)
        other = _client(settings, app)
        theirs = other.get("/maps/risk", params=PAGE, headers={"If-None-Match": etag})
        assert theirs.status_code == 200
        assert theirs.headers["etag"] != etag
        assert len(cache) == 1

        # A new risk run is another page.
        run_risk(engine, settings, as_of=LATER)
        after = client.get("/maps/risk", params=PAGE, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert len(cache) == 2


def test_a_grid_head_never_gets_a_leaders_page_nor_another_language(
    cachedist: tuple[Engine, Settings],
) -> None:
    _engine, settings = cachedist
    as_of = PAGE
    app = _app(settings)
    with _client(settings, app) as leader:
        page = leader.get("/maps/risk", params=as_of)
        api = leader.get("/api/risk", params=as_of)
    leader_codes = _codes(page.text)
    assert len(leader_codes) == 16
    assert len(api.json()["features"]) == 16
    with _client(settings, app, Role.GRID_HEAD, scope="S-0-0") as head:
        head_page = head.get("/maps/risk", params=as_of)
        head_api = head.get("/api/risk", params=as_of, headers={"If-None-Match": '"x"'})
        head_again = head.get("/maps/risk", params=as_of)
    head_codes = _codes(head_page.text)
    assert head_codes
    assert head_codes < leader_codes
    assert _codes(head_again.text) == head_codes
    api_codes = {f["properties"]["code"] for f in head_api.json()["features"]}
    assert api_codes < {f["properties"]["code"] for f in api.json()["features"]}
    assert head_page.headers["etag"] != page.headers["etag"]

    zh_title = page.text.split("<title>")[1].split("</title>")[0]
    with _client(settings, app, language="en") as english:
        en_page = english.get("/maps/risk", params=as_of)
    en_title = en_page.text.split("<title>")[1].split("</title>")[0]
    assert "Four-colour safety map" in en_title
    assert "Four-colour safety map" not in zh_title
    assert _codes(en_page.text) == leader_codes


# --------------------------------------------------------------------------- checked credentials


def test_a_checked_token_is_not_looked_up_again_and_revocation_is_at_once(
    cachedist: tuple[Engine, Settings],
) -> None:
    _engine, settings = cachedist
    app = _app(settings)
    user = make_user(settings, Role.LEADER)
    token = token_for(settings, user)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 200
        seen, stop = _statements(app.state.engine)
        try:
            assert client.get("/api/areas", params={"level": "grid2"}).status_code == 200
        finally:
            stop()
        assert not any("FROM tokens" in s for s in seen)
        # Revoked (by this process): refused on the next request.
        assert revoke_token(app.state.engine, token)
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 401

        other = make_user(settings, Role.LEADER)
        client.headers["Authorization"] = f"Bearer {token_for(settings, other)}"
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 200
        disable_user(app.state.engine, other.username)
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 401


def test_another_workers_revocation_is_refused_within_the_cache_time(
    cachedist: tuple[Engine, Settings],
) -> None:
    _engine, settings = cachedist
    app = _app(settings, credential_cache_s=0.5)
    user = make_user(settings, Role.LEADER)
    token = token_for(settings, user)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 200
        # Revoked in the database by another process: this one has made no change itself.
        owner = make_engine(settings.db, owner=True)
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE tokens SET revoked_at = now() WHERE user_id = :id"), {"id": user.id}
            )
        owner.dispose()
        time.sleep(0.6)
        assert client.get("/api/areas", params={"level": "grid2"}).status_code == 401


# --------------------------------------------------------------------------- single flight


def test_concurrent_requests_for_a_missing_run_store_one(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    engine, settings = make_db("cache_flight")
    build_district(engine, settings)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM risk_scores"))
        conn.execute(text("DELETE FROM risk_runs"))
    barrier = threading.Barrier(4)
    runs: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            runs.append(int(resolve_run(engine, settings, settings.region, None).id))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(runs)) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM risk_runs")).scalar_one() == 1
