"""Coordinate conversion at the import edge: GCJ-02, BD-09, EPSG sources, the parser.

Reference values come from other implementations' published test suites, not from this module:
googollee/eviltransform ``python/test.py`` (WGS84 → GCJ-02 in Shanghai, Shenzhen and Beijing,
checked there to 1e-6°) and hujiulong/gcoord ``test/unit/crs/GCJ02.spec.js`` (GCJ-02 → BD-09 and
GCJ-02 → WGS84 at (123, 45)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyproj
import pytest
from numpy.typing import ArrayLike

from geo.crs import (
    CHINA_BOX,
    INVERSE_TOLERANCE_DEG,
    Offset,
    SourceCRS,
    bd09_from_gcj02,
    bd09_from_wgs84,
    gcj02_from_bd09,
    gcj02_from_wgs84,
    parse_crs,
    to_target,
    to_wgs84,
    wgs84_from_bd09,
    wgs84_from_gcj02,
)
from geo.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")
Conversion = Callable[[ArrayLike, ArrayLike], tuple[np.ndarray, np.ndarray]]
# 1 US survey foot in metres, by definition.
US_SURVEY_FOOT_M = 1200.0 / 3937.0

ALL_CONVERSIONS: list[Conversion] = [
    gcj02_from_wgs84,
    wgs84_from_gcj02,
    bd09_from_gcj02,
    gcj02_from_bd09,
    bd09_from_wgs84,
    wgs84_from_bd09,
]

# (wgs lon, wgs lat, gcj lon, gcj lat) from googollee/eviltransform's test suite.
EVILTRANSFORM_VECTORS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing, west of Tiananmen
]


def metres(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Geodesic distance on WGS84 in metres, elementwise."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64)


def zhengzhou_grid() -> tuple[np.ndarray, np.ndarray]:
    """A regular ~100 m grid over Zhengzhou's built-up area (140,000 points)."""
    lon, lat = np.meshgrid(np.linspace(113.45, 113.85, 400), np.linspace(34.60, 34.95, 350))
    return lon.ravel(), lat.ravel()


def china_sample(n: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points over mainland China's extent (fixed seed)."""
    rng = np.random.default_rng(20240601)
    return rng.uniform(73.5, 135.1, n), rng.uniform(18.0, 53.6, n)


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_VECTORS)
def test_gcj02_forward_matches_published_vectors(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = gcj02_from_wgs84(wlon, wlat)
    # eviltransform converts with a = 6378137 instead of Krasovsky's 6378245; the difference
    # is ~1e-7 degrees here, inside their own 1e-6 tolerance.
    assert lon == pytest.approx(glon, abs=1e-6)
    assert lat == pytest.approx(glat, abs=1e-6)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_VECTORS)
