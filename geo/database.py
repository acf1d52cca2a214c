"""The database: engines, schema creation and upgrade (Alembic), and the SQL file loader.

PostGIS is the store of record. Long SQL lives in ``sql/*.sql`` beside the modules that run it
and is loaded with :func:`sql`; every value reaches it as a bound parameter.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql as pgsql
from sqlalchemy import Engine, TextClause, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from geo.errors import BusyError, DatabaseUnavailableError, GridsafeError
from geo.settings import DatabaseSettings, Settings

if TYPE_CHECKING:
    from alembic.config import Config


class SchemaError(GridsafeError):
    """The database's schema does not fit these settings (e.g. another SRID)."""


@cache
def sql(name: str, package: str = "geo") -> TextClause:
    """The SQL statement in ``{package}/sql/{name}.sql``, as a text clause.

    Each package keeps the SQL its modules run in its own ``sql/`` folder (``geo.risk`` in
    ``geo/risk/sql/``); the modules directly in ``geo/`` use ``geo/sql/``.
    """
    folder = resources.files(package).joinpath("sql")
    return text(folder.joinpath(f"{name}.sql").read_text(encoding="utf-8"))


SCOPED_ROLE = "gridsafe_scoped"
"""The database role scoped callers' transactions run as (row-level security, migration a0009)."""

APP_ROLE = "gridsafe_app"
"""The group role of the app's login (migration a0013): it reads and writes the app's tables,
only reads the audit log, and may become :data:`SCOPED_ROLE`."""


@dataclass(frozen=True)
class Acting:
    """Who the current transactions run for: the audit log's actor and the area scope."""

    actor: str
    scope: str | None = None
    """An area code: row-level security limits every query to it and its subtree."""


_ACTING: ContextVar[Acting | None] = ContextVar("gridsafe_acting", default=None)


def set_acting(acting: Acting) -> None:
    """Make every transaction begun from now on in this context run for ``acting``.

    A request sets it once, before its handler runs; the context ends with the request.
    """
    _ACTING.set(acting)


@contextmanager
def acting_as(actor: str, scope: str | None = None) -> Iterator[Acting]:
    """Run the enclosed transactions for ``actor`` (and within ``scope`` when given)."""
    acting = Acting(actor, scope)
    token = _ACTING.set(acting)
    try:
        yield acting
    finally:
        _ACTING.reset(token)


def current_scope() -> str | None:
    """The area code the current transactions are limited to (None: not limited)."""
    acting = _ACTING.get()
    return acting.scope if acting is not None else None


@contextmanager
def unscoped() -> Iterator[None]:
    """Run the enclosed transactions outside the caller's area scope, still in their name.

    Only for what no area scope describes: the caller's own credentials (``geo.access``:
    revoking their token) and region-wide computations kept for everyone (``geo.risk.store``:
    a risk map computed on demand), whose reads go through the scope afterwards.
    """
    current = _ACTING.get()
    if current is None or current.scope is None:
        yield
        return
    token = _ACTING.set(Acting(current.actor))
    try:
        yield
    finally:
        _ACTING.reset(token)


@contextmanager
def unnamed() -> Iterator[None]:
    """Run the enclosed transactions for no caller: no name, no area scope.

    Only for reads whose answer depends on no caller (the audit log's counts that version the
    cached answers and tiles), or an unscoped caller's reads: the transaction then starts
    without the ``set_config`` round trip that names the actor (``_on_begin``); nothing is
    written, so the audit log has nothing to name them in.
    """
    token = _ACTING.set(None)
    try:
        yield
    finally:
        _ACTING.reset(token)


def _on_begin(conn: Connection) -> None:
    # Transaction-local settings: they end with the transaction, so a pooled connection never
    # carries one caller's identity or scope into another's request.
    acting = _ACTING.get()
    if acting is None:
        return
    conn.exec_driver_sql(
        "SELECT set_config('gridsafe.actor', %(actor)s, true), "
        "set_config('gridsafe.scope', %(scope)s, true)",
        {"actor": acting.actor, "scope": acting.scope or ""},
    )
    if acting.scope is not None:
        conn.exec_driver_sql(f"SET LOCAL ROLE {SCOPED_ROLE}")


