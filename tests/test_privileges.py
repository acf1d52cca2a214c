"""Least privilege (migration a0013): the app's login can neither rewrite nor forge the audit log.

Every other test runs as the app's login too (tests/conftest.py), so the suite passing shows its
grants are enough; these show what they withhold. Each attempt runs in its own transaction,
rolled back by the error, and the log is compared before and after.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from geo.cases import open_case, transition
from geo.database import APP_ROLE, SchemaError, acting_as, ensure_database, make_engine
from geo.records import submit_records
from geo.settings import DatabaseSettings, Settings
from tests.test_cases import T0, X0, Y0, add_incident, place_grid

# (what is tried, the statement): each must fail with a permission error for the app.
ATTEMPTS = {
    "turn triggers off for the session": "SET session_replication_role = replica",
    "turn triggers off for the transaction": "SET LOCAL session_replication_role = replica",
    "disable the log's triggers": "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "disable an audited table's triggers": "ALTER TABLE cases DISABLE TRIGGER cases_audit_upd",
    "forge an entry": (
        "INSERT INTO audit_log (actor, action, entity, rows, txid) "
        "VALUES ('admin', 'UPDATE', 'cases', 1, txid_current())"
    ),
    "fake an entry's actor": "UPDATE audit_log SET actor = 'someone else'",
    "delete entries": "DELETE FROM audit_log",
    "empty the log": "TRUNCATE audit_log",
    "take over the log": "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    "drop a trigger": "DROP TRIGGER audit_log_no_change ON audit_log",
    "replace the audit function": (
        "CREATE OR REPLACE FUNCTION audit_changes() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END $$"
    ),
    "add a table of its own": "CREATE TABLE public.mine (id int)",
    "become the owner": "SET ROLE {owner}",
}


def _log(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM audit_log ORDER BY id"))]


@pytest.mark.parametrize("statement", ATTEMPTS.values(), ids=list(ATTEMPTS))
def test_the_app_cannot_touch_the_log_but_through_its_triggers(
    db: Engine, db_settings: Settings, statement: str
) -> None:
    place_grid(db, db_settings)
    incident = add_incident(db, db_settings, micro="M1", kind="dispute", at=T0)
    open_case(db, db_settings, incident_id=incident, actor="x")
    before = _log(db)
    assert before
    owner = make_url(db_settings.db.owner_database_url).username
    with pytest.raises(ProgrammingError) as refused, db.begin() as conn:
        conn.execute(text(statement.format(owner=f'"{owner}"')))
    assert isinstance(refused.value.orig, InsufficientPrivilege), refused.value
    assert _log(db) == before


def test_the_app_login_is_no_superuser_owner_or_rls_exempt(
    db: Engine, db_settings: Settings
) -> None:
    login = make_url(db_settings.db.database_url).username
    with db.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == login
        attributes = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
        assert tuple(attributes) == (False, False, False, False)
        owned = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND pg_has_role(relowner, 'USAGE')"
            )
        ).scalars()
        assert list(owned) == []
        assert conn.execute(text("SELECT pg_has_role(:g, 'USAGE')"), {"g": APP_ROLE}).scalar()
        # On the log: read only. Nowhere: TRUNCATE, REFERENCES or TRIGGER.
        log = conn.execute(
            text(
                "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', "
                "'REFERENCES', 'TRIGGER']) p WHERE has_table_privilege('audit_log', p)"
            )
        ).scalars()
        assert list(log) == ["SELECT"]
        extra = conn.execute(
            text(
                "SELECT c.relname, p FROM pg_class c, unnest(ARRAY['TRUNCATE', 'REFERENCES', "
                "'TRIGGER']) p WHERE c.relnamespace = 'public'::regnamespace "
                "AND c.relkind IN ('r', 'p') AND has_table_privilege(c.oid, p)"
            )
        ).all()
        assert extra == []
        # The app sees every row of a table under row-level security (its _app policy).
        missing = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relrowsecurity AND NOT EXISTS ("
                "SELECT FROM pg_policy p WHERE p.polrelid = c.oid "
                "AND CAST(:g AS regrole) = ANY(p.polroles))"
            ),
            {"g": APP_ROLE},
        ).scalars()
        assert list(missing) == []


def test_the_owner_logs_in_to_migrate_only(db_settings: Settings) -> None:
    """The schema's owner is another login, and the app's is not a member of it."""
    owner = make_url(db_settings.db.owner_database_url).username
    app = make_url(db_settings.db.database_url).username
    assert owner != app
    engine = make_engine(db_settings.db, owner=True)
    try:
        with engine.connect() as conn:
            assert not conn.execute(
                text("SELECT pg_has_role(:app, :owner, 'MEMBER')"), {"app": app, "owner": owner}
            ).scalar()
            tables = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_get_userbyid(relowner) = current_user), "
                    "count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind IN ('r', 'p') AND relname <> 'spatial_ref_sys'"
                )
            ).one()
    finally:
        engine.dispose()
    assert tables[0] == tables[1] > 0


def test_app_work_is_still_logged_by_the_triggers(db: Engine, db_settings: Settings) -> None:
    """An import and a case moved by the app's login each leave their entries, in their
    actor's name."""
    place_grid(db, db_settings)
    with db.connect() as conn:
        mark = conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()
    with acting_as("user:数据员"):
        report, _ = submit_records(
            db,
            db_settings,
            [
                {
                    "source": "12345热线",
                    "source_id": "priv-1",
                    "type": "dispute",
                    "occurred_at": (T0 - timedelta(days=1)).isoformat(),
                    "x": X0 + 50,
                    "y": Y0 + 50,
                    "crs": "EPSG:4547",
                }
            ],
            kind="incidents",
        )
    assert report.loaded == 1
    with db.connect() as conn:
        incident = conn.execute(text("SELECT id FROM incidents WHERE source_id = 'priv-1'"))
        incident_id = int(incident.scalar_one())
    with acting_as("user:调度员"):
        case = open_case(db, db_settings, incident_id=incident_id, actor="调度员")
        transition(
            db,
            db_settings,
            case["id"],
            to="dispatched",
            actor="调度员",
            expected_version=case["version"],
            squad="mediation",
        )
    with db.connect() as conn:
        entries = conn.execute(
            text("SELECT actor, action, entity FROM audit_log WHERE id > :m ORDER BY id"),
            {"m": mark},
        ).all()
    written = {tuple(e) for e in entries}
    assert ("user:数据员", "INSERT", "incidents") in written
    assert ("user:数据员", "INSERT", "import_runs") in written
    assert ("user:调度员", "INSERT", "cases") in written
    assert ("user:调度员", "UPDATE", "cases") in written
    assert ("user:调度员", "INSERT", "case_events") in written


