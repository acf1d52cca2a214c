"""The import's strict time formats agree with the general parser on every cell they take.

``geo.records.checks.times`` parses a batch with one strict format (chosen from its first cell) and
sends only the cells it leaves through the general way (cleaning, offsets, ISO 8601). A cell
that is not ASCII sends the whole batch the general way, so the same cells with one appended
give the general answer to compare with.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from geo.intake import parse_times
from geo.records.checks import Checks, times

ZONE = ZoneInfo("Asia/Shanghai")
CELLS = [
    "2025-03-01 08:30",
    "2025-3-1 8:5",
    "2025-03-01  08:30",
    "2025-03-01\t08:30",
    "2025-03-01 08:30:00",
    "2025-03-01T08:30",
    "2025-03-01T08:30:00",
    "2025-03-01 08:30:00.125",
    "2025-03-01T08:30:00.5+08:00",
    "2025.03.01 08:30:15.25",
    "2025-03-01 08:30.5",
    "2025-03-01 08:30+08:00",
    "2025-03-01T08:30:00Z",
    "2025/3/1 8:30",
    "2025.03.01 08:30",
    "2025-03-01",
    "2025-02-30 08:30",
    "2025-03-01 24:00",
    "2025-03-01 08:60",
    "25-03-01 08:30",
    "1988-04-10 02:30",  # no such time: China's clocks went forward (DST 1986-1991)
    "1986-09-14 01:30",  # twice that night: ambiguous
    "2025-03-01 08:30 ",
    "08:30 2025-03-01",
    "soon",
    None,
]


@pytest.mark.parametrize(
    "first",
    [
        "2025-03-01 08:30",
        "2025-03-01T08:30:00",
        "2025-03-01 08:30:00",
        "2025-03-01 08:30:00.125",
        "2025/3/1 8:30",
    ],
)
def test_strict_format_agrees_with_the_general_way(first: str) -> None:
    cells = np.array([first, *CELLS], dtype=object)
    general = np.array([*cells, "２０２５年3月1日 08:30"], dtype=object)
    fast_checks, general_checks = Checks(len(cells)), Checks(len(general))
    fast = times(cells, "t", ZONE, fast_checks)
    slow = times(general, "t", ZONE, general_checks)[:-1]
    np.testing.assert_array_equal(fast, slow)  # NaN where both refuse
    assert list(fast_checks.reasons) == list(general_checks.reasons[:-1])
    assert np.isfinite(fast).sum() == 18


@pytest.mark.parametrize(
    "odd",
    ["0025-03-01 08:30", "-2025-03-01", "/2025", ".5", "9999-12-31 23:59"],
)
def test_a_cell_pandas_cannot_read_is_rejected_alone(odd: str) -> None:
    """Cells on which pandas raises for the whole batch (years outside 1678-2262, text that
    starts like an offset) reject only their own row."""
    values = np.array(["2025-03-01 08:30", odd, "2025-03-02 09:00"], dtype=object)
    checks = Checks(len(values))
    out = times(values, "occurred_at", ZoneInfo("Asia/Shanghai"), checks)
    assert list(np.isnan(out)) == [False, True, False]
    assert checks.reasons[0] is None
    assert checks.reasons[2] is None
    assert checks.reasons[1] == (
        f"occurred_at {odd!r} is not a date/time (use e.g. 2025-03-01 08:30)"
    )


@pytest.mark.parametrize("first", ["2025-03-01 08:30", "2025-03-01 08:30:00.250"])
def test_fractional_seconds_are_read_not_rejected(first: str) -> None:
    """Systems that write milliseconds (``08:30:00.250``) keep them, with every date form and
    among cells with whole seconds; the decimal point is not taken for date punctuation."""
    values = np.array(
        [
            first,
            "2025-03-01 08:30:00.250",
            "2025-03-01T08:30:00.25+08:00",
            "2025/3/1 8:30:00.25",
            "2025.03.01 08:30:00.25",
            "2025年3月1日 08:30:00.25",
            "2025-03-01 08:30:00",
        ],
        dtype=object,
    )
    checks = Checks(len(values))
    out = times(values, "occurred_at", ZONE, checks)
    assert list(checks.reasons) == [None] * len(values)
    base = 1740789000.0  # 2025-03-01 08:30 in Shanghai (UTC+8)
    np.testing.assert_allclose(out[1:], [base + 0.25] * 5 + [base], atol=1e-6)


def test_epoch_numbers_are_seconds_or_milliseconds_and_ambiguous_dates_are_refused() -> None:
    """Digits are seconds since the epoch (a GPS device's or a dispatch system's export),
    milliseconds above 1e11; a day-first or month-first date is refused, not guessed."""
    values = np.array(
        ["1740789000", "1740789000250", "1740789000.5", "03/01/2025 08:30", "01-03-2025"],
        dtype=object,
    )
    checks = Checks(len(values))
    out = times(values, "time", ZONE, checks)
    np.testing.assert_allclose(out[:3], [1740789000.0, 1740789000.25, 1740789000.5])
    assert list(np.isnan(out[3:])) == [True, True]
    assert (
        checks.reasons[3]
        == "time '03/01/2025 08:30' is not a date/time (use e.g. 2025-03-01 08:30)"
    )


def test_tracks_and_incidents_read_the_same_times() -> None:
    """Patrol fixes and visits (geo/intake/points.py) read time cells the way incidents do."""
    cells = [*CELLS, "2025-03-01 08:30:00.250", "1740789000"]
    values = np.array(cells, dtype=object)
    incidents = times(values, "t", ZONE, Checks(len(values)))
    tracks = parse_times(pd.Series(cells, dtype=object), "Asia/Shanghai")
    seconds = (tracks - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    np.testing.assert_allclose(seconds.to_numpy(dtype=float, na_value=np.nan), incidents)
