"""One computation of the four-colour map as of an instant: micro-grids first, then the roll-up.

Micro-grid i (docs/architecture.md, "A risk run"):

- hazard colour: the worst colour of the hazards counting in i (geo/risk/hazards.py);
- incident colour: from its weighted, decayed incidents (geo/risk/intensity.py), smoothed per km²
  (geo/risk/smoothing.py), tiered and gated by Gi* significance (geo/risk/colours.py,
  geo/risk/hotspots.py);
- colour: the worse of the two; score: see geo/risk/colours.py.

A parent takes the worst colour of its micro-grids (hence of its children; 就高,
docs/decisions/0002-jiugao-roll-up.md) and the area-weighted mean of their scores. Every area
carries its reasons: the ranked hazards, the incident counts by type, and for a parent its worst
children.
"""

from __future__ import annotations

import gc
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Engine

from geo import clock
from geo.assessment import Colour, worst
from geo.database import sql
from geo.errors import InputError, NotFoundError
from geo.levels import LEVEL_ORDER, Level
from geo.risk.colours import gate, incident_bounds, incident_tiers, lower_share, score
from geo.risk.hazards import ScoredHazard, counting_hazards, rank_key
from geo.risk.hotspots import HotSpots, contiguity, getis_ord_star
from geo.risk.intensity import incident_groups
from geo.risk.smoothing import empirical_bayes
from geo.settings import RiskSettings, Settings


@dataclass
class AreaRisk:
    """The colour of one area in one computation, with what is behind it."""

    code: str
    name: str
    level: Level
    area_m2: float
    colour: Colour
    score: float
    hazard_colour: Colour
    incident_colour: Colour
    intensity_km2: float
    smoothed_km2: float | None
    per_1000: float | None
    gi_z: float | None
    gi_p: float | None
    significant: bool | None
    reasons: dict[str, Any] = field(default_factory=dict)


@dataclass
class RiskResult:
    """A whole computation: every area of the region, the settings applied, a summary."""

    region: str
    as_of: datetime
    params: dict[str, Any]
    summary: dict[str, Any]
    areas: list[AreaRisk]

    def by_code(self) -> dict[str, AreaRisk]:
        """The areas keyed by code."""
        return {a.code: a for a in self.areas}

    def level(self, level: Level) -> list[AreaRisk]:
        """The areas of one level."""
        return [a for a in self.areas if a.level is level]


def as_of_instant(value: date | datetime | None, timezone: str) -> datetime:
    """The instant a computation is as of: a date means the end of that day in ``timezone``.

    ``None`` is now; a naive datetime is read in ``timezone``.
    """
    tz = clock.zone(timezone)
    if value is None:
        return clock.now(timezone)
    if not clock.supported(value):
        raise InputError(f"as of {clock.outside_message(value)}")
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return datetime.combine(value, time.max, tzinfo=tz)


_BY_SEVERITY = {c.severity: c for c in Colour}


def _worst_of(severities: NDArray[np.int64]) -> Colour:
    """The worst colour of some severities (blue when there are none), as :func:`worst`."""
    return _BY_SEVERITY[int(severities.max(initial=0))]