_ADVISORY_LOCKS = {
    # (shared, try)
    (False, False): text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
    (True, False): text("SELECT pg_advisory_xact_lock_shared(hashtext(:key))"),
    (False, True): text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
    (True, True): text("SELECT pg_try_advisory_xact_lock_shared(hashtext(:key))"),
}


def advisory_lock(
    conn: Connection,
    key: str,
    *,
    shared: bool = False,
    deadline: float | None = None,
    busy: str = "",
) -> None:
    """Take the transaction-level advisory lock named ``key`` (held until the transaction ends).

    Without ``deadline`` (a file import, a command) it waits as long as it takes. A request
    passes the ``time.monotonic()`` instant its patience ends (one deadline for every lock it
    takes) and gets a :class:`BusyError` saying ``busy`` there: it never waits for a whole
    file import.
    """
    params = {"key": key}
    if deadline is None:
        conn.execute(_ADVISORY_LOCKS[shared, False], params)
        return
    while not conn.execute(_ADVISORY_LOCKS[shared, True], params).scalar():
        if time.monotonic() >= deadline:
            msg = f"{busy}; nothing was written, send it again shortly"
            raise BusyError(msg)
        time.sleep(0.05)


def make_engine(db: DatabaseSettings, *, owner: bool = False) -> Engine:
    """Create the connection pool for ``db.database_url``, sized from the settings.

    With ``owner``, for ``db.owner_database_url`` instead: the schema's owner, for the
    migrations (:func:`init_db`) and nothing else.

    Every transaction it begins runs for the caller set with :func:`set_acting` or
    :func:`acting_as` in the current context: as the scoped role within their area when they
    have one, and named in the audit log.

    The pool holds at most ``pool_size + pool_max_overflow`` connections, opened as requests
    need them and all kept open afterwards: SQLAlchemy closes an overflow connection as soon as
    it comes back, so under load every request past ``pool_size`` paid for a new PostgreSQL
    session (a fork and authentication, several milliseconds) and the server saw dozens of new
    sessions a second.

    Each connection is checked as it leaves the pool (:func:`_check_alive`), so a database
    restart costs the connections it killed, not the requests that would have used them.
    """
    engine = create_engine(
        db.owner_database_url if owner else db.database_url,
        pool_size=db.pool_size + db.pool_max_overflow,
        max_overflow=0,
        pool_timeout=db.pool_timeout_s,
        connect_args={"connect_timeout": 5},
    )
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkout", _check_alive)
    return engine


def _check_alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection the server has closed, before anything is sent on it.

    PostgreSQL sends nothing to an idle session unasked, except as it ends it: a restart or
    a terminated backend leaves a closing message and the end of the stream on the socket. So
    a socket with nothing to read is alive and costs no round trip (SQLAlchemy's pre-ping,
    ``SELECT 1`` in a transaction of its own, cost two per request); one with something to
    read is pinged, and replaced when the ping fails (SQLAlchemy retries the checkout with a
    new connection).
    """
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if not readable:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except psycopg.Error as exc:
        msg = f"the server closed a pooled connection: {exc}"
        raise DisconnectionError(msg) from exc


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for small reads that name no one (:func:`unnamed`) and need no
    transaction: single statements, each on its own snapshot (the audit log's version
    counts, the health check).

    It runs in autocommit, so a read is one round trip, not three (BEGIN, the read,
    ROLLBACK), and psycopg keeps the statements it prepared (it drops them all at every
    ROLLBACK, so behind a pool that rolls back every returned connection nothing ever stayed
    prepared). Prepared after five runs on a connection, a statement may get PostgreSQL's
    generic plan: not for queries whose plan depends on their values (a tile's envelope).
    """
    with unnamed(), engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def _is_superuser(conn: Connection, role: str | None = None) -> bool:
    """Whether ``role`` (default: the connected one) is a superuser."""
    return bool(
        conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = coalesce(:r, current_user)"),
            {"r": role},
        ).scalar()
    )


