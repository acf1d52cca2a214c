"""Row checks: the first reason each row of a batch is rejected for, column by column.

A number that is not one, NaN/inf, lat/lon swapped or out of range, coordinates that do not fit
the CRS, an empty required field, an unknown incident type, a time that cannot be read, an LEC
or LS assessment off its scale, a hazard status that contradicts its closing time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo.assessment import Method, parse_method, validate_lec, validate_ls
from geo.crs import CHINA_BOX, SourceCRS, to_target, to_wgs84
from geo.records.context import ImportContext
from geo.times import epoch_seconds

_STATUS_WORDS = {
    "open": "open",
    "closed": "closed",
    "未整改": "open",
    "整改中": "open",
    "待整改": "open",
    "已整改": "closed",
    "已销号": "closed",
    "已关闭": "closed",
}


class Checks:
    """The first reason each row of a batch is rejected for (``None`` while it is good)."""

    def __init__(self, n: int) -> None:
        self.reasons = np.full(n, None, dtype=object)
        self.codes: list[str | None] = [None] * n
        # Row -> the reason's values, for the rejected rows that have some.
        self.params: dict[int, dict[str, str]] = {}
        self._rejected = np.zeros(n, dtype=bool)

    @property
    def good(self) -> np.ndarray:
        """Rows not rejected (a copy: a mask taken before a check stays as it was)."""
        return ~self._rejected

    def reject(
        self,
        mask: np.ndarray,
        reason: str | Callable[[int], str],
        *,
        code: str | None = None,
        params: Callable[[int], dict[str, object]] | None = None,
    ) -> None:
        """Reject rows where ``mask`` holds, with ``reason(i)`` or a fixed text, and the
        reason's ``code`` and ``params(i)`` (what a page or a rejected-rows file words in the
        reader's language)."""
        for i in np.flatnonzero(mask & self.good):
            self.reasons[i] = reason(int(i)) if callable(reason) else reason
            self.codes[i] = code
            self._rejected[i] = True
            if params is not None:
                self.params[int(i)] = {k: str(v) for k, v in params(int(i)).items()}

    def refuse(self, i: int, reason: str, code: str | None = None, **params: object) -> None:
        """Reject row ``i`` (a check made row by row), with the reason's code and values."""
        self.reasons[i] = reason
        self.codes[i] = code
        self._rejected[i] = True
        if params:
            self.params[i] = {k: str(v) for k, v in params.items()}


def present(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.notna(values))


def numbers(values: np.ndarray, name: str, checks: Checks) -> np.ndarray:
    """Parse numbers; reject text that is not one, NaN and infinities, naming the value."""
    parsed = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    given = present(values)
    checks.reject(
        given & np.isnan(parsed),
        lambda i: (
            f"{name} {values[i]!r} is not a "
            + ("finite number" if str(values[i]).lstrip("+-").casefold() == "nan" else "number")
        ),
        code="not_a_number",
        params=lambda i: {"field": name, "value": values[i]},
    )
    checks.reject(
        given & np.isinf(parsed),
        lambda i: f"{name} {values[i]!r} is not a finite number",
        code="not_a_number",
        params=lambda i: {"field": name, "value": values[i]},
    )
    return parsed


def times(values: np.ndarray, name: str, zone: ZoneInfo, checks: Checks) -> np.ndarray:
    """Times as epoch seconds (:func:`geo.times.epoch_seconds`); a present cell that is not
    one is rejected with its value."""
    out = epoch_seconds(values, zone)
    checks.reject(
        present(values) & np.isnan(out),
        lambda i: f"{name} {values[i]!r} is not a date/time (use e.g. 2025-03-01 08:30)",
        code="not_a_time",
        params=lambda i: {"field": name, "value": values[i]},
    )
    return out


def _geographic(source: SourceCRS) -> bool:
    return source.crs is None or source.crs.is_geographic


