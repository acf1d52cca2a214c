"""Schema creation and upgrade: repeatable, refusing a database in another SRID, keeping data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, QueuePool, create_engine, text
from sqlalchemy.engine import make_url

from geo.database import SchemaError, check_database, ensure_database, init_db, make_engine
from geo.errors import DatabaseUnavailableError
from geo.settings import Settings


def test_init_is_repeatable_and_keeps_data(db: Engine, db_settings: Settings) -> None:
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, geom) VALUES "
                "('r', 'S', '街道', 'subdistrict', "
                "ST_Multi(ST_MakeEnvelope(472000, 3848000, 473000, 3849000, 4547)))"
            )
        )
    owner = make_engine(db_settings.db, owner=True)
    first = init_db(owner, db_settings)
    second = init_db(owner, db_settings)
    owner.dispose()
    assert first == second
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar() == 1
        gist = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'areas_geom_gist'")
        ).scalar()
    assert "USING gist" in str(gist)


def test_upgrade_from_first_revision_keeps_rows(
    make_db: Callable[..., tuple[Engine, Settings]],
) -> None:
    """An existing database at revision 0001 upgrades without losing its areas."""
    _, settings = make_db("upgrade", revision="0001")
    # Before a0013 the app's login has no privileges: the owner writes the row.
    engine = make_engine(settings.db, owner=True)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (region, code, name, level, geom) VALUES "
                "('r', 'S', '街道', 'subdistrict', "
                "ST_Multi(ST_MakeEnvelope(472000, 3848000, 473000, 3849000, 4547)))"
            )
        )
    revision = init_db(engine, settings)
    engine.dispose()
    assert "0001" not in revision.split(",")
    app = make_engine(settings.db)
    with app.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM incident_types")).scalar_one() > 10
    app.dispose()


def test_other_srid_refused(db_settings: Settings) -> None:
    other = db_settings.replace(srid=4326)
    owner = make_engine(other.db, owner=True)
    with pytest.raises(SchemaError, match="stores geometry in EPSG:4547 but GRIDSAFE_SRID is 4326"):
        init_db(owner, other)
    owner.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    settings = Settings().replace(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    engine = make_engine(settings.db)
    with pytest.raises(DatabaseUnavailableError, match="database unavailable"):
        check_database(engine)


def test_the_pool_keeps_the_connections_it_opened_under_load(db_settings: Settings) -> None:
    # SQLAlchemy closes an overflow connection when it comes back; under load each request past
    # pool_size then started a new PostgreSQL session. Every connection opened is kept.
    settings = db_settings.replace(pool_size=1, pool_max_overflow=2)
    engine = make_engine(settings.db)
    try:
        busy = [engine.connect() for _ in range(3)]
        sessions = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in busy}
        for conn in busy:
            conn.close()
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedin() == 3
        again = [engine.connect() for _ in range(3)]
        assert {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in again} == sessions
        for conn in again:
            conn.close()
    finally:
        engine.dispose()


def test_a_database_of_the_single_login_days_is_given_to_the_owner(
    db_settings: Settings, run_id: str
) -> None:
    """A database migrated (to l0012) by one superuser login, as before a0013, is handed to the
    owner login by ``ensure_database``; upgraded, the app's login reads and writes it."""
    admin = make_url(db_settings.db.admin_database_url).set(database=f"gridsafe_single_{run_id}")
    url = admin.render_as_string(hide_password=False)
    app = make_url(db_settings.db.database_url).set(database=admin.database)
    owner = make_url(db_settings.db.owner_database_url).set(database=admin.database)
    before = db_settings.replace(owner_database_url=url, database_url=app.render_as_string(False))
    after = before.replace(owner_database_url=owner.render_as_string(False))
    try:
        assert ensure_database(before)
        superuser = make_engine(before.db, owner=True)
        init_db(superuser, before, revision="l0012")
        with superuser.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO areas (region, code, name, level, geom) VALUES "
                    "('r', 'S', '街道', 'subdistrict', "
                    "ST_Multi(ST_MakeEnvelope(472000, 3848000, 473000, 3849000, 4547)))"
                )
            )
        superuser.dispose()
        assert not ensure_database(after)
        engine = make_engine(after.db, owner=True)
        init_db(engine, after)
        engine.dispose()
        engine = make_engine(after.db)
        with engine.begin() as conn:
            conn.execute(text("UPDATE areas SET name = '新街道'"))
            assert conn.execute(text("SELECT name FROM areas")).scalar() == "新街道"
        engine.dispose()
    finally:
        drop = create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{admin.database}" WITH (FORCE)'))
        drop.dispose()
