"""Who may see and change what: users, roles, area scopes, passwords, tokens and logins.

Roles (docs/architecture.md, "The domain in brief"): **admin** imports, manages users and does
everything; **leader** reads everything; **dispatcher** reads everything, plans routes, posts patrol
tracks and dispatches cases; **grid_head** reads their own area, records visits, reports incidents
and hazards and updates cases there; **grid_member** reads their own area, records visits and
reports incidents and hazards there; **data_officer** (数据员) reads everything, imports files
and reads the import history, but manages no users. What each role may call is declared next
to each endpoint (``api/auth.py``); what a scoped caller sees is decided by the database
(row-level security, migration ``a0009``), so a query that forgets to filter cannot leak.

Secrets: passwords are stored as argon2id hashes (argon2-cffi, its default parameters, rehashed
when those change); tokens are 256-bit random strings of which only the SHA-256 is stored, so
a copy of the database holds no usable credential. A page login is a session token in a cookie,
paired with a CSRF token; an API client sends a bearer token. Both expire, can be revoked, and
die with their user's account.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, text

from geo import clock
from geo.database import sql, unscoped
from geo.errors import (
    AuthenticationError,
    InputError,
    LoginThrottledError,
    NotFoundError,
)
from geo.settings import AccessSettings, Settings


class Role(StrEnum):
    """The six roles; the value is what the database and the API use."""

    ADMIN = "admin"
    LEADER = "leader"
    DISPATCHER = "dispatcher"
    GRID_HEAD = "grid_head"
    GRID_MEMBER = "grid_member"
    DATA_OFFICER = "data_officer"


SCOPED_ROLES = frozenset({Role.GRID_HEAD, Role.GRID_MEMBER})
"""Roles that always have an area scope; the others see everything."""

TokenKind = Literal["session", "api"]

DEMO_USERNAMES = ("admin", "leader", "dispatcher", "head", "member", "officer")
"""The accounts ``gridsafe demo`` adds, one per role in :class:`Role`'s order (demo mode)."""
DEMO_PASSWORD = "demo"  # noqa: S105 - refused outside demo mode (check_password)
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong
    password and response times do not tell which names exist. Made on first use: hashing takes
    most of a second, which every command line start paid when it was made at import."""
    return _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    """An account as the rest of the code sees it (never with its password hash)."""

    id: int
    username: str
    role: Role
    scope: str | None
    display_name: str | None = None
    disabled: bool = False
    language: str | None = None
    """The pages' language the user chose (None: the deployment's, ``settings.language``)."""

    @property
    def label(self) -> str:
        """How the audit log and the pages name this user."""
        return f"{self.username} ({self.role})"


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed out: the secret is shown once and never stored."""

    secret: str
    expires_at: datetime
    csrf: str | None = None


_changes = itertools.count(1)
_generation = 0


def access_generation() -> int:
    """How many changes to accounts and tokens this process made (revocations, disabled
    accounts, new passwords, languages): a cache of checked credentials (``api/auth.py``)
    drops what it checked before the latest one."""
    return _generation


def _access_changed() -> None:
    global _generation  # noqa: PLW0603 - one counter per process, read without a lock
    _generation = next(_changes)


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    return User(
        id=int(r["id"]),
        username=str(r["username"]),
        role=Role(r["role"]),
        scope=r["scope_code"],
        display_name=r["display_name"],
        disabled=r["disabled_at"] is not None,
        language=r["language"],
    )


def check_password(access: AccessSettings, password: str) -> None:
    """Refuse a password too weak for the mode (demo mode takes anything)."""
    if access.mode == "demo":
        return
    if len(password) < access.password_min_length:
        msg = (
            f"password too short: {len(password)} characters, at least "
            f"{access.password_min_length} in production mode"
        )
        raise InputError(
            msg,
            code="password_short",
            params={"length": len(password), "min": access.password_min_length},
        )
    if (
        password.lower() in {DEMO_PASSWORD, "password", "admin", "gridsafe"}
        or len(set(password)) < 4
    ):
        msg = "password refused: it is a well-known or trivial password"
        raise InputError(msg, code="password_trivial")


