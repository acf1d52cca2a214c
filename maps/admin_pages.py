"""The admin's pages: the accounts (/admin/users) and the audit log (/admin/audit).

The accounts page lists every user and changes them through the JSON API (``admin.js``): add
one, change its role and area (picked from the hierarchy's tree), disable or enable it. The
audit page is rendered here: filtered by table, user, days (the district's) and record, a page
at a time by id, each change's rows field by field with what changed marked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from geo import clock
from geo.access import SCOPED_ROLES, Account, Role, User
from geo.audit import AuditFilter, actor_user, row_changes
from geo.errors import GridsafeError
from geo.levels import Level
from geo.settings import Settings
from maps.assets import url
from maps.chrome import error_detail
from maps.i18n import LANGUAGE_NAMES, N_, Translator
from maps.pages import check_offline

AUDIT_PAGE = 50
"""Entries on one page of the audit log."""
ROWS_SHOWN = 5
"""Rows of one entry shown at once; the rest open on a click."""
VALUE_CHARS = 120
"""A value longer than this (a geometry's hex, a long text) is cut, with its length said."""

TABLE_NAMES: dict[str, str] = {
    "areas": N_("Areas"),
    "buildings": N_("Buildings"),
    "roads": N_("Roads"),
    "pois": N_("Points of interest"),
    "incident_types": N_("Incident types"),
    "incidents": N_("Incidents"),
    "hazards": N_("Hazards"),
    "fixes": N_("Patrol fixes"),
    "checkins": N_("Visits"),
    "cases": N_("Cases"),
    "case_events": N_("Case steps"),
    "route_plans": N_("Patrol plans"),
    "route_stops": N_("Plan stops"),
    "route_legs": N_("Plan legs"),
    "import_runs": N_("Imports"),
    "risk_runs": N_("Risk runs"),
    "users": N_("Users"),
    "tokens": N_("Sign-ins and tokens"),
}
"""The audited tables as a person reads them (an unknown table shows its own name)."""
FIELD_NAMES: dict[str, str] = {
    "id": N_("Number"),
    "code": N_("Code"),
    "name": N_("Name"),
    "username": N_("User name"),
    "display_name": N_("Display name"),
    "role": N_("Role"),
    "scope_code": N_("Area"),
    "disabled_at": N_("Disabled at"),
    "language": N_("Language"),
    "created_at": N_("Created at"),
    "level": N_("Level"),
    "parent_code": N_("Parent area"),
    "type": N_("Type"),
    "status": N_("Status"),
    "state": N_("State"),
    "area_code": N_("Micro-grid"),
    "source": N_("Source"),
    "source_id": N_("Source id"),
    "occurred_at": N_("Occurred at"),
    "description": N_("Description"),
    "expires_at": N_("Expires at"),
    "revoked_at": N_("Revoked at"),
}
"""Columns many tables share, as a person reads them (the column's own name is shown too)."""
ACTION_NAMES: dict[str, str] = {
    "INSERT": N_("Added"),
    "UPDATE": N_("Changed"),
    "DELETE": N_("Removed"),
}
USERS_TEXT: dict[str, str] = {
    "failed": N_("Not saved:"),
    "saved": N_("Saved."),
    "added": N_("User %(name)s added."),
    "username_needed": N_("Give the new user a user name."),
    "password_needed": N_("Give the new user an initial password."),
    "area_needed": N_("A grid head or grid member works in one area: pick it in the tree."),
    "no_area": N_("This role sees the whole district: no area."),
    "chosen": N_("Area:"),
    "none_chosen": N_("No area picked yet"),
    "find_area": N_("Find an area by name or code"),
    "no_match": N_("No area matches"),
    "more_matches": N_("%(n)s more: type more of the name or code"),
    "expand": N_("Show the areas under it"),
    "collapse": N_("Hide the areas under it"),
    "confirm_disable": N_("Disable %(name)s? Every sign-in of this user ends at once."),
    "shown": N_("%(shown)s of %(all)s users shown"),
    "unreadable": N_("Check the fields: a value could not be used."),
}
"""The accounts page script's words."""


def refusal(t: Translator, exc: GridsafeError) -> str:
    """A refused change to an account in the reader's language."""
    return error_detail(exc, t) or t._("Not done: %(detail)s", detail=str(exc))


def local_time(moment: datetime | str | None, settings: Settings) -> str:
    """An instant as the district reads it, ``YYYY-MM-DD HH:MM:SS`` (empty for None)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(clock.zone(settings.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def _script_data(value: object) -> Markup:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - JSON with "<" escaped, inside a JSON script block


def users_page(
    settings: Settings,
    t: Translator,
    accounts: list[Account],
    areas: list[dict[str, str | None]],
    *,
    me: User,
) -> str:
    """The accounts page: the list with its filters, the form to add one, the dialog to
    change one; ``areas`` is the hierarchy the area picker shows (``geo.areas.area_outline``)."""
    roles = [(str(r), t.role(r)) for r in Role]
    rows = [
        {
            "user": a.user,
            "role_name": t.role(a.user.role),
            "scope_name": a.scope_name,
            "scope_level": t.level(Level(a.scope_level)) if a.scope_level else "",
            "language": LANGUAGE_NAMES.get(a.user.language, "") if a.user.language else "",  # type: ignore[call-overload]
            "last_sign_in": local_time(a.last_sign_in, settings),
            "created_at": local_time(a.created_at, settings),
            "me": a.user.id == me.id,
        }
        for a in accounts
    ]
    data = {
        "areas": areas,
        "levels": {str(level): t.level(level) for level in Level},
        "scoped_roles": sorted(str(r) for r in SCOPED_ROLES),
        "text": {k: t._(v) for k, v in USERS_TEXT.items()},
    }
    html = t.env.get_template("users.html").render(
        css=url("gridsafe/maps.css"),
        script=url("gridsafe/admin.js"),
        rows=rows,
        roles=roles,
        data=_script_data(data),
        new_role=str(Role.GRID_HEAD),  # the most common account; never an admin by default
        tab="users",
    )
    return check_offline(html)


@dataclass(frozen=True)
class AuditQuery:
    """The audit page's filters as the form sent them, and what they mean."""

    table: str = ""
    user: str = ""
    record: str = ""
    day_from: str = ""
    day_to: str = ""
    before: int | None = None
    after: int | None = None
    filter: AuditFilter = field(default_factory=AuditFilter)
    problem: str | None = None
    """What is wrong with the filters (a message id), or None."""

    @classmethod
    def read(
        cls,
        settings: Settings,
        *,
        table: str,
        user: str,
        record: str,
        day_from: str,
        day_to: str,
        before: int | None,
        after: int | None,
    ) -> AuditQuery:
        """The filters of a request: the days are the district's, from the start of the first
        to the end of the last."""
        table, user, record = table.strip(), user.strip(), record.strip()
        days: list[date | None] = []
        problem = None
        for text in (day_from.strip(), day_to.strip()):
            try:
                day = date.fromisoformat(text) if text else None
            except ValueError:
                day, problem = None, N_("A day must be written YYYY-MM-DD.")
            if day is not None and not clock.supported(day):
                day, problem = None, N_("A day must be written YYYY-MM-DD.")
            days.append(day)
        first, last = days
        if first and last and last < first:
            problem = N_("The last day comes before the first.")
        since = clock.day_start(first, settings.timezone) if first else None
        until = clock.day_start(last + timedelta(days=1), settings.timezone) if last else None
        where = AuditFilter(
            entity=table or None,
            user=user or None,
            since=since,
            until=until,
            record=record or None,
        )
        return cls(table, user, record, day_from.strip(), day_to.strip(), before, after, where,
                   problem)  # fmt: skip

    def link(self, **page: int) -> str:
        """This query's URL with another page (``before=`` or ``after=`` an id)."""
        params = {
            "table": self.table,
            "user": self.user,
            "from": self.day_from,
            "to": self.day_to,
            "record": self.record,
        }
        kept = {k: v for k, v in params.items() if v}
        return "/admin/audit?" + urlencode({**kept, **{k: str(v) for k, v in page.items()}})


_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?|Z)$")


