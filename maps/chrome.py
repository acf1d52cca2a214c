"""What every page shows around its content: who is signed in, sign-out, the demo-mode banner.

Pages are rendered by folium or Jinja templates; :func:`with_chrome` adds the same bar to each
of them after ``<body>``, with the session's CSRF token in a ``<meta>`` for the page's scripts.
"""

from __future__ import annotations

import html as html_lib
import re

from markupsafe import Markup

from geo.access import DEMO_PASSWORD, User
from geo.settings import Settings
from maps.assets import url
from maps.pages import TEMPLATES

_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)

# Top centre and bottom centre: free on every page (the maps keep their title top left,
# controls top right, legend and attribution bottom right).
BAR_STYLE = (
    "position:fixed;top:0;left:50%;transform:translateX(-50%);z-index:10000;"
    "background:rgba(29,53,87,.92);color:#fff;font:14px/1.4 sans-serif;padding:4px 12px;"
    "border-radius:0 0 6px 6px;white-space:nowrap;"
)
BANNER_STYLE = (
    "position:fixed;bottom:0;left:50%;transform:translateX(-50%);z-index:10001;"
    "background:#b8860b;color:#fff;font:bold 15px/1.6 sans-serif;padding:3px 14px;"
    "border-radius:6px 6px 0 0;white-space:nowrap;pointer-events:none;"
)


def demo_banner(settings: Settings) -> Markup:
    """The unmistakable demo-mode notice (empty in production mode)."""
    if settings.mode != "demo":
        return Markup("")
    # Constants of this module only: nothing from a user reaches this markup.
    return Markup(  # noqa: S704
        f'<div id="gs-demo-banner" style="{BANNER_STYLE}">演示模式 DEMO MODE · 合成数据 '
        f"synthetic data · shared passwords ('{DEMO_PASSWORD}') · not for real use</div>"
    )


def login_page(
    settings: Settings,
    *,
    next_path: str,
    error: str | None = None,
    demo_accounts: list[User] | None = None,
) -> str:
    """The sign-in form; in demo mode it lists the demo accounts and their password."""
    return TEMPLATES.get_template("login.html").render(
        css=url("gridsafe/maps.css"),
        banner=demo_banner(settings),
        next_path=next_path,
        error=error,
        demo_accounts=[(u.username, u.role, u.scope) for u in demo_accounts or []]
        if settings.mode == "demo"
        else [],
        demo_password=DEMO_PASSWORD,
    )


def with_chrome(page: str, settings: Settings, user: User, csrf: str | None) -> str:
    """``page`` with the user bar (name, role, area, sign-out) and the demo banner."""
    name = html_lib.escape(user.display_name or user.username)
    scope = f" · {html_lib.escape(user.scope)}" if user.scope else ""
    token = html_lib.escape(csrf or "", quote=True)
    bar = (
        f'{demo_banner(settings)}<div id="gs-user" style="{BAR_STYLE}">{name} '
        f"({html_lib.escape(user.role)}{scope}) "
        f'<form method="post" action="/logout" style="display:inline;margin:0" '
        f'onsubmit="return gsLogout(event)"><button type="submit" style="font-size:13px">'
        f"退出 Sign out</button></form></div>"
        "<script>function gsLogout(e){e.preventDefault();"
        "fetch('/logout',{method:'POST',headers:{'X-CSRF-Token':"
        "document.querySelector('meta[name=csrf-token]').content}})"
        ".then(function(){window.location='/login';});return false;}</script>"
    )
    meta = f'<meta name="csrf-token" content="{token}">'
    page = page.replace("<head>", f"<head>{meta}", 1) if "<head>" in page else meta + page
    match = _BODY.search(page)
    if match is None:
        return bar + page
    return page[: match.end()] + bar + page[match.end() :]
