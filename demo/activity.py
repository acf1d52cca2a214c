"""Generate the demo district's synthetic activity: incidents and a hazard register to now.

Deterministic (same seed, same files). Reads the district from ``--boundaries`` (EPSG:4547) and
writes into ``--out``:

``incidents.csv``
    most incidents, WGS84 lon/lat, English headers, UTF-8;
``incidents_gcj02.csv``
    about 8 % of them with GCJ-02 coordinates (as an Amap-based app exports them) and Chinese
    headers, GBK-encoded as Excel on Chinese Windows writes it; import with ``--crs gcj02``;
``incidents_address.csv``
    about 5 % with a door-plate address only (typed variants: full-width digits, 栋 for 号楼);
``hazards.csv``
    the hazard register with LEC or LS assessments, spread so that all four colours occur.

The model, chosen to look like the reference sub-district rather than to be a forecast:

* from 1 January of the previous year to ``--end`` (default: the district's now), so the demo
  lives on the day it is loaded and year-on-year figures compare two filled periods on any
  date: about 16 000 incidents in the previous year including police calls, with the type mix
  below; the current year has about 13 % fewer police calls and 39 % fewer fires (the reference
  sub-district's year-on-year change), other types about 5 % fewer;
* places: each micro-grid's weight grows with its population and its land use (markets, malls,
  schools, mixed use); a third of the incidents of street-crime types fall within ~40 m of a
  market, mall, school gate or arterial road; six persistent hot spots hold in both years and
  others shift from the previous year to the current one;
* times: an hour-of-day profile peaking in the evening;
* sources: the four intake platforms (一码解纠纷, 三零平台, 区数字化平台, 法院调解平台) for
  disputes and petitions, 110 for police matters, 119 for fires, the 12345 hotline, patrols.

Run::

    .venv/bin/python -m demo.activity --out /tmp/demo-activity [--end ISO]

Times are written in the district's local time (``--timezone``, Asia/Shanghai by default), as a
register exported from a Chinese platform carries them.
"""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from demo import DATA
from geo import clock
from geo.crs import gcj02_from_wgs84

DEMO_ZONE = "Asia/Shanghai"
"""The demo district's zone (Zhengzhou), the default of ``--timezone``."""


@dataclass(frozen=True)
class Span:
    """The generated stretch, in naive local minutes: ``start`` (1 January of the previous
    year) to ``end`` (exclusive), with ``new_year`` the start of the current year."""

    start: np.datetime64
    new_year: np.datetime64
    end: np.datetime64

    @classmethod
    def ending(cls, end: datetime) -> Span:
        """The span ending at the local wall time of ``end``."""
        year = end.year
        return cls(
            start=np.datetime64(f"{year - 1}-01-01T00:00", "m"),
            new_year=np.datetime64(f"{year}-01-01T00:00", "m"),
            end=np.datetime64(end.replace(tzinfo=None, second=0, microsecond=0), "m"),
        )

    @property
    def previous_year(self) -> int:
        """The first calendar year of the span."""
        return int(str(self.start)[:4])


