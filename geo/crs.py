"""Coordinate conversion at the import edge, including China's obfuscated systems.

Coordinates enter gridsafe in whatever system the source used and leave this module in the
deployment's metric CRS (or WGS84). Ordinary systems are EPSG codes handled by pyproj. The two
Chinese systems are not in any EPSG registry, so they are implemented here:

GCJ-02 ("Mars coordinates": Amap/Gaode, Tencent, WeChat)
    The forward transform WGS84 → GCJ-02 is the algorithm leaked and widely republished since
    about 2010 (first as ``Converter.java`` in the "emq" project, later e.g. googollee/eviltransform
    and wandergis/coordTransform_py). It adds a smooth polynomial-plus-sines offset computed in
    metres and converted to degrees on the Krasovsky 1940 ellipsoid (a = 6378245.0 m,
    e² = 0.00669342162296594323). Offsets are 100–700 m.
BD-09 (Baidu)
    Baidu's published-by-reverse-engineering transform GCJ-02 → BD-09, a rotation and scaling in
    polar form with ``x_pi = pi * 3000 / 180`` and a shift of (0.0065, 0.006) degrees, republished
    in the same libraries.

Neither transform has a closed-form inverse. The inverses here solve ``forward(w) = g`` by
fixed-point iteration ``w ← w - (forward(w) - g)``; the offset's Jacobian is tiny (its entries are
of order 1e-3), so each step gains about three digits and the loop stops when the residual is below
``INVERSE_TOLERANCE_DEG`` (1e-10°, about 0.01 mm), well under a millimetre after 3–5 steps.

The "outside China" rule: both obfuscations are applied only inside the rough bounding box
lon 72.004–137.8347, lat 0.8293–55.8271 used by the libraries above (and by the map providers'
own SDK samples); outside it every Chinese system equals WGS84, both ways. The box is rough (it
includes Korea, Japan and parts of South-East Asia), which matches what those map providers do.

Every function accepts scalars or numpy arrays (broadcast together) and returns float64 arrays.
Non-finite inputs (NaN, ±inf) come out as NaN so an importer can reject those rows instead of
crashing on them.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.errors import CRSError

__all__ = [
    "CHINA_BOX",
    "INVERSE_TOLERANCE_DEG",
    "WGS84_EPSG",
    "Offset",
    "SourceCRS",
    "bd09_from_gcj02",
    "bd09_from_wgs84",
    "gcj02_from_bd09",
    "gcj02_from_wgs84",
    "in_china",
    "parse_crs",
    "to_target",
    "to_wgs84",
    "wgs84_from_bd09",
    "wgs84_from_gcj02",
]

FloatArray = NDArray[np.float64]
_Forward = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

WGS84_EPSG = 4326
CGCS2000_EPSG = 4490

# Krasovsky 1940 ellipsoid, the one the GCJ-02 algorithm converts its metre offsets with.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# Baidu's constant for the BD-09 polar perturbation.
_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
"""(west, south, east, north) in degrees: the common "outside China" box (see the module docstring).

GCJ-02 and BD-09 differ from WGS84 only inside it."""

INVERSE_TOLERANCE_DEG = 1e-10
"""Largest residual |forward(inverse(p)) - p| in degrees the inverses stop at (~0.01 mm)."""
_MAX_ITERATIONS = 30


class Offset(enum.StrEnum):
    """The Chinese obfuscated coordinate systems (not EPSG-registered)."""

    GCJ02 = "gcj02"
    BD09 = "bd09"


# --------------------------------------------------------------------------- array helpers


def _as_lonlat(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Broadcast to float64 arrays (copies) with every non-finite value replaced by NaN."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    x = np.array(x, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    x[bad] = np.nan
    y[bad] = np.nan
    return x, y


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall inside the rough China box where the obfuscations apply.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees (any of WGS84, GCJ-02, BD-09: the box is too rough for
        the difference to matter except within a few hundred metres of its edges).

    Returns
    -------
    numpy.ndarray of bool
        True inside lon 72.004–137.8347, lat 0.8293–55.8271 (bounds included). NaN gives True,
        so NaN keeps flowing through the transforms and comes out as NaN.
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    west, south, east, north = CHINA_BOX
    outside = (x < west) | (x > east) | (y < south) | (y > north)
    return np.asarray(~outside)


# --------------------------------------------------------------------------- forward transforms


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), no China test.

    The polynomial-plus-sines terms are the published GCJ-02 algorithm verbatim (they give the
    offset in metres relative to (105°E, 35°N)); the last step converts metres to degrees with the
    Krasovsky 1940 meridian and prime-vertical radii of curvature.
    """
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat_m = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat_m += common
    dlat_m += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat_m += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon_m = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon_m += common
    dlon_m += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon_m += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    meridian_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (magic * sqrt_magic)
    parallel_radius = _KRASOVSKY_A / sqrt_magic * np.cos(rad_lat)
    dlat = dlat_m * 180.0 / (meridian_radius * np.pi)
    dlon = dlon_m * 180.0 / (parallel_radius * np.pi)
    return dlon, dlat