def _refuse_default_passwords(*urls: URL) -> None:
    """In production mode, refuse to create a login with its default password (a known one)."""
    defaults = {
        make_url(str(DatabaseSettings.model_fields[field].default)).password
        for field in ("database_url", "owner_database_url")
    }
    for url in urls:
        if url.password in defaults:
            msg = (
                f"the login {url.username!r} would get its default password: give it one of your "
                "own in GRIDSAFE_DATABASE_URL and GRIDSAFE_OWNER_DATABASE_URL (or run in demo "
                "mode, GRIDSAFE_MODE=demo)"
            )
            raise SchemaError(msg)


def _ensure_logins(conn: Connection, *, owner: URL, app: URL) -> None:
    """Create the owner's and the app's logins when missing (as a superuser), and the group
    roles: the app's login becomes a member of :data:`APP_ROLE`, which may become
    :data:`SCOPED_ROLE`. Neither login gets any attribute beyond LOGIN."""
    # Several databases of one cluster (parallel test runs) may create the group roles at once.
    conn.execute(sql("roles_groups"))
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)  # noqa: S101 - the psycopg driver is required
    for url in (owner, app):
        if conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": url.username}
        ).scalar():
            continue
        # Role names and passwords cannot be bound parameters: psycopg quotes them.
        create = pgsql.SQL("CREATE ROLE {} LOGIN").format(pgsql.Identifier(str(url.username)))
        if url.password:
            create += pgsql.SQL(" PASSWORD {}").format(pgsql.Literal(url.password))
        raw.execute(create)
    if not conn.execute(
        text("SELECT pg_has_role(:login, :group, 'MEMBER')"),
        {"login": app.username, "group": APP_ROLE},
    ).scalar():
        group, login = pgsql.Identifier(APP_ROLE), pgsql.Identifier(str(app.username))
        raw.execute(pgsql.SQL("GRANT {} TO {}").format(group, login))


def ensure_database(settings: Settings) -> bool:
    """Create what the migrations cannot, when missing: the logins, the database, the extensions.

    Connects as ``settings.db.admin_database_url`` (a superuser; else the owner's URL, which then
    must be one or find all of it made). The owner login (``owner_database_url``) owns the
    database and runs the migrations (a database made before it existed is given to it, with
    every object of its schema); the app login (``database_url``) is made a member of
    :data:`APP_ROLE`, whose privileges migration a0013 sets. Each login gets the password of
    its URL. Safe to repeat.

    Returns
    -------
    bool
        True when the database was created.
    """
    owner = make_url(settings.db.owner_database_url)
    app = make_url(settings.db.database_url)
    name = owner.database
    if not name or app.database != name:
        msg = (
            f"GRIDSAFE_DATABASE_URL and GRIDSAFE_OWNER_DATABASE_URL must name the same database: "
            f"{app.database!r} and {name!r}"
        )
        raise SchemaError(msg)
    admin = make_url(settings.db.admin_database_url or settings.db.owner_database_url)
    server = create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            if _is_superuser(conn, app.username):
                msg = f"the app's login {app.username!r} (GRIDSAFE_DATABASE_URL) is a superuser"
                raise SchemaError(msg)
            superuser = _is_superuser(conn)
            if superuser:
                if settings.access.mode == "production":
                    _refuse_default_passwords(owner, app)
                _ensure_logins(conn, owner=owner, app=app)
            if conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar():
                created = False
            elif not superuser:
                msg = (
                    f"the database {name!r} does not exist: set GRIDSAFE_ADMIN_DATABASE_URL to a "
                    "superuser's URL, through which db init creates it and both logins"
                )
                raise SchemaError(msg)
            else:
                # An identifier cannot be a bound parameter; quote it with the dialect's rules.
                quote = server.dialect.identifier_preparer.quote
                conn.execute(
                    text(f"CREATE DATABASE {quote(name)} OWNER {quote(str(owner.username))}")
                )
                created = True
        database = create_engine(admin.set(database=name), isolation_level="AUTOCOMMIT")
        try:
            with database.connect() as conn:
                # PostGIS and pgRouting need a superuser to be created; the migrations that
                # name them (0001, 0005) then find them there.
                if _is_superuser(conn):
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
                    conn.execute(
                        text("SELECT set_config('gridsafe.owner', :o, false)"),
                        {"o": owner.username},
                    )
                    conn.execute(sql("schema_adopt"))
        finally:
            database.dispose()
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot reach PostgreSQL at {admin.host}:{admin.port}: {exc.orig}"
        ) from exc
    finally:
        server.dispose()
    return created


