"""Authentication and permissions at the edge: who is calling, and may their role call this.

Every endpoint declares the roles it admits with :func:`permit` (the route test matrix in
``tests/test_access.py`` fails on a route that declares none). The dependency finds the caller
from a bearer token (API clients) or the session cookie (pages), refuses the wrong role with a
403, and makes every database transaction of the request run for that caller
(``geo.database.set_acting``): in the audit log under their name, and, for grid heads and
members, as the scoped database role that row-level security limits to their area.

A page login is a cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) holding a session token;
a request authenticated by that cookie that changes something must also carry the session's
CSRF token in ``X-CSRF-Token`` (the pages put it in a ``<meta name="csrf-token">``), and may
not come from another origin.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import EngineDep, SettingsDep
from geo import clock
from geo.access import (
    Credential,
    Role,
    User,
    authenticate,
    demo_users,
    issue_token,
    login,
    revoke_token,
    set_language,
)
from geo.areas import area_name
from geo.database import Acting, set_acting
from geo.errors import (
    AuthenticationError,
    InputError,
    LoginThrottledError,
    PermissionDeniedError,
)
from geo.settings import Settings
from maps.basemap import basemap
from maps.chrome import NAV, NavLink, Shell, error_detail, login_page, with_chrome
from maps.i18n import Language, Translator, for_user

SESSION_COOKIE = "gridsafe_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIXES = ("/api/", "/tiles/", "/maps/data/")

EVERYONE = tuple(Role)
READERS = EVERYONE
"""Any signed-in user reads; grid heads and members only within their area (the database)."""
PLANNERS = (Role.ADMIN, Role.DISPATCHER)
CASE_WORKERS = (Role.ADMIN, Role.DISPATCHER, Role.GRID_HEAD)
REPORTERS = (Role.ADMIN, Role.DISPATCHER, Role.GRID_HEAD, Role.GRID_MEMBER)
ADMINS = (Role.ADMIN,)
NOT_GRID = (Role.ADMIN, Role.LEADER, Role.DISPATCHER)
"""Whole-district views with no area to scope them to (route plans)."""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        msg = "the Authorization header must be 'Bearer <token>'"
        raise AuthenticationError(msg)
    return value.strip()


def _same_origin(request: Request) -> bool:
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
    if not _same_origin(request):
        msg = "cross-origin request refused"
        raise PermissionDeniedError(msg)


async def current_credential(request: Request) -> Credential:
    """The request's caller, from its bearer token or else its session cookie (cached)."""
    cached: Credential | None = getattr(request.state, "credential", None)
    if cached is not None:
        return cached
    engine = request.app.state.engine
    bearer = _bearer(request)
    if bearer is not None:
        credential = await run_in_threadpool(authenticate, engine, bearer, "api")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            msg = "sign in first: no bearer token and no session"
            raise AuthenticationError(msg)
        credential = await run_in_threadpool(authenticate, engine, cookie, "session")
        _check_csrf(request, credential)
    request.state.credential = credential
    return credential


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


def nav_for(app: FastAPI, role: Role) -> tuple[NavLink, ...]:
    """The pages of the header's navigation that ``role`` may open: read from the roles each
    page's route admits (:func:`permit`), so the navigation cannot offer what is refused."""
    if not hasattr(app.state, "page_roles"):
        found: dict[str, frozenset[Role]] = {}
        for context in iter_route_contexts(app.router.routes):
            roles = route_roles(context)
            if "GET" in (context.methods or ()) and roles is not None:
                found[str(context.path)] = roles
        app.state.page_roles = found
    roles_of: dict[str, frozenset[Role]] = app.state.page_roles
    return tuple(link for link in NAV if role in roles_of.get(link.path, ()))


def request_translator(request: Request) -> Translator:
    """The caller's language (their choice, else the deployment's), signed in or not."""
    credential: Credential | None = getattr(request.state, "credential", None)
    return for_user(credential.user if credential else None, request.app.state.settings)


