"""The binary COPY payload reads back as written: NULLs, empty text, Chinese, quotes and line
breaks in text, jsonb, integers from object arrays, and floats bit for bit."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from sqlalchemy import Engine

from geo._pgcopy import binary_copy


def test_round_trip(db: Engine) -> None:
    floats = np.array([0.1, np.nan, -1e300, 445566.123456789, 5e-324])
    columns = [
        ("integer", np.array([1, 2, 3, 70000, -5])),
        ("text", np.array(["中文地址", None, "", 'x,y\n"q"\t\\N', "h"], dtype=object)),
        ("double precision", floats),
        ("jsonb", np.array(['{"k": "值"}', None, "[]", None, "1"], dtype=object)),
        ("smallint", np.array([None, 3, 5.0, -2, 32767], dtype=object)),
        ("text", np.where(np.array([True, False, True, False, True]), "address", "coordinates")),
        ("jsonb", np.array(['{"a": 1}', None, "[]", None, "2"], dtype=object)),  # ASCII
        ("text", np.array([1, None, 2.5, "x", None], dtype=object)),  # not all str
    ]
    with db.begin() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with raw.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE t (a integer, b text, c float8, d jsonb, e smallint, f text, "
                "g jsonb, h text)"
            )
            with cur.copy("COPY t FROM STDIN (FORMAT binary)") as copy:
                copy.write(binary_copy(columns, encoding=raw.info.encoding))
            with cur.copy("COPY t FROM STDIN (FORMAT binary)") as copy:
                copy.write(binary_copy([(kind, values[:0]) for kind, values in columns]))
            rows = cur.execute("SELECT * FROM t ORDER BY a").fetchall()
    assert rows == [
        (-5, "h", 5e-324, 1, 32767, "address", 2, None),
        (1, "中文地址", 0.1, {"k": "值"}, None, "address", {"a": 1}, "1"),
        (2, None, None, None, 3, "coordinates", None, None),
        (3, "", -1e300, [], 5, "address", [], "2.5"),
        (70000, 'x,y\n"q"\t\\N', 445566.123456789, None, -2, "coordinates", None, "x"),
    ]


def test_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="not a smallint"):
        binary_copy([("smallint", np.array([1.5]))])
    with pytest.raises(ValueError, match="'geometry' column is not supported"):
        binary_copy([("geometry", np.array(["POINT(0 0)"], dtype=object))])
    with pytest.raises(ValueError, match="different lengths"):
        binary_copy([("integer", np.arange(2)), ("integer", np.arange(3))])
