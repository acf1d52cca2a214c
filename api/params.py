"""Parameter types shared by every route: the one check of every date and instant.

A date outside the supported range (``geo.clock.EARLIEST`` to ``geo.clock.LATEST``, and why
those) is refused with a 400 naming the parameter and the range: ``api/errors.py`` turns the
``date_out_of_range`` error into it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final, TypeVar

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from geo.clock import EARLIEST, LATEST, outside_message, supported

__all__ = ["EARLIEST", "LATEST", "OUT_OF_RANGE", "Day", "DayOrMoment", "InstantText", "Moment"]

OUT_OF_RANGE: Final = "date_out_of_range"
"""The pydantic error type of a date outside the supported range."""

_D = TypeVar("_D", bound=date)


def _in_range(value: _D) -> _D:
    if not supported(value):
        raise PydanticCustomError(OUT_OF_RANGE, outside_message(value))
    return value


def _iso_in_range(value: str) -> str:
    # Only ISO forms are checked here: a route whose parser reads other forms too (records'
    # times) refuses what it cannot read itself, naming the value.
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    _in_range(moment)
    return value


Day = Annotated[date, AfterValidator(_in_range)]
"""A calendar day (``YYYY-MM-DD``) within the supported range."""
Moment = Annotated[datetime, AfterValidator(_in_range)]
"""An ISO 8601 date-time within the supported range."""


def _bare_day(value: object) -> object:
    # A bare day is a day (its end, for an as-of), not midnight: pydantic's lax datetime would
    # take "2025-06-30" as 00:00.
    if isinstance(value, str) and len(value.strip()) == len("YYYY-MM-DD"):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value
    return value


DayOrMoment = Annotated[datetime | date, BeforeValidator(_bare_day), AfterValidator(_in_range)]
"""A day or an ISO 8601 date-time within the supported range."""
InstantText = Annotated[str, AfterValidator(_iso_in_range)]
"""An ISO date or date-time kept as text (its route reads it in the district's zone)."""