# Previous-year counts per type, and the current year's factor (police calls -13 %, fires -39 %).
TYPES: dict[str, tuple[int, float]] = {
    "police_call": (6000, 0.87),
    "dispute": (3000, 0.95),
    "theft": (1700, 0.95),
    "noise": (1400, 0.95),
    "traffic_accident": (1100, 0.95),
    "fraud": (500, 0.95),
    "petition": (400, 0.95),
    "assault": (320, 0.95),
    "other": (300, 0.95),
    "fire": (240, 0.61),
    "domestic_violence": (200, 0.95),
    "robbery": (110, 0.95),
    "drugs": (60, 0.95),
    "workplace_accident": (50, 0.95),
    "mass_incident": (25, 0.95),
}
STREET_TYPES = {"theft", "robbery", "assault", "traffic_accident", "police_call", "fraud"}
PLATFORMS = ("一码解纠纷", "三零平台", "区数字化平台", "法院调解平台")
SOURCES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "dispute": ((*PLATFORMS, "12345", "巡逻"), (0.3, 0.25, 0.15, 0.1, 0.1, 0.1)),
    "petition": (PLATFORMS, (0.3, 0.3, 0.3, 0.1)),
    "mass_incident": (("三零平台", "110"), (0.5, 0.5)),
    "fire": (("119", "110", "巡逻"), (0.8, 0.15, 0.05)),
    "noise": (("12345", "110", "区数字化平台"), (0.6, 0.3, 0.1)),
}
DEFAULT_SOURCES = (("110", "巡逻", "区数字化平台"), (0.8, 0.1, 0.1))
LAND_USE_WEIGHT = {
    "market": 8.0,
    "mall": 6.0,
    "school": 3.0,
    "hospital": 3.0,
    "mixed": 2.0,
    "office": 1.2,
    "residential": 1.0,
    "kindergarten": 1.5,
    "park": 1.5,
    "clinic": 1.5,
    "police": 0.5,
}
# Share of each type's incidents that falls in the hot spots (the rest is background noise spread
# by population): street crime concentrates most (Weisburd 2015: about half of it in under 5 % of
# street segments), disputes and noise follow where people live.
CONCENTRATION: dict[str, float] = {
    **dict.fromkeys(STREET_TYPES, 0.6),
    **dict.fromkeys(("dispute", "noise", "domestic_violence", "fire", "drugs"), 0.45),
}
# How strongly each kind of hot spot draws each type (a type not listed: 1).
AFFINITY: dict[str, dict[str, float]] = {
    "market": {"noise": 0.5, "domestic_violence": 0.1, "petition": 0.3, "fire": 0.5},
    "mall": {"noise": 0.5, "domestic_violence": 0.1, "petition": 0.3, "dispute": 0.6},
    "crossing": {"traffic_accident": 3.0, "dispute": 0.3, "noise": 0.2, "domestic_violence": 0.0},
    "strip": {"assault": 2.0, "noise": 1.5, "drugs": 2.0, "domestic_violence": 0.1},
    "school": {"traffic_accident": 1.5, "fraud": 0.5, "domestic_violence": 0.0, "fire": 0.2},
    "compound": {"dispute": 1.5, "domestic_violence": 2.0, "fire": 2.0, "traffic_accident": 0.2},
    "shifting": {},
}
HOUR_PROFILE = np.array(
    [3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 4, 4, 4.5, 5, 4.5, 4.5, 5, 5.5, 6, 7, 7.5, 7, 6, 5, 4]
)


@dataclass(frozen=True)
class Anchor:
    """A hot spot: incidents fall around its points with a Gaussian kernel of ``sigma`` metres.

    ``season`` scales its pull month by month (mean 1; ``None``: all year); ``year`` is the one
    year a shifting hot spot is active (``None``: both years).
    """

    kind: str
    xy: np.ndarray
    sigma: float
    weight: float
    season: np.ndarray | None
    year: int | None


