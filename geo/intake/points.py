"""Reading timed points (GPS fixes, check-ins) from files in batches, projected at the edge.

Formats: CSV (``lon``/``lat`` or ``x``/``y`` columns, Chinese headers accepted; UTF-8, or GBK
as Excel saves CSV on Chinese Windows, told apart by :func:`geo.intake.detect_encoding`), GPX
(GDAL's driver through pyogrio: the ``track_points`` layer for tracks, ``waypoints`` for
check-ins; a track's ``<name>`` is its unit and its ``<type>`` the unit kind), and any vector format
:func:`geo.sources.read_vector` knows (GeoJSON, GeoPackage, Shapefile) with Point features.

Files are read ``batch_rows`` rows at a time so that a month of fixes never sits in memory at
once. The CRS rule is the one every importer follows (geo/sources.py); a CSV or a JSON batch
without ``--crs`` is WGS84, and a GPX file is WGS84 by definition (``--crs gcj02`` overrides it
for phone apps that export Mars coordinates).

Times: the forms every importer accepts (:mod:`geo.times`: ISO 8601 and its Chinese variants,
epoch seconds); a time without a UTC offset is local time in ``settings.timezone``. A numeric
column (a GPS device's) is seconds since the Unix epoch (milliseconds when above 1e11).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geo import clock
from geo.crs import SourceCRS, parse_crs, to_target
from geo.errors import InputError, Problem
from geo.intake.rows import detect_encoding
from geo.intake.vector import (
    VECTOR_SUFFIXES,
    cell_text,
    check_coordinates_fit,
    find_column,
    resolve_source_crs,
    unreadable_layer,
)
from geo.times import epoch_number_seconds, epoch_seconds

POINT_SUFFIXES = {".csv", ".gpx", *VECTOR_SUFFIXES}

# Column names looked for, per role (case-insensitive, a Shapefile's cut names too; first match
# wins).
ALIASES: dict[str, tuple[str, ...]] = {
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
    "lon": ("lon", "lng", "long", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "x": ("x", "easting", "横坐标"),
    "y": ("y", "northing", "纵坐标"),
}


@dataclass
class PointBatch:
    """Usable rows of one batch, projected; the unusable ones are in ``rejected``.

    Attributes
    ----------
    rows
        1-based row (feature) numbers in the file.
    x, y
        Coordinates in the store's SRID.
    t
        Times in UTC as naive ``datetime64[us]`` values.
    values
        Per role (``unit``, ``kind``, ``person``, ``area``...) the stripped text, or None.
    """

    rows: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.datetime64]
    values: dict[str, list[str | None]]
    rejected: list[Problem] = field(default_factory=list)


@dataclass
class PointSource:
    """An opened point file: the CRS it is read in, file-wide warnings, and its batches."""

    crs: str
    warnings: list[Problem]
    batches: Iterator[PointBatch]


def _pick(columns: Sequence[str], role: str) -> str | None:
    return find_column(columns, ALIASES[role])


def parse_times(values: pd.Series, timezone: str) -> pd.Series:
    """Parse a column of times to UTC (see the module docstring for the accepted forms).

    Returns
    -------
    pandas.Series
        ``datetime64[us, UTC]``; NaT where a value could not be read.
    """
    utc: pd.Series
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        utc = values.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        return utc
    if pd.api.types.is_datetime64_dtype(values.dtype):
        local = values.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        utc = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        return utc
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        seconds = epoch_number_seconds(numbers)
    else:
        seconds = epoch_seconds(values.to_numpy(dtype=object), clock.zone(timezone))
    stamps = pd.to_datetime(seconds, unit="s", utc=True, errors="coerce")
    return pd.Series(stamps, index=values.index).astype("datetime64[us, UTC]")


def _project(
    lon: NDArray[np.float64], lat: NDArray[np.float64], source: SourceCRS, srid: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    finite = np.isfinite(lon) & np.isfinite(lat)
    if finite.any():
        bounds = np.array(
            [lon[finite].min(), lat[finite].min(), lon[finite].max(), lat[finite].max()]
        )
        check_coordinates_fit(bounds, source)
    return to_target(lon, lat, source, srid)


def frame_batch(
    frame: pd.DataFrame,
    *,
    rows: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    columns: dict[str, str | None],
    defaults: dict[str, str | None],
    required: Sequence[str],
    source: SourceCRS,
    srid: int,
    timezone: str,
    geometry_reasons: list[str] | None = None,
) -> PointBatch:
    """Turn one batch of raw rows into a :class:`PointBatch`, rejecting unusable rows.

    Parameters
    ----------
    frame
        The batch's attribute columns.
    rows
        Their 1-based row numbers in the file.
    lon, lat
        Coordinates in the source CRS (NaN where missing).
    columns
        Per role the column holding it (None: absent, ``defaults`` applies).
    required
        Roles a row must have.
    geometry_reasons
        Per row, why its geometry is unusable ("" when it is usable).
    """
    rejected: list[Problem] = []
    bad = np.zeros(len(frame), dtype=bool)
    values: dict[str, list[str | None]] = {}
    for role, column in columns.items():
        if column is None:
            values[role] = [defaults.get(role)] * len(frame)
        else:
            default = defaults.get(role)
            values[role] = [cell_text(v) or default for v in frame[column].tolist()]
    reasons: list[str] = [""] * len(frame)

    def flag(mask: NDArray[np.bool_], reason: str | list[str]) -> None:
        for i in np.flatnonzero(mask & ~bad):
            reasons[i] = reason if isinstance(reason, str) else reason[i]
        bad[mask] = True

    if geometry_reasons is not None:
        flag(np.array([bool(r) for r in geometry_reasons], dtype=bool), geometry_reasons)
    for role in required:
        flag(np.array([v is None for v in values[role]], dtype=bool), f"missing {role}")
    time_col = columns["time"]
    raw_times = frame[time_col] if time_col else pd.Series([None] * len(frame))
    times = parse_times(raw_times.reset_index(drop=True), timezone)
    flag(
        times.isna().to_numpy(),
        [f"unreadable time {v!r}" for v in raw_times.tolist()],
    )
    flag(~(np.isfinite(lon) & np.isfinite(lat)), "missing or non-numeric coordinates")
    # (0, 0) is what many GPS receivers write before they have a fix ("Null Island").
    flag((lon == 0) & (lat == 0), "coordinates (0, 0): a receiver without a fix")
    ok = ~bad
    x, y = _project(lon[ok], lat[ok], source, srid)
    rejected += [
        Problem(int(rows[i]), _ident(values, int(i)), reasons[i]) for i in np.flatnonzero(bad)
    ]
    return PointBatch(
        rows=rows[ok],
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        t=times.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")[ok],
        values={
            role: [v for v, keep in zip(vals, ok, strict=True) if keep]
            for role, vals in values.items()
        },
        rejected=rejected,
    )


def _geom_name(geom: object) -> str:
    return "missing" if geom is None else f"a {getattr(geom, 'geom_type', type(geom).__name__)}"


def _ident(values: dict[str, list[str | None]], i: int) -> str | None:
    for role in ("unit", "person"):
        if role in values and values[role][i]:
            return values[role][i]
    return None


def _roles_for(
    columns: Sequence[str],
    roles: Sequence[str],
    defaults: dict[str, str | None],
    required: Sequence[str],
) -> dict[str, str | None]:
    found = {role: _pick(columns, role) for role in (*roles, "time")}
    for role in (*required, "time"):
        if found[role] is None and defaults.get(role) is None:
            names = "/".join(ALIASES[role][:4])
            msg = f"no {role} column (looked for {names}; fields: {', '.join(map(str, columns))})"
            raise InputError(msg)
    return found


def _csv_source(
    path: Path,
    *,
    crs: str | int | None,
    srid: int,
    roles: Sequence[str],
    defaults: dict[str, str | None],
    required: Sequence[str],
    timezone: str,
    batch_rows: int,
) -> PointSource:
    encoding = detect_encoding(path)
    try:
        header = pd.read_csv(path, nrows=0, encoding=encoding).columns.tolist()
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name}: cannot be read as CSV ({exc})") from exc
    lon_col, lat_col = _pick(header, "lon"), _pick(header, "lat")
    if lon_col is None or lat_col is None:
        lon_col, lat_col = _pick(header, "x"), _pick(header, "y")
    if lon_col is None or lat_col is None:
        msg = f"{path.name}: no lon/lat or x/y columns (fields: {', '.join(header)})"
        raise InputError(msg)
    columns = _roles_for(header, roles, defaults, required)
    source = parse_crs(crs if crs is not None and str(crs).strip() else 4326)

    def batches() -> Iterator[PointBatch]:
        start = 1
        text_cols = {c: "string" for c in columns.values() if c and c != columns["time"]}
        reader = pd.read_csv(
            path, chunksize=batch_rows, encoding=encoding, dtype=text_cols, keep_default_na=True
        )
        for chunk in reader:
            rows = np.arange(start, start + len(chunk), dtype=np.int64)
            start += len(chunk)
            lon = pd.to_numeric(chunk[lon_col], errors="coerce").to_numpy(dtype=np.float64)
            lat = pd.to_numeric(chunk[lat_col], errors="coerce").to_numpy(dtype=np.float64)
            yield frame_batch(
                chunk.reset_index(drop=True),
                rows=rows,
                lon=lon,
                lat=lat,
                columns=columns,
                defaults=defaults,
                required=required,
                source=source,
                srid=srid,
                timezone=timezone,
            )

    return PointSource(crs=source.name, warnings=[], batches=batches())


def _gpx_tracks(path: Path) -> pd.DataFrame:
    """Name and type of each GPX track, by ``track_fid``."""
    tracks: pd.DataFrame = pyogrio.read_dataframe(
        path, layer="tracks", read_geometry=False, columns=["name", "type"]
    )
    tracks.index = np.arange(len(tracks))
    return tracks


def _vector_source(
    path: Path,
    *,
    crs: str | int | None,
    srid: int,
    roles: Sequence[str],
    defaults: dict[str, str | None],
    required: Sequence[str],
    timezone: str,
    batch_rows: int,
    gpx_layer: str,
) -> PointSource:
    is_gpx = path.suffix.lower() == ".gpx"
    layer = gpx_layer if is_gpx else None
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise unreadable_layer(path, exc) from exc
    fields = [str(f) for f in info["fields"]]
    tracks = None
    if is_gpx and gpx_layer == "track_points":
        tracks = _gpx_tracks(path)
        # A track's <name> is its unit, its <type> the unit kind (columns added per batch).
        fields = [f for f in fields if f not in {"name", "type"}] + ["unit", "kind"]
    columns = _roles_for(fields, roles, defaults, required)
    file_crs = CRS.from_user_input(info["crs"]) if info["crs"] else None
    source, warnings = resolve_source_crs(file_crs, crs)
    total = int(info["features"])

    def batches() -> Iterator[PointBatch]:
        skip = 0
        while total < 0 or skip < total:
            frame = pyogrio.read_dataframe(
                path, layer=layer, skip_features=skip, max_features=batch_rows
            )
            if frame.empty:
                return
            rows = np.arange(skip + 1, skip + len(frame) + 1, dtype=np.int64)
            skip += len(frame)
            frame = frame.reset_index(drop=True)
            if tracks is not None:
                fid = frame["track_fid"].to_numpy()
                frame["unit"] = tracks["name"].reindex(fid).to_numpy()
                frame["kind"] = tracks["type"].reindex(fid).to_numpy()
            geoms = frame.geometry.to_numpy()
            is_point = shapely.get_type_id(geoms) == 0
            lon = np.where(is_point, shapely.get_x(geoms), np.nan)
            lat = np.where(is_point, shapely.get_y(geoms), np.nan)
            geometry_reasons = [
                "" if ok else f"geometry is {_geom_name(g)}, expected a Point"
                for ok, g in zip(is_point, geoms, strict=True)
            ]
            yield frame_batch(
                pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                rows=rows,
                lon=lon,
                lat=lat,
                columns=columns,
                defaults=defaults,
                required=required,
                source=source,
                srid=srid,
                timezone=timezone,
                geometry_reasons=geometry_reasons,
            )

    return PointSource(crs=source.name, warnings=warnings, batches=batches())


def open_points(
    path: Path,
    *,
    crs: str | int | None,
    srid: int,
    roles: Sequence[str],
    required: Sequence[str],
    defaults: dict[str, str | None],
    timezone: str,
    batch_rows: int,
    gpx_layer: str = "track_points",
) -> PointSource:
    """Open a point file for reading in batches.

    Parameters
    ----------
    roles
        Roles to look for besides ``time`` (e.g. ``unit``, ``kind``); see :data:`ALIASES`.
    required
        Roles every row needs (a row without one is rejected).
    defaults
        Values for roles the file lacks or leaves blank (e.g. ``--unit``).
    gpx_layer
        ``track_points`` (tracks) or ``waypoints`` (check-ins).

    Raises
    ------
    InputError
        No such file, an unknown format, or a required column is missing.
    CRSError
        No CRS can be determined or the coordinates do not fit it.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in POINT_SUFFIXES:
        known = ", ".join(sorted(POINT_SUFFIXES))
        msg = f"{path.name}: unsupported format {suffix!r} (use {known})"
        raise InputError(msg)
    if suffix == ".csv":
        return _csv_source(
            path,
            crs=crs,
            srid=srid,
            roles=roles,
            defaults=defaults,
            required=required,
            timezone=timezone,
            batch_rows=batch_rows,
        )
    return _vector_source(
        path,
        crs=crs,
        srid=srid,
        roles=roles,
        defaults=defaults,
        required=required,
        timezone=timezone,
        batch_rows=batch_rows,
        gpx_layer=gpx_layer,
    )


