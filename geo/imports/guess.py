"""Which column holds which field, and why: the guess a data officer sees before importing.

For each field of a kind (:data:`geo.imports.kinds.KIND_FIELDS`) the column is, in order:

1. ``explicit``: the mapping the caller gives (an officer's choice on the page, ``--map`` on
   the command line);
2. ``remembered``: the mapping confirmed for the same region, kind and source before
   (:mod:`geo.imports.mappings`);
3. ``header``: a header known for the field (:data:`geo.intake.fields.ALIASES`, English and
   Chinese: 事件编号, 事件类型, 上报时间, 经度, 纬度, 发生地点, 隐患编号, 网格编码...);
4. ``content``: what the sample rows hold: numbers in the longitude (73..136) or latitude
   (3..54) range of China for ``lon``/``lat``; cells that read as times for a required time
   field that no header names (a ledger with only 上报时间 has its incidents happen then);
5. ``none``: no column.

A time field whose column holds only a time of day (``9时0分``, ``08:30``) is read together with
a date column beside it (日期, 发生日期...): its columns are the two, joined by a space.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyogrio
from openpyxl import load_workbook
from pyproj import CRS
from sqlalchemy import Engine

from geo import clock
from geo.crs import CHINA_BOX
from geo.errors import InputError, Problem
from geo.imports.kinds import KIND_FIELDS, FieldSpec, kind_key
from geo.imports.mappings import remembered_mapping
from geo.intake.fields import (
    ALIASES,
    ColumnMapping,
    cell_text,
    find_column,
    mapped_columns,
    norm_header,
)
from geo.intake.files import FORMATS, detect_encoding, format_of, gdal_path, read_info
from geo.intake.projection import resolve_source_crs
from geo.intake.rows import csv_rows
from geo.levels import Level
from geo.settings import Settings
from geo.times import epoch_seconds

Basis = Literal["explicit", "remembered", "header", "content", "none"]
"""Why a field has its column (see the module docstring)."""

SAMPLE_ROWS = 20
"""Rows a preview shows and the content guesses look at."""

# A column's cells match a pattern when at least this share of its non-empty samples do.
CONTENT_SHARE = 0.8


@dataclass(frozen=True)
class ColumnGuess:
    """The column(s) of one field and the basis of the guess.

    Attributes
    ----------
    field
        The field (``occurred_at``).
    columns
        The file's columns that give it: none, one, or a date and a time of day joined.
    basis
        Why (:data:`Basis`).
    required
        Whether the kind needs it.
    """

    field: str
    columns: tuple[str, ...]
    basis: Basis
    required: bool = False

    @property
    def column(self) -> str | list[str] | None:
        """The mapping's value for this field: one column, several, or None."""
        if not self.columns:
            return None
        return self.columns[0] if len(self.columns) == 1 else list(self.columns)


@dataclass
class Sample:
    """A file's header and first rows, as text.

    Attributes
    ----------
    file_format
        ``csv``, ``excel``, ``vector`` or ``gpx`` (:data:`geo.intake.files.FORMATS`).
    encoding
        A CSV file's text encoding (``utf-8-sig`` or ``gb18030``); None for other formats.
    headers
        The column names, as the file writes them.
    rows
        The first rows, one text cell (or None) per header.
    total_estimate
        About how many rows the file holds (None when it cannot tell cheaply).
    """

    file_format: str
    encoding: str | None
    headers: list[str]
    rows: list[list[str | None]]
    total_estimate: int | None = None


@dataclass
class Preview:
    """What a file would import as, before anything is written.

    Attributes
    ----------
    kind
        The kind as history and mappings name it (``incidents``, ``boundaries:micro``).
    source
        The platform or ledger the file comes from.
    crs
        The name of the CRS its coordinates are read in.
    guesses
        One per field of the kind, in the kind's order.
    warnings
        File-wide findings (a ``crs`` overriding the file's own).
    """

    kind: str
    source: str
    sample: Sample
    crs: str
    guesses: list[ColumnGuess]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str | list[str] | None]:
        """Field → column(s) for every field the guess found a column for."""
        return {g.field: g.column for g in self.guesses if g.columns}

    @property
    def missing(self) -> list[str]:
        """Required fields with no column: the import would refuse the file."""
        return [g.field for g in self.guesses if g.required and not g.columns]