def test_gcj02_inverse_recovers_published_wgs84(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = wgs84_from_gcj02(glon, glat)
    # The published GCJ values carry the a = 6378137 variant's ~1e-7° difference (~1 cm).
    assert metres(lon, lat, wlon, wlat) < 0.05


def test_tiananmen_offset_is_the_familiar_beijing_shift() -> None:
    # WGS84 (116.397128, 39.916527) near Tiananmen. Beijing GCJ-02 offsets are about
    # +0.0062° east and +0.0014° north; the value sometimes quoted, (116.403364, 39.917770),
    # is 18 m off in latitude from the published algorithm, so it is not used as a reference.
    lon, lat = gcj02_from_wgs84(116.397128, 39.916527)
    assert lon - 116.397128 == pytest.approx(0.006244, abs=2e-5)
    assert lat - 39.916527 == pytest.approx(0.001404, abs=2e-5)


def test_bd09_forward_matches_gcoord() -> None:
    lon, lat = bd09_from_gcj02(123.0, 45.0)
    assert lon == pytest.approx(123.00636499, abs=1e-8)
    assert lat == pytest.approx(45.00636899, abs=1e-8)


def test_gcj02_inverse_matches_gcoord() -> None:
    lon, lat = wgs84_from_gcj02(123.0, 45.0)
    # gcoord's inverse is itself approximate (it differs from the exact inverse by ~2e-7°).
    assert lon == pytest.approx(122.99395597, abs=1e-6)
    assert lat == pytest.approx(44.99804071, abs=1e-6)


def test_bd09_classic_closed_form_inverse_is_close_to_exact() -> None:
    # The one-step BD-09 → GCJ-02 formula everyone copies is good to ~1e-6°; ours refines it.
    bd_lon, bd_lat = 113.6654, 34.7536
    x, y = bd_lon - 0.0065, bd_lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * math.pi * 3000.0 / 180.0)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * math.pi * 3000.0 / 180.0)
    lon, lat = gcj02_from_bd09(bd_lon, bd_lat)
    assert lon == pytest.approx(z * math.cos(theta), abs=1e-5)
    assert lat == pytest.approx(z * math.sin(theta), abs=1e-5)
    back_lon, back_lat = bd09_from_gcj02(lon, lat)
    assert abs(back_lon - bd_lon) <= INVERSE_TOLERANCE_DEG
    assert abs(back_lat - bd_lat) <= INVERSE_TOLERANCE_DEG


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("points", [zhengzhou_grid, china_sample], ids=["zhengzhou", "china"])
def test_round_trips_are_submillimetre(
    points: Callable[[], tuple[np.ndarray, np.ndarray]],
) -> None:
    lon, lat = points()
    errors = {}
    gl, ga = gcj02_from_wgs84(lon, lat)
    errors["wgs→gcj→wgs"] = metres(lon, lat, *wgs84_from_gcj02(gl, ga)).max()
    wl, wa = wgs84_from_gcj02(lon, lat)
    errors["gcj→wgs→gcj"] = metres(lon, lat, *gcj02_from_wgs84(wl, wa)).max()
    bl, ba = bd09_from_gcj02(lon, lat)
    errors["gcj→bd→gcj"] = metres(lon, lat, *gcj02_from_bd09(bl, ba)).max()
    bl, ba = bd09_from_wgs84(lon, lat)
    errors["wgs→bd→wgs"] = metres(lon, lat, *wgs84_from_bd09(bl, ba)).max()
    # Measured: about 1e-8 m for every direction (the 1e-10° stopping residual is ~1e-5 m).
    print(f"max round-trip error (m) over {lon.size} points: {errors}")
    assert max(errors.values()) < 0.001, errors


def test_zhengzhou_offsets_are_in_the_expected_range() -> None:
    lon, lat = zhengzhou_grid()
    gcj_shift = metres(lon, lat, *gcj02_from_wgs84(lon, lat))
    assert gcj_shift.min() > 100.0
    assert gcj_shift.max() < 700.0
    # BD-09 adds about 0.0065°/0.006° (~0.8 km) on top of GCJ-02: it is 1.2-1.4 km from WGS84.
    bd_shift = metres(lon, lat, *bd09_from_wgs84(lon, lat))
    assert bd_shift.min() > 1200.0
    assert bd_shift.max() < 1400.0


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
@pytest.mark.parametrize(
    ("lon", "lat"), [(2.3522, 48.8566), (151.2093, -33.8688), (-74.006, 40.7128)]
)
def test_outside_china_is_identity(convert: Conversion, lon: float, lat: float) -> None:
    out_lon, out_lat = convert(lon, lat)
    assert out_lon == lon
    assert out_lat == lat


def test_box_edges_are_inside_and_just_beyond_is_identity() -> None:
    west, south, east, north = CHINA_BOX
    lon = np.array([west, east, 100.0, 100.0, west - 1e-9, east + 1e-9, 100.0, 100.0])
    lat = np.array([30.0, 30.0, south, north, 30.0, 30.0, south - 1e-9, north + 1e-9])
    out_lon, out_lat = gcj02_from_wgs84(lon, lat)
    assert (out_lon[:4] != lon[:4]).all()
    assert out_lon[4:].tolist() == lon[4:].tolist()
    assert out_lat[4:].tolist() == lat[4:].tolist()


