"""The pages speak from one catalogue: every visible word is a catalogue message, Chinese by
default, English per user; the shell's navigation follows the role rules; errors are pages.

The coverage check renders every page for every role with a pseudo-translator that brackets
each message (``⟦...⟧``) and fails on any visible text outside the brackets that is not a data
value of the district (names, codes, numbers). It reads HTML text nodes, the ``title``,
``placeholder``, ``aria-label`` and ``alt`` attributes, the risk map's config (the words
risk.js writes), folium's tooltip aliases, layer names, marker tooltips and the attribution.
"""

from __future__ import annotations

import datetime as dt
import gettext
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from markupsafe import Markup
from playwright.sync_api import Browser, ViewportSize
from sqlalchemy import Engine, text

from api import routers
from api.app import create_app
from api.auth import SESSION_COOKIE
from geo.access import DEMO_PASSWORD, Role, User
from geo.cases import PLATFORMS
from geo.errors import DatabaseUnavailableError
from geo.settings import Settings
from maps import i18n
from maps.chrome import NAV
from maps.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, translator
from tests.browser import Tab, serve, sign_in
from tests.clients import make_user, session_for, token_for
from tests.test_access import MATRIX
from tests.test_maps import build_district
from tests.test_maps_browser import READY_EMBED
from tests.test_routes_page import _plan