def sample_file(path: Path, *, rows: int = SAMPLE_ROWS, layer: str | None = None) -> Sample:
    """The header and first ``rows`` rows of a file, without reading the rest.

    Raises
    ------
    InputError
        A format no importer reads, or a file that cannot be read.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    family = format_of(path, tuple(sorted(set(FORMATS.values()))))
    if family == "csv":
        encoding = detect_encoding(path)
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv_rows(path, csv.reader(fh))
            header = next(reader, [])
            body = [[c.strip() or None for c in r] for r in itertools.islice(reader, rows)]
        size = path.stat().st_size
        sampled = sum(len(",".join(c or "" for c in r).encode(encoding)) + 2 for r in body)
        estimate = round(size / (sampled / len(body))) - 1 if body and sampled else len(body)
        return Sample("csv", encoding, [h.strip() for h in header], body, max(estimate, 0))
    if family == "excel":
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from exc
        try:
            sheet = book.worksheets[0]
            values = sheet.iter_rows(values_only=True)
            header_cells: Sequence[object] = ()
            for cells in values:
                if any(cell_text(v) for v in cells):
                    header_cells = cells
                    break
            header = [cell_text(h) or "" for h in header_cells]
            body = [
                [cell_text(v) for v in cells][: len(header)]
                for cells in itertools.islice(values, rows)
            ]
            total = sheet.max_row - 1 if sheet.max_row else None
        finally:
            book.close()
        return Sample("excel", None, header, body, total)
    gpx_layer = "track_points" if family == "gpx" else layer
    info = read_info(path, gpx_layer)
    frame = pyogrio.read_dataframe(
        gdal_path(path), layer=gpx_layer, max_features=rows, read_geometry=False
    )
    header = [str(f) for f in info["fields"]]
    body = [[cell_text(v) for v in record] for record in frame[header].to_numpy(dtype=object)]
    total = int(info["features"])
    return Sample(family, None, header, body, total if total >= 0 else None)


def _column_values(sample: Sample, column: str) -> list[str]:
    index = sample.headers.index(column)
    cells = (r[index] for r in sample.rows if index < len(r))
    return [c for c in cells if c is not None]


def _share(values: Sequence[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def _in_range(values: list[str], low: float, high: float) -> bool:
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))
        except ValueError:
            numbers.append(float("nan"))
    array = np.asarray(numbers)
    return bool(values) and _share(list((array >= low) & (array <= high))) >= CONTENT_SHARE


def _times(values: list[str], timezone: str) -> float:
    if not values:
        return 0.0
    parsed = epoch_seconds(np.asarray(values, dtype=object), clock.zone(timezone))
    return _share(list(np.isfinite(parsed)))


def _content_column(spec: FieldSpec, sample: Sample, free: list[str], timezone: str) -> str | None:
    west, south, east, north = CHINA_BOX
    for column in free:
        values = _column_values(sample, column)
        if spec.pattern == "lon" and _in_range(values, west, east):
            return column
        if spec.pattern == "lat" and _in_range(values, south, north):
            return column
        if spec.pattern == "time" and _times(values, timezone) >= CONTENT_SHARE:
            return column
    return None


def _with_date(column: str, sample: Sample, timezone: str) -> tuple[str, ...]:
    """``column`` alone, or a date column and ``column`` when it holds only times of day."""
    values = _column_values(sample, column)
    if not values or _times(values, timezone) >= CONTENT_SHARE:
        return (column,)
    date = find_column(sample.headers, ALIASES["date"])
    if date is None or date == column:
        return (column,)
    dates = _column_values(sample, date)
    joined = [f"{d} {t}" for d, t in zip(dates, values, strict=False)]
    return (date, column) if _times(joined, timezone) >= CONTENT_SHARE else (column,)


def guess_columns(
    kind: str,
    sample: Sample,
    *,
    timezone: str,
    remembered: ColumnMapping | None = None,
    mapping: ColumnMapping | None = None,
) -> list[ColumnGuess]:
    """Each field of ``kind`` with its column(s) and the basis (see the module docstring).

    Parameters
    ----------
    kind
        One of :data:`geo.imports.kinds.KINDS` (``boundaries`` without its level).
    sample
        The file's header and sample rows (:func:`sample_file`).
    timezone
        The zone a time without an offset is in (for reading the samples as times).
    remembered, mapping
        The source's remembered mapping and the caller's explicit one (field → column(s) or
        None); a column either names that the file lacks is ignored for ``remembered`` and an
        error for ``mapping``.

    Raises
    ------
    InputError
        An explicit mapping names a column the file lacks, or a field the kind does not have.
    """
    specs = KIND_FIELDS[kind.split(":", maxsplit=1)[0]]
    names = {s.name for s in specs}
    unknown = sorted(set(mapping or {}) - names)
    if unknown:
        msg = f"{kind} have no field {unknown[0]!r} (fields: {', '.join(sorted(names))})"
        raise InputError(msg, code="mapping_field_unknown", params={"field": unknown[0]})
    guesses: dict[str, ColumnGuess] = {}
    for name, indexes in mapped_columns(sample.headers, mapping or {}).items():
        columns = tuple(sample.headers[i] for i in indexes)
        guesses[name] = ColumnGuess(name, columns, "explicit")
    for name, wanted in (remembered or {}).items():
        if name in names and name not in guesses:
            try:
                indexes = mapped_columns(sample.headers, {name: wanted})[name]
            except InputError:
                continue  # this file lacks a column the source's last one had: guess anew
            guesses[name] = ColumnGuess(
                name, tuple(sample.headers[i] for i in indexes), "remembered"
            )
    taken = {c for g in guesses.values() for c in g.columns}
    for spec in specs:
        if spec.name not in guesses:
            found = _header_columns(spec, sample, taken, timezone)
            if found:
                guesses[spec.name] = ColumnGuess(spec.name, found, "header")
                taken.update(found)
    for spec in specs:
        if spec.name not in guesses:
            column = _content_guess(spec, sample, taken, timezone)
            guesses[spec.name] = ColumnGuess(
                spec.name, (column,) if column else (), "content" if column else "none"
            )
            taken.update(guesses[spec.name].columns)
    return [
        ColumnGuess(s.name, guesses[s.name].columns, guesses[s.name].basis, s.required)
        for s in specs
    ]


def _header_columns(
    spec: FieldSpec, sample: Sample, taken: set[str], timezone: str
) -> tuple[str, ...]:
    """The column a header known for ``spec`` names (with its date for a time of day)."""
    aliases = (spec.name, *ALIASES[spec.role])
    column = find_column([h for h in sample.headers if h not in taken], aliases)
    if column is None:
        return ()
    return _with_date(column, sample, timezone) if spec.pattern == "time" else (column,)


def _content_guess(spec: FieldSpec, sample: Sample, taken: set[str], timezone: str) -> str | None:
    """A column whose samples look like ``spec``'s cells: coordinates in China's range, or
    times for a required time (a column another field has counts when no other will do: a
    ledger that writes one time, 上报时间, has its records happen then)."""
    if spec.pattern not in {"lon", "lat"} and not (spec.pattern == "time" and spec.required):
        return None
    free = [h for h in sample.headers if h not in taken and norm_header(h)]
    column = _content_column(spec, sample, free, timezone)
    if column is None and spec.pattern == "time":
        column = _content_column(spec, sample, [h for h in sample.headers if h in taken], timezone)
    return column


def _as_tuple(columns: str | Sequence[str] | None) -> tuple[str, ...]:
    if columns is None:
        return ()
    if isinstance(columns, str):
        return (columns,) if columns.strip() else ()
    return tuple(c for c in columns if c.strip())


def sample_crs(path: Path, sample: Sample, crs: str | int | None) -> tuple[str, list[Problem]]:
    """The name of the CRS the file's coordinates would be read in, and its warnings.

    Raises
    ------
    CRSError
        ``crs`` is not usable, or a vector file declares none and ``crs`` is not given.
    """
    file_crs = None
    if sample.file_format in {"vector", "gpx"}:
        declared = read_info(path, "track_points" if sample.file_format == "gpx" else None)
        file_crs = CRS.from_user_input(declared["crs"]) if declared.get("crs") else None
    source, warnings = resolve_source_crs(
        file_crs, crs, assume_wgs84=sample.file_format in {"csv", "excel", "gpx"}
    )
    return source.name, warnings


def preview_import(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    kind: str,
    source: str,
    level: Level | str | None = None,
    crs: str | int | None = None,
    mapping: ColumnMapping | None = None,
    rows: int = SAMPLE_ROWS,
) -> Preview:
    """What ``path`` would import as: its first rows, encoding, CRS and each field's column.

    Nothing is written. The source's remembered mapping (:mod:`geo.imports.mappings`) is
    used for the fields ``mapping`` does not give.

    Raises
    ------
    InputError
        An unknown kind, a file no importer reads, a mapping naming a column the file lacks.
    CRSError
        ``crs`` is not usable, or a vector file declares no CRS and ``crs`` is not given.
    """
    key = kind_key(kind, level)
    sample = sample_file(path, rows=rows)
    remembered = remembered_mapping(engine, settings.region, kind=key, source=source)
    guesses = guess_columns(
        key, sample, timezone=settings.timezone, remembered=remembered, mapping=mapping
    )
    crs_name, warnings = sample_crs(path, sample, crs)
    return Preview(
        kind=key, source=source, sample=sample, crs=crs_name, guesses=guesses, warnings=warnings
    )