def settings_for(admin: str, tag: str, **overrides: Any) -> Settings:
    """Settings of the database of the superuser URL ``admin``, with an owner and an app login
    of their own (named after ``tag``), which :func:`ensure_database` creates. Their engine
    (:func:`make_engine`) runs with the app's privileges, as the service does."""
    url = make_url(admin)
    owner = url.set(username=f"gridsafe_owner_{tag}", password=f"owner-{tag}")
    app = url.set(username=f"gridsafe_service_{tag}", password=f"service-{tag}")
    return Settings().replace(
        database_url=app.render_as_string(hide_password=False),
        owner_database_url=owner.render_as_string(hide_password=False),
        admin_database_url=admin,
        **overrides,
    )


def scratch_settings(database: str, tag: str, **overrides: Any) -> Settings:
    """Settings of a throwaway database (a test run's, a benchmark's) named ``database``, with
    the logins of ``tag`` (:func:`settings_for`), made by the superuser of the environment:
    ``GRIDSAFE_ADMIN_DATABASE_URL``, else ``GRIDSAFE_DATABASE_URL``.

    Raises
    ------
    SchemaError
        When that URL's login is not a superuser.
    DatabaseUnavailableError
        When PostgreSQL cannot be reached.
    """
    base = Settings()
    admin = make_url(base.db.admin_database_url or base.db.database_url)
    server = create_engine(admin.set(database="postgres"))
    try:
        with server.connect() as conn:
            superuser = _is_superuser(conn)
    except OperationalError as exc:
        raise DatabaseUnavailableError(
            f"cannot reach PostgreSQL at {admin.host}:{admin.port}: {exc.orig}"
        ) from exc
    finally:
        server.dispose()
    if not superuser:
        msg = (
            f"the login {admin.username!r} is not a superuser: set GRIDSAFE_ADMIN_DATABASE_URL "
            "(else GRIDSAFE_DATABASE_URL) to a superuser's URL, which creates the database "
            "and its logins"
        )
        raise SchemaError(msg)
    url = admin.set(database=database).render_as_string(hide_password=False)
    return settings_for(url, tag, **overrides)


def drop_database(db: DatabaseSettings) -> None:
    """Drop the database of ``db`` (its connections closed first), as its superuser
    (``db.admin_database_url``); its logins stay."""
    admin = create_engine(
        make_url(db.admin_database_url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            quote = admin.dialect.identifier_preparer.quote
            name = str(make_url(db.database_url).database)
            conn.execute(text(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)"))
    finally:
        admin.dispose()


def _alembic_config(conn: Connection, settings: Settings) -> Config:
    # Imported here: alembic (and mako, pygments) take half a second to import, and only
    # `gridsafe db init` and the server's start-up migrate; every other command starts without.
    from alembic.config import Config  # noqa: PLC0415 - lazy, see above

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(resources.files("geo"))) / "migrations"))
    cfg.attributes["connection"] = conn
    cfg.attributes["settings"] = settings
    return cfg


