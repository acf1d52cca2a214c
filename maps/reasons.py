"""A rejected row's reason as its reader reads it: the import page, the run's report page and
the rejected-rows file word each reason in the reader's language from the catalogue.

An importer's :class:`~geo.errors.Problem` carries its reason in English and, for the common
ones, a ``code`` and the ``params`` it names (:data:`CODES`); the others are recognised by the
pattern of their English text (:data:`REASONS`), keeping the values it names. A reason neither
knows is shown as the importer wrote it, after "Other problem:".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from geo.errors import Problem
from maps.i18n import N_, Translator
from maps.imports import FIELD_NAMES

CODES: dict[str, str] = {
    "not_a_number": N_("%(field)s %(value)s is not a number"),
    "not_a_time": N_("%(field)s %(value)s is not a date and time (write e.g. 2025-03-01 08:30)"),
    "lat_lon_swapped": N_("longitude and latitude look swapped: swap the two columns"),
    "out_of_range": N_("%(field)s %(value)s is outside %(range)s"),
    "field_empty": N_("%(field)s is empty"),
    "unknown_type": N_(
        "unknown incident type %(value)s: add it as a synonym below, or fix the cell"
    ),
    "no_location": N_("no usable location: no coordinates and no address"),
    "other_source": N_(
        "the same id and content as a record of source %(source)s: nothing was added twice; "
        "if they are the same records, import the file again with source %(source)s"
    ),
}
"""A problem's code → how an officer reads it (its params fill the placeholders)."""

REASONS: tuple[tuple[str, str], ...] = (
    (r"^(?P<field>\w+) is empty$", N_("%(field)s is empty")),
    (r"^missing (?P<field>\w+)$", N_("%(field)s is missing")),
    (r"^empty (line|row)$", N_("empty row")),
    (
        r"^(?P<field>\w+) (?P<value>'.*?'|\".*?\") is not a date/time",
        N_("%(field)s %(value)s is not a date and time (write e.g. 2025-03-01 08:30)"),
    ),
    (r"^unreadable time (?P<value>.*)$", N_("the time %(value)s cannot be read")),
    (
        r"^(?P<field>\w+) (?P<value>'.*?'|\".*?\") is not a (finite )?number",
        N_("%(field)s %(value)s is not a number"),
    ),
    (
        r"^(?P<field>\w+) (?P<value>\S+) is out of (?P<range>\S+)$",
        N_("%(field)s %(value)s is outside %(range)s"),
    ),
    (r"^lat/lon look swapped", N_("longitude and latitude look swapped: swap the two columns")),
    (
        r"^(?P<field>\w+) is empty but (?P<other>\w+) is given$",
        N_("%(field)s is empty but %(other)s is given"),
    ),
    (
        r"do not fit (?P<crs>[^(]+) \(",
        N_("the coordinates do not lie where %(crs)s can: the wrong coordinate system?"),
    ),
    (r"^missing or non-numeric coordinates$", N_("the coordinates are missing or not numbers")),
    (r"^coordinates \(0, 0\)", N_("the coordinates are (0, 0): the receiver had no fix")),
    (
        r"^has (?P<n>\d+) fields but the header has (?P<width>\d+)",
        N_("the row has %(n)s cells but the header %(width)s"),
    ),
    (r"^duplicate id \(first seen at row (?P<row>\d+)\)", N_("the same id as row %(row)s")),
    (
        r"^same source and id as row (?P<row>\d+)",
        N_("the same source and id as row %(row)s, which wins"),
    ),
    (r"^duplicate (fix|check-in)", N_("the same as an earlier row (duplicate)")),
    (r"^outside every area", N_("outside every area: kept with no area")),
    (r"^outside ", N_("outside your area")),
    (
        r"^unknown unit kind (?P<value>'.*?')",
        N_("unknown way of moving %(value)s (use foot, bicycle or vehicle)"),
    ),
    (r"^unknown status (?P<value>'.*?')", N_("unknown status %(value)s (use 未整改 or 已整改)")),
    (r"^a closed hazard needs closed_at", N_("a closed hazard needs the time it was closed")),
    (r"assessment needs (?P<fields>.+)$", N_("the assessment needs %(fields)s")),
    (r"^geometry is a (?P<kind>\w+), not a Point", N_("the geometry is a %(kind)s, not a point")),
    (r"^coordinates cannot be projected", N_("the coordinates cannot be converted")),
)
"""Each importer's reason (a pattern) → how an officer reads it; named groups are kept."""
_REASONS = [(re.compile(pattern), message) for pattern, message in REASONS]


def _worded(values: Mapping[str, object], t: Translator) -> dict[str, object]:
    out = dict(values)
    for key in ("field", "other"):
        if key in out:
            out[key] = t._(FIELD_NAMES.get(str(out[key]), str(out[key])))
    return out


def reason_text(problem: Problem, t: Translator) -> str:
    """``problem``'s reason in the reader's language."""
    reason, code, params = problem.reason, problem.code, dict(problem.params)
    if code in CODES:
        quoted = {k: f"'{v}'" if k == "value" else v for k, v in params.items()}
        return t._(CODES[str(code)], **_worded(quoted, t))
    for pattern, message in _REASONS:
        match = pattern.search(reason)
        if match is not None:
            found = {k: v for k, v in match.groupdict().items() if v is not None}
            return t._(message, **_worded(found, t))
    return t._("Other problem: %(reason)s", reason=reason)