def shown_value(value: Any, settings: Settings) -> str:
    """A logged value as a person reads it: instants in the district's time, texts plain,
    the rest as JSON; a long one cut to :data:`VALUE_CHARS` characters."""
    if value is None:
        return "—"
    if isinstance(value, str):
        text = local_time(value, settings) if _INSTANT.match(value) else value
    else:
        text = json.dumps(value, ensure_ascii=False)
    if len(text) > VALUE_CHARS:
        return f"{text[:VALUE_CHARS]}… ({len(text)})"
    return text


@dataclass(frozen=True)
class ShownField:
    """One column of a row as the page shows it: its name for people, its own name, the
    values before and after as read, changed or not."""

    label: str
    name: str
    before: str
    after: str
    changed: bool


@dataclass(frozen=True)
class ShownRow:
    """One row of an entry as the page shows it."""

    key: str | None
    fields: list[ShownField]


def _value(name: str, value: Any, settings: Settings, t: Translator) -> str:
    if name == "role" and value in set(Role):
        return t.role(Role(value))
    return shown_value(value, settings)


@dataclass(frozen=True)
class ShownEntry:
    """One audit entry as the page shows it."""

    id: int
    at: str
    actor: str
    user: str
    action: str
    action_name: str
    entity: str
    table_name: str
    rows: int
    changes: list[ShownRow]
    bulk: dict[str, Any] | None
    """The key ranges of a statement too big to log row by row."""


