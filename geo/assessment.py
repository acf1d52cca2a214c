"""Hazard assessments (LEC and LS) and their colour bands: the one place these rules live.

Two methods are in use in Chinese safety practice, and a hazard carries one of them:

LEC (作业条件危险性评价法, the Graham–Kinney method)
    D = L × E × C, with L the likelihood, E the exposure frequency and C the consequence, each
    taken from a fixed scale (Graham, K. J. & Kinney, G. F., "A practical safety analysis system
    for hazards control", *Journal of Safety Research* 12(1), 1980; the scales as used in Chinese
    practice, e.g. AQ/T 9002 guidance and the standard textbooks):
    L ∈ {10, 6, 3, 1, 0.5, 0.2, 0.1}, E ∈ {10, 6, 3, 2, 1, 0.5}, C ∈ {100, 40, 15, 7, 3, 1}.
    The usual bands are D > 320 extremely dangerous, 160–320 highly dangerous, 70–160 notably
    dangerous, 20–70 ordinary, < 20 slight; gridsafe folds the last two into blue.
LS (风险矩阵, the likelihood × severity matrix, e.g. GB/T 27921-2011 风险评估技术)
    R = L × S with L and S integers 1–5. Common bands: R ≥ 20 major (red), 15–19 large (orange),
    9–14 general (yellow), < 9 low (blue).

Sources differ on the bands, so the thresholds are settings (``settings.risk.lec_*_min`` and
``settings.risk.ls_*_min``); the defaults are the ones above.
The allowed L/E/C values are not settings: they are the method itself.

The risk engine and the importers both use this module, so a value that is valid at import is
exactly a value the risk engine can score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from geo.settings import RiskSettings

__all__ = [
    "LEC_C",
    "LEC_E",
    "LEC_L",
    "LS_VALUES",
    "Assessment",
    "Colour",
    "Method",
    "band_bounds",
    "bands",
    "classify",
    "parse_method",
    "validate_lec",
    "validate_ls",
    "worst",
]

LEC_L: tuple[float, ...] = (10, 6, 3, 1, 0.5, 0.2, 0.1)
"""Allowed LEC likelihood values (Graham–Kinney scale)."""
LEC_E: tuple[float, ...] = (10, 6, 3, 2, 1, 0.5)
"""Allowed LEC exposure-frequency values (Graham–Kinney scale)."""
LEC_C: tuple[float, ...] = (100, 40, 15, 7, 3, 1)
"""Allowed LEC consequence values (Graham–Kinney scale)."""
LS_VALUES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Allowed LS likelihood and severity values (5 × 5 risk matrix)."""


class Method(StrEnum):
    """An assessment method; the value is the word stored in ``hazards.method``."""

    LEC = "LEC"
    LS = "LS"