OPEN, CLOSE = "⟦", "⟧"
SCOPES = {Role.GRID_HEAD: "S-0-0", Role.GRID_MEMBER: "M00"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LETTERS = re.compile(r"[^\W\d_]+")
"""A run of letters of any script: what is left of a page's text must have none."""
TECHNICAL = {"CSV", "Excel", "LEC", "LS", "Gi", "z", "km", "GPX", "GeoJSON"}
"""Words that are the same in every language (file formats, method names, units)."""


@dataclass
class Site:
    engine: Engine
    settings: Settings
    plan_id: int
    users: dict[Role, User]
    cookies: dict[Role, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(make_db: Callable[..., tuple[Engine, Settings]]) -> Site:
    """The hand-made district in demo mode, a route plan, one user per role."""
    engine, settings = make_db("i18n", mode="demo")
    build_district(engine, settings)
    plan_id = int(_plan(engine, settings)["id"])
    users = {role: make_user(settings, role, SCOPES.get(role)) for role in Role}
    cookies = {role: session_for(settings, user)[0] for role, user in users.items()}
    return Site(engine, settings, plan_id, users, cookies)


def _client(site: Site, role: Role | None, **kwargs: Any) -> TestClient:
    client = TestClient(create_app(site.settings), follow_redirects=False, headers=HTML, **kwargs)
    if role is not None:
        client.cookies.set(SESSION_COOKIE, site.cookies[role])
    return client


def _pages(site: Site, role: Role) -> list[str]:
    """Every page ``role`` may open, each map level, and two error pages."""
    pages = ["/", "/maps/coverage", "/stats", "/nowhere"]
    pages += [f"/maps/risk?level={level}" for level in ("grid3", "micro")]
    if role in (Role.ADMIN, Role.LEADER, Role.DISPATCHER):
        pages += ["/maps/risk?level=subdistrict", f"/maps/routes/{site.plan_id}"]
        pages += ["/maps/routes", "/maps/units", "/maps/live"]
        pages += [f"/maps/routes?plan={site.plan_id}", f"/maps/routes/{site.plan_id}/sheet/0"]
    else:
        pages.append(f"/maps/routes/{site.plan_id}")  # refused: the 403 page
    if role == Role.ADMIN:
        pages.append("/admin/users")
    return pages


def _data_values(site: Site) -> list[str]:
    """What the district's data shows on pages: names, codes, user names, types, units."""
    queries = (
        "SELECT name FROM areas UNION SELECT code FROM areas",
        "SELECT username FROM users UNION SELECT display_name FROM users",
        "SELECT name FROM hazards UNION SELECT category FROM hazards",
        "SELECT name_zh FROM incident_types UNION SELECT name_en FROM incident_types",
        "SELECT name FROM pois",
    )
    values = set(LANGUAGE_NAMES.values()) | {DEMO_PASSWORD, "步巡1", "gridsafe risk compute"}
    with site.engine.connect() as conn:
        for query in queries:
            values |= {str(v) for (v,) in conn.execute(text(query)) if v}
    values |= {name for zh, en, _spellings in PLATFORMS.values() for name in (zh, en)}
    # Longest first, so that a name is not cut by a shorter one inside it.
    return sorted(values, key=len, reverse=True)


class _Visible(HTMLParser):
    """The text a person reads: text nodes (not scripts or styles) and the attributes that
    are read aloud or shown (title, placeholder, aria-label, alt); scripts are kept apart."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.scripts: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.texts += [v for k, v in attrs if k in self.SHOWN and v]
        if tag in ("script", "style"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            self.texts.append(data)
        elif self._in[-1] == "script":
            self.scripts.append(data)


def _strings_in_scripts(scripts: list[str]) -> list[str]:
    """The words folium and risk.js put on the map from the page's scripts: the risk map's
    config, tooltip aliases, layer names, marker tooltips, the attribution."""
    out: list[str] = []
    for script in scripts:
        if "gridsafeRiskMap(" in script:
            config = json.loads(
                script.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
            )
            out += list(config["text"].values())
            out += [config["level_name"], config["as_of_text"]]
            out += [lv["name"] for lv in config["levels"]]
            out += [c["name"] for c in config["colour_names"].values()]
            out += [c["meaning"] for c in config["colour_names"].values()]
        for match in re.finditer(r'"aliases":\s*(\[[^\]]*\])', script):
            out += json.loads(match.group(1))
        for match in re.finditer(r"overlays\s*:\s*\{(.*?)\}", script, re.DOTALL):
            out += [json.loads(key) for key in re.findall(r'("[^"]+")\s*:', match.group(1))]
        for match in re.finditer(r"(?:setPrefix|addAttribution)\((\"[^\"]*\")\)", script):
            out.append(json.loads(match.group(1)))
        for match in re.finditer(r"bindTooltip\(\s*`(.*?)`", script, re.DOTALL):
            inner = _Visible()
            inner.feed(match.group(1))
            out += inner.texts
    return out


def visible_strings(html: str) -> list[str]:
    """Every string of a page a person may read."""
    parser = _Visible()
    parser.feed(html)
    return parser.texts + _strings_in_scripts(parser.scripts)


def _unbracket(value: str) -> str:
    inner = re.compile(re.escape(OPEN) + "[^" + OPEN + CLOSE + "]*" + re.escape(CLOSE))
    while True:
        stripped = inner.sub(" ", value)
        if stripped == value:
            return value
        value = stripped


def untranslated(html: str, data: list[str]) -> list[str]:
    """The visible strings of a pseudo-translated page with words outside the catalogue's
    brackets once the district's data values are taken out."""
    found = []
    for value in visible_strings(html):
        rest = _without(_unbracket(value), data)
        words = set(LETTERS.findall(rest)) - TECHNICAL
        if words:
            found.append(value.strip())
    return found


class _Bracketed(gettext.NullTranslations):
    def __init__(self, catalogue: gettext.NullTranslations) -> None:
        super().__init__()
        self.catalogue = catalogue

    def gettext(self, message: str) -> str:
        return OPEN + self.catalogue.gettext(message) + CLOSE

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return OPEN + self.catalogue.ngettext(msgid1, msgid2, n) + CLOSE


@dataclass(frozen=True)
class _Pseudo(Translator):
    """Chinese with every message, date and month bracketed."""

    def date(self, day: dt.date) -> str:
        return OPEN + super().date(day) + CLOSE

    def month(self, day: dt.date) -> str:
        return OPEN + super().month(day) + CLOSE


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page in the pseudo-language (the pages' default language is zh_CN)."""
    real = translator("zh_CN")
    monkeypatch.setitem(i18n.TRANSLATORS, "zh_CN", _Pseudo("zh_CN", _Bracketed(real.translations)))


def _render_all(site: Site) -> Iterator[tuple[str, str, str]]:
    """(role, path, html) of every page of every role, and the sign-in page."""
    with _client(site, None) as client:
        yield "anonymous", "/login", client.get("/login").text
    for role in Role:
        with _client(site, role) as client:
            for path in _pages(site, role):
                response = client.get(path)
                assert response.headers["content-type"].startswith("text/html"), (role, path)
                yield str(role), path, response.text


@pytest.mark.usefixtures("pseudo")
def test_every_visible_word_comes_from_the_catalogue(site: Site) -> None:
    data = _data_values(site)
    problems = {
        (role, path): found
        for role, path, html in _render_all(site)
        if (found := untranslated(html, data))
    }
    assert problems == {}


@pytest.mark.usefixtures("pseudo")
def test_the_coverage_check_finds_a_planted_string(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is not blind: an inline pair like the ones the pages used to carry fails it,
    in a page's text and in a map tooltip."""
    data = _data_values(site)
    with _client(site, Role.LEADER) as client:
        clean = client.get("/maps/coverage").text
        monkeypatch.setattr(
            "maps.chrome.demo_banner", lambda *_a: Markup("<div>演示模式 DEMO MODE</div>")
        )
        planted = client.get("/maps/coverage").text
    assert untranslated(clean, data) == []
    assert untranslated(planted, data) == ["演示模式 DEMO MODE"]
    tooltip = untranslated(
        '<script>geo_json_1.bindTooltip(function(){}, {"aliases": ["Micro-grid"]});</script>',
        data,
    )
    assert tooltip == ["Micro-grid"]


def _extracted() -> set[str]:
    root = Path(str(resources.files("maps"))).parent
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "N_": None}
    found: set[str] = set()
    for folder in ("maps", "api"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / folder, method_map, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(language: str) -> dict[str, str]:
    path = resources.files("maps") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}  # type: ignore[misc]


def _placeholders(text_: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text_))


def test_the_catalogues_hold_every_message_and_chinese_for_each() -> None:
    extracted = _extracted()
    assert len(extracted) > 150
    for language in LANGUAGES:
        catalogue = _catalogue(language)
        assert extracted - catalogue.keys() == set(), f"{language}: run pybabel update"
        assert catalogue.keys() - extracted == set(), f"{language}: obsolete messages"
    chinese = _catalogue("zh_CN")
    assert [m for m, zh in chinese.items() if not zh.strip()] == []
    assert [m for m, zh in chinese.items() if _placeholders(m) != _placeholders(zh)] == []
    assert [
        m for m, en in _catalogue("en").items() if en and _placeholders(m) != _placeholders(en)
    ] == []


def test_no_chinese_page_shows_an_english_word(site: Site) -> None:
    data = _data_values(site)
    english = {}
    for role, path, html in _render_all(site):
        words = {
            word
            for value in visible_strings(html)
            for word in LETTERS.findall(_without(value, data))
            if word.isascii()
        } - TECHNICAL
        if words:
            english[role, path] = sorted(words)
    assert english == {}


CODES = re.compile(r"(?<![\w-])[A-Za-z]*\d[\w-]*|%\(\w+\)s")
"""Words with a digit, codes and numbers (M00, P03, S-0-1, 2026), and the placeholders of
the messages risk.js fills."""


def _without(value: str, data: list[str]) -> str:
    """``value`` without the district's data values and codes: a name is taken out anywhere,
    a Latin value (a code, a user name) only as a whole word."""
    for known in data:
        if known.isascii():
            value = re.sub(r"(?<![\w-])" + re.escape(known) + r"(?![\w-])", " ", value)
        else:
            value = value.replace(known, " ")
    return CODES.sub(" ", value)


def test_names_of_roles_colours_levels_weeks_and_dates_in_chinese() -> None:
    t = translator("zh_CN")
    assert [t.role(r) for r in Role] == ["管理员", "领导", "调度员", "网格长", "网格员", "数据员"]
    assert [t.colour(c) for c in ("red", "orange", "yellow", "blue")] == ["红", "橙", "黄", "蓝"]
    assert [t.meaning(c) for c in ("red", "orange", "yellow", "blue")] == [
        "重大风险",
        "较大风险",
        "一般风险",
        "低风险",
    ]
    assert t.week(date(2026, 12, 4)) == "2026年第49周"
    assert t.date(date(2026, 12, 4)) == "2026年12月4日"
    en = translator("en")
    assert en.week(date(2026, 12, 4)) == "week 49 of 2026"
    assert en.role(Role.GRID_HEAD) == "Grid head"


def _nav(html: str) -> list[str]:
    nav = html.split('<nav aria-label="', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_sees_exactly_its_pages_and_each_opens(site: Site, role: Role) -> None:
    expected = [link.path for link in NAV if role in MATRIX[("GET", link.path)]]
    with _client(site, role) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert _nav(home.text) == expected
        for path in expected:
            assert client.get(path).status_code == 200, path
        links = set(re.findall(r'href="(/maps/risk\?level=\w+)"', home.text))
        risk = client.get("/maps/risk").text
    levels = [
        lv["value"]
        for lv in json.loads(
            risk.split("gridsafeRiskMap(", 1)[1].split(", ", 1)[1].rsplit(");", 1)[0]
        )["levels"]
    ]
    if role in SCOPES:
        # No map of a level that is empty for a grid head or member.
        assert "/maps/risk?level=subdistrict" not in links
        assert "/maps/risk?level=grid2" not in links
        assert "subdistrict" not in levels
    else:
        assert "/maps/risk?level=subdistrict" in links
        assert levels == ["subdistrict", "grid2", "grid3", "micro"]


def test_the_header_names_the_user_role_area_and_the_districts_date(site: Site) -> None:
    with _client(site, Role.GRID_HEAD) as client:
        html = client.get("/stats").text
    bar = html.split('id="gs-user">', 1)[1].split("</span>\n", 1)[0]
    assert site.users[Role.GRID_HEAD].username in html
    assert '<span id="gs-role">网格长</span>' in html
    assert '<span id="gs-area" title="S-0-0">第1-1格</span>' in html
    assert 'aria-current="page">案件统计' in html
    assert re.search(
        r'<time id="gs-today" datetime="\d{4}-\d\d-\d\d">\d{4}年\d+月\d+日</time>', html
    )
    assert bar


def test_a_users_language_is_theirs_alone(site: Site) -> None:
    dispatcher = make_user(site.settings, Role.DISPATCHER)
    cookie, csrf = session_for(site.settings, dispatcher)
    with _client(site, None) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        chosen = client.post(
            "/api/auth/language", json={"language": "en"}, headers={"X-CSRF-Token": csrf}
        )
        assert chosen.status_code == 200
        assert chosen.json()["language"] == "en"
        english = client.get("/").text
        refused = client.post(
            "/api/auth/language", json={"language": "fr"}, headers={"X-CSRF-Token": csrf}
        )
    assert refused.status_code == 422
    assert '<html lang="en">' in english
    assert "Grid governance overview" in english
    assert "Dispatcher" in english
    with _client(site, Role.DISPATCHER) as other:
        chinese = other.get("/").text
    assert '<html lang="zh-CN">' in chinese
    assert "网格化治理总览" in chinese


def test_the_deployment_language_is_a_setting(site: Site) -> None:
    settings = site.settings.replace(language="en")
    with TestClient(create_app(settings), headers=HTML) as client:
        login = client.get("/login").text
    assert "User name" in login
    assert "Sign in" in login


def test_errors_are_pages_for_browsers_and_json_for_api_clients(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = site.users[Role.GRID_HEAD]
    with _client(site, Role.GRID_HEAD) as browser:
        missing = browser.get("/nowhere")
        refused = browser.get(f"/maps/routes/{site.plan_id}")
        no_area = browser.get("/maps/risk?focus=NOPE")
    for response, status in ((missing, 404), (refused, 403), (no_area, 404)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert 'id="gs-shell"' in response.text
        assert 'id="gs-error"' in response.text
    assert "页面不存在" in missing.text
    assert "您的角色（网格长）无权打开此页面。" in refused.text
    assert "没有编码为 NOPE 的区域，或该区域不在您的辖区内。" in no_area.text
    api = TestClient(
        create_app(site.settings),
        headers={"Authorization": f"Bearer {token_for(site.settings, head)}"},
    )
    with api:
        assert api.get("/api/nowhere").json() == {"detail": "Not Found"}
        json_refused = api.get(f"/maps/routes/{site.plan_id}")
        html_api_path = api.get("/api/areas/NOPE", headers=HTML)
    assert json_refused.status_code == 403
    assert json_refused.json()["detail"].startswith("role grid_head may not")
    assert html_api_path.status_code == 404
    assert html_api_path.headers["content-type"].startswith("application/json")

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("boom")

    def unavailable(*_args: object, **_kwargs: object) -> str:
        raise DatabaseUnavailableError("the database is down")

    with _client(site, Role.LEADER, raise_server_exceptions=False) as browser:
        monkeypatch.setattr(routers.maps, "dashboard_page", broken)
        failed = browser.get("/")
        failed_json = browser.get("/", headers={"Accept": "application/json"})
        monkeypatch.setattr(routers.maps, "dashboard_page", unavailable)
        busy = browser.get("/")
    assert failed.status_code == 500
    assert "服务器出错" in failed.text
    assert "boom" not in failed.text
    assert failed_json.json() == {"detail": "internal error (logged)"}
    assert busy.status_code == 503
    assert busy.headers["retry-after"]
    assert "服务繁忙或暂不可用" in busy.text


NAV_TITLES = {
    "/": "总览",
    "/field": "我的网格",
    "/maps/risk": "四色图",
    "/maps/coverage": "巡逻覆盖",
    "/stats": "案件统计",
    "/maps/routes": "巡逻方案",
    "/maps/live": "实时",
    "/maps/units": "巡逻力量",
    "/admin/users": "用户",
    "/admin/audit": "审计日志",
    "/import": "数据导入",
    "/admin": "系统管理",
}


def test_each_roles_header_in_chromium(site: Site, browser: Browser, artifacts: Path) -> None:
    """Each role's header as drawn (screenshots), a click on a navigation link, the map's
    attribution without Leaflet's flag, and an error page in the shell."""
    screen: ViewportSize = {"width": 1280, "height": 720}
    with serve(site.settings) as base:
        for role in Role:
            context = browser.new_context(viewport=screen)
            tab = Tab.open(context, base)
            sign_in(tab, site.settings, role, SCOPES.get(role))
            tab.goto("/", ready="#gs-shell")
            tab.shot(artifacts / f"i18n_nav_{role}.png")
            titles = tab.texts("#gs-shell nav a")
            expected = [NAV_TITLES[link.path] for link in NAV if role in MATRIX[("GET", link.path)]]
            assert titles == expected, role
            assert "网格化治理总览" in tab.text()
            context.close()
        context = browser.new_context(viewport=screen)
        tab = Tab.open(context, base)
        sign_in(tab, site.settings, Role.GRID_HEAD, SCOPES[Role.GRID_HEAD])
        tab.goto("/", ready="#gs-shell")
        link = tab.page.locator("#gs-shell nav a", has_text="四色图")
        box = link.bounding_box()
        assert box is not None
        with tab.page.expect_navigation(timeout=30_000):
            tab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert urlsplit(tab.page.url).path == "/maps/risk"
        tab.goto("/maps/risk", ready=READY_EMBED)
        tab.shot(artifacts / "i18n_risk_grid_head.png")
        attribution = tab.text(".leaflet-control-attribution")
        assert attribution == "网格安全 | 数据：本辖区网格数据"
        flags = ".leaflet-control-attribution svg, .leaflet-control-attribution a[href*=leaflet]"
        assert tab.page.locator(flags).count() == 0
        assert tab.text("#gs-shell nav [aria-current]") == "四色图"
        error = tab.goto(f"/maps/routes/{site.plan_id}", ready="#gs-error")
        tab.shot(artifacts / "i18n_error_403.png")
        text_ = tab.text()
        assert "无权打开此页面" in text_
        assert "网格长" in text_
        assert error is not None
        assert error.status == 403
        assert error.url.endswith(f"/maps/routes/{site.plan_id}")
        context.close()
