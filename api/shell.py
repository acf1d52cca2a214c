"""The page shell of a request (header, navigation, language) and how a refusal is answered:
a page for a browser, JSON for an API client."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import iter_route_contexts

from api.auth import SAFE_METHODS, route_roles
from geo import clock
from geo.access import Credential, Role
from geo.areas import area_name
from geo.errors import AuthenticationError
from geo.settings import Settings
from maps.chrome import NAV, NavLink, Shell, with_chrome
from maps.i18n import Translator, for_user

API_PREFIXES = ("/api/", "/tiles/", "/maps/data/")


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