def test_inside_and_outside_mixed_in_one_array() -> None:
    lon = np.array([2.3522, 113.66, 151.2093])
    lat = np.array([48.8566, 34.75, -33.8688])
    out_lon, out_lat = gcj02_from_wgs84(lon, lat)
    assert out_lon[[0, 2]].tolist() == lon[[0, 2]].tolist()
    assert out_lat[[0, 2]].tolist() == lat[[0, 2]].tolist()
    assert metres(lon[1], lat[1], out_lon[1], out_lat[1]) > 100.0


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_non_finite_inputs_come_out_nan(convert: Conversion) -> None:
    lon = np.array([np.nan, np.inf, 113.66, -np.inf, 113.66])
    lat = np.array([34.75, 34.75, np.nan, 34.75, 34.75])
    out_lon, out_lat = convert(lon, lat)
    assert np.isnan(out_lon[:4]).all()
    assert np.isnan(out_lat[:4]).all()
    assert np.isfinite(out_lon[4])
    assert np.isfinite(out_lat[4])


def test_shapes_are_kept_and_scalars_give_arrays() -> None:
    lon, lat = wgs84_from_bd09(113.67, 34.76)
    assert isinstance(lon, np.ndarray)
    assert lon.shape == lat.shape == ()
    grid_lon, grid_lat = np.meshgrid([113.6, 113.7, 113.8], [34.7, 34.8])
    out_lon, out_lat = wgs84_from_gcj02(grid_lon, grid_lat)
    assert out_lon.shape == (2, 3)
    assert out_lat.shape == (2, 3)
    # A scalar latitude broadcasts against an array of longitudes.
    assert gcj02_from_wgs84([113.6, 113.7], 34.7)[1].shape == (2,)


# --------------------------------------------------------------------------- parse_crs


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gcj_02", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("EPSG:4490", "EPSG:4490"),
        ("epsg:4326", "EPSG:4326"),
        (" EPSG : 4547 ", "EPSG:4547"),
        ("4326", "EPSG:4326"),
        (4547, "EPSG:4547"),
        ("wgs84", "EPSG:4326"),
        ("WGS-84", "EPSG:4326"),
        ("cgcs2000", "EPSG:4490"),
        ("CGCS2000", "EPSG:4490"),
        ("2227", "EPSG:2227"),
        (None, "EPSG:4326"),
    ],
)
def test_parse_crs_accepts(value: str | int | None, name: str) -> None:
    assert parse_crs(value).name == name


def test_parse_crs_kinds() -> None:
    assert parse_crs("gcj02") == SourceCRS(offset=Offset.GCJ02)
    assert parse_crs("BD-09").offset is Offset.BD09
    source = parse_crs("cgcs2000")
    assert source.offset is None
    assert source.crs == pyproj.CRS.from_epsg(4490)


@pytest.mark.parametrize("value", ["EPSG:999999", "gcj03", "", "EPSG:", "mars", 5773, 999999])
def test_parse_crs_rejects_with_value_and_accepted_forms(value: str | int) -> None:
    with pytest.raises(CRSError) as info:
        parse_crs(value)
    message = str(info.value)
    assert repr(value) in message
    assert "gcj02" in message
    assert "bd09" in message
    assert "EPSG:" in message


def test_parse_crs_rejects_bool() -> None:
    with pytest.raises(CRSError, match="True"):
        parse_crs(True)


def test_source_crs_needs_exactly_one_kind() -> None:
    with pytest.raises(CRSError, match="exactly one"):
        SourceCRS()
    with pytest.raises(CRSError, match="exactly one"):
        SourceCRS(crs=pyproj.CRS.from_epsg(4326), offset=Offset.GCJ02)


def test_source_crs_from_a_file_crs_without_epsg_code() -> None:
    custom = pyproj.CRS.from_proj4("+proj=tmerc +lon_0=113.7 +ellps=GRS80 +units=m +no_defs")
    source = SourceCRS(crs=custom)
    assert custom.to_epsg() is None
    assert source.name == custom.name
    lon, lat = to_wgs84(1000.0, 3_850_000.0, source)
    expect_lon, expect_lat = pyproj.Transformer.from_crs(custom, 4326, always_xy=True).transform(
        1000.0, 3_850_000.0
    )
    assert lon == pytest.approx(expect_lon, abs=1e-9)
    assert lat == pytest.approx(expect_lat, abs=1e-9)
    # 1 km east of the central meridian at ~34.8N.
    assert lon - 113.7 == pytest.approx(
        1000.0 / (111_320.0 * math.cos(math.radians(34.8))), rel=1e-2
    )


# --------------------------------------------------------------------------- to_target / to_wgs84


