"""Coverage-preserving simplification of one level's areas, for pages that embed their outlines.

The areas of one level tile their parent with shared edges. Simplifying each polygon on its own
(Douglas–Peucker, ``ST_Simplify``) moves a shared edge differently on its two sides and opens
slivers between neighbours. ``shapely.coverage_simplify`` (GEOS ``CoverageSimplifier``, shapely
≥ 2.1; PostGIS 3.3 has no ``ST_CoverageSimplify``) simplifies each shared edge once, with
Visvalingam–Whyatt, and gives both neighbours the same result, so the output is still a
coverage: no gaps, no overlaps.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

# Metres per degree of latitude on the WGS84 ellipsoid at mid latitudes (≈ 110.6–111.7 km from
# the equator to the poles; the spread is below 1 %, far inside a simplification tolerance).
M_PER_DEG = 111_320.0

COORD_DECIMALS = 7
"""Decimals kept in degrees: 1e-7° ≈ 1 cm, the precision geo/sql's GeoJSON is written with."""


def simplify_coverage(
    collection: dict[str, Any], *, tolerance_m: float
) -> tuple[dict[str, Any], bool]:
    """Simplify the polygons of a GeoJSON FeatureCollection (EPSG:4326) as one coverage.

    Each feature also gains a ``label`` property, ``[lat, lon]`` of a point inside its original
    polygon (``shapely.point_on_surface``), where a map puts its name.

    Parameters
    ----------
    collection
        A FeatureCollection whose geometries are Polygons or MultiPolygons in lon/lat degrees.
    tolerance_m
        The simplification tolerance in metres (roughly the square root of the area of the
        triangles removed, see ``shapely.coverage_simplify``); 0 only adds labels.

    Returns
    -------
    (collection, simplified)
        A new FeatureCollection, and whether it was simplified: an input that is not a valid
        coverage (overlaps beyond the import tolerance, unmatched edges) is returned with its
        outlines unchanged, since simplifying it could open gaps.
    """
    features = collection.get("features", [])
    if not features:
        return {"type": "FeatureCollection", "features": []}, False
    geoms = np.array(
        [shapely.from_geojson(json.dumps(f["geometry"])) for f in features], dtype=object
    )
    labels = shapely.get_coordinates(shapely.point_on_surface(geoms))
    simplified = False
    out_geoms: NDArray[Any] = geoms
    if tolerance_m > 0 and bool(shapely.coverage_is_valid(geoms)):
        # Simplify in a local equirectangular frame, in metres, then come back to degrees.
        lat0 = float(np.nanmean(labels[:, 1]))
        kx = M_PER_DEG * math.cos(math.radians(lat0))

        def to_m(c: NDArray[np.float64]) -> NDArray[np.float64]:
            metres: NDArray[np.float64] = c * np.array([kx, M_PER_DEG])
            return metres

        def to_deg(c: NDArray[np.float64]) -> NDArray[np.float64]:
            degrees: NDArray[np.float64] = np.round(c / np.array([kx, M_PER_DEG]), COORD_DECIMALS)
            return degrees

        metric = shapely.transform(geoms, to_m)
        out_geoms = shapely.transform(shapely.coverage_simplify(metric, tolerance_m), to_deg)
        simplified = True
    out = []
    for feature, geom, (lon, lat) in zip(features, out_geoms, labels, strict=True):
        props = dict(feature.get("properties") or {})
        props["label"] = [round(float(lat), 6), round(float(lon), 6)]
        out.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": out}, simplified
