"""Incident and hazard files (CSV, Excel, GeoJSON/GeoPackage/Shapefile) as batches of text cells.

This module only reads: it finds the columns a record can have under their English or Chinese
headers (:data:`geo.intake.fields.RECORD_FIELDS`), numbers every row the way a person sees it,
and yields the cells in bounded batches so a file of millions of rows never sits in memory whole.
What the cells mean (numbers, times, types, coordinates) is decided in :mod:`geo.records`.

Row numbers
    CSV: the line number in the file (the header is line 1), which is also the row number Excel
    shows for the same file. Excel: the sheet's row number. Vector files: the 1-based feature
    number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, cast

import numpy as np
import pyogrio
import shapely
from openpyxl import load_workbook
from pyproj import CRS

from geo.crs import SourceCRS
from geo.errors import InputError, Problem
from geo.intake.fields import ColumnMapping, HeaderMap, cell_text, check_columns, map_headers
from geo.intake.files import detect_encoding, gdal_path, read_info
from geo.intake.projection import resolve_source_crs


@dataclass
class RawBatch:
    """A batch of rows as text.

    Attributes
    ----------
    rows
        The rows' numbers in the file (see the module docstring).
    cells
        Canonical field → one cell per row: the trimmed text, or ``None`` when empty.
    extra
        Columns with no canonical meaning, kept as the records' ``props``.
    problems
        Rows that could not even be split into cells (empty lines, wrong number of fields).
    warnings
        Cells read as empty that were not (an Excel formula with no saved value).
    """

    rows: np.ndarray
    cells: dict[str, np.ndarray]
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        """Number of rows with cells (problems not counted)."""
        return len(self.rows)


FIRST_BATCH_ROWS = 10_000
"""A file's first batch at the most: the database starts on it while the next is read, instead
of waiting for a whole batch (geo.records.staging runs the two side by side)."""


class _Collector:
    """Accumulates rows into :class:`RawBatch` objects of at most ``size`` rows, the first of
    them :data:`FIRST_BATCH_ROWS` at the most."""

    def __init__(self, found: HeaderMap, size: int, *, text: bool = False) -> None:
        self.text = text
        self.known = found.known
        self.extra = found.extra
        self.joined = found.joined
        self.size = size
        self.limit = min(size, FIRST_BATCH_ROWS)
        self.rows: list[int] = []
        self.values: list[Sequence[object]] = []
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, row: int, values: Sequence[object]) -> None:
        self.rows.append(row)
        self.values.append(values)

    @property
    def full(self) -> bool:
        return len(self.rows) + len(self.problems) >= self.limit

    def flush(self) -> RawBatch:
        n = len(self.values)
        # CSV rows are text of the header's width: the columns are a transposition (in C) and a
        # cell is its stripped text or None, without _cell's type checks.
        transposed = list(zip(*self.values, strict=True)) if self.text and n else []

        def column(index: int) -> np.ndarray:
            out = np.empty(n, dtype=object)
            if transposed:
                # Stripped in C (str.strip mapped), then the empty cells made None.
                out[:] = list(map(str.strip, cast(tuple[str, ...], transposed[index])))
                out[out == ""] = None
            elif not self.text:
                out[:] = [cell_text(v[index]) if index < len(v) else None for v in self.values]
            return out

        def joined(indexes: tuple[int, ...]) -> np.ndarray:
            # A date column and a time-of-day column read as one time ("2026-03-05 9时0分").
            parts = [column(index) for index in indexes]
            out = np.empty(n, dtype=object)
            out[:] = [
                " ".join(p for p in cells if p is not None) or None
                for cells in zip(*parts, strict=True)
            ]
            return out

        cells = {name: column(index) for name, index in self.known.items()}
        cells |= {name: joined(indexes) for name, indexes in self.joined.items()}
        batch = RawBatch(
            rows=np.asarray(self.rows, dtype=np.int64),
            cells=cells,
            extra={name: column(index) for name, index in self.extra.items()},
            problems=self.problems,
            warnings=self.warnings,
        )
        self.rows, self.values, self.problems, self.warnings = [], [], [], []
        self.limit = self.size
        return batch


def csv_rows(path: Path, reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The rows of ``reader``; a field over the csv module's limit is an error naming its row."""
    try:
        yield from reader
    except csv.Error as exc:
        row = getattr(reader, "line_num", 0)
        msg = (
            f"{path.name}: row {row} cannot be read as CSV ({exc}): a field longer than "
            f"{csv.field_size_limit()} characters, or a quote that is never closed"
        )
        raise InputError(msg) from exc


def _headers(
    path: Path, headers: list[object], required: Sequence[str], mapping: ColumnMapping | None
) -> HeaderMap:
    found = map_headers(headers, mapping)
    check_columns(path, headers, [*found.known, *found.joined], required)
    return found


