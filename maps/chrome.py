"""The shell every page shares: a header with the user, their role and area, the district's
date, the pages their role may use, the language switch and sign-out; the demo-mode banner;
the sign-in and error pages.

Pages are rendered by folium or Jinja templates; :func:`with_chrome` puts the same header
(``templates/shell.html``) after each page's ``<body>``, with the session's CSRF token in a
``<meta>`` for the page's scripts, and gives every script element of the page the response's
CSP nonce (:func:`with_nonce`): the content security policy admits no other inline script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

from markupsafe import Markup

from geo.access import DEMO_PASSWORD, Role, User
from geo.errors import GridsafeError
from geo.settings import AccessSettings, Settings
from maps.assets import url
from maps.i18n import LANGUAGE_NAMES, N_, Translator
from maps.pages import check_offline

_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class NavLink:
    """A page in the header's navigation: its path and its title (a catalogue message)."""

    path: str
    title: str


NAV: tuple[NavLink, ...] = (
    NavLink("/", N_("Overview")),
    NavLink("/field", N_("My area")),
    NavLink("/maps/risk", N_("Four-colour map")),
    NavLink("/maps/coverage", N_("Patrol coverage")),
    NavLink("/stats", N_("Case statistics")),
    NavLink("/maps/routes", N_("Patrol plans")),
    NavLink("/maps/live", N_("Live")),
    NavLink("/maps/units", N_("Patrol units")),
    NavLink("/import", N_("Data import")),
    NavLink("/admin", N_("Administration")),
)
"""Every page a person opens without an id, in the header's order; each user sees those their
role may call (``api.shell.nav_for``, from the routes' own role rules)."""


@dataclass(frozen=True)
class Shell:
    """What the header shows for one request."""

    t: Translator
    today: date
    nonce: str
    """The response's CSP nonce (``api.headers.SecurityHeaders``)."""
    user: User | None = None
    area: str | None = None
    nav: tuple[NavLink, ...] = ()
    current: str = ""
    csrf: str | None = None


def demo_banner(access: AccessSettings, t: Translator) -> Markup:
    """The unmistakable demo-mode notice (empty in production mode)."""
    if access.mode != "demo":
        return Markup("")
    text = t._(
        "Demo mode · synthetic data · shared password (%(password)s) · not for real use",
        password=DEMO_PASSWORD,
    )
    return Markup('<div id="gs-demo-banner" class="gs-demo-banner">%s</div>') % text


def shell_html(shell: Shell, settings: Settings) -> Markup:
    """The header of ``shell``, with the demo banner."""
    user = shell.user
    # Rendered by the autoescaping template environment: the values in it are escaped.
    return Markup(  # noqa: S704
        shell.t.env.get_template("shell.html").render(
            user=user,
            user_name=(user.display_name or user.username) if user else "",
            area=shell.area or (user.scope if user else None),
            today=shell.today,
            nav=shell.nav,
            current=shell.current,
            languages=LANGUAGE_NAMES,
            banner=demo_banner(settings.access, shell.t),
            nonce=shell.nonce,
        )
    )