def shell_for(request: Request) -> Shell:
    """The header of a page for this request: the caller (if signed in), their area's name,
    their pages, the district's date. Reads the area's name, so call it off the event loop."""
    settings: Settings = request.app.state.settings
    credential: Credential | None = getattr(request.state, "credential", None)
    t = request_translator(request)
    today = clock.today(settings.timezone)
    nonce: str = request.state.csp_nonce
    if credential is None:
        return Shell(t=t, today=today, nonce=nonce, current=request.url.path)
    user = credential.user
    area = None
    if user.scope is not None:
        area = area_name(request.app.state.engine, region=settings.region, code=user.scope)
    return Shell(
        t=t,
        today=today,
        nonce=nonce,
        user=user,
        area=area,
        nav=nav_for(request.app, user.role),
        current=request.url.path,
        csrf=credential.csrf,
    )


def page(request: Request, html: str) -> HTMLResponse:
    """A page for the signed-in caller, in the shell (header, navigation, sign-out, CSRF)."""
    return HTMLResponse(with_chrome(html, request.app.state.settings, shell_for(request)))


def wants_json(request: Request) -> bool:
    """API paths answer 401 in JSON; pages send the browser to the login page."""
    path = request.url.path
    return path.startswith(API_PREFIXES) or request.method not in SAFE_METHODS


def wants_page(request: Request) -> bool:
    """A browser asked for a page (``Accept: text/html``, not an API path): errors are
    answered as pages in the shell; everything else keeps the JSON body."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(API_PREFIXES)


def unauthenticated(request: Request, exc: AuthenticationError) -> Response:
    """401 for API clients (with the Bearer challenge), a redirect to /login for pages."""
    if wants_json(request):
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never "//evil.example" or "https://evil.example".
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    """The client's address: the peer's, or behind a trusted proxy the one it forwarded."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.settings.access.trusted_proxies
    if peer not in trusted:
        return peer
    # Each proxy appends the address it heard from: the nearest one no trusted proxy added is
    # the client (anything left of it was written by the client itself).
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    untrusted = [h for h in hops if h not in trusted]
    return untrusted[-1] if untrusted else peer


# Pages: the login form, login and logout.
pages = APIRouter(tags=["access"])


@pages.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> HTMLResponse:
    """The sign-in page (in demo mode it lists the demo accounts)."""
    return HTMLResponse(_login_page(request, engine, settings, next_path=_safe_next(next_)))