def _colour_from(hazard: Colour, incident: Colour) -> str:
    if hazard is Colour.BLUE and incident is Colour.BLUE:
        return "none"
    if hazard.severity == incident.severity:
        return "both"
    return "hazards" if hazard.severity > incident.severity else "incidents"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the reasons are built.

    A province's reasons are over half a million small dicts and lists, none of them in a
    cycle. Making them set off full collections that walked every live object (the tables
    read, the areas done so far) and cost two to four times the making (measured); reference
    counting frees them all the same, and the collector is back on at the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Stopwatch:
    """Seconds per step, added to a caller's dict (nothing is kept without one)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self.last = perf_counter()

    def lap(self, step: str) -> None:
        now = perf_counter()
        if self.into is not None:
            self.into[step] = self.into.get(step, 0.0) + now - self.last
        self.last = now


TypeCounts = dict[str, tuple[int, float]]
"""Incident type -> (count, weighted intensity) of one area."""


def _incident_reasons_by_area(placed: pd.DataFrame, index: dict[str, int]) -> list[list[Any]]:
    """Each micro-grid's incident reasons (as :func:`_incident_reasons` ranks them), in
    ``index`` order.

    Sorted once for all areas (area, then heaviest first) and cut at the area boundaries: a
    province has half a million (micro-grid, type) groups.
    """
    out: list[list[Any]] = [[] for _ in index]
    if placed.empty:
        return out
    at = placed["area_code"].map(index).to_numpy(dtype=np.int64)
    kinds = pd.Categorical(placed["type"].astype(str))  # categories sort as Python sorts str
    n = placed["n"].to_numpy(dtype=np.int64)
    w = placed["weighted"].to_numpy(dtype=np.float64)
    order = np.lexsort((kinds.codes, -n, -w, at))
    names = np.asarray(kinds.categories, dtype=object)[kinds.codes[order]].tolist()
    entries = [
        {"type": kind, "count": c, "weighted": v}
        for kind, c, v in zip(names, n[order].tolist(), _rounded(w[order]), strict=True)
    ]
    at_sorted = at[order]
    cuts = np.flatnonzero(np.diff(at_sorted)) + 1
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(entries)]
    for i, start, end in zip(at_sorted[starts].tolist(), starts, ends, strict=True):
        out[i] = entries[start:end]
    return out


def _totals_by_parent(
    placed: pd.DataFrame, index: dict[str, int], ancestors: list[list[str]]
) -> dict[str, TypeCounts]:
    """Counts and weighted intensity by type summed over each parent's micro-grids.

    ``ancestors`` lists each micro-grid's parents, in ``index`` order. The sums run in the
    order a loop over the micro-grids (in ``index`` order, each one's types as they come) adds
    them, and each parent's types are listed in the order that loop meets them, so the floats
    are the plain loop's, bit for bit (``np.bincount`` adds in input order).
    """
    if placed.empty:
        return {}
    at = placed["area_code"].map(index).to_numpy(dtype=np.int64)
    order = np.argsort(at, kind="stable")
    at = at[order]
    kinds = pd.Categorical(placed["type"].astype(str).to_numpy()[order])
    n = placed["n"].to_numpy(dtype=np.int64)[order]
    w = placed["weighted"].to_numpy(dtype=np.float64)[order]
    parents = sorted({code for chain in ancestors for code in chain})
    if not parents:
        return {}
    parent_at = {code: k for k, code in enumerate(parents)}
    # Each group row repeated once per parent of its micro-grid, in row order.
    per_micro = np.array([len(chain) for chain in ancestors], dtype=np.int64)
    flat = np.array([parent_at[c] for chain in ancestors for c in chain], dtype=np.int64)
    first = np.cumsum(per_micro) - per_micro
    times = per_micro[at]
    row = np.repeat(np.arange(len(at)), times)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(times) - times, times)
    parent = flat[first[at][row] + offset]
    n_types = len(kinds.categories)
    key = parent * n_types + kinds.codes[row].astype(np.int64)
    size = len(parents) * n_types
    sums_n = np.bincount(key, weights=n[row].astype(np.float64), minlength=size)
    sums_w = np.bincount(key, weights=w[row], minlength=size)
    keys, met = np.unique(key, return_index=True)
    names = [str(c) for c in kinds.categories]
    out: dict[str, TypeCounts] = defaultdict(dict)
    for k in keys[np.argsort(met, kind="stable")].tolist():
        out[parents[k // n_types]][names[k % n_types]] = (int(sums_n[k]), float(sums_w[k]))
    return out


def _incident_reasons(counts: TypeCounts) -> list[dict[str, Any]]:
    """Counts and weighted intensity by type, heaviest first."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return [
        {"type": kind, "count": n, "weighted": round(weighted, 4)} for kind, (n, weighted) in ranked
    ]


