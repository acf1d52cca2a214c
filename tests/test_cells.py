"""Every importer reads a file's cells as text the same way (geo.intake.fields.cell_text)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.intake import cell_text


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (float("nan"), None),
        (float("inf"), None),
        (np.float64("-inf"), None),
        (pd.NA, None),
        (pd.NaT, None),
        (" 4101 ", "4101"),
        (12.0, "12"),  # Excel's integers are floats
        (np.float64(410105010001.0), "410105010001"),
        (np.int64(7), "7"),
        (113.65, "113.65"),
        (np.float64(0.1), "0.1"),  # not np.float64(0.1)
        (1e15, "1000000000000000.0"),  # beyond what a float keeps exactly: as written
        (dt.datetime(2025, 3, 1, 8, 30), "2025-03-01T08:30:00"),
        (dt.date(2025, 3, 1), "2025-03-01"),
        ("火灾", "火灾"),
    ],
)
def test_cell_text(cell: object, text: str | None) -> None:
    assert cell_text(cell) == text
