"""Hot spots: Getis-Ord Gi* on micro-grid contiguity, permutation p-values, FDR control.

The statistic (Getis & Ord 1992, *Geographical Analysis* 24(3); Ord & Getis 1995, eq. 1.3)::

    G*_i = Σ_j w_ij x_j / Σ_j x_j

with binary contiguity weights w_ij = 1 for i itself and each micro-grid sharing an edge (rook)
or an edge or corner (queen) with it. A high G*_i means area i *and its neighbours* are high: a
cluster, not one area.

Significance is by conditional permutation (Anselin 1995, "Local indicators of spatial
association", *Geographical Analysis* 27(2)): x_i stays, its neighbours are drawn at random from
the other areas, ``permutations`` times with a fixed seed, and the one-sided pseudo p-value is
(#{G*_sim >= G*_obs} + 1) / (permutations + 1). esda's default "directed" p-value folds the test
towards whichever tail the statistic sits in; with many tied zeros that calls a lone non-zero
area whose neighbours are all zero "significant" (every draw ties or beats it, so the fold counts
none), so the greater-than p-value is computed here from esda's draws (see
:func:`permutation_draws`). An area with no neighbour cannot form a cluster and gets p = 1.

Hundreds of areas tested at once make chance discoveries certain; the cut-off is chosen by the
Benjamini-Hochberg false-discovery rate (esda.fdr; Caldas de Castro & Singer 2006, *Geographical
Analysis* 38(2), for local statistics).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import esda
import numpy as np
import shapely
from esda.crand import vec_permutations
from esda.getisord import G_Local
from esda.significance import calculate_significance
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy import sparse

_DRAWS_AT_ONCE = 2_000_000
"""Drawn values held at once by the permutation test (16 MB): areas go through in chunks."""


@dataclass(frozen=True)
class HotSpots:
    """Gi* of every area, in the order of the input.

    Attributes
    ----------
    z
        The analytical z-score of G*_i (its sign tells hot from cold).
    p
        The one-sided (hot) conditional-permutation pseudo p-value.
    fdr_p
        The p-value cut-off that keeps the false-discovery rate at alpha.
    significant
        ``p <= fdr_p`` and ``z > 0``: a hot spot.
    """

    z: NDArray[np.float64]
    p: NDArray[np.float64]
    fdr_p: float
    significant: NDArray[np.bool_]


def contiguity(polygons: NDArray[np.object_], *, rook: bool) -> Graph:
    """Contiguity graph of polygons: libpysal's vertex-set contiguity, built with numpy.

    The same graph as ``libpysal.graph.Graph.build_contiguity(polygons, rook=rook,
    strict=False)`` (tests/test_hotspots.py checks it on real and awkward shapes): two
    polygons are queen neighbours when they have a vertex with the same coordinates, rook
    neighbours when they have an edge (two consecutive vertices of one part, in either
    direction) with the same coordinates; a polygon with neither is an isolate (a self-loop of
    weight 0, libpysal's convention). libpysal finds them with a Python dictionary over every
    vertex (most of a province's contiguity time); here the shared vertices or edges are found
    by sorting their coordinates.

    Parameters
    ----------
    polygons
        The micro-grids (shapely polygons or multipolygons), in the order the values will come
        in; the graph's ids are their positions.
    rook
        True: neighbours share an edge; False (queen): an edge or a corner.
    """
    n = len(polygons)
    coords, owner = shapely.get_coordinates(polygons, return_index=True)
    if rook:
        # An edge joins two consecutive vertices of one part (not the last vertex of one part
        # to the first of the next: libpysal's exploded parts); its ends in coordinate order.
        _, part = shapely.get_coordinates(shapely.get_parts(polygons), return_index=True)
        inside = part[:-1] == part[1:]
        start, end = coords[:-1][inside], coords[1:][inside]
        ordered = (start[:, 0] < end[:, 0]) | (
            (start[:, 0] == end[:, 0]) & (start[:, 1] <= end[:, 1])
        )
        low = np.where(ordered[:, None], start, end)
        high = np.where(ordered[:, None], end, start)
        keys = np.column_stack([low, high])
        owner = owner[:-1][inside]
    else:
        keys = coords
    heads, tails = _sharing(keys, owner, n)
    weights = np.ones(len(heads), dtype=np.int64)
    linked = np.zeros(n, dtype=bool)
    linked[heads] = True
    isolates = np.flatnonzero(~linked)
    heads = np.concatenate([heads, isolates])
    tails = np.concatenate([tails, isolates])
    weights = np.concatenate([weights, np.zeros(len(isolates), dtype=np.int64)])
    # Each focal's neighbours are in ascending order and the isolates join in theirs: the
    # canonical order libpysal would otherwise sort the table into.
    order = np.argsort(heads, kind="stable")
    return Graph.from_arrays(heads[order], tails[order], weights[order], is_sorted=True)


def _sharing(
    keys: NDArray[np.float64], owner: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every ordered pair (a, b), a != b, of owners with a row of ``keys`` in common, sorted.

    Rows compare as numbers (-0.0 equals 0.0), as libpysal's coordinate tuples do.
    """
    order = np.lexsort((owner, *keys.T[::-1]))
    keys, owner = keys[order], owner[order]
    new_key = np.ones(len(owner), dtype=bool)
    new_key[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    # One row per (key, owner): a polygon's closing vertex repeats its first.
    keep = new_key.copy()
    keep[1:] |= owner[1:] != owner[:-1]
    new_key, owner = new_key[keep], owner[keep]
    group = np.cumsum(new_key) - 1
    first = np.flatnonzero(new_key)
    size = np.diff(np.append(first, len(owner)))[group]
    # Each member paired with every member of its group (itself included, dropped below).
    member = np.repeat(np.arange(len(owner)), size)
    offset = np.arange(len(member)) - np.repeat(np.cumsum(size) - size, size)
    other = first[group][member] + offset
    heads, tails = owner[member], owner[other]
    # Sorted and deduplicated by hand: numpy's hash-based unique took seconds on these keys.
    pairs = np.sort(heads[heads != tails] * n + tails[heads != tails])
    pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs
    return pairs // n, pairs % n


def permutation_draws(
    y: NDArray[np.float64], weights: Graph, *, permutations: int, seed: int
) -> NDArray[np.float64]:
    """G*_i of each conditional permutation of each area (n rows of ``permutations``): esda's
    conditional randomisation (``esda.crand.crand`` with esda's Gi* statistic,
    ``esda.getisord._g_local_star_crand``), all areas at once.

    crand draws one table of neighbour ids (``vec_permutations``: ``permutations`` rows of as
    many ids as the largest cardinality, from ``seed``). For area i with c neighbours it reads,
    in each row, the values at the first c ids among the n - 1 other areas (id k is area k below
    i and area k + 1 from i on), and the draw's statistic is::

        (drawn values @ i's neighbour weights + i's self-weight * y_i) / Σ y

    an island taking one draw weighted 0 and a self-weight of 0. esda runs this in a Python
    loop over the areas (without numba, most of a province's Gi* time); here the areas of one
    cardinality go through together. The values, products and sums are the same (numpy's
    stacked matmul makes, per area, the BLAS call esda's ``@`` makes), so the draws are esda's
    bit for bit (tests/test_hotspots.py).

    Parameters
    ----------
    y
        The values, one per area.
    weights
        The weights Gi* uses: contiguity with each area's self-weight, transformed as the
        statistic is (``G_Local(...).w``).
    permutations, seed
        As for esda.
    """
    n = len(y)
    adjacency = sparse.csr_array(weights.sparse, copy=True)
    self_weights = adjacency.diagonal()
    with warnings.catch_warnings():  # as crand: zeroing a sparse diagonal warns of its cost
        warnings.simplefilter("ignore")
        adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    other_weights = adjacency.data.astype(y.dtype)
    cardinality = np.diff(adjacency.indptr)
    draws = np.zeros((n, permutations))
    if cardinality.max() == 0:  # every area an island: every draw weighs 0
        return draws
    permuted = vec_permutations(cardinality.max(), n, permutations, seed)
    island = cardinality == 0
    size = np.where(island, 1, cardinality)
    own = np.where(island, 0.0, self_weights) * y
    scaling = y.sum()
    for c in np.unique(size).tolist():
        areas = np.flatnonzero(size == c)
        weights_c = np.zeros((len(areas), c))  # an island's one draw weighs 0
        linked = ~island[areas]
        weights_c[linked] = other_weights[adjacency.indptr[areas[linked]][:, None] + np.arange(c)]
        ids = permuted[:, :c]
        below, above = y[ids], y[ids + 1]
        step = max(1, _DRAWS_AT_ONCE // (permutations * c))
        for start in range(0, len(areas), step):
            chunk = areas[start : start + step]
            drawn = np.where(ids >= chunk[:, None, None], above, below)
            sums = np.matmul(drawn, weights_c[start : start + step, :, None])[:, :, 0]
            draws[chunk] = (sums + own[chunk, None]) / scaling
    return draws


def getis_ord_star(
    values: NDArray[np.float64],
    graph: Graph,
    *,
    permutations: int,
    seed: int,
    alpha: float,
) -> HotSpots:
    """Gi* of ``values`` on ``graph`` with FDR-controlled permutation significance.

    Parameters
    ----------
    values
        Non-negative values, one per area, in the graph's order.
    graph
        Contiguity among the areas (see :func:`contiguity`).
    permutations
        Conditional permutations per area.
    seed
        Seed of the permutations.
    alpha
        The false-discovery rate.

    Returns
    -------
    HotSpots
        Nothing is significant when every value is zero or there are fewer than three areas.
    """
    n = len(values)
    y = np.asarray(values, dtype=np.float64)
    if n < 3 or not (y > 0).any():
        return HotSpots(
            z=np.zeros(n), p=np.ones(n), fdr_p=alpha / max(n, 1), significant=np.zeros(n, bool)
        )
    # An isolated area has no spread, so esda's arithmetic may divide by zero there; its p is
    # set to 1 below. esda's own p-values (permutations=0 here) are not used: see the module
    # docstring and permutation_draws.
    with np.errstate(divide="ignore", invalid="ignore"):
        gi = G_Local(y, graph, transform="B", permutations=0, star=True, seed=seed)
    draws = permutation_draws(y, gi.w, permutations=permutations, seed=seed)
    p = np.asarray(calculate_significance(gi.Gs, draws, alternative="greater"), dtype=float)
    isolated = graph.cardinalities.to_numpy() == 0
    p[isolated] = 1.0
    z = np.asarray(gi.Zs, dtype=float)
    fdr_p = float(esda.fdr(p, alpha))
    return HotSpots(z=z, p=p, fdr_p=fdr_p, significant=(p <= fdr_p) & (z > 0))