def _points_in(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform random point inside each polygon (rejection sampling, vectorised)."""
    bounds = shapely.bounds(geoms)
    out = np.empty((len(geoms), 2))
    todo = np.arange(len(geoms))
    while todo.size:
        x = rng.uniform(bounds[todo, 0], bounds[todo, 2])
        y = rng.uniform(bounds[todo, 1], bounds[todo, 3])
        inside = shapely.contains_xy(geoms[todo], x, y)
        out[todo[inside]] = np.column_stack([x[inside], y[inside]])
        todo = todo[~inside]
    return out


def _background_weights(micro: gpd.GeoDataFrame) -> np.ndarray:
    """Weight of each micro-grid for the spatially random share: population x land use."""
    base = (50.0 + micro["population"].fillna(0).to_numpy()) * micro["land_use"].map(
        LAND_USE_WEIGHT
    ).fillna(1.0).to_numpy()
    return np.asarray(base / base.sum(), dtype=float)


def _stretch(line: shapely.LineString, length: float, rng: np.random.Generator) -> np.ndarray:
    """Vertices of a random ``length``-metre stretch of ``line``, densified every 10 m."""
    begin = float(rng.uniform(0.0, max(line.length - length, 0.0)))
    along = np.linspace(begin, min(begin + length, line.length), 60)
    return shapely.get_coordinates(shapely.line_interpolate_point(line, along))


def _anchors(
    micro: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    district: shapely.Geometry,
    rng: np.random.Generator,
    previous_year: int,
) -> list[Anchor]:
    """The hot spots: persistent ones at fixed places, and three per year that shift.

    Persistent: the markets and malls, the arterial crossings inside the district, a night-life
    stretch of the primary road, two school gates (term time only) and four old, dense
    residential compounds. Shifting: three places per year, each active for a few months
    (a summer night market, a building site, a quarrel that drags on).
    """
    inner = shapely.buffer(district, -150.0)
    out: list[Anchor] = []
    # Markets peak in winter (New Year and Spring Festival shopping), the strip on summer nights.
    winter = np.array([1.6, 1.8, 1.0, 0.8, 0.7, 0.6, 0.6, 0.6, 0.8, 1.0, 1.3, 1.6])
    summer = np.array([0.5, 0.5, 0.7, 1.0, 1.3, 1.6, 1.8, 1.8, 1.3, 1.0, 0.7, 0.5])
    winter, summer = winter * 12 / winter.sum(), summer * 12 / summer.sum()
    for kind, sigma, weight, season in (
        ("market", 110.0, 3.0, winter),
        ("mall", 130.0, 2.5, None),
    ):
        for pt in shapely.get_coordinates(pois[pois["kind"] == kind].geometry.to_numpy()):
            out.append(Anchor(kind, pt[None, :], sigma, weight, season, None))
    primary = shapely.union_all(roads[roads["road_class"] == "primary"].geometry.to_numpy())
    secondary = shapely.union_all(roads[roads["road_class"] == "secondary"].geometry.to_numpy())
    crossings = shapely.get_coordinates(shapely.intersection(primary, secondary))
    crossings = crossings[shapely.contains_xy(inner, crossings[:, 0], crossings[:, 1])]
    for pt in crossings[rng.permutation(len(crossings))[:3]]:
        out.append(Anchor("crossing", pt[None, :], 90.0, 1.5, None, None))
    lines = shapely.get_parts(shapely.line_merge(primary))
    longest = lines[int(np.argmax(shapely.length(lines)))]
    out.append(Anchor("strip", _stretch(longest, 600.0, rng), 60.0, 2.5, summer, None))
    gates = shapely.get_coordinates(pois[pois["kind"] == "school_gate"].geometry.to_numpy())
    term = np.array([1, 0.2, 1, 1, 1, 1, 0.1, 0, 1, 1, 1, 1], dtype=float)  # no summer holidays
    term *= 12 / term.sum()
    for pt in gates[rng.permutation(len(gates))[:2]]:
        out.append(Anchor("school", pt[None, :], 70.0, 0.8, term, None))
    centroids = shapely.get_coordinates(shapely.centroid(micro.geometry.to_numpy()))
    residential = micro["land_use"].eq("residential").to_numpy(copy=True)
    dense = residential & (micro["population"].fillna(0).to_numpy() >= 400)
    dense &= shapely.contains_xy(inner, centroids[:, 0], centroids[:, 1])
    for i in rng.permutation(np.flatnonzero(dense))[:4]:
        out.append(Anchor("compound", centroids[i][None, :], 80.0, 1.5, None, None))
    mixed = micro["land_use"].isin(["mixed", "residential"]).to_numpy(copy=True)
    mixed &= shapely.contains_xy(inner, centroids[:, 0], centroids[:, 1])
    picks = rng.permutation(np.flatnonzero(mixed))[:6]
    for k, i in enumerate(picks):
        first = int(rng.integers(0, 8))
        season = np.zeros(12)
        season[first : first + int(rng.integers(4, 7))] = 1.0
        season *= 12 / season.sum()
        year = previous_year if k < 3 else previous_year + 1
        out.append(Anchor("shifting", centroids[i][None, :], 100.0, 0.5, season, year))
    return out


def _kernel_points(
    anchor: Anchor, n: int, district: shapely.Geometry, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points around ``anchor`` (Gaussian, sigma metres, about the line for a strip)."""
    out = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        base = anchor.xy[rng.integers(0, len(anchor.xy), todo.size)]
        xy = base + rng.normal(0.0, anchor.sigma, (todo.size, 2))
        inside = shapely.contains_xy(district, xy[:, 0], xy[:, 1])
        out[todo[inside]] = xy[inside]
        todo = todo[~inside]
    return out


def _incidents(
    boundaries: Path, span: Span, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[Anchor]]:
    """The span's incidents (x, y in EPSG:4547), and the hot spots they were drawn around."""
    micro = gpd.read_file(boundaries / "micro.geojson")
    pois = gpd.read_file(boundaries / "pois.geojson")
    roads = gpd.read_file(boundaries / "roads.geojson")
    district = shapely.union_all(micro.geometry.to_numpy())
    shapely.prepare(district)
    background = _background_weights(micro)
    anchors = _anchors(micro, pois, roads, district, rng, span.previous_year)
    geoms = micro.geometry.to_numpy()
    frames = []
    previous = span.previous_year
    for year, first, last in (
        (previous, span.start, span.new_year),
        (previous + 1, span.new_year, span.end),
    ):
        minutes = (last - first).astype("timedelta64[m]").astype(np.int64)
        share = minutes / (365 * 24 * 60)
        active = [a for a in anchors if a.year in (None, year)]
        # Whole days drawn, then the hours: the last, partial day keeps what lies before ``last``.
        whole_days = max(1, -(-minutes // (24 * 60)))
        for kind, (count, factor) in TYPES.items():
            n = rng.poisson(count * (1.0 if year == previous else factor) * share)
            days = rng.integers(0, whole_days, n).astype("timedelta64[D]")
            dates = first + days
            month = dates.astype("datetime64[M]").astype(np.int64) % 12
            pull = np.array([a.weight * AFFINITY[a.kind].get(kind, 1.0) for a in active])
            pull *= CONCENTRATION.get(kind, 0.3) / pull.sum()
            # component 0 is the background, k >= 1 the k-th active hot spot
            comp = np.empty(n, dtype=np.int64)
            for m in range(12):
                rows = np.flatnonzero(month == m)
                season = np.array([1.0 if a.season is None else a.season[m] for a in active])
                p = np.concatenate([[1.0 - CONCENTRATION.get(kind, 0.3)], pull * season])
                comp[rows] = rng.choice(len(p), size=rows.size, p=p / p.sum())
            xy = np.empty((n, 2))
            bg = np.flatnonzero(comp == 0)
            cells = rng.choice(len(micro), size=bg.size, p=background)
            xy[bg] = _points_in(geoms[cells], rng)
            for k, anchor in enumerate(active, start=1):
                rows = np.flatnonzero(comp == k)
                xy[rows] = _kernel_points(anchor, rows.size, district, rng)
            hours = rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
            at_minute = rng.integers(0, 60, n)
            when = dates + hours.astype("timedelta64[h]") + at_minute.astype("timedelta64[m]")
            names, probs = SOURCES.get(kind, DEFAULT_SOURCES)
            frame = pd.DataFrame(
                {
                    "type": kind,
                    "occurred_at": when,
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                    "source": rng.choice(names, size=n, p=probs),
                }
            )
            frames.append(frame[when < last])
    out = pd.concat(frames, ignore_index=True).sort_values("occurred_at", kind="stable")
    out = out.reset_index(drop=True)
    serial = out.groupby("source").cumcount() + 1
    out["source_id"] = [f"{s}-{n:06d}" for s, n in zip(out["source"], serial, strict=True)]
    out["occurred_at"] = out["occurred_at"].dt.strftime("%Y-%m-%d %H:%M")
    return out, anchors


def _typed(address: str, rng: np.random.Generator) -> str:
    """An address as a person types it: no city prefix, sometimes full-width digits or 栋."""
    text = address.removeprefix("郑州市金水区未来路街道")
    if rng.random() < 0.4:
        text = text.replace("号楼", "栋")
    if rng.random() < 0.3:
        text = "".join(
            unicodedata.lookup(f"FULLWIDTH DIGIT {unicodedata.name(c).split()[-1]}")
            if c.isdigit()
            else c
            for c in text
        )
    return text


def _hazards(
    boundaries: Path,
    span: Span,
    rng: np.random.Generator,
    to_wgs: Transformer,
    anchors: Sequence[Anchor],
) -> pd.DataFrame:
    """The hazard register: 220 hazards, half of them in the old compounds and markets.

    Ageing gas hoses, flying-wire charging and blocked fire lanes gather where buildings are old
    and crowded, so half the hazards are in buildings within 150 m of an old compound, market or
    mall (the persistent hot spots of those kinds), the rest anywhere.
    """
    buildings = gpd.read_file(boundaries / "buildings.geojson")
    n = 220
    centres = np.concatenate(
        [a.xy for a in anchors if a.kind in ("compound", "market", "mall") and a.year is None]
    )
    spots = shapely.buffer(shapely.multipoints(centres), 150.0)
    near = np.flatnonzero(shapely.intersects(buildings.geometry.to_numpy(), spots))
    crowded = rng.choice(near, size=min(n // 2, near.size), replace=False)
    rest = np.setdiff1d(np.arange(len(buildings)), crowded)
    others = rng.choice(rest, size=n - crowded.size, replace=False)
    picked = buildings.iloc[rng.permutation(np.concatenate([crowded, others]))]
    pts = shapely.point_on_surface(picked.geometry.to_numpy())
    lon, lat = to_wgs.transform(shapely.get_x(pts), shapely.get_y(pts))
    categories = ("消防安全", "燃气安全", "建筑安全", "电动车充电", "用电安全", "特种设备")
    names = (
        "消防通道堵塞",
        "燃气软管老化",
        "外墙空鼓",
        "楼道飞线充电",
        "私拉乱接电线",
        "电梯年检过期",
    )
    # (L, E, C) from blue up to red: D = 18, 54 (blue), 90, 126 (yellow), 180, 270 (orange),
    # 420, 540 (red) under the default bands.
    lec = (
        (1, 6, 3),
        (3, 6, 3),
        (3, 2, 15),
        (3, 6, 7),
        (6, 2, 15),
        (3, 6, 15),
        (10, 6, 7),
        (6, 6, 15),
    )
    lec_p = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.08, 0.07, 0.05])
    ls = ((1, 2), (2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5))  # R = 2 .. 25
    ls_p = np.array([0.2, 0.25, 0.2, 0.12, 0.1, 0.08, 0.05])
    first, today = span.start.astype("datetime64[D]"), span.end.astype("datetime64[D]")
    days = int((today - first).astype(np.int64))  # identified up to yesterday
    rows = []
    for i in range(n):
        cat = int(rng.integers(0, len(categories)))
        day = first + np.timedelta64(int(rng.integers(0, days)), "D")
        row = {
            "source": "网格巡查",
            "source_id": f"YH-{i + 1:04d}",
            "category": categories[cat],
            "name": names[cat],
            "identified_at": str(day)[:10],
            "lon": round(float(lon[i]), 7),
            "lat": round(float(lat[i]), 7),
        }
        if rng.random() < 0.6:
            l_, e, c = lec[rng.choice(len(lec), p=lec_p / lec_p.sum())]
            row |= {"method": "LEC", "l": l_, "e": e, "c": c, "s": ""}
        else:
            l_, s = ls[rng.choice(len(ls), p=ls_p / ls_p.sum())]
            row |= {"method": "LS", "l": l_, "e": "", "c": "", "s": s}
        closed = rng.random() < 0.25
        close_day = day + np.timedelta64(int(rng.integers(3, 60)), "D")
        row["status"] = "closed" if closed and close_day < today else "open"
        row["closed_at"] = str(close_day)[:10] if row["status"] == "closed" else ""
        rows.append(row)
    return pd.DataFrame(rows)


def generate(
    boundaries: Path,
    out: Path,
    *,
    end: datetime,
    timezone: str = DEMO_ZONE,
    seed: int = 20261124,
) -> dict[str, Path]:
    """Write the activity ending at ``end`` into ``out``, in the local time of ``timezone``;
    return the files' paths by name."""
    rng = np.random.default_rng(seed)
    span = Span.ending(end.astimezone(clock.zone(timezone)))
    out.mkdir(parents=True, exist_ok=True)
    to_wgs = Transformer.from_crs(4547, 4326, always_xy=True)
    incidents, anchors = _incidents(boundaries, span, rng)
    lon, lat = to_wgs.transform(incidents["x"].to_numpy(), incidents["y"].to_numpy())
    incidents["lon"] = np.round(lon, 7)
    incidents["lat"] = np.round(lat, 7)
    pick = rng.random(len(incidents))
    gcj = pick < 0.08
    by_address = (pick >= 0.08) & (pick < 0.13)
    columns = ["source", "source_id", "type", "occurred_at", "lon", "lat"]
    paths = {
        "incidents": out / "incidents.csv",
        "incidents_gcj02": out / "incidents_gcj02.csv",
        "incidents_address": out / "incidents_address.csv",
        "hazards": out / "hazards.csv",
    }
    incidents.loc[~gcj & ~by_address, columns].to_csv(paths["incidents"], index=False)
    g = incidents.loc[gcj, columns].copy()
    glon, glat = gcj02_from_wgs84(g["lon"].to_numpy(), g["lat"].to_numpy())
    g["lon"], g["lat"] = np.round(glon, 7), np.round(glat, 7)
    g.columns = ["来源", "编号", "类型", "发生时间", "经度", "纬度"]
    g.to_csv(paths["incidents_gcj02"], index=False, encoding="gbk")
    # Address rows: the building nearest the point gives the address a caller would name.
    buildings = gpd.read_file(boundaries / "buildings.geojson")
    a = incidents.loc[by_address].copy()
    tree = shapely.STRtree(buildings.geometry.to_numpy())
    nearest = np.asarray(tree.nearest(shapely.points(a["x"].to_numpy(), a["y"].to_numpy())))
    a["address"] = [_typed(buildings["address"].iloc[j], rng) for j in nearest.tolist()]
    a[["source", "source_id", "type", "occurred_at", "address"]].to_csv(
        paths["incidents_address"], index=False
    )
    _hazards(boundaries, span, rng, to_wgs, anchors).to_csv(paths["hazards"], index=False)
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--boundaries", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--timezone", default=DEMO_ZONE, help="the district's time zone")
    parser.add_argument(
        "--end", help="end of the activity, ISO date-time (default: now in --timezone)"
    )
    args = parser.parse_args(argv)
    end = clock.read(args.end, args.timezone) if args.end else clock.now(args.timezone)
    for name, path in generate(
        args.boundaries, args.out, end=end, timezone=args.timezone, seed=args.seed
    ).items():
        rows = sum(1 for _ in path.open("rb")) - 1
        print(f"{name}: {rows} rows -> {path}")


if __name__ == "__main__":
    main()
