"""Who is calling, and may their role call this: the dependencies every route declares.

Every endpoint declares the roles it admits with :func:`permit` (the route test matrix in
``tests/test_access.py`` fails on a route that declares none). The dependency finds the caller
from a bearer token (API clients) or the session cookie (pages), refuses the wrong role with a
403, and makes every database transaction of the request run for that caller
(``geo.database.set_acting``): in the audit log under their name, and, for grid heads and
members, as the scoped database role that row-level security limits to their area.

A page login is a cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) holding a session token
(issued by ``api/routers/login.py``); a request authenticated by that cookie that changes
something must also carry the session's CSRF token in ``X-CSRF-Token`` (the pages put it in a
``<meta name="csrf-token">``), and may not come from another origin. The page shell is in
``api/shell.py``, the security headers in ``api/headers.py``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from geo import clock
from geo.access import Credential, Role, TokenKind, User, access_generation, authenticate
from geo.database import Acting, set_acting
from geo.errors import AuthenticationError, PermissionDeniedError

SESSION_COOKIE = "gridsafe_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

EVERYONE = tuple(Role)
READERS = EVERYONE
"""Any signed-in user reads; grid heads and members only within their area (the database)."""
PLANNERS = (Role.ADMIN, Role.DISPATCHER)
CASE_WORKERS = (Role.ADMIN, Role.DISPATCHER, Role.GRID_HEAD)
REPORTERS = (Role.ADMIN, Role.DISPATCHER, Role.GRID_HEAD, Role.GRID_MEMBER)
ADMINS = (Role.ADMIN,)
IMPORTERS = (Role.ADMIN, Role.DATA_OFFICER)
"""Who imports files and reads the import history (data officers manage no users)."""
NOT_GRID = (Role.ADMIN, Role.LEADER, Role.DISPATCHER)
"""Whole-district views with no area to scope them to (route plans)."""


def bearer(request: Request) -> str | None:
    """The bearer token the request carries (None without an Authorization header)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        msg = "the Authorization header must be 'Bearer <token>'"
        raise AuthenticationError(msg)
    return value.strip()


def same_origin(request: Request) -> bool:
    """Whether the request comes from this site (or names no origin at all)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def _check_csrf(request: Request, credential: Credential) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not (credential.csrf and secrets.compare_digest(sent, credential.csrf)):
        msg = "a signed-in page's change needs its CSRF token (X-CSRF-Token header)"
        raise PermissionDeniedError(msg)
    if not same_origin(request):
        msg = "cross-origin request refused"
        raise PermissionDeniedError(msg)


class CheckedCredentials:
    """The tokens and sessions a worker checked lately, so a request does not look its caller
    up again (one database round trip per request less).

    A checked credential is used again for at most ``ttl_s`` seconds, never past its token's
    expiry (the service's clock), and never after this process changed any account or token
    (``geo.access.access_generation``: a revocation, a disabled account, a new password or
    language). So a token revoked or a user disabled is refused at once by the worker that
    made the change, and by the other workers within ``ttl_s`` (``GRIDSAFE_CREDENTIAL_CACHE_S``,
    2 s by default). Kept by the token's hash, never the token; at most ``max_entries``.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[tuple[str, TokenKind], tuple[Credential, float, int]] = {}

    @staticmethod
    def _key(secret: str, kind: TokenKind) -> tuple[str, TokenKind]:
        return hashlib.sha256(secret.encode()).hexdigest(), kind

    def get(self, secret: str, kind: TokenKind) -> Credential | None:
        """The credential checked for ``secret`` if it may still be used."""
        if self.ttl_s <= 0:
            return None
        entry = self._entries.get(self._key(secret, kind))
        if entry is None:
            return None
        credential, checked_at, generation = entry
        if (
            generation != access_generation()
            or time.monotonic() - checked_at > self.ttl_s
            or (credential.expires_at is not None and credential.expires_at <= clock.utcnow())
        ):
            self._entries.pop(self._key(secret, kind), None)
            return None
        return credential

    def check(self, engine: Engine, secret: str, kind: TokenKind) -> Credential:
        """The holder of ``secret``: from the cache, else looked up and kept."""
        credential = self.get(secret, kind)
        if credential is not None:
            return credential
        # Read before the look-up: a change committed during it drops what it finds.
        generation = access_generation()
        checked_at = time.monotonic()
        credential = authenticate(engine, secret, kind)
        if self.ttl_s > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._key(secret, kind)] = (credential, checked_at, generation)
        return credential


async def current_credential(request: Request) -> Credential:
    """The request's caller, from its bearer token or else its session cookie (cached)."""
    cached: Credential | None = getattr(request.state, "credential", None)
    if cached is not None:
        return cached
    engine = request.app.state.engine
    checked: CheckedCredentials = request.app.state.credentials
    token = bearer(request)
    if token is not None:
        credential = checked.get(token, "api")
        if credential is None:
            credential = await run_in_threadpool(checked.check, engine, token, "api")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            msg = "sign in first: no bearer token and no session"
            raise AuthenticationError(msg)
        credential = checked.get(cookie, "session")
        if credential is None:
            credential = await run_in_threadpool(checked.check, engine, cookie, "session")
        _check_csrf(request, credential)
    request.state.credential = credential
    return credential


async def page_session(request: Request) -> Credential | None:
    """The caller of a public page, from its session cookie (None when not signed in, or
    signed in no longer): what a public page needs to act for a signed-in user (its CSRF
    token), never a check of who may call it."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return await run_in_threadpool(authenticate, request.app.state.engine, cookie, "session")
    except AuthenticationError:
        return None


# Declares the bearer scheme in the OpenAPI document (the docs page's Authorize button); the
# credentials themselves are read by current_credential, which also takes the page session.
BEARER = Depends(HTTPBearer(auto_error=False, description="a token from POST /api/auth/token"))


async def admitted(request: Request, roles: frozenset[Role]) -> User:
    """The request's caller if their role is one of ``roles``.

    Raises
    ------
    AuthenticationError
        No valid credentials.
    PermissionDeniedError
        Another role.
    """
    user = (await current_credential(request)).user
    if user.role not in roles:
        msg = f"role {user.role} may not {request.method} {request.url.path}"
        raise PermissionDeniedError(msg, code="role_refused", params={"role": user.role})
    return user


def permit(*roles: Role) -> Any:
    """A dependency admitting the given roles: 401 without credentials, 403 for other roles."""
    allowed = frozenset(roles)

    async def caller(
        request: Request, _bearer: Annotated[HTTPAuthorizationCredentials | None, BEARER]
    ) -> User:
        user = await admitted(request, allowed)
        # Set in the request's own context (this dependency is async), so the handler's
        # thread sees it and every transaction it begins runs for this user.
        set_acting(Acting(actor=user.label, scope=user.scope))
        return user

    caller.allowed_roles = allowed  # type: ignore[attr-defined]
    return Depends(caller)


def allowed_roles(dependency: Callable[..., Awaitable[User]]) -> frozenset[Role] | None:
    """The roles a :func:`permit` dependency admits (None for any other callable)."""
    return getattr(dependency, "allowed_roles", None)


def route_roles(route: object) -> frozenset[Role] | None:
    """The roles a route's :func:`permit` dependency admits; None for a public route."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dependency = stack.pop()
        roles = allowed_roles(dependency.call) if dependency.call is not None else None
        if roles is not None:
            return roles
        stack.extend(dependency.dependencies)
    return None
