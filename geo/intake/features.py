"""Boundaries and reference layers: a vector file's features, read whole and projected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from warnings import catch_warnings, filterwarnings

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.crs import SourceCRS
from geo.errors import ImportRejectedError, Problem
from geo.intake.files import gdal_path, unreadable_layer
from geo.intake.projection import check_coordinates_fit, project_geometries, resolve_source_crs


def _unreadable_geometries(path: Path, layer: str | None) -> list[Problem]:
    """The features whose geometry GEOS refuses to build (a polygon ring that does not close,
    a first vertex of NaN), each by its number in the file."""
    geometries = pyogrio.raw.read(gdal_path(path), layer=layer, columns=[])[2]
    problems = []
    for row, wkb in enumerate(geometries, start=1):
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as exc:
            reason = f"geometry cannot be built ({exc}): is a ring not closed, or a vertex NaN?"
            problems.append(Problem(row, None, reason))
    return problems


@dataclass(frozen=True)
class Features:
    """The reader of a GeoJSON, GeoPackage, Shapefile or zipped Shapefile as one batch: the
    whole layer (a boundary is checked against the others), projected to ``srid``.

    The batch's attribute columns keep the file's names, the geometry is in EPSG:``srid``, and
    its index is the 1-based feature number. A file that declares no CRS needs ``--crs``.
    """

    families: ClassVar[tuple[str, ...]] = ("vector",)
    srid: int
    layer: str | None = None

    def open(
        self, path: Path, family: str, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[gpd.GeoDataFrame]]:
        """Read and project the layer.

        Raises
        ------
        InputError
            The file cannot be read as a vector layer.
        ImportRejectedError
            Features whose geometry cannot be built, each by its number.
        CRSError
            No CRS can be determined, or the coordinates do not fit the CRS they claim.
        """
        try:
            with catch_warnings():
                # NaN coordinates warn while decoding; each such feature is refused by name later.
                filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
                frame = gpd.read_file(gdal_path(path), layer=self.layer, engine="pyogrio")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
            raise unreadable_layer(path, exc) from exc
        except shapely.errors.GEOSException as exc:
            problems = _unreadable_geometries(path, self.layer)
            raise ImportRejectedError(path.name, problems) from exc
        source, warnings = resolve_source_crs(frame.crs, crs)
        geoms = frame.geometry.to_numpy()
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if present.any():
            check_coordinates_fit(np.asarray(shapely.total_bounds(geoms[present])), source)
        projected = geoms.copy()
        projected[present] = project_geometries(geoms[present], source, self.srid)
        out = gpd.GeoDataFrame(
            frame.drop(columns=frame.geometry.name), geometry=projected, crs=f"EPSG:{self.srid}"
        )
        out.index = np.arange(1, len(out) + 1)
        return source, warnings, iter([out])
