"""From intensity and hot spots to an incident colour, and the 0-100 score of an area.

Incident colour of a micro-grid (settings ``risk_incident_quantiles`` or
``risk_incident_thresholds``, ``risk_fdr_alpha``):

1. A micro-grid with no incident in the window is blue for incidents.
2. Otherwise its *tier* is where its smoothed intensity (geo/risk/smoothing.py) falls among the
   (red, orange, yellow) bounds: by default the 90th, 75th and 50th percentiles of the smoothed
   intensity over the micro-grids that have incidents; below the last, blue.
3. Red needs evidence of a cluster: a red-tier micro-grid that is not a Gi* hot spot after FDR
   control (geo/risk/hotspots.py) is shown orange. A chance peak in one small area can reach
   orange, never red.

The area's colour is the worse of its hazard and incident colours (a hazard is no less dangerous
for a quiet street, a crime cluster no less for a safe building). The score puts the colour
first and the incident pressure second, so that sorting by score sorts by colour::

    score = 25 · severity(colour) + 25 · (share of micro-grids with a lower smoothed intensity)

(blue 0-25, yellow 25-50, orange 50-75, red 75-100). A parent's score is the area-weighted mean
of its micro-grids' scores, i.e. how red it is on average: it tells apart parents that 就高 gives
the same colour (docs/decisions/0002-jiugao-roll-up.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from geo.assessment import Colour
from geo.settings import RiskSettings

TIERS: tuple[Colour, Colour, Colour] = (Colour.RED, Colour.ORANGE, Colour.YELLOW)


def incident_bounds(
    smoothed: NDArray[np.float64], affected: NDArray[np.bool_], risk: RiskSettings
) -> tuple[float, float, float]:
    """The (red, orange, yellow) lower bounds of smoothed intensity per km².

    Fixed thresholds when ``risk_incident_thresholds`` is set, otherwise the configured
    quantiles of the affected micro-grids' values (infinite when none is affected).

    Raises
    ------
    ValueError
        If the configured quantiles or thresholds do not decrease from red to yellow.
    """
    fixed = risk.risk_incident_thresholds
    if fixed is not None:
        if not fixed[0] > fixed[1] > fixed[2] >= 0:
            msg = f"risk_incident_thresholds must decrease red > orange > yellow >= 0, got {fixed}"
            raise ValueError(msg)
        return (float(fixed[0]), float(fixed[1]), float(fixed[2]))
    qs = risk.risk_incident_quantiles
    if not 1 >= qs[0] > qs[1] > qs[2] >= 0:
        msg = f"risk_incident_quantiles must decrease red > orange > yellow in [0, 1], got {qs}"
        raise ValueError(msg)
    values = smoothed[affected]
    if values.size == 0:
        return (np.inf, np.inf, np.inf)
    red, orange, yellow = np.quantile(values, qs)
    return (float(red), float(orange), float(yellow))


def incident_tiers(
    smoothed: NDArray[np.float64],
    affected: NDArray[np.bool_],
    bounds: tuple[float, float, float],
) -> NDArray[np.int64]:
    """The tier of each micro-grid before the significance gate (steps 1-2 above), as the
    severity of its colour (:attr:`Colour.severity`: 3 red down to 0 blue)."""
    tiers = np.zeros(len(smoothed), dtype=np.int64)
    # Yellow, then orange, then red: the worst tier reached is the one kept.
    for colour, bound in reversed(list(zip(TIERS, bounds, strict=True))):
        tiers[affected & (smoothed >= bound)] = colour.severity
    return tiers


def gate(tiers: NDArray[np.int64], significant: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Step 3 (severities as :func:`incident_tiers`'): red only for a significant hot spot,
    otherwise at most orange."""
    capped: NDArray[np.int64] = np.where(
        (tiers == Colour.RED.severity) & ~significant, Colour.ORANGE.severity, tiers
    )
    return capped


def lower_share(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """For each value, the share of all values strictly below it (0 for the smallest)."""
    if values.size == 0:
        return np.zeros(0)
    below: NDArray[np.float64] = (rankdata(values, method="min") - 1) / values.size
    return below


def score(severity: NDArray[np.int64], lower: NDArray[np.float64]) -> NDArray[np.float64]:
    """The 0-100 score of each colour severity: 25 per colour step, plus 25 × the share of lower
    intensities."""
    scores: NDArray[np.float64] = 25.0 * severity + 25.0 * lower
    return scores
