"""Timed points (GPS fixes, check-ins) from files or posted rows, in batches, projected at the edge.

Formats: CSV (``lon``/``lat`` or ``x``/``y`` columns, Chinese headers accepted; UTF-8, or GBK
as Excel saves CSV on Chinese Windows, told apart by :func:`geo.intake.files.detect_encoding`),
GPX (GDAL's driver through pyogrio: the ``track_points`` layer for tracks, ``waypoints`` for
check-ins; a track's ``<name>`` is its unit and its ``<type>`` the unit kind), and the vector
formats (GeoJSON, GeoPackage, Shapefile, a zipped Shapefile) with Point features.

Files are read ``batch_rows`` rows at a time so that a month of fixes never sits in memory at
once. The CRS rule is the one every importer follows (:mod:`geo.intake.projection`); a CSV or a
JSON batch without ``--crs`` is WGS84, and a GPX file is WGS84 by definition (``--crs gcj02``
overrides it for phone apps that export Mars coordinates).

Times: the forms every importer accepts (:mod:`geo.times`: ISO 8601 and its Chinese variants,
epoch seconds); a time without a UTC offset is local time in ``settings.timezone``. A numeric
column (a GPS device's) is seconds since the Unix epoch (milliseconds when above 1e11).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geo import clock
from geo.crs import SourceCRS, to_target
from geo.errors import InputError, Problem
from geo.intake.fields import ALIASES, ColumnMapping, cell_text, find_column, mapped_columns
from geo.intake.files import detect_encoding, gdal_path, read_info
from geo.intake.projection import check_coordinates_fit, resolve_source_crs
from geo.intake.source import Source
from geo.times import epoch_number_seconds, epoch_seconds


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


def _pick(columns: Sequence[str], role: str, mapping: ColumnMapping | None = None) -> str | None:
    """The column of ``role``: the one ``mapping`` gives (None: none), else by its aliases.

    Raises
    ------
    InputError
        The mapping names a column the file lacks, or several columns (only a record's time
        may be a date and a time of day joined).
    """
    if mapping is not None and role in mapping:
        found = mapped_columns(columns, {role: mapping[role]})[role]
        if len(found) > 1:
            msg = f"{role!r} can be read from one column only, not {mapping[role]!r}"
            raise InputError(msg, code="mapping_one_column", params={"field": role})
        return str(columns[found[0]]) if found else None
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


def _coordinate_columns(
    header: Sequence[str], *, missing: str, listed: str, mapping: ColumnMapping | None = None
) -> tuple[str, str]:
    """The columns of ``lon`` and ``lat``, else of ``x`` and ``y``.

    Raises
    ------
    InputError
        Without either pair: the message ``missing``, then the ``listed`` header.
    """
    for pair in (("lon", "lat"), ("x", "y")):
        lon_col, lat_col = _pick(header, pair[0], mapping), _pick(header, pair[1], mapping)
        if lon_col is not None and lat_col is not None:
            return lon_col, lat_col
    msg = f"{missing} ({listed}: {', '.join(header)})"
    raise InputError(msg)


@dataclass(frozen=True)
class Points:
    """The reader of timed point files: :class:`PointBatch` batches, projected to ``srid``.

    Attributes
    ----------
    srid
        The store's SRID, which the points are projected to.
    roles
        Roles to look for besides ``time`` (e.g. ``unit``, ``kind``); see
        :data:`geo.intake.fields.ALIASES`.
    required
        Roles every row needs (a row without one is rejected).
    defaults
        Values for roles the file lacks or leaves blank (e.g. ``--unit``).
    timezone
        The zone of a time written without a UTC offset.
    batch_rows
        Rows in a batch at the most.
    gpx_layer
        ``track_points`` (tracks) or ``waypoints`` (check-ins).
    mapping
        Role → the file's column (None: none), before the aliases
        (:data:`geo.intake.fields.ColumnMapping`).
    """

    families: ClassVar[tuple[str, ...]] = ("csv", "gpx", "vector")
    srid: int
    roles: Sequence[str]
    required: Sequence[str]
    defaults: dict[str, str | None]
    timezone: str
    batch_rows: int
    gpx_layer: str = "track_points"
    mapping: ColumnMapping | None = None

    def open(
        self, path: Path, family: str, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[PointBatch]]:
        """The source CRS, its warnings and the batches; a required column missing is raised
        here, before any row is read."""
        if family == "csv":
            return self._csv(path, crs)
        return self._vector(path, family, crs)

    def columns(self, header: Sequence[str]) -> dict[str, str | None]:
        """Per role the column of ``header`` holding it (None: absent, a default applies).

        Raises
        ------
        InputError
            No column for a required role that has no default, or for the time.
        """
        found = {role: _pick(header, role, self.mapping) for role in (*self.roles, "time")}
        for role in (*self.required, "time"):
            if found[role] is None and self.defaults.get(role) is None:
                names = "/".join(ALIASES[role][:4])
                fields = ", ".join(map(str, header))
                msg = f"no {role} column (looked for {names}; fields: {fields})"
                raise InputError(msg)
        return found

    def batch(
        self,
        frame: pd.DataFrame,
        *,
        rows: NDArray[np.int64],
        coordinates: tuple[pd.Series, pd.Series] | tuple[NDArray[np.float64], ...],
        columns: dict[str, str | None],
        source: SourceCRS,
        geometry_reasons: list[str] | None = None,
    ) -> PointBatch:
        """One batch of ``frame`` with its coordinates (cells or numbers) in ``source``."""
        lon, lat = (pd.to_numeric(c, errors="coerce") for c in coordinates)
        return frame_batch(
            frame,
            rows=rows,
            lon=np.asarray(lon, dtype=np.float64),
            lat=np.asarray(lat, dtype=np.float64),
            columns=columns,
            defaults=self.defaults,
            required=self.required,
            source=source,
            srid=self.srid,
            timezone=self.timezone,
            geometry_reasons=geometry_reasons,
        )

    def _csv(
        self, path: Path, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[PointBatch]]:
        encoding = detect_encoding(path)
        try:
            header = pd.read_csv(path, nrows=0, encoding=encoding).columns.tolist()
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"{path.name}: cannot be read as CSV ({exc})") from exc
        coordinates = _coordinate_columns(
            header,
            missing=f"{path.name}: no lon/lat or x/y columns",
            listed="fields",
            mapping=self.mapping,
        )
        columns = self.columns(header)
        source, warnings = resolve_source_crs(None, crs, assume_wgs84=True)

        def batches() -> Iterator[PointBatch]:
            start = 1
            text_cols = {c: "string" for c in columns.values() if c and c != columns["time"]}
            reader = pd.read_csv(
                path,
                chunksize=self.batch_rows,
                encoding=encoding,
                dtype=text_cols,
                keep_default_na=True,
            )
            for chunk in reader:
                rows = np.arange(start, start + len(chunk), dtype=np.int64)
                start += len(chunk)
                yield self.batch(
                    chunk.reset_index(drop=True),
                    rows=rows,
                    coordinates=(chunk[coordinates[0]], chunk[coordinates[1]]),
                    columns=columns,
                    source=source,
                )

        return source, warnings, batches()

    def _vector(
        self, path: Path, family: str, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[PointBatch]]:
        layer = self.gpx_layer if family == "gpx" else None
        info = read_info(path, layer)
        fields = [str(f) for f in info["fields"]]
        tracks = None
        if family == "gpx" and self.gpx_layer == "track_points":
            tracks = _gpx_tracks(path)
            # A track's <name> is its unit, its <type> the unit kind (columns added per batch).
            fields = [f for f in fields if f not in {"name", "type"}] + ["unit", "kind"]
        columns = self.columns(fields)
        file_crs = CRS.from_user_input(info["crs"]) if info["crs"] else None
        source, warnings = resolve_source_crs(file_crs, crs)
        total = int(info["features"])

        def batches() -> Iterator[PointBatch]:
            skip = 0
            while total < 0 or skip < total:
                frame = pyogrio.read_dataframe(
                    gdal_path(path), layer=layer, skip_features=skip, max_features=self.batch_rows
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
                geometry_reasons = [
                    "" if ok else f"geometry is {_geom_name(g)}, expected a Point"
                    for ok, g in zip(is_point, geoms, strict=True)
                ]
                yield self.batch(
                    pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                    rows=rows,
                    coordinates=(
                        np.where(is_point, shapely.get_x(geoms), np.nan),
                        np.where(is_point, shapely.get_y(geoms), np.nan),
                    ),
                    columns=columns,
                    source=source,
                    geometry_reasons=geometry_reasons,
                )

        return source, warnings, batches()


def _gpx_tracks(path: Path) -> pd.DataFrame:
    """Name and type of each GPX track, by ``track_fid``."""
    tracks: pd.DataFrame = pyogrio.read_dataframe(
        path, layer="tracks", read_geometry=False, columns=["name", "type"]
    )
    tracks.index = np.arange(len(tracks))
    return tracks


def records_source(
    records: Sequence[Mapping[str, object]],
    crs: str | int | None,
    reader: Points,
    *,
    digest: str,
) -> Source[PointBatch]:
    """A point source over records posted as JSON (``lon``/``lat`` or ``x``/``y`` keys).

    The same rules as for a CSV file apply: without ``crs`` the coordinates are WGS84.
    ``digest`` is the import log's key of the posted payload
    (:func:`geo.intake.files.payload_digest`).
    """
    frame = pd.DataFrame.from_records(list(records))
    if frame.empty:
        raise InputError("the batch holds no records")
    header = [str(c) for c in frame.columns]
    coordinates = _coordinate_columns(
        header, missing="the records have no lon/lat or x/y keys", listed="keys"
    )
    columns = reader.columns(header)
    source, warnings = resolve_source_crs(None, crs, assume_wgs84=True)
    batch = reader.batch(
        frame,
        rows=np.arange(1, len(frame) + 1, dtype=np.int64),
        coordinates=(frame[coordinates[0]], frame[coordinates[1]]),
        columns=columns,
        source=source,
    )
    return Source(crs=source, warnings=warnings, batches=iter([batch]), digest=digest)
