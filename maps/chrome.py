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
    NavLink("/admin/users", N_("Users")),
    NavLink("/admin/audit", N_("Audit log")),
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
    cuts = _script_cuts(page)
    return PageParts.cut(page, [(cut, NONCE) for cut in cuts]).fill({NONCE: _nonce_attr(nonce)})


def _script_cuts(page: str) -> list[int]:
    """Where a nonce attribute goes in each script element of ``page`` (after ``<script``)."""
    parser = _ScriptTags()
    parser.feed(page)
    parser.close()
    lines = [0, *(m.end() for m in re.finditer("\n", page))]
    return [lines[line - 1] + column + len("<script") for line, column in parser.found]


def _nonce_attr(nonce: str) -> str:
    return f' nonce="{nonce}"'


NONCE, HEAD, BAR = "nonce", "head", "bar"
"""The holes of a page each response fills: the CSP nonce on a script element, the CSRF token's
``<meta>`` after ``<head>``, the shell's header after ``<body>``."""


@dataclass(frozen=True)
class PageParts:
    """A generated page cut where each response puts its own parts (:data:`NONCE`,
    :data:`HEAD`, :data:`BAR`): ``pieces[0] holes[0] pieces[1] ... holes[-1] pieces[-1]``.

    The pieces are the same for everyone the page was made for, so a cache keeps them
    (api/cache.py) and a response only fills the holes (:meth:`fill`, :func:`chrome_holes`).
    """

    pieces: tuple[str, ...]
    holes: tuple[str, ...]

    @classmethod
    def cut(cls, page: str, cuts: list[tuple[int, str]]) -> PageParts:
        """``page`` cut at each ``(position, hole)``; holes at one position keep their order."""
        ordered = sorted(enumerate(cuts), key=lambda item: (item[1][0], item[0]))
        pieces, holes, last = [], [], 0
        for _, (position, hole) in ordered:
            pieces.append(page[last:position])
            holes.append(hole)
            last = position
        pieces.append(page[last:])
        return cls(pieces=tuple(pieces), holes=tuple(holes))

    def fill(self, values: dict[str, str]) -> str:
        """The page with each hole filled by ``values[hole]``."""
        out = [self.pieces[0]]
        for hole, piece in zip(self.holes, self.pieces[1:], strict=True):
            out += [values[hole], piece]
        return "".join(out)


def chrome_parts(page: str) -> PageParts:
    """``page`` cut where :func:`with_chrome` puts the shell: a nonce on each script element,
    the CSRF ``<meta>`` after ``<head>`` (else first), the header after ``<body>`` (else first,
    before the ``<meta>``)."""
    body = _BODY.search(page)
    head = _HEAD.search(page)
    cuts = [(body.end() if body else 0, BAR), (head.end() if head else 0, HEAD)]
    return PageParts.cut(page, cuts + [(cut, NONCE) for cut in _script_cuts(page)])


def chrome_holes(settings: Settings, shell: Shell) -> dict[str, str]:
    """What fills a :class:`PageParts`' holes for one response."""
    return {
        NONCE: _nonce_attr(shell.nonce),
        # Plain text from here on: adding a str to Markup would escape the page.
        HEAD: str(Markup('<meta name="csrf-token" content="%s">') % (shell.csrf or "")),
        BAR: str(shell_html(shell, settings)),
    }


def with_chrome(page: str, settings: Settings, shell: Shell) -> str:
    """``page`` with the shell's header (styled by maps.css, which every page links), the CSRF
    token for its scripts and the CSP nonce on each of them."""
    return chrome_parts(page).fill(chrome_holes(settings, shell))


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
    "username_invalid": N_(
        "The user name %(username)s cannot be used: 1 to 64 characters, no spaces."
    ),
    "user_exists": N_("A user named %(username)s exists already."),
    "user_not_found": N_("No user has the number %(id)s."),
    "scope_needed": N_("A %(role)s works in one area: pick it in the tree."),
    "scope_refused": N_("A %(role)s sees the whole district and takes no area."),
    "scope_unknown": N_("No area has the code %(code)s."),
    "last_admin": N_(
        "%(username)s is the last enabled administrator: add or enable another one first."
    ),
    "password_short": N_("The password is too short: %(length)s characters, at least %(min)s."),
    "password_trivial": N_("The password is too well known or too simple."),
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