def _iter_csv(
    path: Path, size: int, required: Sequence[str], mapping: ColumnMapping | None
) -> Iterator[RawBatch]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        headers: list[object] = list(next(csv_rows(path, reader), []))
        found = _headers(path, headers, required, mapping)
        width = len(headers)
        collect = _Collector(found, size, text=True)
        start = reader.line_num + 1
        for values in csv_rows(path, reader):
            row = start
            start = reader.line_num + 1
            if len(values) == width and "".join(values).strip():  # the common case, first
                collect.add(row, values)
            elif not "".join(values).strip():
                collect.problems.append(Problem(row, None, "empty line", "empty_row"))
            elif len(values) != width:
                reason = (
                    f"has {len(values)} fields but the header has {width}"
                    f" ({'missing' if len(values) < width else 'extra'} columns)"
                )
                params = {"count": str(len(values)), "width": str(width)}
                collect.problems.append(Problem(row, None, reason, "field_count", params))
            if collect.full:
                yield collect.flush()
        yield collect.flush()


def _iter_xlsx(
    path: Path, size: int, required: Sequence[str], mapping: ColumnMapping | None
) -> Iterator[RawBatch]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        # The same sheet as written: a formula whose value was never saved (files written by
        # programs rather than by Excel) reads as empty above, and is named here.
        written = load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from exc
    try:
        rows = zip(
            book.worksheets[0].iter_rows(values_only=True),
            written.worksheets[0].iter_rows(values_only=True),
            strict=True,
        )
        header_row = 0
        headers: list[object] = []
        for header_row, (values, _) in enumerate(rows, start=1):  # noqa: B007 - used after
            if any(cell_text(v) for v in values):
                headers = list(values)
                break
        found = _headers(path, headers, required, mapping)
        collect = _Collector(found, size)
        for row, (values, formulas) in enumerate(rows, start=header_row + 1):
            if not any(cell_text(v) for v in values):
                collect.problems.append(Problem(row, None, "empty row", "empty_row"))
            else:
                collect.add(row, list(values))
                collect.warnings += _unsaved_formulas(row, headers, values, formulas)
            if collect.full:
                yield collect.flush()
        yield collect.flush()
    finally:
        book.close()
        written.close()


def _unsaved_formulas(
    row: int, headers: list[object], values: Sequence[object], formulas: Sequence[object]
) -> list[Problem]:
    return [
        Problem(
            row,
            None,
            f"column {cell_text(headers[i]) if i < len(headers) else i + 1!r} holds a formula "
            f"with no saved value ({formula}): stored empty; open and save the file in Excel "
            "to keep its values, or type the text",
        )
        for i, (value, formula) in enumerate(zip(values, formulas, strict=False))
        if value is None and isinstance(formula, str) and formula.startswith("=")
    ]


def _iter_vector(
    path: Path, size: int, required: Sequence[str], mapping: ColumnMapping | None
) -> Iterator[RawBatch]:
    info = read_info(path)
    total = int(info["features"])
    width = len(info["fields"])
    found = map_headers(list(info["fields"]), mapping)
    # The point's coordinates are appended to each row's attributes as x and y.
    found.known.update({"x": width, "y": width + 1})
    found.known.pop("lon", None)
    found.known.pop("lat", None)
    check_columns(path, list(info["fields"]), [*found.known, *found.joined], required)
    for skip in range(0, total, size):
        frame = pyogrio.read_dataframe(gdal_path(path), skip_features=skip, max_features=size)
        collect = _Collector(found, size)
        geoms = frame.geometry.to_numpy()
        points = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
        x = np.where(points, shapely.get_x(geoms), np.nan)
        y = np.where(points, shapely.get_y(geoms), np.nan)
        records = frame.drop(columns=frame.geometry.name).to_numpy(dtype=object)
        for offset, (values, geom, px, py) in enumerate(zip(records, geoms, x, y, strict=True)):
            row = skip + offset + 1
            if geom is not None and not shapely.is_empty(geom) and not np.isfinite([px, py]).all():
                kind = geom.geom_type
                reason = (
                    "point has NaN or infinite coordinates"
                    if kind == "Point"
                    else f"geometry is a {kind}, not a Point"
                )
                collect.problems.append(Problem(row, None, reason))
                continue
            collect.add(row, [*values, px, py])
        yield collect.flush()


@dataclass(frozen=True)
class Rows:
    """The reader of incident and hazard files: :class:`RawBatch` batches of text cells.

    Vector files give their point coordinates as the ``x``/``y`` fields (in the file's CRS). A
    file that declares no CRS is WGS84 unless ``--crs`` says otherwise.

    Attributes
    ----------
    batch_rows
        Rows in a batch at the most.
    required
        Canonical fields every row needs; a file with no column for one of them, or for a
        location (:data:`geo.intake.fields.LOCATION_FIELDS`), is refused as a whole (raised when
        the first batch is read).
    mapping
        An explicit column mapping (:data:`geo.intake.fields.ColumnMapping`); the fields it
        does not name are found by their header aliases.
    """

    families: ClassVar[tuple[str, ...]] = ("csv", "excel", "vector")
    batch_rows: int
    required: Sequence[str] = ()
    mapping: ColumnMapping | None = None

    def open(
        self, path: Path, family: str, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[RawBatch]]:
        """The source CRS, its warnings, and the batches (read lazily)."""
        declared = read_info(path).get("crs") if family == "vector" else None
        file_crs = CRS.from_user_input(declared) if declared else None
        source, warnings = resolve_source_crs(file_crs, crs, assume_wgs84=True)
        read = {"csv": _iter_csv, "excel": _iter_xlsx, "vector": _iter_vector}[family]
        return source, warnings, read(path, self.batch_rows, self.required, self.mapping)
