"""Reading record files (CSV, Excel, GeoJSON/GeoPackage/Shapefile) into batches of text cells.

This module only reads: it finds the columns a record can have under their English or Chinese
headers, detects the text encoding, numbers every row the way a person sees it, and yields the
cells in bounded batches so a file of millions of rows never sits in memory whole. What the cells
mean (numbers, times, types, coordinates) is decided in :mod:`geo.records`.

Row numbers
    CSV: the line number in the file (the header is line 1), which is also the row number Excel
    shows for the same file. Excel: the sheet's row number. Vector files: the 1-based feature
    number.

Encodings (CSV)
    UTF-8 with or without a byte-order mark, or GBK as Excel writes CSV on Chinese Windows (read as
    GB 18030, its superset). The whole file is checked as UTF-8 in blocks before reading (a
    streaming decode, fast and of constant memory); any invalid UTF-8 means GB 18030.
"""

from __future__ import annotations

import codecs
import csv
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pyogrio
import shapely
from openpyxl import load_workbook
from pyproj import CRS

from geo.errors import InputError, Problem
from geo.intake.vector import cell_text, header_lookup, norm_header, unreadable_layer

__all__ = [
    "FIELD_ALIASES",
    "LOCATION_FIELDS",
    "RawBatch",
    "check_columns",
    "detect_encoding",
    "iter_batches",
    "match_headers",
    "prefetch",
    "vector_crs",
]

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "x": ("x", "x坐标", "横坐标"),
    "y": ("y", "y坐标", "纵坐标"),
    "address": ("address", "addr", "地址", "详细地址", "发生地址", "事发地址", "地点"),
    "type": ("type", "type_code", "类型", "事件类型", "案件类型", "警情类型"),
    "occurred_at": ("occurred_at", "time", "datetime", "发生时间", "事发时间", "时间"),
    "reported_at": ("reported_at", "上报时间", "接报时间", "报警时间"),
    "source": ("source", "platform", "来源", "来源平台", "数据来源"),
    "source_id": ("source_id", "id", "编号", "案件编号", "事件编号", "隐患编号"),
    "description": ("description", "desc", "描述", "内容", "事件描述", "隐患描述"),
    "category": ("category", "类别", "隐患类别", "隐患类型"),
    "name": ("name", "名称", "隐患名称"),
    "method": ("method", "评价方法", "评估方法"),
    "l": ("l", "lec_l", "ls_l", "可能性"),
    "e": ("e", "lec_e", "暴露频率"),
    "c": ("c", "lec_c", "后果"),
    "s": ("s", "ls_s", "严重性", "严重程度"),
    "status": ("status", "状态"),
    "identified_at": ("identified_at", "发现时间", "排查时间"),
    "closed_at": ("closed_at", "关闭时间", "销号时间", "整改完成时间"),
}
"""Canonical field → the headers it is read from (compared after NFKC, case-folded, trimmed; a
Shapefile's 10-byte cut of one counts too, ``occurred_a``: :func:`geo.sources.header_lookup`)."""

LOCATION_FIELDS = ("lon", "lat", "x", "y", "address")
"""A record file needs one of these columns: coordinates or an address to geocode."""

CSV_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx"}
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp"}

_HEADER_LOOKUP = header_lookup(FIELD_ALIASES)


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


def match_headers(headers: list[object]) -> tuple[dict[str, int], dict[str, int]]:
    """Map a file's headers to canonical fields.

    Returns
    -------
    known, extra
        ``canonical field → column index`` and ``other header → column index``.

    Raises
    ------
    InputError
        If two headers mean the same field (``经度`` and ``lon``) or a header is repeated.
    """
    known: dict[str, int] = {}
    extra: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = norm_header(header)
        if not name:
            continue
        canonical = _HEADER_LOOKUP.get(name)
        target, key = (known, canonical) if canonical else (extra, name)
        if key in target:
            first = headers[target[key]]
            msg = f"columns {first!r} and {header!r} both give {key!r}; keep one"
            raise InputError(msg)
        target[key] = index
    return known, extra