@pytest.mark.parametrize("source_epsg", [4490, 4326])
def test_to_target_geographic_to_4547_matches_pyproj(source_epsg: int) -> None:
    lon = np.array([113.6654, 113.70, 114.0])
    lat = np.array([34.7570, 34.80, 34.5])
    x, y = to_target(lon, lat, parse_crs(f"EPSG:{source_epsg}"), 4547)
    expect_x, expect_y = pyproj.Transformer.from_crs(source_epsg, 4547, always_xy=True).transform(
        lon, lat
    )
    np.testing.assert_allclose(x, expect_x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, expect_y, rtol=0, atol=1e-6)
    # CM 114E with a 500 km false easting: Zhengzhou lies ~30 km west of the meridian.
    assert 460_000 < x[0] < 475_000
    assert 3_840_000 < y[0] < 3_860_000


@pytest.mark.parametrize(
    ("kind", "forward"), [("gcj02", gcj02_from_wgs84), ("bd09", bd09_from_wgs84)]
)
def test_obfuscated_input_lands_where_the_true_position_projects(
    kind: str, forward: Conversion
) -> None:
    lon, lat = zhengzhou_grid()
    true_x, true_y = to_target(lon, lat, parse_crs(4326), 4547)
    x, y = to_target(*forward(lon, lat), parse_crs(kind), 4547)
    assert np.hypot(x - true_x, y - true_y).max() < 0.001


def test_to_wgs84_from_gcj02_uses_exact_inverse() -> None:
    wlon, wlat, glon, glat = EVILTRANSFORM_VECTORS[2]
    lon, lat = to_wgs84(glon, glat, parse_crs("GCJ-02"))
    assert metres(lon, lat, wlon, wlat) < 0.05


def test_foot_based_source_is_converted_to_metres() -> None:
    # EPSG:2227, NAD83 / California zone 3, US survey feet: two points 1000 ft apart must be
    # ~304.8 m apart on the ground (Lambert scale error in the zone is < 1e-4).
    source = parse_crs("EPSG:2227")
    sf_lon, sf_lat = -122.4194, 37.7749
    x_ft, y_ft = pyproj.Transformer.from_crs(4326, 2227, always_xy=True).transform(sf_lon, sf_lat)
    assert x_ft > 5_000_000  # feet, not metres
    lon, lat = to_wgs84(np.array([x_ft, x_ft + 1000.0]), np.array([y_ft, y_ft]), source)
    assert metres(lon[0], lat[0], sf_lon, sf_lat) < 0.001
    assert metres(lon[0], lat[0], lon[1], lat[1]) == pytest.approx(
        1000.0 * US_SURVEY_FOOT_M, rel=1e-4
    )
    # And into a metric projected target: 1000 ft east stays ~304.8 m in UTM 10N.
    x_m, y_m = to_target(np.array([x_ft, x_ft + 1000.0]), np.array([y_ft, y_ft]), source, 32610)
    assert math.hypot(x_m[1] - x_m[0], y_m[1] - y_m[0]) == pytest.approx(
        1000.0 * US_SURVEY_FOOT_M, rel=1e-3
    )


@pytest.mark.parametrize(
    ("source", "good_x", "good_y"),
    [
        ("gcj02", 113.66, 34.75),
        ("bd09", 113.66, 34.75),
        ("4326", 113.66, 34.75),
        ("4547", 463_000.0, 3_841_000.0),
    ],
)
def test_to_target_non_finite_inputs_become_nan(source: str, good_x: float, good_y: float) -> None:
    x = np.array([np.nan, np.inf, good_x, good_x])
    y = np.array([good_y, good_y, -np.inf, good_y])
    out_x, out_y = to_target(x, y, parse_crs(source), 4547)
    assert np.isnan(out_x[:3]).all()
    assert np.isnan(out_y[:3]).all()
    assert np.isfinite(out_x[3])
    assert np.isfinite(out_y[3])


def test_to_target_latitude_out_of_range_becomes_nan() -> None:
    x, y = to_target(np.array([113.6, 113.6]), np.array([95.0, 34.7]), parse_crs(4326), 4547)
    assert np.isnan(x[0])
    assert np.isnan(y[0])
    assert np.isfinite(x[1])


def test_to_target_unknown_target_raises() -> None:
    with pytest.raises(CRSError, match="999999"):
        to_target(113.6, 34.7, parse_crs("wgs84"), 999999)
