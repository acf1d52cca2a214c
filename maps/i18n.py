"""The message catalogue: every word a page shows, in Chinese (the default) or English.

Messages are marked in the code with their English text as the msgid (``t._("Sign out")`` in
Python, ``{{ _("Sign out") }}`` in the Jinja templates, :func:`N_` for tables of messages
defined before a language is known) and translated by the gettext catalogues
``maps/locale/<language>/LC_MESSAGES/messages.po``. English msgids keep the code readable and
give the English catalogue nothing to repeat; ``tests/test_i18n.py`` extracts every marked
message with Babel and fails when one is missing from a catalogue or has no Chinese.

The ``.po`` files are the only form kept: they are read with Babel's ``read_po`` on first use
and compiled in memory, so no compiled ``.mo`` is committed or built at install time.
Placeholders are ``%(name)s`` as in Jinja's i18n extension, which formats them itself.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Literal, get_args

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, PackageLoader, select_autoescape

from geo.access import Role, User
from geo.levels import Level
from geo.settings import Settings

Language = Literal["zh_CN", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LANGUAGE_NAMES: dict[Language, str] = {"zh_CN": "中文", "en": "English"}
"""Each language in its own words: the header's switch shows these, never translated."""
HTML_LANG: dict[Language, str] = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


ROLE_NAMES: dict[Role, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.LEADER: N_("Leader"),
    Role.DISPATCHER: N_("Dispatcher"),
    Role.GRID_HEAD: N_("Grid head"),
    Role.GRID_MEMBER: N_("Grid member"),
    Role.DATA_OFFICER: N_("Data officer"),
}
LEVEL_NAMES: dict[Level, str] = {
    Level.SUBDISTRICT: N_("Sub-district"),
    Level.GRID2: N_("Level-2 grid"),
    Level.GRID3: N_("Level-3 grid"),
    Level.MICRO: N_("Micro-grid"),
}
# The four colours of the safety map and their usual bands (重大/较大/一般/低风险).
COLOUR_NAMES: dict[str, str] = {
    "red": N_("Red"),
    "orange": N_("Orange"),
    "yellow": N_("Yellow"),
    "blue": N_("Blue"),
}
COLOUR_MEANINGS: dict[str, str] = {
    "red": N_("major risk"),
    "orange": N_("high risk"),
    "yellow": N_("moderate risk"),
    "blue": N_("low risk"),
}


def _catalogue(language: Language) -> gettext.NullTranslations:
    """The language's ``.po`` file, compiled in memory."""
    path = resources.files("maps") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    mo = io.BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo)


@dataclass(frozen=True)
class Translator:
    """The pages' words in one language: messages, names of roles, levels and colours, dates.

    One per language (:func:`translator`), shared by the requests in that language; Python
    page code calls :meth:`_`, templates come from :attr:`env`, whose ``_`` is the same
    catalogue.
    """

    language: Language
    translations: gettext.NullTranslations = field(repr=False)

    def _(self, message: str, **params: object) -> str:
        """``message`` in this language, with ``%(name)s`` placeholders filled from ``params``."""
        text = self.translations.gettext(message)
        return text % params if params else text

    def role(self, role: Role) -> str:
        """A role's name (网格长 for ``grid_head``)."""
        return self._(ROLE_NAMES[role])

    def level(self, level: Level) -> str:
        """A level's name (微网格 for ``micro``)."""
        return self._(LEVEL_NAMES[level])

    def colour(self, colour: str | None) -> str:
        """A colour's name (红 for ``red``); a dash for no colour."""
        return self._(COLOUR_NAMES[colour]) if colour in COLOUR_NAMES else "—"

    def meaning(self, colour: str) -> str:
        """What a colour means (重大风险 for ``red``)."""
        return self._(COLOUR_MEANINGS[colour])

    def date(self, day: dt.date) -> str:
        """A day as the district reads it (2026年12月4日, December 4, 2026)."""
        return format_date(day, format="long", locale=self.language)

    def month(self, day: dt.date) -> str:
        """The month of ``day``, short (12月, Dec)."""
        return format_date(day, format="MMM", locale=self.language)

    def week(self, day: dt.date) -> str:
        """The ISO week holding ``day`` (2026年第49周, week 49 of 2026)."""
        year, week, _ = day.isocalendar()
        return self._("week %(week)s of %(year)s", week=week, year=year)

    @cached_property
    def env(self) -> Environment:
        """The Jinja templates of ``maps/templates``, translated into this language."""
        env = Environment(
            loader=PackageLoader("maps", "templates"),
            autoescape=select_autoescape(),
            trim_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.install_gettext_translations(self.translations, newstyle=True)  # type: ignore[attr-defined]
        env.globals["t"] = self
        env.globals["html_lang"] = HTML_LANG[self.language]
        return env


TRANSLATORS: dict[str, Translator] = {}
"""One translator per language, made on first use."""


def translator(language: str) -> Translator:
    """The translator of ``language`` (one of :data:`LANGUAGES`)."""
    if language not in TRANSLATORS:
        if language not in LANGUAGES:
            msg = f"unknown language {language!r}: one of {', '.join(LANGUAGES)}"
            raise ValueError(msg)
        TRANSLATORS[language] = Translator(language, _catalogue(language))
    return TRANSLATORS[language]


def for_user(user: User | None, settings: Settings) -> Translator:
    """The translator of the user's chosen language, else the deployment's."""
    return translator((user.language if user else None) or settings.language)