class Colour(StrEnum):
    """The four colours of the safety map (四色安全图谱), part of the public interface."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def severity(self) -> int:
        """3 for red down to 0 for blue: larger is worse."""
        return _SEVERITY[self.value]


_SEVERITY = {"red": 3, "orange": 2, "yellow": 1, "blue": 0}
"""Built once: a risk run asks for severities millions of times."""


def worst(colours: Iterable[Colour]) -> Colour:
    """The worst of some colours (blue when there are none: nothing known against the area)."""
    return max(colours, key=lambda c: c.severity, default=Colour.BLUE)


def parse_method(value: object) -> Method:
    """Parse ``LEC`` / ``LS`` (any case, surrounding spaces ignored); ValueError names the value."""
    text = str(value).strip().upper() if value is not None else ""
    for method in Method:
        if text == method.value:
            return method
    msg = f"unknown assessment method {value!r}: use LEC or LS"
    raise ValueError(msg)


def _fmt(values: Iterable[float]) -> str:
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def _pick(name: str, value: float, allowed: tuple[float, ...]) -> float:
    """Return ``value`` if it is on the scale (within float noise), else raise naming both."""
    if not math.isfinite(value):
        msg = f"{name} = {value!r} is not a number; allowed: {_fmt(allowed)}"
        raise ValueError(msg)
    for candidate in allowed:
        if math.isclose(value, candidate, rel_tol=1e-9, abs_tol=1e-12):
            return float(candidate)
    msg = f"{name} = {value:g} is not on the scale; allowed: {_fmt(allowed)}"
    raise ValueError(msg)


def validate_lec(l_value: float, e_value: float, c_value: float) -> tuple[float, float, float]:
    """Check an LEC triple against the Graham–Kinney scales.

    Parameters
    ----------
    l_value, e_value, c_value
        Likelihood, exposure and consequence.

    Returns
    -------
    tuple of float
        The three values snapped to the exact scale values (so ``0.5000000001`` becomes ``0.5``).

    Raises
    ------
    ValueError
        Naming the first offending value and the allowed set, e.g.
        ``"LEC L = 7 is not on the scale; allowed: {10, 6, 3, 1, 0.5, 0.2, 0.1}"``.
    """
    return (
        _pick("LEC L", float(l_value), LEC_L),
        _pick("LEC E", float(e_value), LEC_E),
        _pick("LEC C", float(c_value), LEC_C),
    )


def validate_ls(l_value: float, s_value: float) -> tuple[int, int]:
    """Check an LS pair: both integers 1–5; ValueError names the offending value and the set."""
    allowed = tuple(float(v) for v in LS_VALUES)
    return (
        int(_pick("LS L", float(l_value), allowed)),
        int(_pick("LS S", float(s_value), allowed)),
    )


def bands(method: Method, risk: RiskSettings) -> tuple[float, float, float]:
    """The (red, orange, yellow) lower bounds of a method's score bands, from the risk settings.

    A score ``>= red`` is red, ``>= orange`` orange, ``>= yellow`` yellow, anything lower blue.

    Raises
    ------
    ValueError
        If the configured bounds are not strictly decreasing (the bands would overlap).
    """
    if method is Method.LEC:
        bounds = (
            risk.lec_red_min,
            risk.lec_orange_min,
            risk.lec_yellow_min,
        )
    else:
        bounds = (
            risk.ls_red_min,
            risk.ls_orange_min,
            risk.ls_yellow_min,
        )
    if not bounds[0] > bounds[1] > bounds[2]:
        msg = f"{method.value} band bounds must decrease red > orange > yellow, got {bounds}"
        raise ValueError(msg)
    return bounds


def band_bounds(risk: RiskSettings) -> dict[str, list[float]]:
    """Both methods' band bounds as the SQL functions take them: ``lec_bands`` and ``ls_bands``.

    ``hazard_colour(method, score, :lec_bands, :ls_bands)`` (migration ``r0015``) colours a
    score in SQL as :func:`classify` does here (tests/test_rules.py compares them).
    """
    return {f"{m.value.lower()}_bands": [float(b) for b in bands(m, risk)] for m in Method}


def classify(method: Method, score: float, risk: RiskSettings) -> Colour:
    """The colour of a hazard score under the configured bands (see :func:`bands`)."""
    red, orange, yellow = bands(method, risk)
    if score >= red:
        return Colour.RED
    if score >= orange:
        return Colour.ORANGE
    if score >= yellow:
        return Colour.YELLOW
    return Colour.BLUE


@dataclass(frozen=True)
class Assessment:
    """A validated hazard assessment.

    Build it with :meth:`lec` or :meth:`ls`, which validate; ``values`` is (L, E, C) or (L, S).
    """

    method: Method
    values: tuple[float, ...]

    @classmethod
    def lec(cls, l_value: float, e_value: float, c_value: float) -> Assessment:
        """An LEC assessment; ValueError if a value is off its scale."""
        return cls(Method.LEC, validate_lec(l_value, e_value, c_value))

    @classmethod
    def ls(cls, l_value: float, s_value: float) -> Assessment:
        """An LS assessment; ValueError if a value is not an integer 1–5."""
        return cls(Method.LS, tuple(float(v) for v in validate_ls(l_value, s_value)))

    @property
    def score(self) -> float:
        """D = L × E × C for LEC, R = L × S for LS."""
        return math.prod(self.values)

    def colour(self, risk: RiskSettings) -> Colour:
        """The colour of this assessment under the configured bands."""
        return classify(self.method, self.score, risk)
