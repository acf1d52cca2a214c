"""Import reasons and data-desk errors in the reader's language.

An importer names each rejected row's reason with a stable code and the values it names
(:class:`geo.errors.Problem` ``code`` and ``params``); this table words each code, so the
report a page shows and the rejected-rows file an officer downloads (its 原因 column) read in
Chinese. A reason without a code (a rarer check) keeps its English text.
"""

from __future__ import annotations

from geo.errors import GridsafeError, Problem
from maps.i18n import N_, Translator

REASONS: dict[str, str] = {
    "empty_row": N_("The row is empty."),
    "field_count": N_("The row has %(count)s fields but the header has %(width)s."),
    "field_empty": N_("%(field)s is empty."),
    "not_a_number": N_("%(field)s %(value)s is not a number."),
    "not_a_time": N_("%(field)s %(value)s is not a date and time (write e.g. 2026-03-05 09:00)."),
    "lat_lon_swapped": N_(
        "Longitude and latitude look swapped (%(x)s, %(y)s): swap the two columns."
    ),
    "out_of_range": N_("%(field)s %(value)s is outside %(range)s."),
    "unknown_type": N_(
        "Unknown incident type %(value)s: add it as a synonym of a type, then import again."
    ),
    "unknown_status": N_("Unknown status %(value)s: write open or closed (未整改/已整改)."),
    "address_not_found": N_("The address %(value)s matches no building."),
    "no_location": N_("No location: no coordinates and no address."),
    "other_source": N_(
        "The same id and content are already stored under the source %(source)s; nothing was "
        "duplicated. If these are the same records, import the file again with the source "
        "%(source)s to update them."
    ),
}
"""What a rejected row's reason says, by its code."""

IMPORT_ERRORS: dict[str, str] = {
    "mapping_column_missing": N_(
        "The mapping gives %(field)s the column %(column)s, which the file does not have."
    ),
    "mapping_field_unknown": N_("This kind of file has no field %(field)s."),
    "mapping_one_column": N_("%(field)s can be read from one column only."),
    "mapping_required_missing": N_("Choose a column for: %(fields)s."),
    "unknown_kind": N_("Unknown kind of file: %(kind)s."),
    "boundaries_need_level": N_("Boundaries need their level."),
    "synonym_empty": N_("A synonym needs a word."),
    "synonym_unknown_type": N_("No incident type has the code %(code)s."),
    "synonym_is_a_name": N_("%(word)s is already the name of the type %(code)s."),
    "import_not_found": N_("No import run has the number %(id)s."),
    "import_no_file": N_("Import run %(id)s did not come from a file."),
    "synonym_not_found": N_("There is no synonym %(word)s."),
}
"""What the data desk's errors say, by their code (``GridsafeError.code``)."""


def reason_text(problem: Problem, t: Translator) -> str:
    """A rejected row's reason in ``t``'s language (its English text when it has no code)."""
    if problem.code not in REASONS:
        return problem.reason
    return t._(REASONS[problem.code], **problem.params)


def import_error_text(exc: GridsafeError, t: Translator) -> str:
    """A data-desk error in ``t``'s language (its English text when it has no code here)."""
    if exc.code not in IMPORT_ERRORS:
        return str(exc)
    return t._(IMPORT_ERRORS[exc.code], **exc.params)