def add_user(
    engine: Engine,
    settings: Settings,
    username: str,
    role: Role,
    *,
    password: str | None,
    scope: str | None = None,
    display_name: str | None = None,
) -> User:
    """Create an account; grid heads and members need a scope, the other roles have none."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        msg = f"username {username!r}: 1-64 characters, no spaces"
        raise InputError(msg, code="username_invalid", params={"username": username})
    if password is not None:
        check_password(settings.access, password)
    with engine.begin() as conn:
        _check_scope(conn, settings, role, scope)
        if conn.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": username}).first():
            msg = f"user {username!r} exists already"
            raise InputError(msg, code="user_exists", params={"username": username})
        row = conn.execute(
            sql("access_user_insert"),
            {
                "username": username,
                "role": str(role),
                "scope": scope,
                "display_name": display_name,
                "hash": _HASHER.hash(password) if password is not None else None,
            },
        ).one()
    return _user(row)


def _check_scope(conn: Connection, settings: Settings, role: Role, scope: str | None) -> None:
    """Refuse a scope that does not fit the role: grid heads and members need an area of the
    region, the other roles see everything and take none."""
    if (role in SCOPED_ROLES) != (scope is not None):
        if role in SCOPED_ROLES:
            msg = f"role {role} needs an area scope (--scope CODE)"
            raise InputError(msg, code="scope_needed", params={"role": role})
        msg = f"role {role} sees everything and takes no scope"
        raise InputError(msg, code="scope_refused", params={"role": role})
    if (
        scope is not None
        and conn.execute(
            text("SELECT 1 FROM areas WHERE region = :r AND code = :c"),
            {"r": settings.region, "c": scope},
        ).first()
        is None
    ):
        msg = f"scope {scope!r}: no such area"
        raise InputError(msg, code="scope_unknown", params={"code": scope})


def _keep_an_admin(conn: Connection, user: User, *, role: Role, disabled: bool) -> None:
    """Refuse a change that would leave no enabled admin (nobody could manage users again).

    Changes to admins take turns (an advisory lock until commit), so two admins disabling
    each other at once cannot both pass the count.
    """
    if user.role != Role.ADMIN or user.disabled or (role == Role.ADMIN and not disabled):
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridsafe.admins'))"))
    others = conn.execute(
        text(
            "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> :id"
        ),
        {"id": user.id},
    ).scalar_one()
    if not others:
        msg = f"user {user.username!r} is the last enabled admin: enable or add another admin first"
        raise InputError(msg, code="last_admin", params={"username": user.username})


_UNCHANGED: object = object()


def update_user(
    engine: Engine,
    settings: Settings,
    user_id: int,
    *,
    role: Role | None = None,
    scope: str | object | None = _UNCHANGED,
    display_name: str | object | None = _UNCHANGED,
    disabled: bool | None = None,
) -> User:
    """Change an account's role, area scope, display name or state (None / unchanged: keep).

    The role and scope are checked together (:func:`add_user`'s rules); a change that leaves
    no enabled admin is refused; disabling revokes every token of the account, enabling keeps
    the old ones revoked. In one transaction, logged by the audit trigger like every change.
    """
    with engine.begin() as conn:
        user = get_user_by_id(conn, user_id)
        new_role = role if role is not None else user.role
        new_scope = user.scope if scope is _UNCHANGED else scope
        if role is not None and role not in SCOPED_ROLES and scope is _UNCHANGED:
            new_scope = None  # a role that sees everything drops the old area
        new_disabled = user.disabled if disabled is None else disabled
        if not isinstance(new_scope, str | None):
            msg = f"scope {new_scope!r}: an area code or nothing"
            raise InputError(msg)
        _check_scope(conn, settings, new_role, new_scope)
        _keep_an_admin(conn, user, role=new_role, disabled=new_disabled)
        name = user.display_name if display_name is _UNCHANGED else display_name
        if not isinstance(name, str | None):
            msg = f"display name {name!r}: a text or nothing"
            raise InputError(msg)
        if (new_role, new_scope, name, new_disabled) == (
            user.role,
            user.scope,
            user.display_name,
            user.disabled,
        ):
            return user  # nothing to change, nothing logged
        conn.execute(
            text(
                "UPDATE users SET role = :role, scope_code = :scope, display_name = :name, "
                "disabled_at = CASE WHEN :disabled THEN coalesce(disabled_at, now()) END "
                "WHERE id = :id"
            ),
            {
                "id": user.id,
                "role": str(new_role),
                "scope": new_scope,
                "name": name,
                "disabled": new_disabled,
            },
        )
        if new_disabled and not user.disabled:
            _revoke_all(conn, user.id)
        changed = get_user_by_id(conn, user.id)
    _access_changed()  # a new role, area or state holds from the next request on
    return changed


def list_users(engine: Engine) -> list[User]:
    """Every account, enabled or not, by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, username, role, scope_code, display_name, language, disabled_at "
                "FROM users ORDER BY username"
            )
        ).all()
    return [_user(r) for r in rows]


@dataclass(frozen=True)
class Account:
    """An account as the admin's list shows it: the user, their area's name and level, when
    it was made and when they last signed in (None: not in the sign-in log)."""

    user: User
    scope_name: str | None
    scope_level: str | None
    created_at: datetime
    last_sign_in: datetime | None