def coordinates(
    cells: dict[str, np.ndarray], source: SourceCRS, srid: int, checks: Checks
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates projected to ``srid``; the mask says which rows gave coordinates at all."""
    n = len(checks.reasons)
    names = ("lon", "lat") if ("lon" in cells or "lat" in cells) else ("x", "y")
    empty = np.full(n, None, dtype=object)
    raw_x, raw_y = (cells.get(name, empty) for name in names)
    has_x, has_y = present(raw_x), present(raw_y)
    checks.reject(has_x & ~has_y, f"{names[1]} is empty but {names[0]} is given")
    checks.reject(has_y & ~has_x, f"{names[0]} is empty but {names[1]} is given")
    given = has_x & has_y
    x = numbers(raw_x, names[0], checks)
    y = numbers(raw_y, names[1], checks)
    if _geographic(source):
        lon_bad = np.abs(x) > 180
        lat_bad = np.abs(y) > 90
        west, south, east, north = CHINA_BOX
        swapped = (lat_bad | lon_bad) & (x >= south) & (x <= north) & (y >= west) & (y <= east)
        checks.reject(
            given & swapped,
            lambda i: (
                f"lat/lon look swapped ({names[0]}={raw_x[i]}, {names[1]}={raw_y[i]}): "
                "the other way round it is a point in China; fix the columns"
            ),
            code="lat_lon_swapped",
            params=lambda i: {"x": raw_x[i], "y": raw_y[i]},
        )
        checks.reject(
            given & lon_bad,
            lambda i: f"{names[0]} {raw_x[i]} is out of -180..180",
            code="out_of_range",
            params=lambda i: {"field": names[0], "value": raw_x[i], "range": "-180..180"},
        )
        checks.reject(
            given & lat_bad,
            lambda i: f"{names[1]} {raw_y[i]} is out of -90..90",
            code="out_of_range",
            params=lambda i: {"field": names[1], "value": raw_y[i], "range": "-90..90"},
        )
    elif source.crs is not None and source.crs.area_of_use is not None:
        west, south, east, north = source.crs.area_of_use.bounds
        ok = given & checks.good
        lon, lat = to_wgs84(np.where(ok, x, np.nan), np.where(ok, y, np.nan), source)
        margin = 1.0  # degrees, as in geo.intake.projection.check_coordinates_fit
        outside = ok & ~(
            (lon >= west - margin)
            & (lon <= east + margin)
            & (lat >= south - margin)
            & (lat <= north + margin)
        )
        checks.reject(
            outside,
            lambda i: (
                f"{names[0]}/{names[1]} ({raw_x[i]}, {raw_y[i]}) do not fit {source.name} "
                f"(area of use lon {west}..{east}, lat {south}..{north}); wrong --crs?"
            ),
        )
    ok = given & checks.good
    px, py = to_target(np.where(ok, x, np.nan), np.where(ok, y, np.nan), source, srid)
    checks.reject(ok & ~(np.isfinite(px) & np.isfinite(py)), "coordinates cannot be projected")
    return px, py, given


def cell_values(cells: dict[str, np.ndarray], name: str, n: int) -> np.ndarray:
    return cells.get(name, np.full(n, None, dtype=object))


def required(values: np.ndarray, name: str, checks: Checks) -> None:
    checks.reject(
        ~present(values), f"{name} is empty", code="field_empty", params=lambda i: {"field": name}
    )


def digests(cells: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``h:`` + a digest of each row's cells: a stable id for rows that carry none."""
    names = sorted(cells)
    out = np.empty(n, dtype=object)
    for i in range(n):
        joined = "\x1f".join(f"{k}={cells[k][i]}" for k in names)
        out[i] = "h:" + hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()[:20]
    return out


def incident_fields(
    ctx: ImportContext, cells: dict[str, np.ndarray], n: int, checks: Checks
) -> dict[str, np.ndarray]:
    types = cell_values(cells, "type", n)
    required(types, "type", checks)
    # A file uses a handful of types: look up each distinct cell once, not every row.
    index, distinct = pd.factorize(types)
    found = np.array([ctx.types.get(str(t).casefold()) for t in distinct] + [None], object)
    codes = found[index]  # factorize marks an empty cell -1: the None appended last
    checks.reject(
        present(types) & ~present(codes),
        lambda i: f"unknown incident type {types[i]!r} (add it with `gridsafe types add`)",
        code="unknown_type",
        params=lambda i: {"value": types[i]},
    )
    occurred_raw = cell_values(cells, "occurred_at", n)
    required(occurred_raw, "occurred_at", checks)
    with ctx.report.timed("times"):
        occurred = times(occurred_raw, "occurred_at", ctx.zone, checks)
        reported = times(cell_values(cells, "reported_at", n), "reported_at", ctx.zone, checks)
    return {
        "type": codes,
        "occurred_s": occurred,
        "reported_s": np.where(np.isnan(reported), occurred, reported),
        "description": cell_values(cells, "description", n),
    }


def _assessment(row: dict[str, Any]) -> tuple[str, list[float | int | None]]:
    """Method and (lec_l, lec_e, lec_c, ls_l, ls_s) of one hazard row; ValueError says why not."""
    method_text = row["method"]
    if method_text is None:
        # No method column: the values given say which (E or C only exist in LEC).
        method_text = "LEC" if row["e"] is not None or row["c"] is not None else "LS"
    method = parse_method(method_text)
    needed = ("l", "e", "c") if method is Method.LEC else ("l", "s")
    missing = [k.upper() for k in needed if row[k] is None]
    if missing:
        msg = f"{method.value} assessment needs {', '.join(missing)}"
        raise ValueError(msg)
    numbers = []
    for k in needed:
        try:
            numbers.append(float(row[k]))
        except ValueError:
            msg = f"{method.value} {k.upper()} {row[k]!r} is not a number"
            raise ValueError(msg) from None
    if method is Method.LEC:
        lec = validate_lec(*numbers)
        return method.value, [*lec, None, None]
    ls = validate_ls(*numbers)
    return method.value, [None, None, None, *ls]


def hazard_fields(
    ctx: ImportContext, cells: dict[str, np.ndarray], n: int, checks: Checks
) -> dict[str, np.ndarray]:
    category = cell_values(cells, "category", n)
    required(category, "category", checks)
    name = cell_values(cells, "name", n)
    identified_raw = cell_values(cells, "identified_at", n)
    required(identified_raw, "identified_at", checks)
    identified = times(identified_raw, "identified_at", ctx.zone, checks)
    closed_raw = cell_values(cells, "closed_at", n)
    closed = times(closed_raw, "closed_at", ctx.zone, checks)
    status_raw = cell_values(cells, "status", n)
    out: dict[str, np.ndarray] = {
        "category": category,
        "name": np.where(present(name), name, category),
        "description": cell_values(cells, "description", n),
        "identified_s": identified,
        "closed_s": closed,
    }
    assessed = np.full((n, 6), None, dtype=object)
    status = np.full(n, None, dtype=object)
    given = {k: cell_values(cells, k, n) for k in ("method", "l", "e", "c", "s")}
    for i in np.flatnonzero(checks.good):
        row = {k: column[i] for k, column in given.items()}
        try:
            method, values = _assessment(row)
        except ValueError as exc:
            checks.refuse(int(i), str(exc))
            continue
        assessed[i] = [method, *values]
        word = status_raw[i]
        has_closed = not math.isnan(closed[i])
        if word is None:
            status[i] = "closed" if has_closed else "open"
        elif str(word).strip().casefold() in _STATUS_WORDS:
            status[i] = _STATUS_WORDS[str(word).strip().casefold()]
        else:
            checks.refuse(
                int(i),
                f"unknown status {word!r}: use open or closed (未整改/已整改)",
                "unknown_status",
                value=word,
            )
            continue
        if (status[i] == "closed") != has_closed:
            checks.refuse(
                int(i),
                "a closed hazard needs closed_at"
                if status[i] == "closed"
                else f"status is open but closed_at {closed_raw[i]!r} is given",
            )
    for j, column in enumerate(("method", "lec_l", "lec_e", "lec_c", "ls_l", "ls_s")):
        out[column] = assessed[:, j]
    out["status"] = status
    return out