def records_source(
    records: Sequence[Mapping[str, object]],
    *,
    crs: str | int | None,
    srid: int,
    roles: Sequence[str],
    required: Sequence[str],
    defaults: dict[str, str | None],
    timezone: str,
) -> PointSource:
    """A point source over records posted as JSON (``lon``/``lat`` or ``x``/``y`` keys).

    The same rules as for a CSV file apply: without ``crs`` the coordinates are WGS84.
    """
    frame = pd.DataFrame.from_records(list(records))
    if frame.empty:
        raise InputError("the batch holds no records")
    header = [str(c) for c in frame.columns]
    lon_col, lat_col = _pick(header, "lon"), _pick(header, "lat")
    if lon_col is None or lat_col is None:
        lon_col, lat_col = _pick(header, "x"), _pick(header, "y")
    if lon_col is None or lat_col is None:
        msg = f"the records have no lon/lat or x/y keys (keys: {', '.join(header)})"
        raise InputError(msg)
    columns = _roles_for(header, roles, defaults, required)
    source = parse_crs(crs if crs is not None and str(crs).strip() else 4326)
    batch = frame_batch(
        frame,
        rows=np.arange(1, len(frame) + 1, dtype=np.int64),
        lon=pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(dtype=np.float64),
        lat=pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(dtype=np.float64),
        columns=columns,
        defaults=defaults,
        required=required,
        source=source,
        srid=srid,
        timezone=timezone,
    )
    return PointSource(crs=source.name, warnings=[], batches=iter([batch]))
