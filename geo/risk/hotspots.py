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
none), so the greater-than p-value is computed here from esda's simulations. An area with no
neighbour cannot form a cluster and gets p = 1.

Hundreds of areas tested at once make chance discoveries certain; the cut-off is chosen by the
Benjamini-Hochberg false-discovery rate (esda.fdr; Caldas de Castro & Singer 2006, *Geographical
Analysis* 38(2), for local statistics).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import esda
import geopandas as gpd
import numpy as np
from esda.crand import crand
from esda.getisord import G_Local
from esda.significance import calculate_significance
from libpysal.graph import Graph
from numpy.typing import NDArray


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


def contiguity(polygons: gpd.GeoSeries, *, rook: bool) -> Graph:
    """Contiguity graph of polygons (libpysal), built once per computation.

    Parameters
    ----------
    polygons
        The micro-grids, in the order the values will come in.
    rook
        True: neighbours share an edge; False (queen): an edge or a corner.
    """
    return Graph.build_contiguity(polygons.reset_index(drop=True), rook=rook, strict=False)


def _gi_star_draws(
    i: int,
    z: NDArray[np.float64],
    permuted_ids: NDArray[np.int64],
    weights_i: NDArray[np.float64],
    scaling: float,
) -> NDArray[np.float64]:
    """G*_i of each conditional permutation: esda's ``_g_local_star_crand``, same arithmetic.

    esda draws the neighbours from the other areas by indexing a copy of ``z`` without
    element i, made for every area (n copies of n values: most of a province's Gi* time
    without numba). Id k of that copy is element k of ``z`` below i and k + 1 from i on, so the
    same values are read straight from ``z``.
    """
    self_weight = weights_i[0]
    other_weights = weights_i[1:]
    cardinality = len(other_weights)
    ids = permuted_ids[:, :cardinality].flatten()
    drawn = z[ids + (ids >= i)].reshape(-1, cardinality)
    out: NDArray[np.float64] = (drawn @ other_weights + self_weight * z[i]) / scaling
    return out


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
    # esda's default p-value (the one it warns will change) is not used here (see the module
    # docstring): the greater-than one is computed from the simulations. An isolated area has
    # no spread, so esda's arithmetic may divide by zero there; its p is set to 1 below.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        gi = G_Local(y, graph, transform="B", permutations=0, star=True, seed=seed)
        # esda's own conditional randomisation (esda.crand), with the same permuted ids and
        # the same arithmetic, so the simulations are esda's bit for bit; only the statistic
        # of one draw is found without copying all n values per area (see _gi_star_draws).
        _, simulations = crand(
            y,
            gi.w,
            gi.Gs,
            permutations,
            True,
            n_jobs=1,
            stat_func=_gi_star_draws,
            scaling=y.sum(),
            seed=seed,
            island_weight=0,
            alternative="greater",
        )
    p = np.asarray(calculate_significance(gi.Gs, simulations, alternative="greater"), dtype=float)
    isolated = graph.cardinalities.to_numpy() == 0
    p[isolated] = 1.0
    z = np.asarray(gi.Zs, dtype=float)
    fdr_p = float(esda.fdr(p, alpha))
    return HotSpots(z=z, p=p, fdr_p=fdr_p, significant=(p <= fdr_p) & (z > 0))
