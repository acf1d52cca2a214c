"""``gridsafe user ...``: accounts, their roles and area scopes, and their tokens."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Annotated

import typer

from cli.common import err, fail, out
from geo.access import (
    Role,
    add_user,
    disable_user,
    enable_user,
    get_user,
    issue_token,
    list_users,
    revoke_user_tokens,
    set_password,
)
from geo.database import make_engine
from geo.errors import GridsafeError
from geo.settings import get_settings

user_app = typer.Typer(help="User accounts, roles, area scopes and tokens.", no_args_is_help=True)


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from standard input (for scripts)"),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[Role, typer.Option(help="what the user may do")],
    scope: Annotated[
        str | None, typer.Option(help="area code (grid heads and members: their area)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; the password is asked for (or read with --password-stdin)."""
    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        user = add_user(
            engine,
            settings,
            username,
            role,
            password=_password(password_stdin),
            scope=scope,
            display_name=name,
        )
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    where = f" in {user.scope}" if user.scope else ""
    out.print(f"user {user.username} added: {user.role}{where}", highlight=False)


@user_app.command("list")
def user_list() -> None:
    """Every account: name, role, area scope, enabled or disabled."""
    engine = make_engine(get_settings().db)
    try:
        users = list_users(engine)
    finally:
        engine.dispose()
    for u in users:
        state = "disabled" if u.disabled else "enabled"
        # Tab-separated (rich would expand the tabs), so scripts can cut it.
        typer.echo(f"{u.username}\t{u.role}\t{u.scope or '*'}\t{state}\t{u.display_name or ''}")


def _one(action: str, step: Callable[[], object]) -> None:
    try:
        step()
    except GridsafeError as exc:
        raise fail(exc) from exc
    out.print(action, highlight=False)


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable an account and revoke all its tokens."""
    engine = make_engine(get_settings().db)
    try:
        _one(f"user {username} disabled, tokens revoked", partial(disable_user, engine, username))
    finally:
        engine.dispose()


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Re-enable a disabled account (its old tokens stay revoked)."""
    engine = make_engine(get_settings().db)
    try:
        _one(f"user {username} enabled", partial(enable_user, engine, username))
    finally:
        engine.dispose()


@user_app.command("password")
def user_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a new password; every session and token of the user is revoked."""
    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        step = partial(set_password, engine, settings.access, username, _password(password_stdin))
        _one(f"password of {username} changed, tokens revoked", step)
    finally:
        engine.dispose()


@user_app.command("token")
def user_token(
    username: str,
    hours: Annotated[
        float | None, typer.Option(help="lifetime (default GRIDSAFE_TOKEN_TTL_H)")
    ] = None,
    label: Annotated[str | None, typer.Option(help="what the token is for")] = None,
) -> None:
    """Issue an API bearer token for a user (a device, a script) and print it once."""
    settings = get_settings()
    engine = make_engine(settings.db)
    try:
        with engine.connect() as conn:
            user = get_user(conn, username)
        ttl = timedelta(hours=hours or settings.access.token_ttl_h)
        issued = issue_token(engine, user, "api", ttl=ttl, label=label or "cli")
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    err.print(f"expires {issued.expires_at:%Y-%m-%d %H:%M} UTC", highlight=False)
    out.print(issued.secret, markup=False, highlight=False)


@user_app.command("revoke")
def user_revoke(username: str) -> None:
    """Revoke every live session and token of a user (they sign in again)."""
    engine = make_engine(get_settings().db)
    try:
        n = revoke_user_tokens(engine, username)
    except GridsafeError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    out.print(f"{n} token(s) of {username} revoked", highlight=False)