def test_production_refuses_logins_with_their_default_passwords(db_settings: Settings) -> None:
    defaults = Settings().replace(
        database_url=DatabaseSettings.model_fields["database_url"].default,
        owner_database_url=DatabaseSettings.model_fields["owner_database_url"].default,
        admin_database_url=db_settings.db.admin_database_url,
        mode="production",
    )
    with pytest.raises(SchemaError, match="'gridsafe_owner' would get its default password"):
        ensure_database(defaults)


def test_a_superuser_app_login_is_refused(db_settings: Settings) -> None:
    superuser = db_settings.replace(database_url=db_settings.db.admin_database_url)
    with pytest.raises(SchemaError, match=r"the app's login '\w+' \(GRIDSAFE_DATABASE_URL\) is a"):
        ensure_database(superuser)


def test_without_a_superuser_a_missing_database_is_named(db_settings: Settings) -> None:
    urls = {
        field: make_url(getattr(db_settings.db, field))
        .set(database="gridsafe_never_made")
        .render_as_string(hide_password=False)
        for field in ("database_url", "owner_database_url")
    }
    missing = db_settings.replace(**urls, admin_database_url="")
    with pytest.raises(SchemaError, match="'gridsafe_never_made' does not exist: set GRIDSAFE_ADM"):
        ensure_database(missing)
