"""Fixtures: every test run gets its own PostGIS databases, dropped at the end.

``db`` is an empty schema, emptied again after each test; ``demo`` holds the demo district,
loaded once per run and shared read-only. The demo is loaded as of a fixed instant
(tests/frozen.py ``DEMO_LOADED``), and every test that uses it runs with the clock moved there,
so no test depends on the hour or the date of the run. ``frozen`` runs a test at each of the
shared instants (tests/frozen.py ``INSTANTS``). ``browser`` is one headless Chromium for the run;
``desktop``, ``tablet`` and ``phone`` are a fresh browser context of that screen per test. Every
test that uses the browser is marked ``browser`` (``pytest -m "not browser"`` skips them).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from demo.load import load_demo
from geo.database import drop_database, ensure_database, init_db, make_engine, scratch_settings
from geo.settings import Settings
from tests.browser import CHROMIUM, DESKTOP, PHONE, TABLET, launch
from tests.frozen import DEMO_LOADED, INSTANTS, Instant

ARTIFACTS = Path(__file__).parent / "artifacts"
# incident_types holds the vocabulary the schema seeds (migration 0002); tests that add types
# remove them. The audit log refuses TRUNCATE (append-only); tests read their own entries.
KEEP_TABLES = {
    "gridsafe_meta",
    "alembic_version",
    "spatial_ref_sys",
    "incident_types",
    "type_synonyms",  # the shipped synonyms (i0017); a test adding one removes it
    "audit_log",
}


@pytest.fixture(scope="session")
def run_id() -> str:
    """A token unique to this test run, naming its databases and its logins."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def run_logins(run_id: str) -> Iterator[Settings]:
    """The run's owner and app logins (made by the first ``ensure_database``), dropped once
    the run's databases are."""
    settings = scratch_settings("postgres", run_id)
    yield settings
    admin = create_engine(settings.db.admin_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for url in (settings.db.database_url, settings.db.owner_database_url):
            conn.execute(text(f'DROP ROLE IF EXISTS "{make_url(url).username}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def db_settings(run_id: str, run_logins: Settings) -> Iterator[Settings]:
    """Settings pointing at this run's own empty database."""
    settings = scratch_settings(f"gridsafe_test_{run_id}", run_id)
    ensure_database(settings)
    engine = make_engine(settings.db, owner=True)
    init_db(engine, settings)
    engine.dispose()
    yield settings
    drop_database(settings.db)


@pytest.fixture
def db(db_settings: Settings) -> Iterator[Engine]:
    """An engine (the app's login) on the run's database; every data table is emptied after
    the test (by the owner: the app may not truncate)."""
    engine = make_engine(db_settings.db)
    yield engine
    engine.dispose()
    owner = make_engine(db_settings.db, owner=True)
    with owner.begin() as conn:
        tables = [
            t
            for t in conn.execute(
                # A partitioned table once: TRUNCATE empties its partitions with it.
                text(
                    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind IN ('r', 'p') AND NOT relispartition"
                )
            ).scalars()
            if t not in KEEP_TABLES
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    owner.dispose()


@pytest.fixture(scope="session")
def demo_settings(run_id: str, run_logins: Settings) -> Iterator[Settings]:
    """Settings pointing at this run's database holding the demo district (read-only)."""
    settings = scratch_settings(f"gridsafe_demo_{run_id}", run_id)
    load_demo(settings, now=DEMO_LOADED.local)
    yield settings
    drop_database(settings.db)


@pytest.fixture(scope="session")
def demo(demo_settings: Settings) -> Iterator[Engine]:
    """An engine on the demo district's database."""
    engine = make_engine(demo_settings.db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def make_db(run_id: str, run_logins: Settings) -> Iterator[Callable[..., tuple[Engine, Settings]]]:
    """A factory of extra databases for this run: ``make_db("utm", srid=32633)``.

    Each gets the schema for its own settings (up to ``revision``, default all heads) and is
    dropped at the end of the run.
    """
    made: list[tuple[Engine, Settings]] = []

    def make(name: str, *, revision: str = "heads", **overrides: Any) -> tuple[Engine, Settings]:
        settings = scratch_settings(f"gridsafe_{name}_{run_id}", run_id, **overrides)
        ensure_database(settings)
        owner = make_engine(settings.db, owner=True)
        init_db(owner, settings, revision=revision)
        owner.dispose()
        engine = make_engine(settings.db)
        made.append((engine, settings))
        return engine, settings

    yield make
    for engine, settings in made:
        engine.dispose()
        drop_database(settings.db)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests keep what a person should look at (screenshots, reports)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def travel(instant: Instant) -> time_machine.travel:
    """Move the clock to ``instant``; it ticks on from there (servers and browsers need time
    to pass). The destination is given in UTC so time-machine leaves the process's own zone
    alone: the server's zone must not stand in for the district's."""
    return time_machine.travel(instant.local.astimezone(UTC), tick=True)


@pytest.fixture(params=INSTANTS, ids=lambda instant: instant.name)
def frozen(request: pytest.FixtureRequest) -> Iterator[Instant]:
    """Run the test at each shared instant, the clock moved there (see tests/frozen.py)."""
    instant: Instant = request.param
    with travel(instant):
        yield instant


@pytest.fixture(autouse=True)
def _demo_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test of the demo district runs at the moment the demo was loaded (and on)."""
    if "demo_settings" not in request.fixturenames:
        yield
        return
    with travel(DEMO_LOADED):
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the browser ``browser`` (and skip it without Chromium), and
    every test that uses the demo district ``demo``: the fast subset while working is
    ``pytest -m "not browser and not demo"``."""
    missing = shutil.which(CHROMIUM) is None
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))
        if "demo_settings" in fixtures:
            item.add_marker(pytest.mark.demo)
        # Run on two processes (scripts/test.sh: pytest-xdist's loadgroup), a file's tests stay
        # together (its module fixtures are built once) and every test of the demo district
        # goes to one process, which alone loads it.
        group = "demo" if "demo_settings" in fixtures else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    with launch() as b:
        yield b


def _context(browser: Browser, options: dict[str, Any]) -> Iterator[BrowserContext]:
    context = browser.new_context(**options)
    yield context
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh context (no cookies) with a 1600x1000 desktop screen."""
    yield from _context(browser, DESKTOP)


@pytest.fixture
def tablet(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh touch context with a 1024x768 tablet screen."""
    yield from _context(browser, TABLET)


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh touch context with a 360x740 phone screen."""
    yield from _context(browser, PHONE)
