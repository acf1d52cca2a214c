"""The times of imported rows: one set of accepted forms for every importer.

Incidents, hazards and cases (geo/records/, geo/cases.py), patrol fixes and grid-head visits
(geo/intake/points.py) all read their time cells here, so a time a file may hold means the
same wherever it is imported. Accepted text:

- ISO 8601: ``2025-03-01 08:30``, ``2025-03-01T08:30:00``, fractional seconds
  (``08:30:00.250``), a UTC offset (``Z``, ``+08:00``, ``+0800``);
- the same with ``/``, ``.`` or 年/月/日 between the date parts (``2025/3/1 8:30``,
  ``2025.03.01 08:30``, ``2025年3月1日 08:30``), as Excel and Chinese systems write them, and
  the time of day in Chinese too (``2026年3月5日 9时0分``, ``9时30分15秒``; a ledger writing the
  date and the time in two columns is read by joining them, see :mod:`geo.imports.guess`);
- seconds since the Unix epoch written as 9 to 13 digits (milliseconds above 1e11), as GPS
  devices and some dispatch systems export them.

A time with an offset is taken as written; one without is local time in the deployment's zone
(``settings.timezone``), and a local time that does not exist or happens twice there (China's
summer time, 1986-1991) is refused rather than guessed. So are day-first or month-first dates
(``03/01/2025``): a wrong guess would move a record by months without a word. A refused or empty
cell reads as NaN; the importer reports its row.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

# Seconds since 1970 stay below this until the year 5138; a larger epoch number is milliseconds.
EPOCH_MS_ABOVE = 1e11
_EPOCH_RE = re.compile(r"\d{9,13}(?:\.\d+)?")
_OFFSET_RE = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)
# What _DATE_PUNCT and the whitespace clean-up would change: date punctuation, whitespace other
# than single spaces, leading or trailing whitespace.
_MESSY_TIME_RE = re.compile(r"[/.年月日时分秒]|\s{2,}|[^\S ]|^\s|\s$")
# A time of day written in Chinese: 9时0分, 9时30分15秒, 14时.
_CHINESE_CLOCK_RE = re.compile(r"(\d{1,2})\s*时\s*(?:(\d{1,2})\s*分)?\s*(?:(\d{1,2})\s*秒)?")


def _clock(match: re.Match[str]) -> str:
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    return f" {hour:02d}:{minute:02d}:{second:02d}"


_DATE_PUNCT = str.maketrans({"/": "-", ".": "-", "年": "-", "月": "-", "日": " "})
# The decimal point of fractional seconds ("08:30:00.5"), which is not date punctuation: kept
# apart (as NUL, which no time contains) while _DATE_PUNCT is applied, then put back.
_FRACTION_RE = re.compile(r"(:\d\d)\.(?=\d)")


def epoch_seconds(values: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Text cells (``None`` or NaN where empty) as seconds since the epoch; NaN where empty or
    not a time in one of the accepted forms (see the module docstring)."""
    out = np.full(len(values), np.nan)
    cells = pd.Series(values, dtype=object)[np.asarray(pd.notna(values))]
    # Most cells are written ``YYYY-MM-DD HH:MM[:SS]``: read those from their bytes at once.
    taken = _plain_times(cells, zone, out)
    rest = cells[~taken]
    if rest.empty:
        return out
    cells = rest
    fast = _fast_format(cells)
    if fast is not None:
        # Most files write one plain form throughout: one strict parse (in C) takes those, and
        # only the cells it leaves (other forms, offsets, epoch numbers, typos) go on below.
        try:
            stamps = pd.to_datetime(cells, format=fast, errors="coerce").dt.as_unit("ns")
        except _PARSE_FAILURES:
            stamps = None  # a year outside 1678-2262: the general way rejects only its cell
        if stamps is not None:
            parsed = stamps.notna()
            _localized_seconds(stamps[parsed], zone, out)
            rest = cells[~parsed]
    if rest.empty:
        return out
    rest = rest.astype(str).str.strip()
    epoch = rest.str.fullmatch(_EPOCH_RE)
    if epoch.any():
        numbers = rest[epoch].astype(np.float64)
        out[numbers.index.to_numpy()] = epoch_number_seconds(numbers.to_numpy())
        rest = rest[~epoch]
    if not rest.empty:
        _general_times(rest, zone, out)
    return out


