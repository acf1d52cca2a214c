"""PostgreSQL's binary COPY format, written column by column with numpy.

An import stages each batch with ``COPY ... FROM STDIN (FORMAT binary)``. Formatting the payload
row by row in Python (psycopg's ``write_row``, or a CSV writer that formats every float with
``repr``) costs more than the server's whole COPY; here each column is encoded in one pass and
scattered into the payload by computed offsets, so the Python work per batch is a handful of
numpy operations per column (text that is all ASCII is encoded in one call per column; other
text one ``str.encode`` per cell).

The format (PostgreSQL documentation, "COPY", section "Binary Format"): an 11-byte signature,
a 32-bit flags field and a 32-bit header-extension length; per row a 16-bit field count and, per
field, a 32-bit length (-1 for NULL) followed by the value in the type's binary ``send`` form,
network byte order; a 16-bit -1 ends the data. Floats travel as their IEEE 754 bits, so x and y
reach the database exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["COPY_TYPES", "binary_copy"]

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"

# Fixed-width types: the big-endian numpy dtype of their binary form.
_FIXED = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "double precision": ">f8"}
# Text-like types: the prefix of their binary form (jsonb_send writes a version byte, 1).
_TEXT = {"text": b"", "jsonb": b"\x01"}

COPY_TYPES = frozenset(_FIXED) | frozenset(_TEXT)
"""The column types (as ``format_type`` names them) :func:`binary_copy` can write."""


def _fixed(values: np.ndarray, pg_type: str) -> tuple[np.ndarray, np.ndarray]:
    """The big-endian bytes (n x width) of a numeric column and its NULL mask (NaN or None)."""
    dtype = np.dtype(_FIXED[pg_type])
    numbers = np.asarray(values, dtype=np.float64) if values.dtype == object else values
    null = np.asarray(pd.isna(numbers))
    if dtype.kind == "i":
        numbers = np.where(null, 0, numbers)
        as_int = numbers.astype(dtype)
        if not np.array_equal(as_int, numbers):
            bad = numbers[np.flatnonzero(as_int != numbers)[0]]
            msg = f"{bad!r} is not a {pg_type}"
            raise ValueError(msg)
        encoded = as_int
    else:
        encoded = numbers.astype(dtype)
    return encoded.view(np.uint8).reshape(len(values), dtype.itemsize), null


def binary_copy(columns: Sequence[tuple[str, np.ndarray]], *, encoding: str = "utf-8") -> bytes:
    """The whole binary COPY payload (signature to trailer) for columns of equal length.

    Parameters
    ----------
    columns
        ``(type, values)`` per column in COPY order; ``type`` is one of :data:`COPY_TYPES`.
        Numeric columns may be numeric arrays or object arrays of numbers and ``None``; NaN and
        ``None`` are NULL. Text columns are arrays of ``str`` (or anything ``str()`` spells)
        with ``None`` or NaN for NULL; an empty string stays an empty string.
    encoding
        The connection's client encoding (Python codec name) for text.

    Raises
    ------
    ValueError
        A type outside :data:`COPY_TYPES`, or a value that does not fit an integer column.
    """
    if not columns:
        msg = "binary COPY needs at least one column"
        raise ValueError(msg)
    n = len(columns[0][1])
    if any(len(values) != n for _, values in columns):
        msg = f"columns of different lengths: {[len(v) for _, v in columns]}"
        raise ValueError(msg)
    # Per column: the bytes of its non-NULL values laid end to end, their lengths, NULL mask.
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for pg_type, values in columns:
        if pg_type in _FIXED:
            cells, null = _fixed(np.asarray(values), pg_type)
            width = cells.shape[1]
            lengths = np.where(null, 0, width).astype(np.int64)
            parts.append((cells[~null].reshape(-1), lengths, null))
        elif pg_type in _TEXT:
            lengths = np.zeros(n, dtype=np.int64)
            null = np.asarray(pd.isna(values))
            raw, lengths[~null] = _text(values[~null].tolist(), _TEXT[pg_type], encoding)
            parts.append((np.frombuffer(raw, dtype=np.uint8), lengths, null))
        else:
            msg = f"binary COPY of a {pg_type!r} column is not supported (use {COPY_TYPES})"
            raise ValueError(msg)
    # Each field is its 4-byte length then its bytes; each row starts with a 2-byte count.
    row_bytes = 2 + sum((4 + lengths for _, lengths, _ in parts), np.zeros(n, dtype=np.int64))
    row_start = len(_SIGNATURE) + np.cumsum(row_bytes) - row_bytes
    total = len(_SIGNATURE) + int(np.sum(row_bytes)) + len(_TRAILER)
    out = np.zeros(total, dtype=np.uint8)
    out[: len(_SIGNATURE)] = np.frombuffer(_SIGNATURE, dtype=np.uint8)
    out[-len(_TRAILER) :] = np.frombuffer(_TRAILER, dtype=np.uint8)
    _scatter(out, row_start, np.full(n, len(columns), dtype=">i2").view(np.uint8).reshape(n, 2))
    at = row_start + 2
    for data, lengths, null in parts:
        header = np.where(null, -1, lengths).astype(">i4").view(np.uint8).reshape(n, 4)
        _scatter(out, at, header)
        at = at + 4
        # Byte k of the value of row r goes to at[r] + k: the values are laid end to end in
        # `data`, so each byte's destination is its row's start plus its offset in the value.
        starts = np.cumsum(lengths) - lengths
        dest = np.repeat(at - starts, lengths) + np.arange(len(data))
        out[dest] = data
        at = at + lengths
    return out.tobytes()


def _text(cells: list[object], prefix: bytes, encoding: str) -> tuple[bytes, np.ndarray]:
    """The cells' bytes (each after ``prefix``) laid end to end, and each cell's length."""
    strings = cast(list[str], cells)
    try:
        joined = "".join(strings)
    except TypeError:  # a cell that is not text (a number): spelled as str() spells it
        strings = [str(c) for c in cells]
        joined = "".join(strings)
    if joined.isascii():
        # One byte per character in every client encoding PostgreSQL has (all keep ASCII as
        # is): the lengths are the strings' and one encode makes the bytes, none per cell.
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        sep = prefix.decode("ascii")
        data = (sep + sep.join(strings) if strings else "").encode(encoding)
        return data, lengths + len(prefix)
    encoded = [prefix + text.encode(encoding) for text in strings]
    return b"".join(encoded), np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))


def _scatter(out: np.ndarray, at: np.ndarray, cells: np.ndarray) -> None:
    """Write row r of ``cells`` (n x width bytes) at ``out[at[r]:at[r] + width]``."""
    out[at[:, None] + np.arange(cells.shape[1])] = cells