def _login_page(
    request: Request,
    engine: Engine,
    settings: Settings,
    *,
    next_path: str,
    error: str | None = None,
) -> str:
    accounts = demo_users(engine) if settings.access.mode == "demo" else None
    return login_page(
        settings, shell_for(request), next_path=next_path, error=error, demo_accounts=accounts
    )


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next_: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    """Check the password and start a session (cookie), then go where the user was headed."""
    target = _safe_next(next_)
    t = request_translator(request)
    if not _same_origin(request):
        error = t._("Sign-in refused: the form was sent from another site.")
        return HTMLResponse(
            _login_page(request, engine, settings, next_path=target, error=error), 403
        )
    try:
        user = login(engine, settings.access, username, password, client=_client(request))
    except AuthenticationError:
        error = t._("Wrong user name or password, or the account is disabled.")
        return HTMLResponse(
            _login_page(request, engine, settings, next_path=target, error=error), 401
        )
    except LoginThrottledError as exc:
        throttled = error_detail(exc, t)
        page = _login_page(request, engine, settings, next_path=target, error=throttled)
        return HTMLResponse(page, 429, headers={"Retry-After": str(exc.retry_after_s)})
    issued = issue_token(
        engine,
        user,
        "session",
        ttl=timedelta(hours=settings.access.session_ttl_h),
        label="page login",
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=int(settings.access.session_ttl_h * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@pages.post("/logout")
async def logout(request: Request) -> Response:
    """End the session: the token is revoked, the cookie dropped (needs the CSRF token)."""
    credential = await current_credential(request)
    if credential.kind == "session":
        await run_in_threadpool(
            revoke_token, request.app.state.engine, request.cookies[SESSION_COOKIE]
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# API: tokens for scripts and devices.
router = APIRouter(prefix="/api/auth", tags=["access"])


class TokenRequest(BaseModel):
    """A password login for an API token."""

    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)
    hours: float | None = Field(default=None, gt=0, le=24 * 365, description="lifetime")


class TokenOut(BaseModel):
    """A bearer token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: str


class Me(BaseModel):
    """The caller."""

    username: str
    role: str
    scope: str | None
    display_name: str | None
    language: str | None = Field(description="the pages' language chosen; null: the default")


class LanguageChoice(BaseModel):
    """The pages' language a user chooses (null: the deployment's, GRIDSAFE_LANGUAGE)."""

    language: Language | None


@router.post("/token", response_model=TokenOut)
def create_token(
    request: Request, engine: EngineDep, settings: SettingsDep, body: TokenRequest
) -> TokenOut:
    """Exchange a user name and password for a bearer token (rate-limited like the page login)."""
    user = login(engine, settings.access, body.username, body.password, client=_client(request))
    hours = body.hours or settings.access.token_ttl_h
    issued = issue_token(engine, user, "api", ttl=timedelta(hours=hours), label="api login")
    return TokenOut(access_token=issued.secret, expires_at=issued.expires_at.isoformat())


@router.delete("/token", status_code=204, dependencies=[permit(*EVERYONE)])
def delete_token(request: Request, engine: EngineDep) -> Response:
    """Revoke the bearer token this request carries."""
    bearer = _bearer(request)
    if bearer is None:
        msg = "only a bearer token can be revoked here; pages sign out with POST /logout"
        raise PermissionDeniedError(msg)
    revoke_token(engine, bearer)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
def me(user: Annotated[User, permit(*EVERYONE)]) -> Me:
    """Who the credentials belong to, their role and area scope."""
    return _me(user)


def _me(user: User) -> Me:
    return Me(
        username=user.username,
        role=user.role,
        scope=user.scope,
        display_name=user.display_name,
        language=user.language,
    )


@router.post("/language", response_model=Me)
def choose_language(
    user: Annotated[User, permit(*EVERYONE)], engine: EngineDep, body: LanguageChoice
) -> Me:
    """Keep the caller's language for the pages; it changes what they see, nobody else."""
    return _me(set_language(engine, user.username, body.language))


class SecurityHeaders:
    """Headers every response gets; pages also get a content security policy.

    The policy admits this app's own script files and, of inline scripts, only those carrying
    the response's nonce (``csp_nonce`` in the request's state; the pages put it on every script
    element they generate, ``maps.chrome.with_nonce``): no inline event handler, no injected
    script. Styles may be inline (folium and Leaflet set style attributes and write ``<style>``
    elements); data and images come from the app, and images from the configured basemap's
    tile host.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        img = "'self' data: blob:"
        host = _basemap_origin(settings)
        if host:
            img += f" {host}"
        self.rest = (
            "style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
        )

    def policy(self, nonce: str) -> str:
        """The content security policy of a page whose scripts carry ``nonce``."""
        return f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; {self.rest}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                # What a caller may see depends on their credentials: no cache keeps it, unless
                # the route says otherwise (tiles and assets, with their ETags).
                headers.setdefault("Cache-Control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.policy(nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _basemap_origin(settings: Settings) -> str | None:
    """The CSP source of the basemap's tile hosts (``*.`` for a subdomain template)."""
    try:
        layers = basemap(settings.maps).layers
    except InputError:
        return None
    sources = set()
    for layer in layers:
        parts = urlsplit(layer.url)
        if not parts.netloc:
            continue  # a tile URL on this site: 'self'
        host = parts.netloc
        if "{" in host:
            host = "*." + host.split(".", 1)[1]
        sources.add(f"{parts.scheme}://{host}")
    return " ".join(sorted(sources)) or None