def epoch_number_seconds(numbers: np.ndarray) -> np.ndarray:
    """Epoch numbers as seconds: those above :data:`EPOCH_MS_ABOVE` are milliseconds."""
    return np.where(numbers > EPOCH_MS_ABOVE, numbers / 1000.0, numbers)


# The plain forms _plain_times reads, by width: where the digits are and the punctuation.
_PLAIN_DIGITS = {16: [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]}
_PLAIN_DIGITS[19] = [*_PLAIN_DIGITS[16], 17, 18]
_PLAIN_PUNCT = {4: b"-", 7: b"-", 10: b" T", 13: b":", 16: b":"}
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# Years read here; a time outside them is left to the general way, which decides (pandas' range
# of nanosecond stamps is 1677-2262).
_PLAIN_YEARS = (1700, 2200)


def _plain_times(cells: pd.Series, zone: ZoneInfo, out: np.ndarray) -> np.ndarray:
    """Read the cells written exactly ``YYYY-MM-DD HH:MM`` or ``YYYY-MM-DD HH:MM:SS`` (``T`` or a
    space between date and time) into ``out`` at the series' index; return which were read.

    The cells of one width are joined and read as a matrix of bytes: digits and punctuation are
    checked and the fields computed column by column, with no parsing per cell. Only a valid
    time is taken (month 1-12, a day the month has, hour 0-23, minute and second 0-59); every
    other cell is left to the strict and the general ways, which decide on it, so this changes
    no answer, only how fast the common one comes.
    """
    taken = np.zeros(len(cells), dtype=bool)
    texts = cells.to_numpy()
    try:
        widths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    except TypeError:  # a cell that is not text (a posted number): the general way reads it
        return taken
    for width, at in _PLAIN_DIGITS.items():
        rows = np.flatnonzero(widths == width)
        joined = "".join(texts[rows]) if rows.size else ""
        if not joined or not joined.isascii():  # a wider character: its bytes would not line up
            continue
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(rows.size, width)
        ok = np.ones(rows.size, dtype=bool)
        for column, allowed in _PLAIN_PUNCT.items():
            if column < width:
                mark = raw[:, column]
                ok &= (mark == allowed[0]) | (mark == allowed[-1])
        digits = raw[:, at] - np.uint8(ord("0"))  # below "0" wraps round to above 9
        ok &= (digits <= 9).all(axis=1)
        d = digits.astype(np.int32)
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month, day, hour, minute = (d[:, i] * 10 + d[:, i + 1] for i in (4, 6, 8, 10))
        second = d[:, 12] * 10 + d[:, 13] if width == 19 else np.zeros_like(year)
        ok &= (year >= _PLAIN_YEARS[0]) & (year <= _PLAIN_YEARS[1]) & (month >= 1) & (month <= 12)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        last_day = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
        ok &= (day >= 1) & (day <= last_day) & (hour <= 23) & (minute <= 59) & (second <= 59)
        naive = (
            _days_from_civil(year[ok], month[ok], day[ok]).astype(np.int64) * 86400
            + hour[ok] * 3600
            + minute[ok] * 60
            + second[ok]
        )
        stamps = pd.Series(naive.astype("datetime64[s]"), index=cells.index[rows[ok]])
        _localized_seconds(stamps, zone, out)
        taken[rows[ok]] = True
    return taken


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (years after 0), vectorised.

    H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", ``days_from_civil``: the year is
    taken to start on 1 March, so the leap day is the year's last.
    """
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: np.ndarray = era * 146097 + doe - 719468
    return days


def _fast_format(cells: pd.Series) -> str | None:
    """The strict format of the first cell if it is a plain ``YYYY-MM-DD[ T]HH:MM[:SS[.fff]]``.

    ``None`` (use the general way for every cell) when a cell is not ASCII: the strict parse
    reads full-width digits and the general one does not, and the two must agree on every cell
    the strict one takes. On ASCII cells the strict formats accept a subset of what the general
    way does, with the same value (``tests/test_times.py``).
    """
    if cells.empty or not "".join(map(str, cells.to_numpy())).isascii():
        return None
    first = str(cells.iloc[0])
    separator = "T" if "T" in first else " "
    clock = "%H:%M:%S" if first.count(":") == 2 else "%H:%M"
    if clock == "%H:%M:%S" and _FRACTION_RE.search(first):
        clock += ".%f"
    return f"%Y-%m-%d{separator}{clock}"


def _general_times(cleaned: pd.Series, zone: ZoneInfo, out: np.ndarray) -> None:
    """Any accepted form (see the module docstring) into ``out`` at the series' index (NaN if
    none)."""
    # Only values with date punctuation or odd whitespace need cleaning.
    messy = cleaned.str.contains(_MESSY_TIME_RE)
    if messy.any():
        cleaned[messy] = (
            cleaned[messy]
            .str.replace(_CHINESE_CLOCK_RE, _clock, regex=True)
            .str.replace(_FRACTION_RE, "\\1\0", regex=True)
            .str.translate(_DATE_PUNCT)
            .str.replace("\0", ".", regex=False)
            .str.replace(r"\s+", " ", regex=True)
            .str.strip()
        )
    aware = cleaned.str.contains(_OFFSET_RE)
    for mask, utc in ((~aware, False), (aware, True)):
        part = cleaned[mask]
        if part.empty:
            continue
        stamps = _iso_stamps(part, utc=utc)
        if utc:
            out[part.index.to_numpy()] = _epoch_seconds(stamps)
        else:
            _localized_seconds(stamps, zone, out)


# What pandas raises, despite errors="coerce", on some cells: fractional seconds mixed with
# whole ones, years before 1678, text that starts like an offset ("-2025-03-01").
_PARSE_FAILURES = (TypeError, ValueError, OverflowError, pd.errors.OutOfBoundsDatetime)


def _iso_stamps(part: pd.Series, *, utc: bool) -> pd.Series:
    """``pd.to_datetime`` in ISO 8601, NaT for what it cannot read. When one odd cell makes
    pandas raise for the whole batch, the cells are parsed one by one, so that only that cell
    is rejected (with its row) and the others keep their times."""
    try:
        stamps = pd.to_datetime(part, format="ISO8601", errors="coerce", utc=utc)
        if utc or stamps.dt.tz is None:  # an offset read into text that seemed to have none
            return stamps.dt.as_unit("ns")  # raises for a year outside 1678-2262
    except _PARSE_FAILURES:
        pass
    values = []
    for cell in part:
        try:
            stamp = pd.to_datetime(cell, format="ISO8601", utc=utc)
            stamp = stamp if stamp is pd.NaT else stamp.as_unit("ns")
        except _PARSE_FAILURES:
            stamp = pd.NaT
        if not utc and stamp is not pd.NaT and stamp.tzinfo is not None:
            stamp = pd.NaT  # an offset read into what the check above found had none
        values.append(stamp)
    dtype = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
    return pd.Series(values, index=part.index, dtype=dtype)


def _localized_seconds(stamps: pd.Series, zone: ZoneInfo, out: np.ndarray) -> None:
    """Naive local times into ``out`` (at the series' index) as epoch seconds; NaN for times
    that do not exist or are ambiguous in ``zone`` (a DST change)."""
    # By name: pandas then localises from the zone's table of transitions at once, where a
    # ZoneInfo object is asked for each stamp's offset (ten times slower).
    local = stamps.dt.tz_localize(zone.key or zone, ambiguous="NaT", nonexistent="NaT")
    out[stamps.index.to_numpy()] = _epoch_seconds(local)


def _epoch_seconds(stamps: pd.Series) -> np.ndarray:
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.to_numpy(dtype=np.float64, na_value=np.nan)
