"""Empirical-Bayes smoothing of rates, so a tiny area with one event does not top the map.

A raw rate r_i = e_i / b_i (events per unit of base, here weighted incidents per km²) is
noisiest where the base is smallest: one incident in a 100 m² micro-grid is 10,000 per km².
The global empirical-Bayes estimator of Marshall (1991, "Mapping disease and mortality rates using
empirical Bayes estimators", *Applied Statistics* 40(2), 283-294, eqs. 6-8) shrinks each rate
towards the overall rate by how little its base can tell::

    m   = Σ e_i / Σ b_i                          (the overall rate)
    s²  = Σ b_i (r_i - m)² / Σ b_i               (the base-weighted variance of the rates)
    A   = max(s² - m / b̄, 0),  b̄ = Σ b_i / n     (the between-area variance; Poisson noise removed)
    C_i = A / (A + m / b_i)                       (the shrinkage factor, 0 = all noise, 1 = none)
    θ_i = m + C_i (r_i - m)

``esda.smoothing.Empirical_Bayes`` implements the same formula without the ``max(·, 0)`` that
Marshall prescribes when the rates vary less than Poisson noise would make them; there its
factor turns negative and pushes rates *away* from the mean, hence this module.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def empirical_bayes(events: ArrayLike, base: ArrayLike) -> NDArray[np.float64]:
    """Marshall's global empirical-Bayes rates (formula in the module docstring).

    Parameters
    ----------
    events
        Events per area (may be weighted, non-integer).
    base
        Base per area (area in km², or residents), all > 0.

    Returns
    -------
    numpy.ndarray
        The smoothed rate of each area, in events per unit of base; all zeros when there are no
        events.

    Raises
    ------
    ValueError
        If a base is not positive or the arrays differ in length.
    """
    e = np.asarray(events, dtype=np.float64)
    b = np.asarray(base, dtype=np.float64)
    if e.shape != b.shape:
        msg = f"events and base differ in shape: {e.shape} vs {b.shape}"
        raise ValueError(msg)
    if e.size == 0:
        return e.copy()
    if not (b > 0).all():
        msg = f"every base must be > 0, got min {b.min()!r}"
        raise ValueError(msg)
    m = e.sum() / b.sum()
    if m == 0:
        return np.zeros_like(e)
    r = e / b
    s2 = (b * (r - m) ** 2).sum() / b.sum()
    a = max(s2 - m / b.mean(), 0.0)
    c = a / (a + m / b)
    smoothed: NDArray[np.float64] = m + c * (r - m)
    return smoothed