def _name(names: dict[str, str], key: str, t: Translator) -> str:
    """``key``'s name in the reader's language; an unknown one as it is."""
    return t._(names[key]) if key in names else key


def _shown(entry: dict[str, Any], settings: Settings, t: Translator) -> ShownEntry:
    changes = [
        ShownRow(
            c.key,
            [
                ShownField(
                    _name(FIELD_NAMES, f.name, t),
                    f.name,
                    _value(f.name, f.before, settings, t),
                    _value(f.name, f.after, settings, t),
                    f.changed,
                )
                for f in c.fields
            ],
        )
        for c in row_changes(entry["action"], entry["before"], entry["after"])
    ]
    side = entry["after"] if isinstance(entry["after"], dict) else entry["before"]
    return ShownEntry(
        id=entry["id"],
        at=local_time(entry["at"], settings),
        actor=entry["actor"],
        user=actor_user(entry["actor"]),
        action=entry["action"],
        action_name=_name(ACTION_NAMES, entry["action"], t),
        entity=entry["entity"],
        table_name=_name(TABLE_NAMES, entry["entity"], t),
        rows=int(entry["rows"]),
        changes=changes,
        bulk=side if isinstance(side, dict) else None,
    )


def audit_page(
    settings: Settings,
    t: Translator,
    query: AuditQuery,
    entries: list[dict[str, Any]],
    *,
    tables: list[str],
    users: list[str],
) -> str:
    """The audit page for ``query``: ``entries`` is one page plus one more entry when a
    further page exists in the direction asked (newer for ``after``, else older)."""
    more = len(entries) > AUDIT_PAGE
    if more:
        entries = entries[1:] if query.after is not None else entries[:AUDIT_PAGE]
    older = newer = None
    if entries:
        has_older = more if query.after is None else True
        has_newer = (query.before is not None) if query.after is None else more
        older = query.link(before=entries[-1]["id"]) if has_older else None
        newer = query.link(after=entries[0]["id"]) if has_newer else None
    tables = sorted(set(tables) | ({query.table} if query.table else set()))
    html = t.env.get_template("audit.html").render(
        css=url("gridsafe/maps.css"),
        query=query,
        problem=t._(query.problem) if query.problem else None,
        entries=[_shown(e, settings, t) for e in entries],
        tables=[(name, _name(TABLE_NAMES, name, t)) for name in tables],
        users=users,
        older=older,
        newer=newer,
        rows_shown=ROWS_SHOWN,
        zone=settings.timezone,
        tab="audit",
    )
    return check_offline(html)
