"""The source CRS of a file and its projection to the store's SRID: one rule for every importer.

A file's own CRS is used when it has one and ``--crs`` is absent; a ``--crs`` that contradicts the
file's own CRS wins, with a warning (files are often mislabelled). A file with neither is read as
WGS84 when its format cannot declare a CRS (CSV, Excel, rows posted as JSON; record files of any
format), and refused otherwise rather than guessed. Coordinates that cannot lie in the CRS they
claim (degrees in a metric CRS, say) are refused too: that is how a mislabelled file shows.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from geo.crs import CHINA_BOX, SourceCRS, parse_crs, to_target, to_wgs84
from geo.errors import CRSError, Problem


def resolve_source_crs(
    file_crs: CRS | None, override: str | int | None, *, assume_wgs84: bool = False
) -> tuple[SourceCRS, list[Problem]]:
    """Decide which CRS a file's coordinates are in (see the module docstring for the rule).

    Parameters
    ----------
    file_crs
        The CRS the file declares, if any.
    override
        ``--crs``; blank is none.
    assume_wgs84
        Read a file that declares no CRS, given no ``override``, as WGS84 (instead of refusing).
    """
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
    if file_crs is None and assume_wgs84:
        return parse_crs(4326), warnings
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
