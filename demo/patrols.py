"""Generate a seeded synthetic month of patrols for the demo district (tracks and check-ins).

Writes three CSV files into ``--out`` (a cache directory; nothing here is committed):

``tracks.csv``  unit, kind, time (local, ``--timezone``), lon, lat (WGS84): GPS fixes every
                ``--interval`` seconds of units moving along the demo roads
                (demo/data/roads.geojson);
``units.csv``   unit, kind, station (poi_id), shift (number): the register of the units above;
``visits.csv``  网格长 (grid head), 时间, 经度, 纬度, 微网格编码: weekly check-ins.

The patterns leave real gaps, the ones a dispatcher and a grid head should find:

- 24 units: 12 on foot, 8 by bicycle, 4 in vehicles; unit ``i`` works shift ``i % 3`` every
  day (00-08, 08-16, 16-24), so each shift has 4 foot, 2-3 bicycle and 1-2 vehicle units;
- foot and bicycle units keep to a beat of three level-2 grids; two level-2 grids are nobody's
  beat, and only vehicles on the main roads pass through them;
- units stop for 10-15 minutes at some crossings (the Koper dwell) and take a 40-minute break
  mid-shift (the track splits there: the gap exceeds 10 minutes);
- GPS noise of a few metres, 0.1 % of fixes jump 500 m (dropped as impossible speeds) and
  0.1 % are sent twice (dropped as duplicates);
- each level-3 grid's head checks in at about 85 % of its micro-grids each week; six heads
  skipped the last week, so their micro-grids fail the weekly visit rule unless a patrol passed.

Run: ``python -m demo.patrols --out DIR [--end 2026-11-24T14:00] [--seed 6]``.
The month ends at ``--end`` (default: now in ``--timezone``, Asia/Shanghai by default);
``gridsafe demo`` passes the moment it loads.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer

from demo import DATA
from geo import clock

DEMO_ZONE = "Asia/Shanghai"
SPEEDS_MS = {"foot": 1.3, "bicycle": 4.0, "vehicle": 8.0}
SHIFT_HOURS = (0, 8, 16)
DAYS = 30
MAIN_ROADS = {"primary", "secondary"}  # the only roads vehicles patrol
UNPATROLLED_GRID2 = {0, 7}  # indexes (by code) of the two level-2 grids nobody walks
TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)


@dataclass
class Network:
    """The demo roads as a graph (nodes are rounded end points, edges carry their line)."""

    graph: nx.Graph
    coords: dict[tuple[int, int], tuple[float, float]]


def _key(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def load_network(roads: gpd.GeoDataFrame) -> Network:
    """Build the road graph; roads are noded at intersections, so shared end points join."""
    graph = nx.Graph()
    coords: dict[tuple[int, int], tuple[float, float]] = {}
    for line, road_class in zip(roads.geometry, roads["road_class"], strict=True):
        pts = list(line.coords)
        a, b = _key(*pts[0]), _key(*pts[-1])
        coords[a], coords[b] = pts[0], pts[-1]
        graph.add_edge(a, b, line=line, length=line.length, road_class=road_class)
    biggest = max(nx.connected_components(graph), key=len)
    return Network(graph=graph.subgraph(biggest).copy(), coords=coords)


def _walk_shift(
    net: Network,
    allowed: set[tuple[int, int]],
    start: tuple[int, int],
    *,
    kind: str,
    t0: datetime,
    hours: float,
    interval_s: float,
    rng: np.random.Generator,
) -> list[tuple[datetime, float, float]]:
    """Fixes of one unit for one shift: a random walk without U-turns, stops and a break."""
    speed = SPEEDS_MS[kind]
    end = t0 + timedelta(hours=hours)
    brk = t0 + timedelta(hours=hours / 2 + rng.uniform(-1, 1))
    fixes: list[tuple[datetime, float, float]] = []
    now, node, prev = t0, start, None
    next_fix = t0
    on_break = False
    while now < end:
        if not on_break and now >= brk:
            now += timedelta(minutes=40)
            next_fix = now
            on_break = True
            continue
        options = [n for n in net.graph.neighbors(node) if n in allowed and n != prev]
        if not options:
            options = [n for n in net.graph.neighbors(node) if n in allowed] or [prev or node]
        nxt = options[int(rng.integers(len(options)))]
        if nxt == node:
            break
        edge = net.graph.edges[node, nxt]
        line = edge["line"]
        if _key(*line.coords[0]) != node:
            line = shapely.reverse(line)
        seconds = edge["length"] / speed
        while next_fix < now + timedelta(seconds=seconds) and next_fix < end:
            frac = (next_fix - now).total_seconds() / seconds
            p = line.interpolate(frac, normalized=True)
            fixes.append((next_fix, p.x + rng.normal(0, 3), p.y + rng.normal(0, 3)))
            next_fix += timedelta(seconds=interval_s)
        now += timedelta(seconds=seconds)
        prev, node = node, nxt
        if rng.random() < 0.03:  # a 10-15 minute stop (Koper 1995)
            stay = timedelta(minutes=float(rng.uniform(10, 15)))
            x, y = net.coords[node]
            while next_fix < now + stay and next_fix < end:
                fixes.append((next_fix, x + rng.normal(0, 3), y + rng.normal(0, 3)))
                next_fix += timedelta(seconds=interval_s)
            now += stay
    return fixes


def _allowed_nodes(
    net: Network, nodes: list[tuple[int, int]], owner: list[int], beat: set[int] | None
) -> set[tuple[int, int]]:
    """The connected road nodes of a beat (level-2 grid indexes), or of the main roads (None)."""
    if beat is None:
        edges = [(a, b) for a, b, d in net.graph.edges(data=True) if d["road_class"] in MAIN_ROADS]
        sub = net.graph.edge_subgraph(edges)
    else:
        sub = net.graph.subgraph({n for n, o in zip(nodes, owner, strict=True) if o in beat})
    parts: list[set[tuple[int, int]]] = list(nx.connected_components(sub))
    return max(parts, key=len)


def _write_fixes(
    writer: csv.DictWriter[str],
    unit: str,
    kind: str,
    fixes: list[tuple[datetime, float, float]],
    rng: np.random.Generator,
) -> int:
    """Write one shift's fixes with the GPS faults described in the module docstring."""
    xs = np.array([f[1] for f in fixes])
    ys = np.array([f[2] for f in fixes])
    xs[rng.random(len(fixes)) < 0.001] += 500.0  # jumps
    lon, lat = TO_WGS84.transform(xs, ys)
    twice = rng.random(len(fixes)) < 0.001  # sent twice
    rows = 0
    for (t, _x, _y), a, b, repeat in zip(fixes, lon, lat, twice, strict=True):
        row = {
            "unit": unit,
            "kind": kind,
            "time": t.strftime("%Y-%m-%dT%H:%M:%S"),
            "lon": f"{a:.7f}",
            "lat": f"{b:.7f}",
        }
        for _ in range(2 if repeat else 1):
            writer.writerow(row)
            rows += 1
    return rows