def _params(risk: RiskSettings, as_of: datetime) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "half_life_days": risk.risk_half_life_days,
        "window_days": risk.risk_window_days,
        "type_weights": dict(risk.risk_type_weights),
        "incident_quantiles": list(risk.risk_incident_quantiles),
        "incident_thresholds": (
            list(risk.risk_incident_thresholds)
            if risk.risk_incident_thresholds is not None
            else None
        ),
        "fdr_alpha": risk.risk_fdr_alpha,
        "permutations": risk.risk_permutations,
        "seed": risk.risk_seed,
        "contiguity": risk.risk_contiguity,
        "lec_bands": [
            risk.lec_red_min,
            risk.lec_orange_min,
            risk.lec_yellow_min,
        ],
        "ls_bands": [
            risk.ls_red_min,
            risk.ls_orange_min,
            risk.ls_yellow_min,
        ],
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    """Round for the reasons; JSON has no NaN or infinity, so those become null."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _rounded(values: NDArray[np.float64], digits: int = 4) -> list[float | None]:
    """:func:`_round` of each value, the same floats, without a Python call per value.

    Python's ``round(x, d)`` is the double nearest to x rounded to d decimals (half to even, on
    x's exact value); numpy's ``rint(x · 10^d) / 10^d`` is the same double unless x · 10^d,
    itself rounded, lies within a rounding error of a half, or is too large to keep a fraction
    (or is not finite): those few go through :func:`_round`. A province has close to a million
    values to round, and ``round`` costs a decimal conversion each.
    """
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        out: list[float | None] = (np.rint(scaled) / scale).tolist()
        near_half = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) <= 4 * np.spacing(
            np.abs(scaled)
        )
        slow = near_half | ~(np.abs(scaled) < 2.0**52)
    for i in np.flatnonzero(slow).tolist():
        out[i] = _round(float(values[i]), digits)
    return out


def compute_risk(
    engine: Engine,
    settings: Settings,
    *,
    as_of: datetime,
    steps: dict[str, float] | None = None,
) -> RiskResult:
    """Colour every area of ``settings.region`` as of ``as_of``, using only what was known then.

    Nothing is written; :func:`geo.risk.store.store_run` keeps a result.

    Parameters
    ----------
    steps
        When given, the seconds each step took are added to it by step name (``read``,
        ``hazards``, ``incidents``, ``contiguity``, ``gi*``, ``statistics``, ``micro-grids``,
        ``roll-up``): the benchmark's breakdown.

    Raises
    ------
    NotFoundError
        The region has no micro-grids to colour.
    """
    region = settings.region
    watch = _Stopwatch(steps)
    with engine.connect() as conn:
        rows = conn.execute(
            sql("risk_areas", "geo.risk"), {"region": region, "levels": LEVEL_ORDER}
        ).all()
        watch.lap("read")
        hazards, invalid = counting_hazards(conn, settings.risk, region=region, as_of=as_of)
        watch.lap("hazards")
        groups = incident_groups(conn, settings.risk, region=region, as_of=as_of)
        watch.lap("incidents")
    micro_rows = [r for r in rows if r.level == Level.MICRO.value]
    if not micro_rows:
        msg = f"region {region!r} has no micro-grids to colour; import the boundaries first"
        raise NotFoundError(msg)

    codes = [r.code for r in micro_rows]
    index = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    area_km2 = np.array([r.area_m2 for r in micro_rows], dtype=float) / 1e6
    population = np.array(
        [r.population if r.population else np.nan for r in micro_rows], dtype=float
    )
    placed = groups[groups["area_code"].isin(index)]
    sums = placed.groupby("area_code")[["weighted", "n"]].sum().reindex(codes, fill_value=0)
    weighted_v = sums["weighted"].to_numpy(dtype=float)
    counts_v = sums["n"].to_numpy(dtype=np.int64)
    affected = counts_v > 0
    intensity = weighted_v / area_km2
    with np.errstate(divide="ignore", invalid="ignore"):
        per_1000 = np.where(population > 0, weighted_v / population * 1000.0, np.nan)
    smoothed = empirical_bayes(weighted_v, area_km2)

    polygons = shapely.from_wkb([bytes(r.wkb) for r in micro_rows])
    graph = contiguity(polygons, rook=settings.risk.risk_contiguity == "rook")
    watch.lap("contiguity")
    hot = getis_ord_star(
        smoothed,
        graph,
        permutations=settings.risk.risk_permutations,
        seed=settings.risk.risk_seed,
        alpha=settings.risk.risk_fdr_alpha,
    )
    watch.lap("gi*")
    bounds = incident_bounds(smoothed, affected, settings.risk)
    tiers = incident_tiers(smoothed, affected, bounds)
    lower = lower_share(smoothed)

    hazards_in: dict[str, list[ScoredHazard]] = defaultdict(list)
    for h in sorted(hazards, key=rank_key):
        hazards_in[h.area_code].append(h)
    top = settings.risk.risk_reasons_top
    watch.lap("statistics")

    with _collector_paused():
        results = _micro_results(
            micro_rows,
            hazards_in,
            _incident_reasons_by_area(placed, index),
            hot=hot,
            tiers=tiers,
            columns={
                "intensity": intensity,
                "smoothed": smoothed,
                "per_1000": per_1000,
                "lower": lower,
                "counts": counts_v,
                "weighted": weighted_v,
            },
            top=top,
        )
        watch.lap("micro-grids")

        results += _roll_up(rows, results, hazards_in, placed, index, top=top)
    watch.lap("roll-up")
    params = _params(settings.risk, as_of) | {
        "incident_bounds_km2": [_round(b) for b in bounds],
        "fdr_p": hot.fdr_p,
        "micro_grids": n,
        "isolated_micro_grids": [codes[i] for i in np.flatnonzero(graph.cardinalities == 0)],
    }
    counted = Counter((a.level, a.colour) for a in results)
    summary = {
        "colours": {level.value: {c.value: counted[level, c] for c in Colour} for level in Level},
        "incidents_used": int(placed["n"].sum()),
        "incidents_outside_micro_grids": int(groups["n"].sum() - placed["n"].sum()),
        "hazards_counting": len(hazards),
        "hazards_invalid": invalid,
        "hot_spots": int(hot.significant.sum()),
    }
    return RiskResult(region=region, as_of=as_of, params=params, summary=summary, areas=results)


def _micro_results(
    micro_rows: Sequence[Any],
    hazards_in: dict[str, list[ScoredHazard]],
    incident_reasons: list[list[Any]],
    *,
    hot: HotSpots,
    tiers: NDArray[np.int64],
    columns: dict[str, NDArray[Any]],
    top: int,
) -> list[AreaRisk]:
    """Each micro-grid's colour, score and reasons (the module's first list)."""
    # Colours as severities, whole columns at a time; then one pass over plain Python values:
    # indexing numpy and pandas, or asking an enum, element by element cost more than
    # everything else of a province's 65,000 micro-grids.
    hazard_sev = np.array(
        [
            max((h.colour.severity for h in hazards_in.get(r.code, [])), default=0)
            for r in micro_rows
        ],
        dtype=np.int64,
    )
    incident_sev = gate(tiers, hot.significant)
    colour_sev = np.maximum(hazard_sev, incident_sev)
    colour_from = np.where(
        colour_sev == 0,
        "none",
        np.where(
            hazard_sev == incident_sev,
            "both",
            np.where(hazard_sev > incident_sev, "hazards", "incidents"),
        ),
    ).tolist()
    capped_l = ((tiers == Colour.RED.severity) & ~hot.significant).tolist()
    colours = [_BY_SEVERITY[s] for s in range(len(Colour))]
    hazard_l = [colours[s] for s in hazard_sev.tolist()]
    incident_l = [colours[s] for s in incident_sev.tolist()]
    colour_l = [colours[s] for s in colour_sev.tolist()]
    tier_l = [colours[s].value for s in tiers.tolist()]
    score_l = score(colour_sev, columns["lower"]).tolist()
    significant_l = hot.significant.tolist()
    z_l, p_l = hot.z.tolist(), hot.p.tolist()
    intensity_l, smoothed_l = columns["intensity"].tolist(), columns["smoothed"].tolist()
    per_1000_l = [None if math.isnan(v) else v for v in columns["per_1000"].tolist()]
    counts_l = columns["counts"].tolist()
    rounded = {
        name: _rounded(columns[name]) for name in ("weighted", "intensity", "smoothed", "per_1000")
    }
    z_rounded, p_rounded = _rounded(hot.z), _rounded(hot.p)
    fdr_p = _round(hot.fdr_p, 6)
    results: list[AreaRisk] = []
    for i, r in enumerate(micro_rows):
        own = hazards_in.get(r.code, [])
        results.append(
            AreaRisk(
                code=r.code,
                name=r.name,
                level=Level.MICRO,
                area_m2=float(r.area_m2),
                colour=colour_l[i],
                score=score_l[i],
                hazard_colour=hazard_l[i],
                incident_colour=incident_l[i],
                intensity_km2=intensity_l[i],
                smoothed_km2=smoothed_l[i],
                per_1000=per_1000_l[i],
                gi_z=z_l[i],
                gi_p=p_l[i],
                significant=significant_l[i],
                reasons={
                    "colour_from": colour_from[i],
                    "hazards": [h.reason() for h in own[:top]],
                    "hazards_total": len(own),
                    "incidents": incident_reasons[i],
                    "incidents_total": counts_l[i],
                    "weighted_total": rounded["weighted"][i],
                    "intensity_km2": rounded["intensity"][i],
                    "smoothed_km2": rounded["smoothed"][i],
                    "per_1000": rounded["per_1000"][i],
                    "incident_tier": tier_l[i],
                    "capped_by_significance": capped_l[i],
                    "hotspot": {
                        "z": z_rounded[i],
                        "p": p_rounded[i],
                        "fdr_p": fdr_p,
                        "significant": significant_l[i],
                    },
                },
            )
        )
    return results


def _roll_up(
    rows: Sequence[Any],
    micro: list[AreaRisk],
    hazards_in: dict[str, list[ScoredHazard]],
    placed: pd.DataFrame,
    index: dict[str, int],
    *,
    top: int,
) -> list[AreaRisk]:
    """Parents, bottom-up: worst micro colour, area-weighted mean score, summed reasons.

    A parent's micro-grids are positions into columns of the micro-grids' values, found by one
    sort: a province's parents cover its 65,000 micro-grids three times over, and a pass per
    parent and per reason over lists of areas cost more than the rest of the roll-up. They are
    kept in the micro-grids' order, so every sum is the one a loop over them makes.
    """
    ancestors = {r.code: list(r.ancestors) for r in rows}
    chains = [ancestors[m.code] for m in micro]
    totals = _totals_by_parent(placed, index, chains)
    parents = [r for r in rows if r.level != Level.MICRO.value]
    parent_at = {r.code: k for k, r in enumerate(parents)}
    pair_parent: list[int] = []
    pair_micro: list[int] = []
    hazards_below: dict[str, list[ScoredHazard]] = defaultdict(list)
    for i, (m, chain) in enumerate(zip(micro, chains, strict=True)):
        own = hazards_in.get(m.code, [])
        for code in chain:
            if code in parent_at:
                pair_parent.append(parent_at[code])
                pair_micro.append(i)
            hazards_below[code].extend(own)
    by_parent = np.argsort(np.array(pair_parent, dtype=np.int64), kind="stable")
    members = np.array(pair_micro, dtype=np.int64)[by_parent]
    bounds = np.searchsorted(
        np.array(pair_parent, dtype=np.int64)[by_parent], np.arange(len(parents) + 1)
    ).tolist()
    area_m2 = np.array([m.area_m2 for m in micro], dtype=float)
    scores = np.array([m.score for m in micro], dtype=float)
    severity = {
        "hazard": np.array([m.hazard_colour.severity for m in micro], dtype=np.int64),
        "incident": np.array([m.incident_colour.severity for m in micro], dtype=np.int64),
        "colour": np.array([m.colour.severity for m in micro], dtype=np.int64),
    }

    done: dict[str, AreaRisk] = {m.code: m for m in micro}
    children: dict[str, list[AreaRisk]] = defaultdict(list)
    for r in rows:
        if r.level == Level.MICRO.value and r.parent_code:
            children[r.parent_code].append(done[r.code])

    out: list[AreaRisk] = []
    for at in sorted(range(len(parents)), key=lambda at: -Level(parents[at].level).rank):
        r = parents[at]
        subtree = members[bounds[at] : bounds[at + 1]]
        mean_score = (
            float(np.average(scores[subtree], weights=area_m2[subtree])) if len(subtree) else 0.0
        )
        hazard_colour = _worst_of(severity["hazard"][subtree])
        incident_colour = _worst_of(severity["incident"][subtree])
        colours = np.bincount(severity["colour"][subtree], minlength=len(Colour)).tolist()
        own_hazards = sorted(hazards_below.get(r.code, []), key=rank_key)
        by_type = totals.get(r.code, {})
        weighted_total = sum(w for _, w in by_type.values())
        area_km2 = float(r.area_m2) / 1e6
        per_1000 = weighted_total / r.population * 1000.0 if r.population else None
        kids = sorted(children.get(r.code, []), key=lambda a: (-a.colour.severity, -a.score))
        area = AreaRisk(
            code=r.code,
            name=r.name,
            level=Level(r.level),
            area_m2=float(r.area_m2),
            colour=worst([hazard_colour, incident_colour]),
            score=mean_score,
            hazard_colour=hazard_colour,
            incident_colour=incident_colour,
            intensity_km2=weighted_total / area_km2,
            smoothed_km2=None,
            per_1000=per_1000,
            gi_z=None,
            gi_p=None,
            significant=None,
            reasons={
                "colour_from": _colour_from(hazard_colour, incident_colour),
                "children": [
                    {"code": k.code, "name": k.name, "colour": k.colour.value, "score": k.score}
                    for k in kids[:top]
                ],
                "micro_colours": {c.value: colours[c.severity] for c in Colour},
                "hazards": [h.reason() for h in own_hazards[:top]],
                "hazards_total": len(own_hazards),
                "incidents": _incident_reasons(by_type),
                "incidents_total": sum(n for n, _ in by_type.values()),
                "weighted_total": round(weighted_total, 4),
                "intensity_km2": _round(weighted_total / area_km2),
                "per_1000": _round(per_1000),
            },
        )
        done[r.code] = area
        if r.parent_code:
            children[r.parent_code].append(area)
        out.append(area)
    return out