def _gcj02_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02 on clean arrays, identity outside the China box."""
    dlon, dlat = _gcj02_offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _bd09_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09 on clean arrays (Baidu's polar perturbation), identity outside China."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    inside = in_china(lon, lat)
    bd_lon = z * np.cos(theta) + _BD_DLON
    bd_lat = z * np.sin(theta) + _BD_DLAT
    return np.where(inside, bd_lon, lon), np.where(inside, bd_lat, lat)


def _bd09_inverse_guess(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The classic one-step BD-09 → GCJ-02 formula (errors of about 1e-6°): a starting point."""
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


# --------------------------------------------------------------------------- inverses


def _invert(
    forward: _Forward,
    lon: FloatArray,
    lat: FloatArray,
    guess_lon: FloatArray,
    guess_lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(w) = (lon, lat)`` by fixed-point iteration from a first guess.

    Points outside the China box are returned unchanged (the rule is applied to the input, the
    way the published libraries apply it). Iteration stops once every finite residual is below
    ``INVERSE_TOLERANCE_DEG`` or after ``_MAX_ITERATIONS`` steps; the contraction factor is about
    1e-3, so the bound is reached only within one offset (< 1 km) of the box's edges, which lie
    outside China proper (Pakistan, Japan, Indonesia, Russia), where the box is ambiguous anyway.
    """
    inside = in_china(lon, lat)
    w_lon = np.where(inside, guess_lon, lon)
    w_lat = np.where(inside, guess_lat, lat)
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(w_lon, w_lat)
        r_lon = np.where(inside, f_lon - lon, 0.0)
        r_lat = np.where(inside, f_lat - lat, 0.0)
        w_lon = w_lon - r_lon
        w_lat = w_lat - r_lat
        residual = np.fmax(np.abs(r_lon), np.abs(r_lat))
        # fmax ignores NaN pairs; a NaN-only array has no finite residual left to reduce.
        if not np.any(residual > INVERSE_TOLERANCE_DEG):
            break
    return np.asarray(w_lon, dtype=np.float64), np.asarray(w_lat, dtype=np.float64)


def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (the published forward algorithm).

    Parameters
    ----------
    lon, lat
        WGS84 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees as float64 arrays; unchanged outside the China box; NaN where the input
        was not finite.

    Notes
    -----
    Source: the GCJ-02 algorithm as republished in googollee/eviltransform and
    wandergis/coordTransform_py, Krasovsky 1940 ellipsoid (a = 6378245.0, e² =
    0.00669342162296594323). See the module docstring.
    """
    x, y = _as_lonlat(lon, lat)
    return _gcj02_forward(x, y)


def wgs84_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to WGS84 by iterating the forward algorithm.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        WGS84 degrees such that ``gcj02_from_wgs84`` of them reproduces the input to
        ``INVERSE_TOLERANCE_DEG`` (measured round-trip error over China: about 1e-8 m);
        unchanged outside the China box; NaN where the input was not finite.

    Notes
    -----
    The common one-step inverse ``g - offset(g)`` is off by up to a few metres, enough to put a
    point in the wrong micro-grid; hence the iteration (see the module docstring).
    """
    x, y = _as_lonlat(lon, lat)
    dlon, dlat = _gcj02_offset(x, y)
    return _invert(_gcj02_forward, x, y, x - dlon, y - dlat)


def bd09_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu's transform).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        BD-09 degrees; unchanged outside the China box; NaN where the input was not finite.

    Notes
    -----
    Source: the BD-09 transform as republished in googollee/eviltransform and
    wandergis/coordTransform_py: ``z = hypot(x, y) + 2e-5 sin(y x_pi)``, ``theta = atan2(y, x) +
    3e-6 cos(x x_pi)``, ``x_pi = pi * 3000 / 180``, then a shift of (0.0065, 0.006) degrees.
    """
    x, y = _as_lonlat(lon, lat)
    return _bd09_forward(x, y)


def gcj02_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to GCJ-02, the exact inverse of ``bd09_from_gcj02``.

    Parameters
    ----------
    lon, lat
        BD-09 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees reproducing the input through ``bd09_from_gcj02`` to
        ``INVERSE_TOLERANCE_DEG``; unchanged outside the China box; NaN for non-finite input.

    Notes
    -----
    Starts from the classic closed-form approximation (the same source as ``bd09_from_gcj02``)
    and refines it by fixed-point iteration.
    """
    x, y = _as_lonlat(lon, lat)
    guess_lon, guess_lat = _bd09_inverse_guess(x, y)
    return _invert(_bd09_forward, x, y, guess_lon, guess_lat)


def bd09_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 to BD-09 (GCJ-02 forward, then the BD-09 transform).

    Parameters
    ----------
    lon, lat
        WGS84 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        BD-09 degrees; unchanged outside the China box; NaN for non-finite input.
    """
    return bd09_from_gcj02(*gcj02_from_wgs84(lon, lat))


def wgs84_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS84 (both exact inverses chained).

    Parameters
    ----------
    lon, lat
        BD-09 degrees, scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        WGS84 degrees; unchanged outside the China box; NaN for non-finite input.
    """
    return wgs84_from_gcj02(*gcj02_from_bd09(lon, lat))


# --------------------------------------------------------------------------- source CRS


@dataclass(frozen=True)
class SourceCRS:
    """The coordinate system an input file or request uses: an EPSG CRS or a Chinese offset.

    Exactly one of the two attributes is set. Build it with ``parse_crs``, or directly from a
    file's own CRS with ``SourceCRS(crs=pyproj.CRS(...))``.

    Attributes
    ----------
    crs
        A horizontal (geographic or projected) pyproj CRS, or None for an offset system.
    offset
        ``Offset.GCJ02`` or ``Offset.BD09``, or None for an ordinary CRS.
    """

    crs: pyproj.CRS | None = None
    offset: Offset | None = None

    def __post_init__(self) -> None:
        """Refuse an empty or doubly-specified source and CRSs that are not horizontal."""
        if (self.crs is None) == (self.offset is None):
            msg = (
                f"SourceCRS needs exactly one of crs or offset, got crs={self.crs!r}, "
                f"offset={self.offset!r}"
            )
            raise CRSError(msg)
        if self.crs is not None and not (self.crs.is_geographic or self.crs.is_projected):
            msg = f"{self.crs.name!r} is not a horizontal (geographic or projected) CRS"
            raise CRSError(msg)

    @property
    def name(self) -> str:
        """A short label for messages: ``gcj02``, ``bd09``, ``EPSG:4547`` or the CRS's name."""
        if self.crs is None:
            return str(self.offset)
        epsg = self.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg is not None else self.crs.name


_ACCEPTED = (
    "'gcj02' (GCJ-02, Amap/Tencent), 'bd09' (BD-09, Baidu), 'wgs84', 'cgcs2000' "
    "(= EPSG:4490), an EPSG code as 'EPSG:4547', '4547' or 4547"
)
_ALIASES: dict[str, Offset | int] = {
    "gcj02": Offset.GCJ02,
    "bd09": Offset.BD09,
    "wgs84": WGS84_EPSG,
    "cgcs2000": CGCS2000_EPSG,
}


@functools.lru_cache(maxsize=64)
def _epsg_crs(code: int) -> pyproj.CRS:
    """The pyproj CRS for an EPSG code, as a gridsafe CRSError when the code is unknown."""
    try:
        return pyproj.CRS.from_epsg(code)
    except PyprojCRSError as exc:
        msg = f"unknown EPSG code {code}: {exc}"
        raise CRSError(msg) from exc


def parse_crs(value: str | int | None) -> SourceCRS:
    """Read a user-supplied coordinate system (``--crs`` or an API parameter).

    Parameters
    ----------
    value
        Case-insensitive; spaces, ``-`` and ``_`` are ignored, so ``"GCJ-02"``, ``"gcj_02"`` and
        ``"gcj02"`` are the same. Accepted: ``gcj02``, ``bd09``, ``wgs84`` (EPSG:4326),
        ``cgcs2000`` (EPSG:4490), ``EPSG:<code>``, ``<code>`` as text or int. None means WGS84,
        the design's default for a CSV without ``--crs`` (callers with a file CRS pass that).

    Returns
    -------
    SourceCRS

    Raises
    ------
    CRSError
        For anything else, an EPSG code pyproj does not know, or one that is not a horizontal
        CRS (a vertical datum, a unit); the message names the value and the accepted forms.
    """
    if value is None:
        return SourceCRS(crs=_epsg_crs(WGS84_EPSG))
    if isinstance(value, bool) or not isinstance(value, str | int):
        msg = f"unknown coordinate system {value!r}; use {_ACCEPTED}"
        raise CRSError(msg)
    key = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    key = key.removeprefix("epsg:")
    alias = _ALIASES.get(key)
    if isinstance(alias, Offset):
        return SourceCRS(offset=alias)
    if alias is not None:
        code = alias
    elif key.isascii() and key.isdigit():
        code = int(key)
    else:
        msg = f"unknown coordinate system {value!r}; use {_ACCEPTED}"
        raise CRSError(msg)
    try:
        return SourceCRS(crs=_epsg_crs(code))
    except CRSError as exc:
        msg = f"unusable coordinate system {value!r} ({exc}); use {_ACCEPTED}"
        raise CRSError(msg) from exc


# --------------------------------------------------------------------------- conversion


@functools.lru_cache(maxsize=64)
def _transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    """A cached lon/lat-ordered transformer (pyproj ≥ 3.1 transformers are thread-safe)."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _transform(
    x: FloatArray, y: FloatArray, source: pyproj.CRS, target: pyproj.CRS
) -> tuple[FloatArray, FloatArray]:
    """Run pyproj and turn its failure markers (inf) into NaN."""
    out_x, out_y = _transformer(source, target).transform(x, y, errcheck=False)
    out_x = np.asarray(out_x, dtype=np.float64)
    out_y = np.asarray(out_y, dtype=np.float64)
    bad = ~(np.isfinite(out_x) & np.isfinite(out_y))
    return np.where(bad, np.nan, out_x), np.where(bad, np.nan, out_y)


def to_wgs84(x: ArrayLike, y: ArrayLike, source: SourceCRS) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates from ``source`` to WGS84 longitude/latitude (EPSG:4326).

    Parameters
    ----------
    x, y
        Easting/northing or longitude/latitude in the source's axis units, x first whatever the
        CRS's official axis order (pyproj ``always_xy``). Scalars or arrays.
    source
        From ``parse_crs`` or built from a file's CRS.

    Returns
    -------
    (lon, lat)
        WGS84 degrees as float64 arrays. NaN where the input was not finite or pyproj could not
        transform the point, so the caller can reject those rows.
    """
    return to_target(x, y, source, WGS84_EPSG)


def to_target(
    x: ArrayLike, y: ArrayLike, source: SourceCRS, target_epsg: int
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates from ``source`` to the deployment's CRS (``target_epsg``).

    GCJ-02 and BD-09 are first brought back to WGS84 with the exact inverses of this module, then
    projected; any EPSG source goes straight through one cached pyproj transformer.

    Parameters
    ----------
    x, y
        Coordinates in the source system, x (easting or longitude) first. Scalars or arrays.
    source
        From ``parse_crs`` or built from a file's CRS.
    target_epsg
        EPSG code of the output CRS, e.g. 4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E).

    Returns
    -------
    (x, y)
        Float64 arrays in the target CRS, x first. NaN where the input was not finite or could not
        be transformed.

    Raises
    ------
    CRSError
        If ``target_epsg`` is not an EPSG code pyproj knows.
    """
    target = _epsg_crs(target_epsg)
    cx, cy = _as_lonlat(x, y)
    if source.crs is not None:
        return _transform(cx, cy, source.crs, target)
    unshift = wgs84_from_gcj02 if source.offset is Offset.GCJ02 else wgs84_from_bd09
    return _transform(*unshift(cx, cy), _epsg_crs(WGS84_EPSG), target)