def unit_kinds(units: int) -> list[str]:
    """Half the units on foot, a third by bicycle, the rest in vehicles (24: 12, 8, 4)."""
    foot, bicycle = units // 2, units // 3
    return ["foot"] * foot + ["bicycle"] * bicycle + ["vehicle"] * (units - foot - bicycle)


def _write_units(out: Path, units: int, station_ids: list[str]) -> None:
    """``units.csv``: each unit's name, kind, home station and shift number, as walked below
    (unit ``i`` starts from station ``i % stations`` in shift ``i % 3``), for the register."""
    with (out / "units.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["unit", "kind", "station", "shift"])
        for i, kind in enumerate(unit_kinds(units)):
            unit = f"{kind[0].upper()}{i + 1:02d}"
            writer.writerow([unit, kind, station_ids[i % len(station_ids)], i % 3 + 1])


def make_tracks(
    out: Path, *, end: datetime, seed: int, interval_s: float, units: int = 24, days: int = DAYS
) -> int:
    """Write ``tracks.csv`` for ``units`` units over ``days`` days; return the number of rows."""
    rng = np.random.default_rng(seed)
    net = load_network(gpd.read_file(DATA / "roads.geojson"))
    grid2 = gpd.read_file(DATA / "grid2.geojson").sort_values("code").reset_index(drop=True)
    pois = gpd.read_file(DATA / "pois.geojson")
    station_pois = pois[pois["kind"] == "station"]
    stations = station_pois.geometry.tolist()
    nodes = list(net.graph.nodes)
    # The level-2 grid each road node lies in (nearest, for nodes on the outer boundary).
    owner = [int(np.argmin(grid2.distance(shapely.Point(net.coords[n])))) for n in nodes]
    beats = [i for i in range(len(grid2)) if i not in UNPATROLLED_GRID2]
    start_day = (end - timedelta(days=days)).date()
    rows = 0
    _write_units(out, units, station_pois["poi_id"].tolist())
    with (out / "tracks.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["unit", "kind", "time", "lon", "lat"])
        writer.writeheader()
        for i, kind in enumerate(unit_kinds(units)):
            unit = f"{kind[0].upper()}{i + 1:02d}"
            beat = (
                None if kind == "vehicle" else {beats[(3 * i + k) % len(beats)] for k in range(3)}
            )
            allowed = _allowed_nodes(net, nodes, owner, beat)
            station = stations[i % len(stations)]
            start = min(allowed, key=lambda n: station.distance(shapely.Point(net.coords[n])))
            for day in range(days + 1):
                date = start_day + timedelta(days=day)
                t0 = datetime(
                    date.year, date.month, date.day, SHIFT_HOURS[i % 3], tzinfo=end.tzinfo
                )
                if t0 >= end:
                    break
                fixes = _walk_shift(
                    net,
                    allowed,
                    start,
                    kind=kind,
                    t0=t0,
                    hours=min(8.0, (end - t0).total_seconds() / 3600),
                    interval_s=interval_s,
                    rng=rng,
                )
                rows += _write_fixes(writer, unit, kind, fixes, rng)
    return rows


def make_visits(out: Path, *, end: datetime, seed: int) -> int:
    """Write ``visits.csv`` (grid-head check-ins); return the number of rows."""
    rng = np.random.default_rng(seed + 1)
    micro = gpd.read_file(DATA / "micro.geojson")
    heads = sorted(micro["parent_code"].unique())
    lazy = set(rng.choice(heads, size=6, replace=False).tolist())
    rows = 0
    with (out / "visits.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["网格长", "时间", "经度", "纬度", "微网格编码"])
        for week in range(DAYS // 7 + 1):
            week_end = end - timedelta(days=7 * week)
            for parent, group in micro.groupby("parent_code", sort=True):
                if week == 0 and parent in lazy:
                    continue
                person = f"网格长-{parent}"
                for code, geom in zip(group["code"], group.geometry, strict=True):
                    if rng.random() > 0.85:
                        continue
                    t = week_end - timedelta(hours=float(rng.uniform(1, 7 * 24 - 1)))
                    t = t.replace(hour=int(rng.integers(9, 17)), microsecond=0)
                    if t >= end:
                        continue
                    p = geom.representative_point()
                    lon, lat = TO_WGS84.transform(p.x, p.y)
                    writer.writerow(
                        [person, t.strftime("%Y-%m-%dT%H:%M:%S"), f"{lon:.7f}", f"{lat:.7f}", code]
                    )
                    rows += 1
    return rows


def generate(
    out: Path,
    *,
    end: datetime,
    timezone: str = DEMO_ZONE,
    seed: int = 6,
    interval_s: float = 30.0,
    units: int = 24,
    days: int = DAYS,
) -> tuple[int, int]:
    """Write ``tracks.csv`` and ``visits.csv`` into ``out`` for the month ending at ``end``, in
    the local time of ``timezone``; return the numbers of fixes and check-ins."""
    local_end = end.astimezone(clock.zone(timezone))
    out.mkdir(parents=True, exist_ok=True)
    tracks = make_tracks(
        out, end=local_end, seed=seed, interval_s=interval_s, units=units, days=days
    )
    return tracks, make_visits(out, end=local_end, seed=seed)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and write both files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--end", help="end of the month, ISO time (default: now)")
    parser.add_argument("--timezone", default=DEMO_ZONE, help="the district's time zone")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between fixes")
    parser.add_argument("--units", type=int, default=24, help="patrol units (24 for the demo)")
    parser.add_argument("--days", type=int, default=DAYS, help="days of patrols")
    args = parser.parse_args(argv)
    end = clock.read(args.end, args.timezone) if args.end else clock.now(args.timezone)
    tracks, visits = generate(
        args.out,
        end=end,
        timezone=args.timezone,
        seed=args.seed,
        interval_s=args.interval,
        units=args.units,
        days=args.days,
    )
    print(f"{args.out}: {tracks} fixes, {visits} check-ins, month ending {end.isoformat()}")


if __name__ == "__main__":
    main()
