"""Checks on the committed demo district files in ``demo/data`` (no database needed).

The files are made by ``demo/district.py``; these tests guard what the rest of the
product assumes about them: exact tiling of the four levels, consistent codes, buildings inside
their micro-grid and a road network noded at its intersections.
"""

from collections import Counter

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.strtree import STRtree

from demo import DATA

COUNTS = {"subdistrict": 1, "grid2": 12, "grid3": 73, "micro": 652}
PARENT = {"grid2": "subdistrict", "grid3": "grid2", "micro": "grid3"}
ROAD_CLASSES = ("primary", "secondary", "tertiary", "residential", "service")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    names = (*COUNTS, "buildings", "roads", "pois")
    return {name: gpd.read_file(DATA / f"{name}.geojson") for name in names}


def test_every_file_is_in_the_deployment_crs(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert {name: gdf.crs.to_epsg() for name, gdf in layers.items()} == dict.fromkeys(layers, 4547)


@pytest.mark.parametrize(("level", "count"), COUNTS.items())
def test_level_counts_codes_and_validity(
    layers: dict[str, gpd.GeoDataFrame], level: str, count: int
) -> None:
    areas = layers[level]
    assert len(areas) == count
    assert set(areas["level"]) == {level}
    assert areas["code"].is_unique
    assert areas.is_valid.all()
    assert (areas.geom_type == "Polygon").all()


@pytest.mark.parametrize("level", PARENT)
def test_parent_codes_and_exact_union(layers: dict[str, gpd.GeoDataFrame], level: str) -> None:
    children, parents = layers[level], layers[PARENT[level]]
    assert set(children["parent_code"]) == set(parents["code"])
    pairs = zip(children["code"], children["parent_code"], strict=True)
    assert all(code.startswith(f"{parent}-") for code, parent in pairs)
    for code, geom in zip(parents["code"], parents.geometry, strict=True):
        union = shapely.union_all(children.geometry[children["parent_code"] == code])
        assert geom.symmetric_difference(union).area < 0.01, code


def test_top_level_has_no_parent(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert layers["subdistrict"]["parent_code"].isna().all()
    assert layers["subdistrict"]["code"].tolist() == ["410105010"]


@pytest.mark.parametrize("level", PARENT)
def test_siblings_do_not_overlap(layers: dict[str, gpd.GeoDataFrame], level: str) -> None:
    geoms = layers[level].geometry.to_numpy()
    pairs = STRtree(geoms).query(geoms, predicate="intersects")
    pairs = pairs[:, pairs[0] < pairs[1]]
    overlap = shapely.area(shapely.intersection(geoms[pairs[0]], geoms[pairs[1]])).sum()
    assert overlap < 0.01


def test_micro_grids_add_up_to_the_subdistrict(layers: dict[str, gpd.GeoDataFrame]) -> None:
    total = layers["subdistrict"].area.iloc[0]
    assert 3.5e6 < total < 6e6
    assert layers["micro"].area.sum() == pytest.approx(total, rel=1e-4)


def test_micro_population_is_the_sum_of_residents(layers: dict[str, gpd.GeoDataFrame]) -> None:
    micro, buildings = layers["micro"], layers["buildings"]
    residents = buildings.groupby("micro_code")["residents"].sum()
    expected = residents.reindex(micro["code"]).fillna(0).astype(int).to_numpy()
    assert np.array_equal(micro["population"].to_numpy(), expected)
    assert (micro["population"] == 0).any()


def test_every_building_lies_inside_its_own_micro_grid(layers: dict[str, gpd.GeoDataFrame]) -> None:
    micro, buildings = layers["micro"], layers["buildings"]
    pairs = STRtree(micro.geometry.to_numpy()).query(
        buildings.geometry.to_numpy(), predicate="within"
    )
    assert Counter(pairs[0].tolist()) == Counter(range(len(buildings)))
    assert micro["code"].to_numpy()[pairs[1][np.argsort(pairs[0])]].tolist() == list(
        buildings["micro_code"]
    )
    assert buildings["building_id"].is_unique
    assert buildings["address"].str.startswith("郑州市金水区未来路街道").all()


def test_buildings_stay_off_street_centrelines(layers: dict[str, gpd.GeoDataFrame]) -> None:
    roads, buildings = layers["roads"], layers["buildings"]
    hits = STRtree(roads.geometry.to_numpy()).query(
        buildings.geometry.to_numpy(), predicate="intersects"
    )
    assert hits.shape[1] == 0


def test_road_ends_are_shared_or_on_the_border(layers: dict[str, gpd.GeoDataFrame]) -> None:
    roads = layers["roads"]
    border = layers["subdistrict"].geometry.iloc[0].exterior
    ends = Counter(
        tuple(xy) for line in roads.geometry for xy in shapely.get_coordinates(line)[[0, -1]]
    )
    loose = [xy for xy, n in ends.items() if n < 2 and border.distance(shapely.Point(xy)) > 0.01]
    assert loose == []
    assert set(roads["road_class"]) <= set(ROAD_CLASSES)
    assert roads["oneway"].any()


def test_pois_sit_in_their_micro_grid(layers: dict[str, gpd.GeoDataFrame]) -> None:
    pois, micro = layers["pois"], layers["micro"]
    joined = gpd.sjoin(pois, micro[["code", "geometry"]], predicate="within")
    assert len(joined) == len(pois)
    assert (joined["micro_code"] == joined["code"]).all()
    gates = pois[pois["kind"] == "school_gate"]
    assert 8 <= len(gates) <= 12
    assert gates[["window_am", "window_pm"]].notna().all().all()
    assert 2 <= (pois["kind"] == "station").sum() <= 4
