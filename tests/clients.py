"""Clients for tests: a user of a role (and area), a client carrying their token, the
``gridsafe`` command line run as a user runs it, and a free loopback port for a server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from geo.access import Role, User, add_user, issue_token
from geo.database import make_engine
from geo.settings import Settings
from tests.conformance import conformance_check


def make_user(
    settings: Settings,
    role: Role = Role.ADMIN,
    scope: str | None = None,
    *,
    password: str | None = None,
) -> User:
    """A new account of ``role`` (with ``scope`` for grid heads and members), by default with
    no password."""
    engine = make_engine(settings.db)
    try:
        name = f"t-{role}-{uuid.uuid4().hex[:8]}"
        return add_user(engine, settings, name, role, password=password, scope=scope)
    finally:
        engine.dispose()


def token_for(settings: Settings, user: User, *, hours: float = 1.0) -> str:
    """A bearer token of ``user``."""
    engine = make_engine(settings.db)
    try:
        return issue_token(engine, user, "api", ttl=timedelta(hours=hours)).secret
    finally:
        engine.dispose()


def session_for(settings: Settings, user: User) -> tuple[str, str]:
    """A page session of ``user``: the cookie value and its CSRF token."""
    engine = make_engine(settings.db)
    try:
        issued = issue_token(engine, user, "session", ttl=timedelta(hours=1))
    finally:
        engine.dispose()
    assert issued.csrf is not None
    return issued.secret, issued.csrf


def api_client(
    settings: Settings,
    role: Role = Role.ADMIN,
    scope: str | None = None,
    *,
    app: FastAPI | None = None,
    follow_redirects: bool = True,
) -> TestClient:
    """A test client of the app signed in (bearer token) as a new user of ``role``; every JSON
    answer it gets is checked against the model its route declares."""
    user = make_user(settings, role, scope)
    headers = {"Authorization": f"Bearer {token_for(settings, user)}"}
    app = app or create_app(settings)
    client = TestClient(app, headers=headers, follow_redirects=follow_redirects)
    client.event_hooks = {"response": [conformance_check(app)]}
    return client


def gridsafe(
    settings: Settings, *args: str, stdin: str = "", owner: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``gridsafe`` command on ``settings``' database (``owner``: told the
    schema owner's login too, for the commands that run as it); output as text."""
    env = {**os.environ, "GRIDSAFE_DATABASE_URL": settings.db.database_url}
    if owner:
        env["GRIDSAFE_OWNER_DATABASE_URL"] = settings.db.owner_database_url
    exe = Path(sys.executable).with_name("gridsafe")
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )


def free_port() -> int:
    """A loopback TCP port nobody listens on (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