def user_accounts(engine: Engine, settings: Settings) -> list[Account]:
    """Every account, enabled or not, by name, for the admin's list."""
    with engine.connect() as conn:
        rows = conn.execute(sql("access_user_accounts"), {"region": settings.region}).all()
    return [
        Account(
            user=User(
                id=int(r.id),
                username=str(r.username),
                role=Role(r.role),
                scope=r.scope_code,
                display_name=r.display_name,
                disabled=bool(r.disabled),
                language=r.language,
            ),
            scope_name=r.scope_name,
            scope_level=r.scope_level,
            created_at=r.created_at,
            last_sign_in=r.last_sign_in,
        )
        for r in rows
    ]


def demo_users(engine: Engine) -> list[User]:
    """The demo accounts that exist (listed on the demo-mode login page)."""
    return [u for u in list_users(engine) if u.username in DEMO_USERNAMES and not u.disabled]


def set_language(engine: Engine, username: str, language: str | None) -> User:
    """Keep the pages' language a user chose (None: back to the deployment's)."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET language = :language WHERE username = :u"),
            {"language": language, "u": username},
        )
        user = get_user(conn, username)
    _access_changed()
    return user


def _revoke_all(conn: Connection, user_id: int) -> int:
    """Revoke every live token of a user; returns how many."""
    return int(
        conn.execute(
            text("UPDATE tokens SET revoked_at = now() WHERE user_id = :id AND revoked_at IS NULL"),
            {"id": user_id},
        ).rowcount
    )


def get_user(conn: Connection, username: str) -> User:
    """The account named ``username``."""
    row = conn.execute(
        text(
            "SELECT id, username, role, scope_code, display_name, language, disabled_at "
            "FROM users WHERE username = :u"
        ),
        {"u": username},
    ).first()
    if row is None:
        msg = f"no user {username!r}"
        raise NotFoundError(msg)
    return _user(row)


def get_user_by_id(conn: Connection, user_id: int) -> User:
    """The account numbered ``user_id``."""
    username = conn.execute(
        text("SELECT username FROM users WHERE id = :id"), {"id": user_id}
    ).scalar()
    if username is None:
        msg = f"no user numbered {user_id}"
        raise NotFoundError(msg, code="user_not_found", params={"id": user_id})
    return get_user(conn, username)


def disable_user(engine: Engine, username: str) -> User:
    """Disable an account and revoke every token it holds (it can be re-enabled).

    The command line's way: whoever runs it can add an admin again (``gridsafe user add``), so
    it may disable the last one (a demo deployment's accounts, say); the pages and the API go
    through :func:`update_user`, which keeps an enabled admin."""
    with engine.begin() as conn:
        user = get_user(conn, username)
        conn.execute(
            text("UPDATE users SET disabled_at = now() WHERE id = :id AND disabled_at IS NULL"),
            {"id": user.id},
        )
        _revoke_all(conn, user.id)
    _access_changed()
    return User(**{**user.__dict__, "disabled": True})


def enable_user(engine: Engine, username: str) -> User:
    """Re-enable a disabled account (its old tokens stay revoked)."""
    with engine.begin() as conn:
        user = get_user(conn, username)
        conn.execute(text("UPDATE users SET disabled_at = NULL WHERE id = :id"), {"id": user.id})
    return User(**{**user.__dict__, "disabled": False})


def set_password(engine: Engine, access: AccessSettings, username: str, password: str) -> None:
    """Replace a user's password and revoke their tokens (every session logs in again)."""
    check_password(access, password)
    with engine.begin() as conn:
        user = get_user(conn, username)
        conn.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :id"),
            {"h": _HASHER.hash(password), "id": user.id},
        )
        _revoke_all(conn, user.id)
    _access_changed()


def issue_token(
    engine: Engine,
    user: User,
    kind: TokenKind,
    *,
    ttl: timedelta,
    label: str | None = None,
) -> IssuedToken:
    """Hand out a new token for ``user``; only its hash is stored."""
    if user.disabled:
        msg = f"user {user.username!r} is disabled"
        raise AuthenticationError(msg)
    secret = "gs_" + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    expires_at = clock.utcnow() + ttl
    with engine.begin() as conn:
        conn.execute(
            sql("access_token_insert"),
            {
                "user_id": user.id,
                "kind": kind,
                "hash": _hash_token(secret),
                "csrf": csrf,
                "label": label,
                "expires_at": expires_at,
            },
        )
    return IssuedToken(secret=secret, expires_at=expires_at, csrf=csrf)


@dataclass(frozen=True)
class Credential:
    """A valid token's holder, with the session's CSRF token for cookie logins."""

    user: User
    kind: TokenKind
    csrf: str | None
    expires_at: datetime | None = None


def authenticate(engine: Engine, secret: str, kind: TokenKind) -> Credential:
    """The holder of a token, refusing unknown, expired, revoked and disabled ones alike."""
    with engine.connect() as conn:
        row = conn.execute(
            sql("access_token_lookup"),
            {"hash": _hash_token(secret), "kind": kind, "now": clock.utcnow()},
        ).first()
    if row is None:
        msg = "invalid, expired or revoked credentials"
        raise AuthenticationError(msg)
    return Credential(user=_user(row), kind=kind, csrf=row.csrf, expires_at=row.expires_at)