class _ScriptTags(HTMLParser):
    """Where the script elements of a page open, as (line, column): an HTML parser's reading, so
    ``<script`` inside a script's text (a JSON string, say) or an attribute is not one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(self.getpos())


def with_nonce(page: str, nonce: str) -> str:
    """``page`` as the app generated it, with ``nonce`` on each of its script elements.

    Only for HTML the app generates, whose data the generators escape (Jinja's autoescape,
    folium's ``tojson``, ``maps.pages._script_json``): folium writes its map setup in inline
    scripts of fixed templates, which the policy admits by this nonce alone.
    """
    parser = _ScriptTags()
    parser.feed(page)
    parser.close()
    lines = [0, *(m.end() for m in re.finditer("\n", page))]
    cuts = [lines[line - 1] + column + len("<script") for line, column in parser.found]
    out, last = [], 0
    for cut in cuts:
        out += [page[last:cut], f' nonce="{nonce}"']
        last = cut
    return "".join([*out, page[last:]])


def with_chrome(page: str, settings: Settings, shell: Shell) -> str:
    """``page`` with the shell's header (styled by maps.css, which every page links), the CSRF
    token for its scripts and the CSP nonce on each of them."""
    page = with_nonce(page, shell.nonce)
    # Plain text from here on: adding a str to Markup would escape the page.
    head = str(Markup('<meta name="csrf-token" content="%s">') % (shell.csrf or ""))
    match = _HEAD.search(page)
    page = page[: match.end()] + head + page[match.end() :] if match else head + page
    bar = str(shell_html(shell, settings))
    match = _BODY.search(page)
    if match is None:
        return bar + page
    return page[: match.end()] + bar + page[match.end() :]


def login_page(
    settings: Settings,
    shell: Shell,
    *,
    next_path: str,
    error: str | None = None,
    demo_accounts: list[User] | None = None,
) -> str:
    """The sign-in form in the shell; in demo mode it lists the demo accounts and their password."""
    t = shell.t
    html = t.env.get_template("login.html").render(
        css=url("gridsafe/maps.css"),
        next_path=next_path,
        error=error,
        demo_accounts=demo_accounts if settings.access.mode == "demo" else [],
        demo_password=DEMO_PASSWORD,
    )
    return with_chrome(check_offline(html), settings, shell)


ERROR_TITLES: dict[int, str] = {
    400: N_("The request could not be used"),
    403: N_("You may not open this page"),
    404: N_("Page not found"),
    409: N_("The request conflicts with the current state"),
    422: N_("The request could not be used"),
    500: N_("Something went wrong on the server"),
    503: N_("The service is busy or unavailable; try again shortly"),
}
ERROR_HINTS: dict[int, str] = {
    403: N_("Your role or area does not include this page."),
    404: N_("Nothing is at this address, or nothing you may see."),
    500: N_("The error was logged; the page has not changed anything."),
    503: N_("Retry in a few seconds."),
}


ERROR_DETAILS: dict[str, str] = {
    "area_not_found": N_("No area has the code %(code)s, or it is outside your area."),
    "no_areas": N_("No areas are loaded yet; an administrator imports the boundaries first."),
    "plan_not_found": N_("No patrol plan has the number %(id)s."),
    "period_reversed": N_("The period ends (%(end)s) before it starts (%(start)s)."),
    "period_too_long": N_("The period from %(start)s to %(end)s is longer than %(days)s days."),
    "role_refused": N_("Your role (%(role)s) may not open this page."),
    "login_throttled": N_("Too many failed sign-ins; try again in %(seconds)s seconds."),
}
"""What a page says for each error code (``GridsafeError.code``); an error without a code is
shown by its status alone, never in the English of ``str(exc)``."""


def error_detail(exc: Exception, t: Translator) -> str | None:
    """``exc`` in the reader's language, from its code and params (None without a code)."""
    if not isinstance(exc, GridsafeError) or exc.code not in ERROR_DETAILS:
        return None
    params = {
        name: t.date(value)
        if isinstance(value, date)
        else t.role(value)
        if isinstance(value, Role)
        else value
        for name, value in exc.params.items()
    }
    return t._(ERROR_DETAILS[exc.code], **params)


def error_page(settings: Settings, shell: Shell, *, status: int, detail: str | None) -> str:
    """An error as a page in the shell: what happened (from the catalogue), the translated
    ``detail`` when the error carries one, and a way back."""
    t = shell.t
    html = t.env.get_template("error.html").render(
        css=url("gridsafe/maps.css"),
        status=status,
        title=t._(ERROR_TITLES.get(status, ERROR_TITLES[500 if status >= 500 else 400])),
        hint=t._(ERROR_HINTS[status]) if status in ERROR_HINTS else "",
        detail=detail,
    )
    return with_chrome(check_offline(html), settings, shell)
