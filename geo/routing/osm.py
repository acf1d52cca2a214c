"""Roads from an OpenStreetMap PBF extract, read with GDAL's OSM driver (through pyogrio).

OSM ways become rows of the ``roads`` table (``road_id`` ``osm:<way id>``, ``road_class`` the
``highway`` value) and go through the same import as a roads file, so the same checks and the
same report apply. Ways are kept whole: the network build cuts them where they share nodes.
Tags are read from GDAL's ``other_tags`` (an hstore text): ``oneway`` (``-1`` reverses the way),
``junction=roundabout`` and ``highway=motorway`` imply one-way (OSM wiki, Key:oneway),
``maxspeed`` in km/h or mph, ``lanes``.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from sqlalchemy import Engine

from geo.errors import InputError
from geo.layers import import_layer
from geo.report import ImportReport
from geo.settings import Settings

# highway values that are ways one can travel (OSM wiki, Key:highway: roads, links, paths);
# construction, proposed, platforms, raceways and the like are not.
ROUTABLE = {
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
    "living_street", "service", "pedestrian", "track", "road", "busway",
    "footway", "path", "cycleway", "steps", "bridleway", "corridor",
}  # fmt: skip
TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph)?\s*$")
MPH_KMH = 1.609344


def parse_tags(other_tags: object) -> dict[str, str]:
    """Parse GDAL's ``other_tags`` hstore text (``"k"=>"v","k2"=>"v2"``); missing: no tags."""
    if not isinstance(other_tags, str):
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in TAG.findall(other_tags)}


def parse_maxspeed(value: str | None) -> float | None:
    """A ``maxspeed`` in km/h; None for ``none``, ``signals``, zone codes like ``RU:urban``."""
    match = SPEED.match(value or "")
    if match is None:
        return None
    speed = float(match.group(1))
    return speed * MPH_KMH if match.group(2) else speed


def _parse_int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def osm_roads(path: Path) -> gpd.GeoDataFrame:
    """Read the routable ways of an OSM PBF/XML file as a roads layer in WGS84."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        ways = pyogrio.read_dataframe(
            path, layer="lines", columns=["osm_id", "name", "highway", "other_tags"]
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path.name}: cannot be read as OpenStreetMap data ({exc})") from exc
    ways = ways[ways["highway"].isin(ROUTABLE)].reset_index(drop=True)
    tags = [parse_tags(t) for t in ways["other_tags"]]
    oneway_tag = [t.get("oneway", "").lower() for t in tags]
    reverse = [o in {"-1", "reverse"} for o in oneway_tag]
    implied = [
        t.get("junction") == "roundabout" or hw == "motorway"
        for t, hw in zip(tags, ways["highway"], strict=True)
    ]
    oneway = [
        o in {"yes", "true", "1", "-1", "reverse"} or (imp and o not in {"no", "false", "0"})
        for o, imp in zip(oneway_tag, implied, strict=True)
    ]
    geoms = ways.geometry.to_numpy()
    geoms[reverse] = shapely.reverse(geoms[reverse])
    return gpd.GeoDataFrame(
        {
            "road_id": [f"osm:{i}" for i in ways["osm_id"]],
            "name": ways["name"],
            "road_class": ways["highway"],
            "oneway": oneway,
            "maxspeed_kmh": [parse_maxspeed(t.get("maxspeed")) for t in tags],
            "lanes": [_parse_int(t.get("lanes")) for t in tags],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def import_osm_roads(engine: Engine, settings: Settings, path: Path) -> ImportReport:
    """Import the routable ways of an OSM extract into ``roads`` (upserted by way id).

    The ways are written to a temporary GeoPackage and imported by :func:`geo.layers.import_layer`,
    the one road import; the report names the PBF.
    """
    frame = osm_roads(path)
    if frame.empty:
        raise InputError(f"{path.name}: no routable ways (highway=*) in the file")
    with tempfile.TemporaryDirectory(prefix="gridsafe-osm-") as tmp:
        staged = Path(tmp) / "roads.gpkg"
        frame.to_file(staged, driver="GPKG", engine="pyogrio")
        return import_layer(engine, settings, staged, kind="roads", source_name=path.name)
