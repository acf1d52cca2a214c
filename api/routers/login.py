"""Signing in: the login page, login and logout (``pages``), and bearer tokens for scripts
and devices (``router``, ``/api/auth``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.auth import (
    EVERYONE,
    SESSION_COOKIE,
    bearer,
    current_credential,
    permit,
    same_origin,
)
from api.deps import EngineDep, SettingsDep
from api.shell import request_translator, shell_for
from geo.access import User, demo_users, issue_token, login, revoke_token, set_language
from geo.errors import AuthenticationError, LoginThrottledError, PermissionDeniedError
from geo.settings import Settings
from maps.chrome import error_detail, login_page
from maps.i18n import Language


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
    if not same_origin(request):
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
    token = bearer(request)
    if token is None:
        msg = "only a bearer token can be revoked here; pages sign out with POST /logout"
        raise PermissionDeniedError(msg)
    revoke_token(engine, token)
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
