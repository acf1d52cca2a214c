"""Reading files at the edge: formats, headers, the source CRS, and projection to the store's SRID.

One rule for every importer: a file's own CRS is used when it has one and ``--crs`` is absent; a
``--crs`` that contradicts the file's own CRS wins, with a warning (files are often mislabelled);
a file with neither is refused rather than guessed. Coordinates that cannot lie in the CRS they
claim (degrees in a metric CRS, say) are refused too: that is how a mislabelled file shows.

Headers are compared after NFKC normalisation, trimmed and case-folded (``ＬＯＮ`` is ``lon``),
and a name cut short by a Shapefile counts as the whole name (:func:`dbf_truncations`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from warnings import catch_warnings, filterwarnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import CHINA_BOX, SourceCRS, parse_crs, to_target, to_wgs84
from geo.errors import CRSError, ImportRejectedError, InputError, Problem

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}

# Decompressed size allowed for a zipped Shapefile: refuses zip bombs before unpacking.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024

# A Shapefile's attribute table is dBase, whose header holds a field name in 10 bytes: GDAL and
# ArcGIS keep the first 10 bytes of a longer name (occurred_at -> occurred_a).
DBF_NAME_BYTES = 10


@dataclass
class VectorLayer:
    """Features read from a file, projected into the store's SRID.

    Attributes
    ----------
    frame
        Attribute columns and the projected geometry; the index is the 1-based feature number.
    crs
        What the coordinates were read as (for the report).
    warnings
        File-wide findings that did not stop the import.
    """

    frame: gpd.GeoDataFrame
    crs: str
    warnings: list[Problem] = field(default_factory=list)


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


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vsi_path(path: Path) -> str:
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            names = [info.filename for info in zf.infolist()]
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name}: not a readable zip archive ({exc})") from exc
    if total > MAX_UNZIPPED_BYTES:
        msg = f"{path.name}: unpacks to {total} bytes, over the limit of {MAX_UNZIPPED_BYTES}"
        raise InputError(msg)
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        msg = f"{path.name}: a zipped Shapefile must hold exactly one .shp, found {len(shps)}"
        raise InputError(msg)
    return f"/vsizip/{path}/{shps[0]}"


def resolve_source_crs(
    file_crs: CRS | None, override: str | int | None
) -> tuple[SourceCRS, list[Problem]]:
    """Decide which CRS a file's coordinates are in (see the module docstring for the rule)."""
    warnings: list[Problem] = []
    if override is not None and str(override).strip():
        source = parse_crs(override)
        if file_crs is not None and source.crs is not None and not source.crs.equals(file_crs):
            warnings.append(
                Problem(
                    None,
                    None,
                    f"--crs {override} overrides the file's own CRS {file_crs.to_string()}",
                )
            )
        return source, warnings
    if file_crs is None:
        msg = (
            "the file declares no CRS and no --crs was given "
            "(say e.g. --crs EPSG:4326 or --crs gcj02)"
        )
        raise CRSError(msg)
    return SourceCRS(crs=file_crs), warnings


def _area_of_use(source: SourceCRS) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in degrees where the source CRS is meant to be used."""
    if source.crs is None:
        return CHINA_BOX  # GCJ-02 and BD-09 exist only inside it
    area = source.crs.area_of_use
    return None if area is None else area.bounds


def check_coordinates_fit(bounds: np.ndarray, source: SourceCRS) -> None:
    """Refuse coordinates that cannot be in ``source`` (e.g. degrees labelled as a metric CRS).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the data in the source CRS.
    """
    area = _area_of_use(source)
    if area is None or not np.all(np.isfinite(bounds)):
        return
    lon, lat = to_wgs84(bounds[[0, 2, 0, 2]], bounds[[1, 1, 3, 3]], source)
    margin = 1.0  # degrees: data near the edge of a zone is legitimate
    inside = (
        np.isfinite(lon).all()
        and np.isfinite(lat).all()
        and lon.min() >= area[0] - margin
        and lat.min() >= area[1] - margin
        and lon.max() <= area[2] + margin
        and lat.max() <= area[3] + margin
    )
    if not inside:
        msg = (
            f"coordinates {tuple(round(float(b), 6) for b in bounds)} do not fit {source.name} "
            f"(its area of use is lon {area[0]}..{area[2]}, lat {area[1]}..{area[3]}); "
            "is the file in another CRS? Give the right one with --crs"
        )
        raise CRSError(msg)


def project_geometries(geoms: np.ndarray, source: SourceCRS, srid: int) -> np.ndarray:
    """Project shapely geometries from ``source`` to EPSG:``srid`` (one rule for every importer)."""

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = to_target(xy[:, 0], xy[:, 1], source, srid)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)


def unreadable_layer(path: Path, exc: Exception) -> InputError:
    """The error for a file GDAL cannot read, naming the file as its sender knows it: GDAL's
    message names the path it opened, which for an upload is the server's temporary file."""
    reason = str(exc).replace(_vsi_path(path), path.name).replace(str(path), path.name)
    return InputError(f"{path.name}: cannot be read as a vector layer ({reason})")


def _unreadable_geometries(path: Path, layer: str | None) -> list[Problem]:
    """The features whose geometry GEOS refuses to build (a polygon ring that does not close,
    a first vertex of NaN), each by its number in the file."""
    geometries = pyogrio.raw.read(_vsi_path(path), layer=layer, columns=[])[2]
    problems = []
    for row, wkb in enumerate(geometries, start=1):
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as exc:
            reason = f"geometry cannot be built ({exc}): is a ring not closed, or a vertex NaN?"
            problems.append(Problem(row, None, reason))
    return problems


def read_vector(
    path: Path, *, crs: str | int | None, srid: int, layer: str | None = None
) -> VectorLayer:
    """Read a GeoJSON, GeoPackage, Shapefile (or zipped Shapefile) and project it to ``srid``.

    Raises
    ------
    InputError
        The file does not exist or cannot be read as a vector layer.
    CRSError
        No CRS can be determined, or the coordinates do not fit the CRS they claim.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        known = ", ".join(sorted(VECTOR_SUFFIXES))
        msg = f"{path.name}: unsupported format {path.suffix!r} (use {known})"
        raise InputError(msg)
    try:
        with catch_warnings():
            # NaN coordinates warn while decoding; each such feature is refused by name later.
            filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            frame = gpd.read_file(_vsi_path(path), layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise unreadable_layer(path, exc) from exc
    except shapely.errors.GEOSException as exc:
        raise ImportRejectedError(path.name, _unreadable_geometries(path, layer)) from exc
    source, warnings = resolve_source_crs(frame.crs, crs)
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        check_coordinates_fit(np.asarray(shapely.total_bounds(geoms[present])), source)
    projected = geoms.copy()
    projected[present] = project_geometries(geoms[present], source, srid)
    out = gpd.GeoDataFrame(
        frame.drop(columns=frame.geometry.name), geometry=projected, crs=f"EPSG:{srid}"
    )
    out.index = np.arange(1, len(out) + 1)
    return VectorLayer(frame=out, crs=source.name, warnings=warnings)
