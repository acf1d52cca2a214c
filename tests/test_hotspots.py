"""Hot spots at province size, held to the libraries they stand in for (geo/risk/hotspots.py):
the contiguity graph is libpysal's vertex-set contiguity, and the permutation draws, p-values and
z-scores are esda's, bit for bit, for the same seed.

No database: the shapes are the demo district's real micro-grids (irregular, noded at 0.01 m),
awkward hand-made ones, and a 3,600-area grid with many tied values.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from esda.getisord import G_Local
from esda.significance import calculate_significance
from libpysal.graph import Graph
from numpy.typing import NDArray

from demo import DATA
from geo.risk.hotspots import contiguity, getis_ord_star, permutation_draws

SIDE = 60


def _grid() -> NDArray[np.object_]:
    """60 x 60 squares of 100 m, the last one moved far away (an island)."""
    cells = [
        shapely.box(c * 100.0, r * 100.0, (c + 1) * 100.0, (r + 1) * 100.0)
        for r in range(SIDE)
        for c in range(SIDE)
    ]
    cells[-1] = shapely.box(1e5, 1e5, 1e5 + 100.0, 1e5 + 100.0)
    return np.array(cells, dtype=object)


def _awkward() -> NDArray[np.object_]:
    """Shapes that break vertex-based contiguity in every way libpysal has a rule for."""
    wkt = [
        # 0: a square with a hole; 1 fills the hole (they share the ring's edges).
        "POLYGON ((0 0, 30 0, 30 30, 0 30, 0 0), (10 10, 20 10, 20 20, 10 20, 10 10))",
        "POLYGON ((10 10, 20 10, 20 20, 10 20, 10 10))",
        # 2: shares 0's right edge; 3 touches 2 at one corner only (queen, not rook).
        "POLYGON ((30 0, 60 0, 60 30, 30 30, 30 0))",
        "POLYGON ((60 30, 90 30, 90 60, 60 60, 60 30))",
        # 4: two parts, one on 0's top edge with -0.0 for 0, one on 3's right edge.
        "MULTIPOLYGON (((-0.0 30, 30 30, 30 60, -0.0 60, -0.0 30)),"
        " ((90 30, 120 30, 120 60, 90 60, 90 30)))",
        # 5: on 2's top edge but with an extra vertex in the middle: no common edge, two
        # common vertices (libpysal's rook misses it, its queen finds it).
        "POLYGON ((30 30, 45 30, 60 30, 60 60, 30 60, 30 30))",
        # 6: alone.
        "POLYGON ((500 500, 510 500, 510 510, 500 510, 500 500))",
        # 7-10: a fan of triangles meeting at (200, 200).
        "POLYGON ((200 200, 210 200, 200 210, 200 200))",
        "POLYGON ((200 200, 200 210, 190 200, 200 200))",
        "POLYGON ((200 200, 190 200, 200 190, 200 200))",
        "POLYGON ((200 200, 200 190, 210 200, 200 200))",
    ]
    return np.array([shapely.from_wkt(w) for w in wkt], dtype=object)


def _demo() -> NDArray[np.object_]:
    micro = gpd.read_file(DATA / "micro.geojson")
    return np.asarray(micro.geometry.to_numpy(), dtype=object)


def _libpysal(polygons: NDArray[np.object_], *, rook: bool) -> Graph:
    return Graph.build_contiguity(gpd.GeoSeries(polygons), rook=rook, strict=False)


@pytest.mark.parametrize("shapes", [_demo, _awkward, _grid])
@pytest.mark.parametrize("rook", [True, False])
def test_contiguity_is_libpysals(shapes: Callable[[], NDArray[np.object_]], rook: bool) -> None:
    polygons = shapes()
    ours = contiguity(polygons, rook=rook)
    pd.testing.assert_series_equal(ours.adjacency, _libpysal(polygons, rook=rook).adjacency)


def test_the_awkward_shapes_have_the_expected_neighbours() -> None:
    """The comparison above is only as good as its shapes: these are their neighbours."""
    polygons = _awkward()
    rook = contiguity(polygons, rook=True)
    queen = contiguity(polygons, rook=False)
    assert rook.neighbors[0] == (1, 2, 4)
    assert rook.neighbors[2] == (0,)  # 5's extra vertex leaves it no edge in common with 2
    assert rook.neighbors[3] == (4, 5)
    assert queen.neighbors[2] == (0, 3, 4, 5)
    assert queen.neighbors[7] == (8, 9, 10)
    assert rook.neighbors[7] == (8, 10)
    assert list(rook.isolates) == [6]
    assert list(queen.isolates) == [6]


def _esda(values: NDArray[np.float64], graph: Graph, seed: int) -> G_Local:
    """esda's own Gi* with its conditional permutations, simulations kept."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        return G_Local(
            values,
            graph,
            transform="B",
            permutations=199,
            star=True,
            keep_simulations=True,
            n_jobs=1,
            seed=seed,
        )


@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("rook", [True, False])
def test_draws_p_values_and_z_scores_are_esdas(ties: bool, rook: bool) -> None:
    """3,600 areas (one an island), mostly zero, with a planted cluster; with ``ties`` the
    values are whole counts (many equal sums), otherwise smoothed-looking reals."""
    polygons = _grid()
    rng = np.random.default_rng(23)
    counts = rng.poisson(0.3, len(polygons)).astype(float)
    for r in range(20, 26):
        counts[r * SIDE + 30 : r * SIDE + 36] += rng.poisson(6.0, 6)
    values = counts if ties else counts * rng.uniform(0.5, 1.5, len(polygons))
    graph = contiguity(polygons, rook=rook)
    reference = _esda(values, graph, seed=11)

    with np.errstate(divide="ignore", invalid="ignore"):
        weights = G_Local(values, graph, transform="B", permutations=0, star=True).w
    draws = permutation_draws(values, weights, permutations=199, seed=11)
    assert np.array_equal(draws, reference.rGs)

    hot = getis_ord_star(values, graph, permutations=199, seed=11, alpha=0.05)
    expected_p = calculate_significance(reference.Gs, reference.rGs, alternative="greater")
    expected_p[len(polygons) - 1] = 1.0  # the island
    assert np.array_equal(hot.p, expected_p)
    assert np.array_equal(hot.z, reference.Zs, equal_nan=True)
    # The planted cluster beats every draw (199 permutations: p = 1/200 at best).
    assert hot.p[22 * SIDE + 32] == 1 / 200
