"""Admission control and pool limits: past its limits a worker answers 503 with Retry-After at
once or after a bounded wait, never a hang or a 500, and serves again as soon as load drops."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.deps import EngineDep
from geo.access import Role
from geo.settings import Settings
from tests.clients import api_client

HOLD_S = 10  # longest a held request waits for its release (the tests release it sooner)


def client_for(settings: Settings, app: FastAPI) -> TestClient:
    """The one place tests of this module make an HTTP client: signed in as a leader."""
    return api_client(settings, Role.LEADER, app=app)


def holding_app(settings: Settings, release: threading.Event, *, connection: bool) -> FastAPI:
    """The app with ``/test/hold``: a request that stays in flight until ``release`` is set,
    holding a database connection when ``connection``."""
    app = create_app(settings)

    def hold(engine: EngineDep) -> dict[str, str]:
        if connection:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                release.wait(HOLD_S)
        else:
            release.wait(HOLD_S)
        return {"status": "done"}

    app.add_api_route("/test/hold", hold)
    return app


def wait_until(check: Any, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_requests_past_the_limit_and_queue_get_503_with_retry_after(
    db_settings: Settings,
) -> None:
    settings = db_settings.replace(max_in_flight=2, admission_queue=1, admission_wait_s=2.0)
    release = threading.Event()
    app = holding_app(settings, release, connection=False)
    with client_for(settings, app) as client, ThreadPoolExecutor(4) as pool:
        assert client.get("/healthz").status_code == 200  # builds the middleware stack
        admission = app.state.admission
        held = [pool.submit(client.get, "/test/hold") for _ in range(2)]
        wait_until(lambda: admission.in_flight == 2)
        queued = pool.submit(client.get, "/test/hold")
        wait_until(lambda: admission.waiting == 1)
        started = time.monotonic()
        refused = client.get("/healthz")  # limit reached and queue full: refused at once
        assert time.monotonic() - started < 1.5  # well before the queue's 2 s
        page = client.get("/", headers={"Accept": "text/html"})  # a browser gets a page
        timed_out = queued.result(timeout=5)  # waited admission_wait_s for a slot, then refused
        release.set()
        assert [f.result(timeout=5).status_code for f in held] == [200, 200]
        for response, why in ((refused, "waiting"), (timed_out, "no free slot within 2 s")):
            assert response.status_code == 503
            assert response.headers["retry-after"] == str(settings.db.retry_after_s)
            assert response.json()["detail"].startswith("server busy:")
            assert why in response.json()["detail"]
        assert page.status_code == 503
        assert page.headers["retry-after"] == str(settings.db.retry_after_s)
        assert 'id="gs-shell"' in page.text
        assert "服务繁忙或暂不可用" in page.text
        # Load gone, slots free again.
        assert client.get("/healthz").status_code == 200
        assert admission.in_flight == 0


def test_a_queued_request_is_served_when_a_slot_frees_in_time(db_settings: Settings) -> None:
    settings = db_settings.replace(max_in_flight=1, admission_queue=4, admission_wait_s=5.0)
    release = threading.Event()
    app = holding_app(settings, release, connection=False)
    with client_for(settings, app) as client, ThreadPoolExecutor(2) as pool:
        assert client.get("/healthz").status_code == 200  # builds the middleware stack
        held = pool.submit(client.get, "/test/hold")
        wait_until(lambda: app.state.admission.in_flight == 1)
        queued = pool.submit(client.get, "/healthz")
        wait_until(lambda: app.state.admission.waiting == 1)
        release.set()
        assert held.result(timeout=5).status_code == 200
        assert queued.result(timeout=5).status_code == 200


def test_an_exhausted_connection_pool_gets_503_not_500(db: Engine, db_settings: Settings) -> None:
    settings = db_settings.replace(pool_size=1, pool_max_overflow=0, pool_timeout_s=0.3)
    release = threading.Event()
    app = holding_app(settings, release, connection=True)
    with client_for(settings, app) as client, ThreadPoolExecutor(1) as pool:
        held = pool.submit(client.get, "/test/hold")
        wait_until(lambda: app.state.engine.pool.checkedout() == 1)
        response = client.get("/api/areas")
        release.set()
        assert held.result(timeout=5).status_code == 200
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(settings.db.retry_after_s)
    assert "every database connection is in use" in response.json()["detail"]