def revoke_token(engine: Engine, secret: str) -> bool:
    """Revoke one token; True when it was live."""
    with unscoped(), engine.begin() as conn:
        n = conn.execute(
            text(
                "UPDATE tokens SET revoked_at = now() "
                "WHERE token_sha256 = :h AND revoked_at IS NULL"
            ),
            {"h": _hash_token(secret)},
        ).rowcount
    _access_changed()
    return bool(n)


def revoke_user_tokens(engine: Engine, username: str) -> int:
    """Revoke every live token of a user; returns how many."""
    with engine.begin() as conn:
        user = get_user(conn, username)
        n = _revoke_all(conn, user.id)
    _access_changed()
    return n


def login(
    engine: Engine, access: AccessSettings, username: str, password: str, *, client: str
) -> User:
    """Check a password, within the failed-login limit per user and per client.

    Raises
    ------
    LoginThrottledError
        Too many failures in the window, whether or not this password is right.
    AuthenticationError
        Wrong name or password, or a disabled account (one message for all three).
    """
    window = timedelta(minutes=access.login_window_min)
    # One instant for the whole attempt, from the district's clock (frozen in tests), for the
    # window, the stamp and the pruning alike.
    now = clock.utcnow()
    with engine.begin() as conn:
        # Attempts on one user name take turns (until commit), so parallel guesses cannot all
        # be counted before any is recorded. Different names do not wait for each other: the
        # per-client limit can be overshot by the attempts in flight at once (bounded by the
        # app's admission limit), not more.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('gridsafe.login:' || :u, 0))"),
            {"u": username},
        )
        failures = conn.execute(
            sql("access_login_failures"),
            {"username": username, "client": client, "window": window, "now": now},
        ).one()
        if (
            failures.by_user >= access.login_max_failures
            or failures.by_client >= 4 * access.login_max_failures
        ):
            retry = max(1, int((failures.oldest + window - now).total_seconds()))
            msg = f"too many failed logins; retry in {retry} s"
            raise LoginThrottledError(msg, retry_after_s=retry)
        row = conn.execute(
            text(
                "SELECT id, username, role, scope_code, display_name, language, disabled_at, "
                "password_hash FROM users WHERE username = :u"
            ),
            {"u": username},
        ).first()
        ok = _verify(row.password_hash if row else None, password) and row is not None
        ok = ok and row.disabled_at is None  # type: ignore[union-attr]
        # A demo account, or a weak password set in demo mode, cannot sign in in production
        # mode: the right password is counted as a failure and refused with what to do.
        weak = ok and _too_weak(access, password)
        ok = ok and not weak
        conn.execute(
            text(
                "INSERT INTO login_attempts (username, client, ok, at) VALUES (:u, :c, :ok, :now)"
            ),
            {"u": username, "c": client, "ok": ok, "now": now},
        )
        # The log does not grow without end: this name's and this client's attempts older
        # than the retention go (each through its own index).
        conn.execute(
            text(
                "DELETE FROM login_attempts WHERE (username = :u OR client = :c) "
                "AND at < CAST(:now AS timestamptz) - make_interval(secs => :keep_s)"
            ),
            {
                "u": username,
                "c": client,
                "keep_s": max(access.login_log_days * 86400, access.login_window_min * 60),
                "now": now,
            },
        )
        if ok and row is not None and _HASHER.check_needs_rehash(row.password_hash):
            conn.execute(
                text("UPDATE users SET password_hash = :h WHERE id = :id"),
                {"h": _HASHER.hash(password), "id": row.id},
            )
    if weak:
        msg = (
            f"this account's password is not allowed in {access.mode} mode (a demo or "
            f"weak password); an admin must set a new one: gridsafe user password {username}"
        )
        raise AuthenticationError(msg)
    if not ok or row is None:
        msg = "wrong user name or password"
        raise AuthenticationError(msg)
    return _user(row)


def _too_weak(access: AccessSettings, password: str) -> bool:
    try:
        check_password(access, password)
    except InputError:
        return True
    return False


def demo_passwords_left(engine: Engine) -> list[str]:
    """The enabled demo accounts (:data:`DEMO_USERNAMES`) that still have the demo password:
    production mode refuses to serve while there are any (``gridsafe serve``)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT username, password_hash FROM users "
                "WHERE username = ANY(:names) AND disabled_at IS NULL ORDER BY username"
            ),
            {"names": list(DEMO_USERNAMES)},
        ).all()
    return [r.username for r in rows if _verify(r.password_hash, DEMO_PASSWORD)]


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