def init_db(engine: Engine, settings: Settings, *, revision: str = "heads") -> str:
    """Create or upgrade the schema to the newest revision (or ``revision``); safe to repeat.

    ``engine`` connects as the schema's owner (``make_engine(settings.db, owner=True)``), after
    :func:`ensure_database`.

    Refuses a database whose geometry was stored in another SRID than ``settings.srid``: its
    coordinates would be read in the wrong CRS.

    Returns
    -------
    str
        The schema revision(s) the database is at afterwards, comma-separated.
    """
    with engine.begin() as conn:
        # Serialise concurrent `db init` runs (two workers starting at once).
        conn.execute(text("SELECT pg_advisory_xact_lock(4547001)"))
        has_meta = conn.execute(text("SELECT to_regclass('gridsafe_meta') IS NOT NULL")).scalar()
        if has_meta:
            stored = conn.execute(
                text("SELECT value FROM gridsafe_meta WHERE key = 'srid'")
            ).scalar()
            if stored is not None and int(stored) != settings.srid:
                msg = (
                    f"the database stores geometry in EPSG:{stored} but GRIDSAFE_SRID is "
                    f"{settings.srid}; use a new database or set GRIDSAFE_SRID={stored}"
                )
                raise SchemaError(msg)
        # "heads": should features again add migrations on branches of their own, all are applied.
        from alembic import command  # noqa: PLC0415 - lazy, see _alembic_config

        command.upgrade(_alembic_config(conn, settings), revision)
        return str(
            conn.execute(
                text(
                    "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"
                )
            ).scalar()
        )


def prepare_database(settings: Settings) -> str:
    """Create the database if it is missing (:func:`ensure_database`) and bring its schema up
    to date as the owner (:func:`init_db`); safe to repeat.

    Returns
    -------
    str
        One line saying whether the database was created and the schema's revision.
    """
    created = ensure_database(settings)
    engine = make_engine(settings.db, owner=True)
    try:
        revision = init_db(engine, settings)
    finally:
        engine.dispose()
    return f"database {'created' if created else 'up to date'}, schema at revision {revision}"


@dataclass(frozen=True)
class RegionPartition:
    """A partition :func:`partition_region` created, and the rows it moved into it."""

    table: str
    partition: str
    moved: int
    """The region's rows moved out of ``{table}_default``."""


def partition_region(settings: Settings, region: str) -> list[RegionPartition]:
    """Give ``region`` its own partition of every table partitioned by region, moving its rows
    there from the default partitions (migration r0018's ``region_partitions``), as the
    schema's owner, in one transaction; safe to repeat.

    Best run before the region's data is loaded (nothing to move). For a loaded region it
    locks: the region's rows while they move, then each default partition (ACCESS EXCLUSIVE,
    to attach the new partition) until the end; docs/scaling.md says what waits.

    Returns
    -------
    list of RegionPartition
        The partitions created (none when the region has them all), referenced tables first.

    Raises
    ------
    SchemaError
        When ``region`` is empty.
    """
    engine = make_engine(settings.db, owner=True)
    try:
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT * FROM region_partitions(:r)"), {"r": region})
            return [RegionPartition(str(t), str(p), int(n)) for t, p, n in rows]
    except DBAPIError as exc:
        if isinstance(exc.orig, psycopg.errors.RaiseException):
            raise SchemaError(str(exc.orig).splitlines()[0]) from exc
        raise
    finally:
        engine.dispose()


def check_database(engine: Engine) -> dict[str, str]:
    """Return the PostgreSQL and PostGIS versions, raising when the database is unreachable."""
    try:
        with reading(engine) as conn:
            row = conn.execute(
                text("SELECT current_setting('server_version'), postgis_lib_version()")
            ).one()
    except OperationalError as exc:
        raise DatabaseUnavailableError(f"database unavailable: {exc.orig}") from exc
    return {"postgresql": str(row[0]), "postgis": str(row[1])}
