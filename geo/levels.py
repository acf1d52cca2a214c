"""The levels of the grid hierarchy, top-down (part of the public interface: do not rename)."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """An area's level; the value is the word used in files, the API and the database."""

    SUBDISTRICT = "subdistrict"
    GRID2 = "grid2"
    GRID3 = "grid3"
    MICRO = "micro"

    @property
    def rank(self) -> int:
        """1 for the sub-district down to 4 for micro-grids."""
        return list(Level).index(self) + 1

    @property
    def parent(self) -> Level | None:
        """The level directly above, or None at the top."""
        return list(Level)[self.rank - 2] if self.rank > 1 else None

    @property
    def child(self) -> Level | None:
        """The level directly below, or None for micro-grids."""
        return list(Level)[self.rank] if self.rank < len(Level) else None


LEVEL_ORDER: list[str] = [level.value for level in Level]
"""The level words top-down, bound as ``:levels`` where a query orders areas by level
(``array_position(CAST(:levels AS text[]), level)``), so SQL never spells the vocabulary out.
A level's name for people comes from the message catalogue (``maps.i18n.LEVEL_NAMES``)."""


def parse_level(value: str | int) -> Level:
    """Parse a level word (``grid3``) or rank (``3``); raise ValueError naming the bad value."""
    text = str(value).strip().lower()
    for level in Level:
        if text in {level.value, str(level.rank)}:
            return level
    msg = f"unknown level {value!r}: use one of {', '.join(lv.value for lv in Level)} (or 1-4)"
    raise ValueError(msg)
