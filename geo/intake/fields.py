"""Columns and cells: the one header-alias table, how a header is matched, how a cell reads.

Every importer finds its columns in :data:`ALIASES`, by the roles it reads: records the
:data:`RECORD_FIELDS`, boundaries ``code``, ``area_name``, ``parent``, ``population``, tracks
and check-ins ``unit``, ``kind``, ``time``, ``person``, ``area`` and the coordinates. A role two
importers share (``lon``, ``lat``, ``x``, ``y``) is written once, so a header one accepts the other
accepts too.

Headers are compared after NFKC normalisation, trimmed and case-folded (``ＬＯＮ`` is ``lon``),
and a name cut short by a Shapefile counts as the whole name (:func:`dbf_truncations`).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError

# A Shapefile's attribute table is dBase, whose header holds a field name in 10 bytes: GDAL and
# ArcGIS keep the first 10 bytes of a longer name (occurred_at -> occurred_a).
DBF_NAME_BYTES = 10

ALIASES: dict[str, tuple[str, ...]] = {
    # Where a point is: coordinates in the file's CRS (every point importer).
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "x": ("x", "x坐标", "横坐标", "easting"),
    "y": ("y", "y坐标", "纵坐标", "northing"),
    # Incidents and hazards.
    "address": (
        "address",
        "addr",
        "地址",
        "详细地址",
        "发生地址",
        "事发地址",
        "地点",
        "发生地点",
        "事发地点",
        "所在地址",
    ),
    "type": ("type", "type_code", "类型", "事件类型", "案件类型", "警情类型", "事件分类"),
    "occurred_at": ("occurred_at", "time", "datetime", "发生时间", "事发时间", "时间"),
    "reported_at": ("reported_at", "上报时间", "接报时间", "报警时间", "登记时间"),
    "source": ("source", "platform", "来源", "来源平台", "数据来源"),
    "source_id": ("source_id", "id", "编号", "案件编号", "事件编号", "隐患编号", "警情编号"),
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
    # Boundaries: an area's own code and name, its parent's code, its population.
    "code": ("code", "grid_code", "area_code", "编码", "网格编码", "代码"),
    "area_name": ("name", "grid_name", "area_name", "名称", "网格名称"),
    "parent": ("parent_code", "parent", "上级编码", "父级编码", "上级网格编码"),
    "population": ("population", "pop", "人口", "常住人口"),
    # Patrol fixes and check-ins: who, how, when, and the micro-grid a check-in names.
    "unit": (
        "unit",
        "unit_id",
        "patrol_unit",
        "device",
        "单元",
        "巡逻单元",
        "巡组",
        "设备",
        "设备号",
    ),
    "kind": ("kind", "unit_kind", "mode", "type", "类型", "方式", "巡逻方式"),
    "time": ("time", "timestamp", "datetime", "t", "时间", "定位时间", "签到时间", "打卡时间"),
    "person": ("person", "grid_head", "name", "网格长", "姓名", "人员", "签到人"),
    "area": ("micro_code", "area_code", "grid_code", "微网格", "微网格编码", "网格编码"),
    # A date written in its own column beside a time of day (9时0分): the column guessing
    # joins the two (geo.imports.guess); no importer reads it alone.
    "date": ("date", "日期", "发生日期", "上报日期", "事发日期", "发现日期", "排查日期"),
}
"""Role → the headers it is read from, in order of preference (compared after NFKC, case-folded,
trimmed; a Shapefile's 10-byte cut of one counts too, ``occurred_a``: :func:`header_lookup`).
Roles are read per importer, so one header may name a role of each (``type`` is an incident's
type and a patrol unit's kind); within one importer's roles a header means one thing."""

RECORD_FIELDS = (
    "lon", "lat", "x", "y", "address", "type", "occurred_at", "reported_at", "source",
    "source_id", "description", "category", "name", "method", "l", "e", "c", "s", "status",
    "identified_at", "closed_at",
)  # fmt: skip
"""The roles of an incident or hazard record (:func:`match_headers`)."""

LOCATION_FIELDS = ("lon", "lat", "x", "y", "address")
"""A record file needs one of these columns: coordinates or an address to geocode."""


def plain_value(value: object) -> object:
    """A cell read from a file as a plain JSON value: None for a missing or non-finite number,
    numpy scalars as Python ones, anything else that is not a JSON scalar as its text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, np.generic):
        return plain_value(value.item())
    return str(value)


def cell_text(value: object) -> str | None:
    """A cell read from a file as text, the one way every importer reads codes, names, ids and
    times: ``None`` for an empty cell (None, blank, NaN, inf, pandas' NA and NaT); an integral
    number without its ``.0`` (Excel stores ``12`` as ``12.0``), another number as its shortest
    repr; a date as ISO 8601; anything else as its text, stripped."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def norm_header(header: object) -> str:
    """A header as importers compare it: NFKC-normalised, without a byte-order mark, trimmed
    and case-folded."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    return text.strip().casefold()


def dbf_truncations(name: str) -> set[str]:
    """The shorter forms a Shapefile gives the field ``name`` (empty when it fits whole).

    Its first :data:`DBF_NAME_BYTES` bytes in UTF-8 (GDAL's default) and in GBK (ArcGIS on
    Chinese Windows, read back through the ``.cpg``), a character cut in two dropped:
    ``identified_at`` is ``identified``, ``整改完成时间`` is ``整改完`` or ``整改完成时``.
    """
    out = set()
    for encoding in ("utf-8", "gb18030"):
        data = name.encode(encoding)
        if len(data) > DBF_NAME_BYTES:
            out.add(data[:DBF_NAME_BYTES].decode(encoding, errors="ignore"))
    return out


def header_lookup(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised header → role, for every alias and its Shapefile forms.

    A whole alias wins over a cut one; a cut form that two roles share means neither.
    """
    lookup = {norm_header(a): role for role, names in aliases.items() for a in names}
    cut: dict[str, set[str]] = {}
    for role, names in aliases.items():
        for alias in names:
            for short in dbf_truncations(alias):
                cut.setdefault(norm_header(short), set()).add(role)
    for short, roles in cut.items():
        if len(roles) == 1 and short not in lookup:
            lookup[short] = roles.pop()
    return lookup


def find_column(columns: Iterable[object], aliases: Sequence[str]) -> str | None:
    """The column named by the first of ``aliases`` present (or by its Shapefile form)."""
    by_header = {norm_header(c): str(c) for c in columns}
    for alias in aliases:
        for name in (alias, *sorted(dbf_truncations(alias))):
            found = by_header.get(norm_header(name))
            if found is not None:
                return found
    return None


_RECORD_LOOKUP = header_lookup({role: ALIASES[role] for role in RECORD_FIELDS})


ColumnMapping = Mapping[str, "str | Sequence[str] | None"]
"""An explicit column mapping: field → the file's column, several columns joined by a space
(a date column and a time-of-day column), or ``None`` (the file has no column for it, whatever
its headers suggest). A field it does not name is found by its header aliases."""


@dataclass(frozen=True)
class HeaderMap:
    """Where a record file's fields are.

    Attributes
    ----------
    known
        Canonical field → column index.
    extra
        Other header → column index (kept as the records' ``props``).
    joined
        Field → the column indexes whose cells are joined by a space to give it.
    """

    known: dict[str, int]
    extra: dict[str, int]
    joined: dict[str, tuple[int, ...]] = field(default_factory=dict)


def mapped_columns(headers: Sequence[object], mapping: ColumnMapping) -> dict[str, tuple[int, ...]]:
    """Field → the indexes of the columns ``mapping`` gives it (empty: mapped to none).

    Raises
    ------
    InputError
        A column the mapping names is not one of the file's headers, naming the file's headers.
    """
    by_header = {norm_header(h): i for i, h in enumerate(headers) if norm_header(h)}
    out: dict[str, tuple[int, ...]] = {}
    for name, columns in mapping.items():
        wanted = [] if columns is None else [columns] if isinstance(columns, str) else columns
        indexes = []
        for column in wanted:
            if not str(column).strip():
                continue
            index = by_header.get(norm_header(column))
            if index is None:
                fields = ", ".join(str(h) for h in headers if norm_header(h)) or "none"
                msg = (
                    f"the mapping gives {name!r} the column {column!r}, which the file lacks; "
                    f"its fields: {fields}"
                )
                raise InputError(
                    msg,
                    code="mapping_column_missing",
                    params={"field": name, "column": str(column)},
                )
            indexes.append(index)
        out[name] = tuple(indexes)
    return out


def map_headers(headers: list[object], mapping: ColumnMapping | None = None) -> HeaderMap:
    """Map a record file's headers to the :data:`RECORD_FIELDS`, an explicit ``mapping`` first.

    A column the mapping gives a field means that field only; the other headers are matched
    by their aliases, except to a field the mapping already gave (they are then kept as extra
    columns).

    Raises
    ------
    InputError
        If two headers mean the same field (``经度`` and ``lon``) or a header is repeated, or the
        mapping names a column the file lacks.
    """
    explicit = mapped_columns(headers, mapping or {})
    taken = {i for indexes in explicit.values() for i in indexes}
    known = {name: ix[0] for name, ix in explicit.items() if len(ix) == 1}
    joined = {name: ix for name, ix in explicit.items() if len(ix) > 1}
    extra: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = norm_header(header)
        if not name or index in taken:
            continue
        canonical = _RECORD_LOOKUP.get(name)
        if canonical in explicit:
            canonical = None
        target, key = (known, canonical) if canonical else (extra, name)
        if key in target:
            first = headers[target[key]]
            msg = f"columns {first!r} and {header!r} both give {key!r}; keep one"
            raise InputError(msg)
        target[key] = index
    return HeaderMap(known=known, extra=extra, joined=joined)


def match_headers(headers: list[object]) -> tuple[dict[str, int], dict[str, int]]:
    """Map a record file's headers to the :data:`RECORD_FIELDS` by their aliases.

    Returns
    -------
    known, extra
        ``canonical field → column index`` and ``other header → column index``.

    Raises
    ------
    InputError
        If two headers mean the same field (``经度`` and ``lon``) or a header is repeated.
    """
    found = map_headers(headers)
    return found.known, found.extra


def check_columns(
    path: Path, headers: Sequence[object], known: Iterable[str], required: Sequence[str]
) -> None:
    """Refuse a file that lacks a column every row needs, once for the file (not once a row).

    Raises
    ------
    InputError
        Naming each missing field, the headers it is read from, and the file's own fields.
    """
    known = set(known)
    missing = [
        f"{name} (a column named {' or '.join(ALIASES[name][:4])})"
        for name in required
        if name not in known
    ]
    if not known & set(LOCATION_FIELDS):
        missing.append("a location (lon and lat, x and y, or address; 经度 纬度 or 地址)")
    if missing:
        fields = ", ".join(str(h) for h in headers if norm_header(h)) or "none"
        msg = f"{path.name}: no column for {'; '.join(missing)}. The file's fields: {fields}"
        raise InputError(msg)
