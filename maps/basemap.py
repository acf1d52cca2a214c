"""The basemap setting: none (offline; the district's roads and buildings are the background), a
local tile URL, Tianditu, or Amap, whose tiles are in GCJ-02 so overlays are shifted to match."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.crs import gcj02_from_wgs84
from geo.errors import InputError
from geo.settings import MapSettings
from maps.i18n import N_

# Tianditu's web-mercator WMTS (天地图, the national basemap, CGCS2000 ≈ WGS84: no shift):
# vector map plus its Chinese annotation layer; key from https://console.tianditu.gov.cn.
TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
# Amap (高德) road map tiles, drawn in GCJ-02.
AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


@dataclass(frozen=True)
class TileSource:
    """One raster tile layer of a basemap."""

    url: str
    attribution: str
    """The tile source's name (a catalogue message, translated where the map is drawn)."""
    subdomains: str = "abc"


@dataclass(frozen=True)
class Basemap:
    """What a page draws under its overlays.

    Attributes
    ----------
    kind
        ``none``, ``local``, ``tianditu`` or ``amap``.
    layers
        Raster tile layers, bottom first (none for ``none``).
    gcj02
        Overlays must be moved from WGS84 to GCJ-02 to sit on the tiles (Amap).
    allowed
        URL prefixes a page may reference outside the app: the configured tile hosts only.
    """

    kind: str
    layers: tuple[TileSource, ...] = ()
    gcj02: bool = False
    allowed: tuple[str, ...] = field(default=())

    @property
    def background(self) -> bool:
        """Whether the district's own roads and buildings are drawn as the background."""
        return self.kind == "none"


def basemap(maps: MapSettings) -> Basemap:
    """Interpret ``maps.basemap``.

    Raises
    ------
    InputError
        Tianditu without a key, or a URL template without ``{z}``, ``{x}`` and ``{y}``.
    """
    value = maps.basemap.strip()
    if value == "none":
        return Basemap("none")
    if value == "tianditu":
        if not maps.basemap_key:
            msg = "basemap 'tianditu' needs GRIDSAFE_BASEMAP_KEY (the Tianditu tk key)"
            raise InputError(msg)
        layers = tuple(
            TileSource(
                TIANDITU.replace("{layer}", layer).replace("{key}", maps.basemap_key),
                N_("Tianditu"),
                "01234567",
            )
            for layer in ("vec", "cva")
        )
        return Basemap("tianditu", layers, allowed=("https://t",))
    if value == "amap":
        layers = (TileSource(AMAP, N_("Amap"), "1234"),)
        return Basemap("amap", layers, maps.overlays_in_gcj02, ("https://webrd0",))
    if not all(part in value for part in ("{z}", "{x}", "{y}")):
        msg = f"basemap {value!r} is neither none, tianditu, amap nor a {{z}}/{{x}}/{{y}} URL"
        raise InputError(msg)
    allowed = () if value.startswith("/") else (value.split("{", 1)[0],)
    return Basemap("local", (TileSource(value, N_("local tiles")),), allowed=allowed)


def _shift(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = gcj02_from_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([np.round(lon, 7), np.round(lat, 7)])


def shift_collection(collection: dict[str, Any]) -> dict[str, Any]:
    """Move a WGS84 FeatureCollection (and its ``label`` points) to GCJ-02 (geo/crs.py)."""
    features = []
    for f in collection["features"]:
        geom = shapely.from_geojson(json.dumps(f["geometry"]))
        props = dict(f["properties"])
        if "label" in props:
            lat, lon = props["label"]
            props["label"] = list(reversed(shift_points([(lon, lat)])[0]))
        features.append(
            {
                **f,
                "geometry": json.loads(shapely.to_geojson(shapely.transform(geom, _shift))),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def shift_points(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Move WGS84 ``(lon, lat)`` points to GCJ-02."""
    if not points:
        return []
    shifted = _shift(np.asarray(points, dtype=np.float64))
    return [(float(x), float(y)) for x, y in shifted]