def check_columns(
    path: Path, headers: Sequence[object], known: dict[str, int], required: Sequence[str]
) -> None:
    """Refuse a file that lacks a column every row needs, once for the file (not once a row).

    Raises
    ------
    InputError
        Naming each missing field, the headers it is read from, and the file's own fields.
    """
    missing = [
        f"{name} (a column named {' or '.join(FIELD_ALIASES[name][:4])})"
        for name in required
        if name not in known
    ]
    if not known.keys() & set(LOCATION_FIELDS):
        missing.append("a location (lon and lat, x and y, or address; 经度 纬度 or 地址)")
    if missing:
        fields = ", ".join(str(h) for h in headers if norm_header(h)) or "none"
        msg = f"{path.name}: no column for {'; '.join(missing)}. The file's fields: {fields}"
        raise InputError(msg)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_line(path: Path, encoding: str) -> tuple[int, bytes]:
    # A newline byte is never part of a UTF-8 or GB18030 character, so lines split the bytes
    # where the text splits.
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                return number, exc.object[exc.start : exc.start + 4]
    return 0, b""


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8 (BOM or not), else ``gb18030`` (GBK).

    Raises
    ------
    InputError
        The file is neither, naming the line and bytes where UTF-8 fails; a file that begins with
        a UTF-8 byte-order mark is UTF-8 or nothing.
    """
    if _decodes(path, "utf-8"):
        return "utf-8-sig"
    with path.open("rb") as fh:
        marked = fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    if not marked and _decodes(path, "gb18030"):
        return "gb18030"
    line, bad = _first_bad_line(path, "utf-8-sig" if marked else "utf-8")
    kind = "UTF-8 (it begins with a UTF-8 byte-order mark)" if marked else "UTF-8 nor GBK"
    msg = (
        f"{path.name}: line {line} is not valid text: bytes {bad.hex(' ')} are not {kind}; "
        "save the file again as UTF-8"
    )
    raise InputError(msg)


class _Collector:
    """Accumulates rows into :class:`RawBatch` objects of at most ``size`` rows."""

    def __init__(
        self, known: dict[str, int], extra: dict[str, int], size: int, *, text: bool = False
    ) -> None:
        self.text = text
        self.known = known
        self.extra = extra
        self.size = size
        self.rows: list[int] = []
        self.values: list[Sequence[object]] = []
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, row: int, values: Sequence[object]) -> None:
        self.rows.append(row)
        self.values.append(values)

    @property
    def full(self) -> bool:
        return len(self.rows) + len(self.problems) >= self.size

    def flush(self) -> RawBatch:
        n = len(self.values)
        # CSV rows are text of the header's width: the columns are a transposition (in C) and a
        # cell is its stripped text or None, without _cell's type checks.
        transposed = list(zip(*self.values, strict=True)) if self.text and n else []

        def column(index: int) -> np.ndarray:
            out = np.empty(n, dtype=object)
            if transposed:
                out[:] = [v.strip() or None for v in cast(tuple[str, ...], transposed[index])]
            elif not self.text:
                out[:] = [cell_text(v[index]) if index < len(v) else None for v in self.values]
            return out

        batch = RawBatch(
            rows=np.asarray(self.rows, dtype=np.int64),
            cells={name: column(index) for name, index in self.known.items()},
            extra={name: column(index) for name, index in self.extra.items()},
            problems=self.problems,
            warnings=self.warnings,
        )
        self.rows, self.values, self.problems, self.warnings = [], [], [], []
        return batch


def _csv_rows(path: Path, reader: Iterator[list[str]]) -> Iterator[list[str]]:
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


def _iter_csv(path: Path, size: int, required: Sequence[str]) -> Iterator[RawBatch]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        headers: list[object] = list(next(_csv_rows(path, reader), []))
        known, extra = match_headers(headers)
        check_columns(path, headers, known, required)
        width = len(headers)
        collect = _Collector(known, extra, size, text=True)
        start = reader.line_num + 1
        for values in _csv_rows(path, reader):
            row = start
            start = reader.line_num + 1
            if len(values) == width and "".join(values).strip():  # the common case, first
                collect.add(row, values)
            elif not "".join(values).strip():
                collect.problems.append(Problem(row, None, "empty line"))
            elif len(values) != width:
                reason = (
                    f"has {len(values)} fields but the header has {width}"
                    f" ({'missing' if len(values) < width else 'extra'} columns)"
                )
                collect.problems.append(Problem(row, None, reason))
            if collect.full:
                yield collect.flush()
        yield collect.flush()


def _iter_xlsx(path: Path, size: int, required: Sequence[str]) -> Iterator[RawBatch]:
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
        known, extra = match_headers(headers)
        check_columns(path, headers, known, required)
        collect = _Collector(known, extra, size)
        for row, (values, formulas) in enumerate(rows, start=header_row + 1):
            if not any(cell_text(v) for v in values):
                collect.problems.append(Problem(row, None, "empty row"))
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


def _read_info(path: Path) -> dict[str, Any]:
    try:
        return cast(dict[str, Any], pyogrio.read_info(path))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise unreadable_layer(path, exc) from exc
    except UnicodeDecodeError as exc:
        # A dBase header keeps 10 bytes of a field name: written in UTF-8, a Chinese name longer
        # than three characters is cut inside a character, and cannot be read back.
        msg = (
            f"{path.name}: a field name is not valid text ({exc.reason} at byte {exc.start}): "
            "a Shapefile keeps only 10 bytes of a name, which cut a UTF-8 Chinese name inside "
            "a character. Write the file with the GBK encoding or shorter field names, or as "
            "a GeoPackage"
        )
        raise InputError(msg) from exc


def _iter_vector(path: Path, size: int, required: Sequence[str]) -> Iterator[RawBatch]:
    info = _read_info(path)
    total = int(info["features"])
    width = len(info["fields"])
    known, extra = match_headers(list(info["fields"]))
    # The point's coordinates are appended to each row's attributes as x and y.
    known |= {"x": width, "y": width + 1}
    known.pop("lon", None)
    known.pop("lat", None)
    check_columns(path, list(info["fields"]), known, required)
    for skip in range(0, total, size):
        frame = pyogrio.read_dataframe(path, skip_features=skip, max_features=size)
        collect = _Collector(known, extra, size)
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


def vector_crs(path: Path) -> CRS | None:
    """The CRS a vector file declares, or ``None``; ``None`` for CSV and Excel files."""
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        return None
    crs = _read_info(path).get("crs")
    return CRS.from_user_input(crs) if crs else None


def iter_batches(
    path: Path, *, batch_rows: int, required: Sequence[str] = ()
) -> Iterator[RawBatch]:
    """Read a record file in batches of at most ``batch_rows`` rows.

    Vector files give their point coordinates as the ``x``/``y`` fields (in the file's CRS).

    Parameters
    ----------
    required
        Canonical fields every row needs; a file with no column for one of them, or for a
        location (:data:`LOCATION_FIELDS`), is refused as a whole (:func:`check_columns`).

    Raises
    ------
    InputError
        The file does not exist, has an unsupported format, cannot be read at all, or lacks a
        required column (raised when the first batch is read).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _iter_csv(path, batch_rows, required)
    if suffix in EXCEL_SUFFIXES:
        return _iter_xlsx(path, batch_rows, required)
    if suffix in VECTOR_SUFFIXES:
        return _iter_vector(path, batch_rows, required)
    known = ", ".join(sorted(CSV_SUFFIXES | EXCEL_SUFFIXES | VECTOR_SUFFIXES))
    msg = f"{path.name}: unsupported format {suffix!r} (use {known})"
    raise InputError(msg)


T = TypeVar("T")


def prefetch(items: Iterator[T], *, depth: int = 1) -> Iterator[T]:
    """Produce ``items`` in a background thread, at most ``depth`` ahead of the consumer.

    An import reads and splits batch k+1 while the database locates and writes batch k (the
    driver releases the GIL while it waits on the server), so the two cores overlap; memory
    stays bounded by ``depth + 2`` batches. An exception in the producer is raised in the
    consumer; a consumer that stops early (an error, a closed generator) stops the producer.
    """
    done = object()
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator reading a file closes it, in its own thread
        put(done)

    worker = threading.Thread(target=produce, name="gridsafe-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        stop.set()
        worker.join()
