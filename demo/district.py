"""Generate the synthetic demo district 未来路街道 and write it to ``demo/data``.

The district is invented, but it sits where the real Weilai Road (未来路) runs north-south
through Jinshui District (金水区), Zhengzhou (郑州), at about 113.700°E, 34.755-34.775°N.
Everything is built from one planar partition so that the hierarchy tiles exactly:

1. a street network of arterials, tertiary streets, lanes, one diagonal and one curved street is
   drawn in a local street frame, snapped to a 0.01 m grid and noded at every intersection;
2. the noded centrelines cut the sub-district into blocks (each block owns half of the streets
   around it); straight compound walls cut the blocks into micro-grids;
3. level-3 grids are the exact union of their micro-grids, level-2 grids of their level-3 grids and
   the sub-district of its level-2 grids; level-2 edges follow arterials and level-3 edges streets;
4. building footprints are laid out inside each micro-grid behind the street red lines, given
   Chinese door-plate addresses and resident estimates; points of interest are placed last.

The script then reads the files it wrote back and raises :class:`InvariantError` if any invariant
(counts, exact tiling, validity, containment, road noding) fails.  The same seed gives
byte-identical files.  Run::

    .venv/bin/python -m demo.district --seed 20261124 --out demo/data
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import split
from shapely.strtree import STRtree

from demo import DATA

FloatArray = NDArray[np.float64]
Box = tuple[float, float, float, float]

CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: the demo deployment CRS (metres)
GRID = 0.01  # every vertex is snapped to this grid (m) so that shared edges match exactly
DEFAULT_SEED = 20261124
DEFAULT_OUT = DATA

SUBDISTRICT_CODE = "410105010"  # 410105 is the administrative division code of 金水区
SUBDISTRICT_NAME = "未来路街道"
ADDRESS_PREFIX = "郑州市金水区未来路街道"
LEVEL_COUNTS = {"subdistrict": 1, "grid2": 12, "grid3": 73, "micro": 652}

WEILAI_LON = 113.700  # the real Weilai Road runs north-south along this meridian
SOUTH_LAT = 34.755  # latitude where 未来路 meets the southern boundary road (金水路)

MIN_MICRO_AREA = 2000.0  # m²; smaller micro-grids would be slivers for a weekly-visit unit
MIN_COMPACTNESS = 0.3  # 4πA/P²: a 1:6 rectangle scores 0.38, a thin strip far less
# Floor area per resident: the urban average of about 36 m² per person (2020 census) at an assumed
# 75 % occupancy, since some flats stand empty.
RES_M2_PER_PERSON = 48.0
OVERSHOOT = 0.2  # m a lane or wall is drawn past the line it ends on; snap rounding nodes it
MIN_JUNCTION_GAP = 20.0  # m between the T-junctions of lanes on the same street


@dataclass(frozen=True)
class RoadClass:
    """Attributes shared by every road of one class."""

    lanes: int
    maxspeed_kmh: int
    half_width: float  # half the red-line width (m): buildings stay behind it
    setback: float  # extra distance (m) between the red line and a building


ROAD_CLASSES: dict[str, RoadClass] = {
    "primary": RoadClass(6, 60, 20.0, 5.0),
    "secondary": RoadClass(4, 50, 15.0, 4.0),
    "tertiary": RoadClass(2, 40, 9.0, 3.0),
    "residential": RoadClass(2, 30, 6.0, 2.5),
    "service": RoadClass(1, 20, 3.5, 2.0),
}

# Arterials bound the level-2 grids: north-south ones west to east, east-west ones south to north.
# The outer four bound the sub-district.  Names are invented but plausible for the area.
NS_ARTERIALS = (
    ("经七路", "secondary"),
    ("未来路", "primary"),
    ("玉凤路", "secondary"),
    ("心怡路", "secondary"),
    ("英协路", "secondary"),
)
EW_ARTERIALS = (
    ("金水路", "primary"),
    ("红专路", "secondary"),
    ("农业路", "primary"),
    ("东风路", "primary"),
)
NS_ARTERIAL_U = (0.0, 640.0, 1230.0, 1820.0, 2380.0)  # metres east of the western boundary
EW_ARTERIAL_V = (0.0, 720.0, 1450.0, 2180.0)  # metres north of the southern boundary
WEILAI_INDEX = 1
BOUNDARY_ROADS = frozenset({"经七路", "英协路", "金水路", "东风路"})
# Tertiary streets bound the level-3 grids: one per column of level-2 grids, two per row.
NS_TERTIARY = ("政七街", "聚源路", "凤鸣路", "瑞祥街")
EW_TERTIARY = (("纬五路", "丰产路"), ("黄河路", "宏明路"), ("卫华路", "文劳路"))
ONEWAY_TERTIARY = "宏明路"  # one-way eastbound, as drawn
DIAGONAL_NAME = "东明斜街"  # a diagonal street that splits one level-3 cell in two
CURVE_NAME = "曲园路"  # a curved lane
COLUMN_NAMES = ("经七路", "未来路", "玉凤路", "心怡路")  # level-2 names: the arterial to the west
ROW_NAMES = ("南", "中", "北")
ARTERIAL_WOBBLE = 3.0  # m (standard deviation) an arterial strays from straight
N_ONEWAY_LANES = 4

COMPOUND_PREFIXES = (
    "锦绣", "和谐", "阳光", "金色", "翠竹", "书香", "怡景", "紫荆", "盛世", "幸福",
    "明珠", "绿景", "丽水", "嘉和", "康宁", "兴华", "福安", "长青", "金桂", "春晖",
)  # fmt: skip
COMPOUND_SUFFIXES = ("花园", "家园", "华庭", "新城", "苑", "小区", "公寓", "雅居", "名苑", "佳园")
WORK_UNITS = (
    "省农科院", "省地质局", "市电业局", "市自来水公司", "郑州纺织机械厂", "省建筑设计院",
    "市第一建筑公司", "省邮电管理局", "市公交公司", "省中医院", "市粮食局", "省化工研究所",
    "市煤气公司", "省水利厅", "省供销社", "市卷烟厂", "省测绘局", "市房管局", "省轻工厅",
    "市第二建筑公司", "省机械研究院", "市搪瓷厂", "省冶金建设公司", "市食品公司",
)  # fmt: skip
AUX_NAMES = ("配电房", "物业用房", "门卫室", "车棚", "垃圾分类站", "换热站")
OFFICE_SUFFIXES = ("大厦", "商务中心", "国际", "科技大厦", "金融中心", "时代广场", "商务楼")
MIDDLE_SCHOOLS = ("郑州市第八十二中学", "金水区未来路初级中学")
N_COMMUNITIES = 4
# Morning and afternoon school-gate duty (护学岗) windows by kind of school.
DUTY_WINDOWS = {
    "primary": ("07:20-08:00", "16:30-17:30"),
    "middle": ("06:50-07:30", "17:40-18:30"),
    "kindergarten": ("07:50-08:30", "16:00-17:00"),
}
POI_ORDER = (
    "station",
    "school_gate",
    "hospital",
    "clinic",
    "market",
    "mall",
    "community_center",
    "park",
)


class InvariantError(RuntimeError):
    """The generated district breaks one of the invariants the product relies on."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def cn_number(n: int) -> str:
    """Write 1-99 in Chinese numerals (一, 十, 十一, 二十三), as lanes are numbered.

    Parameters
    ----------
    n : int
        The number, 1 to 99.

    Returns
    -------
    str
        The numeral.
    """
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        msg = f"cn_number supports 1-99, got {n}"
        raise ValueError(msg)
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def compactness(geom: BaseGeometry) -> float:
    """Isoperimetric quotient 4πA/P²: 1 for a disc, 0.785 for a square, near 0 for a sliver."""
    return 4.0 * math.pi * geom.area / geom.length**2


def node_key(xy: Sequence[float]) -> tuple[float, float]:
    """Hashable key of a vertex that already lies on the 0.01 m grid."""
    return (round(float(xy[0]), 2), round(float(xy[1]), 2))


def end_keys(line: LineString) -> tuple[tuple[float, float], tuple[float, float]]:
    """Keys of the first and last vertex of ``line``."""
    coords = shapely.get_coordinates(line)
    return node_key(coords[0]), node_key(coords[-1])


def extend(line: LineString, distance: float) -> LineString:
    """Lengthen both ends of ``line`` along its end directions by ``distance`` metres."""
    coords = shapely.get_coordinates(line)
    head = coords[0] - coords[1]
    tail = coords[-1] - coords[-2]
    coords[0] = coords[0] + head / np.hypot(*head) * distance
    coords[-1] = coords[-1] + tail / np.hypot(*tail) * distance
    return LineString(coords)


def chord(cell: Polygon, line: LineString) -> LineString | None:
    """Part of ``line`` inside ``cell``, lengthened past the cell edge so it is noded there.

    Returns
    -------
    LineString or None
        None when the line does not cross the cell as one piece.
    """
    inside = cell.intersection(line)
    if not isinstance(inside, LineString) or inside.is_empty:
        return None
    return extend(inside, OVERSHOOT)


def faces_of(lines: Sequence[BaseGeometry], *, node: bool) -> list[Polygon]:
    """Faces of a set of lines, optionally noding the lines on the 0.01 m grid first."""
    edges = lines
    if node:
        edges = list(shapely.get_parts(shapely.union_all(list(lines), grid_size=GRID)))
    return [p for p in shapely.get_parts(shapely.polygonize(edges)) if isinstance(p, Polygon)]


def locate(points: Sequence[BaseGeometry], polygons: Sequence[Polygon]) -> list[int]:
    """Index of the one polygon that contains each point.

    Raises
    ------
    InvariantError
        If a point lies in no polygon or in more than one.
    """
    pairs = STRtree(list(polygons)).query(list(points), predicate="within")
    found: dict[int, list[int]] = defaultdict(list)
    for point_i, poly_i in zip(pairs[0], pairs[1], strict=True):
        found[int(point_i)].append(int(poly_i))
    bad = [i for i in range(len(points)) if len(found[i]) != 1]
    if bad:
        msg = f"{len(bad)} points are not in exactly one polygon (first: {points[bad[0]]})"
        raise InvariantError(msg)
    return [found[i][0] for i in range(len(points))]


def reading_order(points_uv: FloatArray, row_gap: float) -> list[int]:
    """Order points in rows from north to south, and west to east within a row.

    Parameters
    ----------
    points_uv : ndarray of shape (n, 2)
        Points in the street frame (u east, v north).
    row_gap : float
        A drop in ``v`` larger than this (m) between consecutive points starts a new row.

    Returns
    -------
    list of int
        Indices into ``points_uv``.
    """
    by_v = sorted(range(len(points_uv)), key=lambda i: (-points_uv[i, 1], points_uv[i, 0]))
    rows: list[list[int]] = []
    last_v = math.inf
    for i in by_v:
        if last_v - points_uv[i, 1] > row_gap:
            rows.append([])
        rows[-1].append(i)
        last_v = points_uv[i, 1]
    return [i for row in rows for i in sorted(row, key=lambda j: points_uv[j, 0])]


def apportion(weights: FloatArray, total: int, minimum: NDArray[np.int64]) -> NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    Parameters
    ----------
    weights : ndarray
        Positive weights.
    total : int
        The sum the counts must reach.
    minimum : ndarray of int
        The smallest count allowed for each entry.

    Returns
    -------
    ndarray of int
        Counts summing to ``total``, each at least its minimum.
    """
    quota = weights / weights.sum() * total
    counts: NDArray[np.int64] = np.maximum(np.floor(quota).astype(np.int64), minimum)
    while counts.sum() < total:
        counts[int(np.argmax(quota - counts))] += 1
    while counts.sum() > total:
        spare = np.where(counts > minimum, quota - counts, np.inf)
        counts[int(np.argmin(spare))] -= 1
    return counts


# --------------------------------------------------------------------------------------------
# Street frame and street network
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Local street frame: ``u`` metres east along the street grid, ``v`` metres north.

    The frame is orthonormal; its ``v`` axis follows the meridian of Weilai Road, which in the
    Gauss-Kruger plane is turned by the meridian convergence (about 0.17° here).
    """

    origin: tuple[float, float]
    east: tuple[float, float]
    north: tuple[float, float]

    @property
    def angle(self) -> float:
        """Angle (radians, counter-clockwise from the x axis) of the ``u`` axis."""
        return math.atan2(self.east[1], self.east[0])

    def xy(self, uv: ArrayLike) -> FloatArray:
        """Convert street-frame coordinates to EPSG:4547."""
        pts = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
        xy: FloatArray = (
            np.asarray(self.origin)
            + np.outer(pts[:, 0], self.east)
            + np.outer(pts[:, 1], self.north)
        )
        return xy

    def uv(self, xy: ArrayLike) -> FloatArray:
        """Convert EPSG:4547 coordinates to the street frame."""
        d = np.asarray(xy, dtype=np.float64).reshape(-1, 2) - np.asarray(self.origin)
        return np.column_stack([d @ np.asarray(self.east), d @ np.asarray(self.north)])

    def line(self, uv: ArrayLike) -> LineString:
        """A LineString in EPSG:4547 from street-frame vertices."""
        return LineString(self.xy(uv))

    def bounds_uv(self, geom: Polygon) -> Box:
        """Bounding box of ``geom`` in the street frame: (umin, vmin, umax, vmax)."""
        uv = self.uv(np.asarray(geom.exterior.coords))
        return (
            float(uv[:, 0].min()),
            float(uv[:, 1].min()),
            float(uv[:, 0].max()),
            float(uv[:, 1].max()),
        )


def make_frame() -> Frame:
    """Place the street frame: ``u = 640`` (未来路) on 113.700°E, ``v = 0`` on 34.755°N."""
    to_plane = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x0, y0 = to_plane.transform(WEILAI_LON, SOUTH_LAT)
    x1, y1 = to_plane.transform(WEILAI_LON, SOUTH_LAT + 0.02)
    length = math.hypot(x1 - x0, y1 - y0)
    north = ((x1 - x0) / length, (y1 - y0) / length)
    east = (north[1], -north[0])
    weilai_u = NS_ARTERIAL_U[WEILAI_INDEX]
    return Frame((x0 - weilai_u * east[0], y0 - weilai_u * east[1]), east, north)


@dataclass(frozen=True)
class RoadSpec:
    """One named street before noding.

    ``level`` says which areas it bounds: 2 level-2 grids (arterials), 3 level-3 grids (tertiary
    streets), 4 blocks only (lanes).  ``oneway`` streets are one-way in drawing direction.
    """

    name: str
    road_class: str
    level: int
    line: LineString
    oneway: bool = False


@dataclass(frozen=True)
class AxisPlan:
    """Nominal positions (street frame, m) of the arterials and tertiary streets.

    ``ns_tertiary`` holds one ``u`` per column of superblocks, ``ew_tertiary`` two ``v`` per row.
    """

    ns_arterials: tuple[float, ...]
    ew_arterials: tuple[float, ...]
    ns_tertiary: tuple[float, ...]
    ew_tertiary: tuple[tuple[float, float], ...]


def plan_axes(rng: np.random.Generator) -> AxisPlan:
    """Jitter the nominal arterial spacing and put tertiary streets inside each superblock."""
    ns = np.array(NS_ARTERIAL_U) + rng.uniform(-20.0, 20.0, 5) * np.array([0, 0, 1, 1, 1])
    ew = np.array(EW_ARTERIAL_V) + rng.uniform(-20.0, 20.0, 4) * np.array([0, 1, 1, 1])
    ns_t = tuple(float(ns[c] + rng.uniform(0.42, 0.58) * (ns[c + 1] - ns[c])) for c in range(4))
    ew_t = tuple(
        (
            float(ew[r] + (1 + rng.uniform(-0.12, 0.12)) / 3 * (ew[r + 1] - ew[r])),
            float(ew[r] + (2 + rng.uniform(-0.12, 0.12)) / 3 * (ew[r + 1] - ew[r])),
        )
        for r in range(3)
    )
    return AxisPlan(tuple(map(float, ns)), tuple(map(float, ew)), ns_t, ew_t)


def arterial_roads(plan: AxisPlan, frame: Frame, rng: np.random.Generator) -> list[RoadSpec]:
    """Arterials as polylines that wobble a little between crossings.

    Every arterial runs 80 m past the district so that the boundary roads cross; the parts
    outside are dropped after noding.
    """

    def stations(cross: tuple[float, ...]) -> FloatArray:
        mids = [(a + b) / 2 for a, b in itertools.pairwise(cross)]
        return np.array(sorted([cross[0] - 80.0, *cross, *mids, cross[-1] + 80.0]))

    sigma = ARTERIAL_WOBBLE
    specs = []
    along_v = stations(plan.ew_arterials)
    for (name, cls), u in zip(NS_ARTERIALS, plan.ns_arterials, strict=True):
        wobble = 0.3 if name == NS_ARTERIALS[WEILAI_INDEX][0] else 1.0
        us = u + wobble * np.clip(rng.normal(0.0, sigma, len(along_v)), -2 * sigma, 2 * sigma)
        specs.append(RoadSpec(name, cls, 2, frame.line(np.column_stack([us, along_v]))))
    along_u = stations(plan.ns_arterials)
    for (name, cls), v in zip(EW_ARTERIALS, plan.ew_arterials, strict=True):
        vs = v + np.clip(rng.normal(0.0, sigma, len(along_u)), -2 * sigma, 2 * sigma)
        specs.append(RoadSpec(name, cls, 2, frame.line(np.column_stack([along_u, vs]))))
    return specs


def _staggers(rng: np.random.Generator, n: int, reach: float, min_step: float) -> FloatArray:
    """``n`` offsets within ±``reach`` m, neighbours at least ``min_step`` m apart.

    Used to stagger the T-junctions where a tertiary street meets an arterial from both sides.
    """
    while True:
        shifts = rng.uniform(-reach, reach, n)
        if np.all(np.abs(np.diff(shifts)) >= min_step):
            return shifts


def tertiary_roads(
    plan: AxisPlan, arterials: Sequence[RoadSpec], frame: Frame, rng: np.random.Generator
) -> list[RoadSpec]:
    """Tertiary streets, drawn superblock by superblock.

    A street keeps its name across an arterial but jogs there, as streets in Zhengzhou's older
    districts do: the two halves meet the arterial in staggered T-junctions.  Each piece bows a
    little and wobbles, so no two blocks are quite alike.
    """
    cells: dict[tuple[int, int], Polygon] = {}
    for cell in faces_of([s.line for s in arterials], node=True):
        u, v = frame.uv(shapely.get_coordinates(cell.centroid))[0]
        col = int(np.searchsorted(plan.ns_arterials, u)) - 1
        row = int(np.searchsorted(plan.ew_arterials, v)) - 1
        cells[col, row] = cell

    def piece(cell: Polygon, fixed: float, *, north_south: bool) -> LineString:
        umin, vmin, umax, vmax = frame.bounds_uv(cell)
        lo, hi = (vmin, vmax) if north_south else (umin, umax)
        along = np.linspace(lo - 30.0, hi + 30.0, 7)
        t = (along - lo) / (hi - lo)
        across = fixed + rng.uniform(-8.0, 8.0) * np.sin(math.pi * t) + rng.normal(0.0, 3.0, 7)
        uv = np.column_stack([across, along] if north_south else [along, across])
        line = chord(cell, frame.line(uv))
        if line is None:
            msg = f"a tertiary street does not cross its superblock ({fixed:.0f} m)"
            raise InvariantError(msg)
        return line

    specs = []
    for col, name in enumerate(NS_TERTIARY):
        for row, shift in enumerate(_staggers(rng, 3, 35.0, 15.0)):
            line = piece(cells[col, row], plan.ns_tertiary[col] + shift, north_south=True)
            specs.append(RoadSpec(name, "tertiary", 3, line))
    for row, names in enumerate(EW_TERTIARY):
        for name, v in zip(names, plan.ew_tertiary[row], strict=True):
            for col, shift in enumerate(_staggers(rng, 4, 25.0, 12.0)):
                line = piece(cells[col, row], v + shift, north_south=False)
                specs.append(RoadSpec(name, "tertiary", 3, line, oneway=name == ONEWAY_TERTIARY))
    return specs


@dataclass(frozen=True)
class Street:
    """A named street as one line (its pieces joined in drawing order), for house numbers."""

    name: str
    road_class: str
    level: int
    line: LineString


def streets_of(specs: Sequence[RoadSpec]) -> dict[str, Street]:
    """Join the pieces of each named street in the order they were drawn."""
    coords: dict[str, list[FloatArray]] = defaultdict(list)
    first: dict[str, RoadSpec] = {}
    for spec in specs:
        coords[spec.name].append(shapely.get_coordinates(spec.line))
        first.setdefault(spec.name, spec)
    return {
        name: Street(name, first[name].road_class, first[name].level, LineString(np.vstack(parts)))
        for name, parts in coords.items()
    }


def district_polygon(specs: Sequence[RoadSpec]) -> Polygon:
    """The one face enclosed by the four boundary roads."""
    faces = faces_of([s.line for s in specs if s.name in BOUNDARY_ROADS], node=True)
    if len(faces) != 1:
        msg = f"the boundary roads enclose {len(faces)} faces, expected 1"
        raise InvariantError(msg)
    return faces[0]


def _straight_lanes(
    cell: Polygon, frame: Frame, rng: np.random.Generator, junctions: list[FloatArray]
) -> list[LineString]:
    """Zero to two straight lanes across a level-3 cell, T-junctioned on its edges.

    A lane is moved (or dropped after eight tries) if it would meet a street within
    ``MIN_JUNCTION_GAP`` of another junction: lanes from both sides of a street a few metres
    apart would leave a stub of road between them.  ``junctions`` grows by the new lane ends.
    """
    umin, vmin, umax, vmax = frame.bounds_uv(cell)
    width, height = umax - umin, vmax - vmin

    def north_south(frac: float) -> LineString:
        u = umin + frac * width
        ends = [[u + rng.uniform(-5, 5), vmin - 30], [u + rng.uniform(-5, 5), vmax + 30]]
        return frame.line(ends)

    def east_west(frac: float) -> LineString:
        v = vmin + frac * height
        ends = [[umin - 30, v + rng.uniform(-5, 5)], [umax + 30, v + rng.uniform(-5, 5)]]
        return frame.line(ends)

    kind = int(rng.choice(5, p=[0.12, 0.30, 0.30, 0.18, 0.10]))
    across = north_south if width > height else east_west
    options: list[list[tuple[Callable[[float], LineString], float, float]]] = [
        [],  # one big compound or campus
        [(north_south, 0.35, 0.65)],
        [(east_west, 0.35, 0.65)],
        [(north_south, 0.38, 0.62), (east_west, 0.38, 0.62)],  # a crossing of two lanes
        [(across, 0.30, 0.37), (across, 0.63, 0.70)],  # two parallel lanes
    ]
    lanes = []
    for make, lo, hi in options[kind]:
        for _ in range(8):
            lane = chord(cell, make(rng.uniform(lo, hi)))
            if lane is None:
                continue
            ends = shapely.get_coordinates(lane)[[0, -1]]
            gaps = np.hypot(*(ends[:, None, :] - np.vstack(junctions)[None]).transpose(2, 0, 1))
            if gaps.min() >= MIN_JUNCTION_GAP:
                lanes.append(lane)
                junctions.append(ends)
                break
    return lanes


def _diagonal(cell: Polygon, frame: Frame) -> LineString:
    """A diagonal street from the west edge to the north edge of a cell."""
    umin, vmin, umax, vmax = frame.bounds_uv(cell)
    a = np.array([umin, vmin + 0.38 * (vmax - vmin)])
    b = np.array([umin + 0.62 * (umax - umin), vmax])
    d = (b - a) / np.hypot(*(b - a))
    line = chord(cell, frame.line([a - 60 * d, b + 60 * d]))
    if line is None:
        msg = "the diagonal street does not cross its cell as one piece"
        raise InvariantError(msg)
    return line


def _curve(cell: Polygon, frame: Frame) -> LineString:
    """A gently curved lane from the west edge to the east edge of a cell."""
    umin, vmin, umax, vmax = frame.bounds_uv(cell)
    us = np.linspace(umin - 30, umax + 30, 41)
    vs = vmin + 0.5 * (vmax - vmin) + 28.0 * np.sin(math.pi * (us - umin) / (umax - umin))
    line = chord(cell, frame.line(np.column_stack([us, vs])))
    if line is None:
        msg = "the curved lane does not cross its cell as one piece"
        raise InvariantError(msg)
    return line


def minor_roads(
    specs: Sequence[RoadSpec], district: Polygon, frame: Frame, rng: np.random.Generator
) -> list[RoadSpec]:
    """Lanes inside the level-3 cells, one diagonal street and one curved lane.

    Lanes are named after the street they branch from at their southern or western end
    (红专路一巷, 红专路二巷, ...); a few are one-way.
    """
    cells = faces_of([s.line for s in specs if s.level <= 3], node=True)
    cells.sort(key=lambda c: node_key(shapely.get_coordinates(c.representative_point())[0]))
    inner = [i for i, c in enumerate(cells) if c.distance(district.exterior) > 200.0]
    diagonal_cell, curve_cell = (int(i) for i in rng.choice(inner, 2, replace=False))
    named = STRtree([s.line for s in specs])
    lanes_per_base: Counter[str] = Counter()
    out = [RoadSpec(DIAGONAL_NAME, "tertiary", 3, _diagonal(cells[diagonal_cell], frame))]
    out.append(RoadSpec(CURVE_NAME, "residential", 4, _curve(cells[curve_cell], frame)))
    junctions = [shapely.get_coordinates(s.line)[[0, -1]] for s in [*specs, *out]]
    for i, cell in enumerate(cells):
        if i in (diagonal_cell, curve_cell):
            continue
        for line in _straight_lanes(cell, frame, rng, junctions):
            start = Point(shapely.get_coordinates(line)[0])
            base = specs[int(named.query_nearest(start)[0])].name
            lanes_per_base[base] += 1
            cls = "residential" if rng.random() < 0.6 else "service"
            out.append(RoadSpec(f"{base}{cn_number(lanes_per_base[base])}巷", cls, 4, line))
    residential = [i for i, s in enumerate(out) if s.road_class == "residential" and s.level == 4]
    for i in sorted(int(j) for j in rng.choice(residential, N_ONEWAY_LANES, replace=False)):
        line = out[i].line if rng.random() < 0.5 else out[i].line.reverse()
        out[i] = RoadSpec(out[i].name, out[i].road_class, 4, line, oneway=True)
    return out


# --------------------------------------------------------------------------------------------
# Noding the network into segments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of one street between two intersections (or an intersection and the border)."""

    spec: RoadSpec
    line: LineString


def _drop_dangles(pieces: list[LineString]) -> list[LineString]:
    """Remove the short stubs a lane leaves where it was drawn past the street it ends on."""
    degree = Counter(k for p in pieces for k in end_keys(p))
    return [p for p in pieces if p.length >= 1.0 or min(degree[k] for k in end_keys(p)) > 1]


def node_roads(specs: Sequence[RoadSpec], district: Polygon) -> list[Segment]:
    """Node all streets on the 0.01 m grid and cut them into intersection-to-intersection segments.

    Each segment keeps the direction its street was drawn in (that is the travel direction of
    one-way streets).  Pieces outside the district are dropped; the boundary roads stay.
    """
    lines = [s.line for s in specs]
    parts = shapely.get_parts(shapely.union_all(lines, grid_size=GRID))
    mids = shapely.line_interpolate_point(parts, 0.5, normalized=True)
    pieces = _drop_dangles(list(parts[shapely.covers(district.buffer(0.05), mids)]))
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    owners = STRtree(lines).query_nearest(mids, all_matches=False)[1]
    degree = Counter(k for p in pieces for k in end_keys(p))
    by_owner: dict[int, list[tuple[float, LineString]]] = defaultdict(list)
    for piece, owner in zip(pieces, owners, strict=True):
        spec_line = lines[int(owner)]
        ends = shapely.get_coordinates(piece)[[0, -1]]
        first, last = (spec_line.project(Point(xy)) for xy in ends)
        oriented = piece if first <= last else piece.reverse()
        by_owner[int(owner)].append((min(first, last), oriented))
    segments = []
    for owner in sorted(by_owner):
        chain: list[LineString] = []
        for _, piece in sorted(by_owner[owner], key=lambda t: t[0]):
            if (
                chain
                and end_keys(chain[-1])[1] == end_keys(piece)[0]
                and degree[end_keys(piece)[0]] == 2
            ):
                merged = np.vstack(
                    [shapely.get_coordinates(chain[-1]), shapely.get_coordinates(piece)[1:]]
                )
                chain[-1] = LineString(merged)
            else:
                chain.append(piece)
        segments += [Segment(specs[owner], line) for line in chain]
    return segments


# --------------------------------------------------------------------------------------------
# The planar partition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """Blocks, street cells and micro-grids, all faces of the same noded linework."""

    blocks: list[Polygon]
    grid2_cells: list[Polygon]
    grid3_cells: list[Polygon]
    grid3_parent: list[int]
    micro: list[Polygon]
    micro_grid3: list[int]
    micro_block: list[int]


def _split_face(
    face: Polygon, rng: np.random.Generator, keep_clear: FloatArray
) -> tuple[list[Polygon], LineString] | None:
    """Cut a face in two across its long axis with a slightly tilted wall.

    Parameters
    ----------
    face : Polygon
        The block or part of a block to cut.
    rng : numpy.random.Generator
        Source of the cut position and tilt.
    keep_clear : ndarray of shape (n, 2)
        Street nodes and ends of earlier walls.  A wall must end at least 1.5 m from them: the
        overshoots of two walls ending at nearly the same point would cross and close a tiny face.

    Returns
    -------
    tuple or None
        The two parts and the wall (drawn a little past the face), or None when no acceptable
        cut was found: each part must keep 30 % of the area, ``MIN_MICRO_AREA`` and a fair shape.
    """
    ring = shapely.get_coordinates(shapely.oriented_envelope(face))
    side_a, side_b = ring[1] - ring[0], ring[2] - ring[1]
    axis = side_a if np.hypot(*side_a) >= np.hypot(*side_b) else side_b
    span = float(np.hypot(*axis))
    axis = axis / span
    centre = shapely.get_coordinates(face.centroid)[0]
    for _ in range(16):
        turn = rng.uniform(-0.1, 0.1)
        normal = np.array(
            [
                -axis[1] * math.cos(turn) - axis[0] * math.sin(turn),
                axis[0] * math.cos(turn) - axis[1] * math.sin(turn),
            ]
        )
        through = centre + axis * rng.uniform(-0.12, 0.12) * span
        line = LineString([through - 2 * span * normal, through + 2 * span * normal])
        parts = [p for p in shapely.get_parts(split(face, line)) if isinstance(p, Polygon)]
        wall = chord(face, line)
        if len(parts) != 2 or wall is None:
            continue
        ends = shapely.get_coordinates(wall)[[0, -1]]
        if (
            len(keep_clear)
            and np.hypot(*(ends[:, None, :] - keep_clear[None]).transpose(2, 0, 1)).min() < 1.5
        ):
            continue
        smallest = min(p.area for p in parts)
        if (
            smallest >= max(MIN_MICRO_AREA, 0.3 * face.area)
            and min(map(compactness, parts)) >= 0.35
        ):
            return parts, wall
    return None


@dataclass
class Walls:
    """Compound walls being drawn: the faces of each level-3 cell and the walls so far.

    ``keep_clear`` holds the street nodes and wall ends that a new wall must not end near.
    """

    faces: dict[int, list[Polygon]]
    keep_clear: list[FloatArray]
    walls: list[LineString] = field(default_factory=list)

    def cut(self, cell: int, rng: np.random.Generator) -> bool:
        """Split the largest face of ``cell`` that can be split; False when none can."""
        faces = self.faces[cell]
        for face in sorted(faces, key=lambda f: -f.area):
            result = _split_face(face, rng, np.vstack(self.keep_clear))
            if result is not None:
                faces.remove(face)
                faces += result[0]
                self.walls.append(result[1])
                self.keep_clear.append(shapely.get_coordinates(result[1])[[0, -1]])
                return True
        return False

    def fill(self, targets: NDArray[np.int64], rng: np.random.Generator) -> None:
        """Cut every cell up to its target; cells that cannot get there pass the rest on.

        Micro-grids a cell cannot take (a small triangle, say) go one by one to the cells whose
        micro-grids are largest on average, so the district total is always met.
        """
        for cell, target in enumerate(targets):
            while len(self.faces[cell]) < target and self.cut(cell, rng):
                pass
        missing = int(targets.sum()) - sum(len(f) for f in self.faces.values())
        for _ in range(missing):
            by_size = sorted(
                self.faces, key=lambda c: -sum(f.area for f in self.faces[c]) / len(self.faces[c])
            )
            if not any(self.cut(cell, rng) for cell in by_size):
                msg = f"cannot cut the blocks into {int(targets.sum())} micro-grids"
                raise InvariantError(msg)


def build_partition(segments: Sequence[Segment], rng: np.random.Generator) -> Partition:
    """Cut the district by the street centrelines, then cut blocks into micro-grids.

    The number of micro-grids per level-3 cell follows the cell area (with ±15 % noise) so that
    the district has exactly 652 of them.
    """
    lines = [s.line for s in segments]
    polys, cuts, dangles, invalid = shapely.polygonize_full(lines)
    if any(not g.is_empty for g in (cuts, dangles, invalid)):
        msg = "the street network has cut edges, dangles or invalid rings"
        raise InvariantError(msg)
    blocks = list(shapely.get_parts(polys))
    grid2_cells = faces_of([s.line for s in segments if s.spec.level <= 2], node=False)
    grid3_cells = faces_of([s.line for s in segments if s.spec.level <= 3], node=False)
    for level, cells in (("grid2", grid2_cells), ("grid3", grid3_cells)):
        if len(cells) != LEVEL_COUNTS[level]:
            msg = f"the streets make {len(cells)} {level} cells, expected {LEVEL_COUNTS[level]}"
            raise InvariantError(msg)
    grid3_parent = locate([c.representative_point() for c in grid3_cells], grid2_cells)
    block_cell = locate([b.representative_point() for b in blocks], grid3_cells)
    per_cell = Counter(block_cell)
    minimum = np.array([per_cell[i] for i in range(len(grid3_cells))], dtype=np.int64)
    weights = np.array([c.area for c in grid3_cells]) * rng.uniform(0.85, 1.15, len(grid3_cells))
    targets = apportion(weights, LEVEL_COUNTS["micro"], minimum)
    faces: dict[int, list[Polygon]] = {i: [] for i in range(len(grid3_cells))}
    for block, cell in zip(blocks, block_cell, strict=True):
        faces[cell].append(block)
    walls = Walls(faces, [np.array([k for s in segments for k in end_keys(s.line)])])
    walls.fill(targets, rng)
    micro = faces_of([*lines, *walls.walls], node=True)
    micro_grid3 = locate([m.representative_point() for m in micro], grid3_cells)
    if Counter(micro_grid3) != Counter({i: len(f) for i, f in faces.items()}):
        msg = "the walls did not cut the blocks into the planned number of micro-grids"
        raise InvariantError(msg)
    micro_block = locate([m.representative_point() for m in micro], blocks)
    return Partition(
        blocks, grid2_cells, grid3_cells, grid3_parent, micro, micro_grid3, micro_block
    )


# --------------------------------------------------------------------------------------------
# Areas: codes, land use, names
# --------------------------------------------------------------------------------------------


@dataclass
class Micro:
    """A micro-grid and what is known about it while the district is furnished."""

    geom: Polygon
    code: str
    grid2: int
    block: int
    frontage: dict[str, float]  # street name -> length (m) of the micro-grid edge on it
    land_use: str = "residential"
    label: str = ""  # institution, compound or yard the micro-grid belongs to
    gates: list[str] = field(default_factory=list)  # streets a school gate opens onto
    school_kind: str = ""
    name: str = ""
    population: int = 0


@dataclass
class Hierarchy:
    """Codes, names and member indices of the level-2 and level-3 grids."""

    grid2_codes: list[str]
    grid2_names: list[str]
    grid3_codes: list[str]
    grid3_names: list[str]
    grid3_parent: list[int]
    micro_grid3: list[int]
    micro_codes: list[str]


def build_hierarchy(part: Partition, plan: AxisPlan, frame: Frame) -> tuple[Hierarchy, list[int]]:
    """Give every area its code and name.

    Level-2 grids are numbered in reading order (north-west first) and named after the arterial
    on their west side and their row (未来路北片区); level-3 grids and micro-grids are numbered
    in reading order inside their parent.

    Returns
    -------
    Hierarchy
        Codes and names, re-indexed in code order.
    list of int
        Order of ``part.micro`` by micro code.
    """
    g2_uv = frame.uv(np.array([shapely.get_coordinates(c.centroid)[0] for c in part.grid2_cells]))
    g2_order = reading_order(g2_uv, 300.0)
    g2_new = {old: new for new, old in enumerate(g2_order)}
    g2_codes = [f"{SUBDISTRICT_CODE}-{i + 1:02d}" for i in range(len(g2_order))]
    g2_names = []
    for old in g2_order:
        u, v = g2_uv[old]
        col = int(np.searchsorted(plan.ns_arterials, u)) - 1
        row = int(np.searchsorted(plan.ew_arterials, v)) - 1
        g2_names.append(f"{COLUMN_NAMES[col]}{ROW_NAMES[row]}片区")
    g3_uv = frame.uv(np.array([shapely.get_coordinates(c.centroid)[0] for c in part.grid3_cells]))
    g3_order: list[int] = []
    for g2_old in g2_order:
        members = [i for i, p in enumerate(part.grid3_parent) if p == g2_old]
        g3_order += [members[j] for j in reading_order(g3_uv[members], 80.0)]
    g3_new = {old: new for new, old in enumerate(g3_order)}
    g3_codes: list[str] = []
    g3_names: list[str] = []
    g3_parent: list[int] = []
    for old in g3_order:
        parent = g2_new[part.grid3_parent[old]]
        k = g3_parent.count(parent) + 1
        g3_parent.append(parent)
        g3_codes.append(f"{g2_codes[parent]}-{k:02d}")
        g3_names.append(f"{g2_names[parent]}第{k}网格")
    m_uv = frame.uv(np.array([shapely.get_coordinates(m.centroid)[0] for m in part.micro]))
    m_order: list[int] = []
    for g3_old in g3_order:
        members = [i for i, c in enumerate(part.micro_grid3) if c == g3_old]
        m_order += [members[j] for j in reading_order(m_uv[members], 30.0)]
    m_grid3 = [g3_new[part.micro_grid3[i]] for i in m_order]
    seen: Counter[int] = Counter()
    m_codes = []
    for g3 in m_grid3:
        seen[g3] += 1
        m_codes.append(f"{g3_codes[g3]}-{seen[g3]:03d}")
    hierarchy = Hierarchy(g2_codes, g2_names, g3_codes, g3_names, g3_parent, m_grid3, m_codes)
    return hierarchy, m_order


def frontages(micro: Sequence[Polygon], segments: Sequence[Segment]) -> list[dict[str, float]]:
    """Length of each micro-grid's edge that runs along each street, by street name."""
    buffers = shapely.buffer([s.line for s in segments], 0.05, cap_style="flat")
    rings = shapely.boundary(list(micro))
    pairs = STRtree(buffers).query(rings, predicate="intersects")
    lengths = shapely.length(shapely.intersection(rings[pairs[0]], buffers[pairs[1]]))
    out: list[dict[str, float]] = [defaultdict(float) for _ in micro]
    for m, s, length in zip(pairs[0], pairs[1], lengths, strict=True):
        if length > 1.0:
            out[int(m)][segments[int(s)].spec.name] += float(length)
    return [dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))) for d in out]


@dataclass
class Picker:
    """Chooses micro-grids for institutions, keeping names unique and schools spread out."""

    micros: list[Micro]
    road_class: dict[str, str]
    rng: np.random.Generator
    labels: set[str] = field(default_factory=set)
    school_grid2: set[int] = field(default_factory=set)

    def roads_of(self, m: Micro, classes: Sequence[str], road: str | None) -> list[str]:
        """Streets (longest frontage first) a micro-grid faces for at least 40 m."""
        return [
            name
            for name, length in m.frontage.items()
            if length >= 40.0 and (name == road if road else self.road_class[name] in classes)
        ]

    def place(
        self,
        land_use: str,
        count: int,
        naming: Callable[[str], str],
        *,
        min_area: float,
        classes: Sequence[str] = (),
        road: str | None = None,
        school_kind: str = "",
        gates: int = 1,
    ) -> None:
        """Turn ``count`` residential micro-grids into ``land_use``, named ``naming(street)``."""
        score = [m.geom.area * self.rng.uniform(0.7, 1.3) for m in self.micros]
        placed = 0
        for i in sorted(range(len(self.micros)), key=lambda j: -score[j]):
            if placed == count:
                break
            m = self.micros[i]
            roads = self.roads_of(m, classes, road)
            if m.land_use != "residential" or m.geom.area < min_area:
                continue
            if len(roads) < gates or (school_kind and m.grid2 in self.school_grid2):
                continue
            label = naming(roads[0])
            if label in self.labels:
                continue
            m.land_use, m.label = land_use, label
            m.gates, m.school_kind = roads[:gates], school_kind
            self.labels.add(label)
            if school_kind:
                self.school_grid2.add(m.grid2)
            placed += 1
        if placed < count:
            msg = f"found room for {placed} of {count} {land_use} micro-grids"
            raise InvariantError(msg)


def assign_land_use(
    micros: list[Micro], road_class: dict[str, str], rng: np.random.Generator
) -> None:
    """Place institutions, offices and parks; the rest becomes street-front or compounds.

    A micro-grid on a main road becomes street-front shops with flats above (``mixed``) more
    often than one inside a block; everything else is a residential compound.
    """
    pick = Picker(micros, road_class, rng)
    middle = iter(MIDDLE_SCHOOLS)
    weilai = NS_ARTERIALS[WEILAI_INDEX][0]
    pick.place("police", 1, lambda r: f"{r}派出所", min_area=5000, road=weilai)
    pick.place("school", 1, lambda r: f"{r}小学", min_area=8000, road=weilai, school_kind="primary")
    pick.place(
        "school",
        4,
        lambda r: f"{r}小学",
        min_area=7000,
        classes=("tertiary",),
        school_kind="primary",
    )
    pick.place(
        "school",
        2,
        lambda _: next(middle),
        min_area=8000,
        classes=("tertiary", "secondary"),
        school_kind="middle",
        gates=2,
    )
    pick.place(
        "kindergarten",
        2,
        lambda r: f"{r}幼儿园",
        min_area=4500,
        classes=("tertiary", "residential"),
        school_kind="kindergarten",
    )
    pick.place(
        "hospital", 1, lambda _: "郑州市金水区第二人民医院", min_area=9000, classes=("primary",)
    )
    pick.place(
        "clinic",
        1,
        lambda _: "未来路街道社区卫生服务中心",
        min_area=4000,
        classes=("tertiary", "secondary"),
    )
    pick.place(
        "market", 3, lambda r: f"{r}农贸市场", min_area=5000, classes=("tertiary", "secondary")
    )
    pick.place("mall", 2, lambda r: f"{r}购物中心", min_area=8000, classes=("primary",))
    suffixes = itertools.cycle([str(x) for x in rng.permutation(OFFICE_SUFFIXES)])
    pick.place(
        "office",
        30,
        lambda r: f"{r.removesuffix('路')}{next(suffixes)}",
        min_area=4000,
        classes=("primary", "secondary"),
    )
    parks = itertools.cycle(["街心公园", "游园", "口袋公园"])
    pick.place("park", 5, lambda r: f"{r}{next(parks)}", min_area=4000, classes=tuple(ROAD_CLASSES))
    for m in micros:
        if m.land_use != "residential":
            continue
        major = sum(v for k, v in m.frontage.items() if road_class[k] in ("primary", "secondary"))
        minor = sum(v for k, v in m.frontage.items() if road_class[k] == "tertiary")
        chance = 0.45 if major >= 40 else 0.15 if minor >= 40 else 0.02
        if rng.random() < chance:
            m.land_use = "mixed"


# --------------------------------------------------------------------------------------------
# Buildings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How buildings of one kind are laid out: rows of rectangles with random sizes (m)."""

    depth: tuple[float, float]
    length: tuple[float, float]
    row_gap: tuple[float, float]
    col_gap: tuple[float, float]
    floors: tuple[int, ...]
    max_count: int = 99


LAYOUTS: dict[str, Layout] = {
    "new": Layout((14, 17), (30, 54), (28, 38), (10, 16), (11, 11, 18, 18, 26, 33)),
    "tower": Layout((20, 24), (20, 24), (24, 30), (16, 22), (26, 30, 33)),
    "old": Layout((10.5, 12.5), (24, 44), (17, 21), (6, 9), (5, 6, 6, 6, 7)),
    "mixed": Layout((12, 16), (12, 24), (8, 12), (3, 6), (2, 3, 3, 4, 5, 6)),
    "office": Layout((24, 34), (30, 50), (20, 30), (15, 25), (12, 16, 18, 22, 26, 28), 3),
    "school": Layout((14, 18), (45, 70), (25, 35), (15, 25), (4, 5), 3),
    "kindergarten": Layout((14, 18), (25, 40), (20, 30), (12, 20), (3,), 2),
    "hospital": Layout((20, 30), (40, 60), (15, 20), (15, 20), (6, 9, 12, 16), 4),
    "clinic": Layout((14, 18), (24, 36), (15, 20), (10, 15), (3, 4), 1),
    "market": Layout((30, 45), (40, 70), (15, 20), (15, 20), (1, 2), 2),
    "mall": Layout((40, 55), (55, 85), (20, 30), (20, 30), (5, 6, 7), 1),
    "police": Layout((16, 20), (30, 45), (15, 20), (15, 20), (5,), 1),
}


@dataclass
class Building:
    """A building footprint before it gets its id."""

    geom: Polygon
    micro: int
    use: str  # residential, mixed, aux, or the land use of the institution
    floors: int
    slab: int = 0  # footprints of the units (单元) of one slab share the slab number
    unit: int = 0  # 单元 number when a slab is mapped unit by unit, else 0
    name: str | None = None
    address: str = ""
    residents: int = 0


@dataclass(frozen=True)
class Placement:
    """A rotated local frame in which rows of buildings run along the ``x`` axis."""

    angle: float
    origin: tuple[float, float]

    def to_world(self, b: Box) -> Polygon:
        """The local rectangle ``b`` in EPSG:4547."""
        return affinity.rotate(box(*b), self.angle, origin=self.origin, use_radians=True)


def lattice(
    zone: BaseGeometry, angle: float, layout: Layout, rng: np.random.Generator
) -> tuple[list[Box], Placement]:
    """Rows of rectangles that fit inside ``zone``, long sides along ``angle``.

    A rectangle that does not fit is tried again at 60 % of its length, then the row moves on by
    a few metres, so irregular zones still fill up.
    """
    centre = shapely.get_coordinates(zone.centroid)[0]
    place = Placement(angle, (float(centre[0]), float(centre[1])))
    local = affinity.rotate(zone, -angle, origin=place.origin, use_radians=True)
    shapely.prepare(local)
    minx, miny, maxx, maxy = local.bounds
    boxes: list[Box] = []
    y = miny + rng.uniform(0.0, 3.0)
    while True:
        depth = rng.uniform(*layout.depth)
        if y + depth > maxy:
            break
        row_start = len(boxes)
        x = minx + rng.uniform(0.0, 4.0)
        while x < maxx:
            length = rng.uniform(*layout.length)
            fits = [
                b
                for b in ((x, y, x + length, y + depth), (x, y, x + 0.6 * length, y + depth))
                if local.contains(box(*b))
            ]
            if fits:
                boxes.append(fits[0])
                x = fits[0][2] + rng.uniform(*layout.col_gap)
            else:
                x += 4.0
        y += depth + rng.uniform(*layout.row_gap) if len(boxes) > row_start else 4.0
    if len(boxes) > layout.max_count:
        largest = sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))[: layout.max_count]
        boxes = [b for b in boxes if b in largest]
    return boxes, place


def split_units(b: Box, n: int) -> list[Box]:
    """Cut a slab into ``n`` units (单元) along its length, with 0.3 m expansion joints."""
    xs = np.linspace(b[0], b[2], n + 1)
    return [
        (
            float(xs[i]) + (0.15 if i else 0.0),
            b[1],
            float(xs[i + 1]) - (0.15 if i < n - 1 else 0.0),
            b[3],
        )
        for i in range(n)
    ]


@dataclass
class Compound:
    """A residential compound: a named 小区 over a block, or a 号院 in one micro-grid."""

    new: bool
    style: str = "号楼"  # or 栋
    by_unit: bool = False  # slabs are mapped unit by unit (5号楼2单元)
    aux_left: list[str] = field(default_factory=list)
    slabs: int = 0


def _aux_buildings(
    zone: BaseGeometry,
    placed: list[Polygon],
    compound: Compound,
    m: int,
    angle: float,
    rng: np.random.Generator,
) -> list[Building]:
    """Zero to three small service buildings (配电房, 车棚, ...) in the space left in a compound."""
    free = zone.difference(shapely.union_all([p.buffer(6.0) for p in placed])) if placed else zone
    if free.is_empty:
        return []
    shapely.prepare(free)
    out: list[Building] = []
    minx, miny, maxx, maxy = free.bounds
    wanted = int(rng.integers(0, 4))
    for _ in range(40):
        if len(out) == wanted or not compound.aux_left:
            break
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        w, d = rng.uniform(8, 14), rng.uniform(6, 10)
        rect = affinity.rotate(
            box(cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2), angle, use_radians=True
        )
        if free.contains(rect) and not any(rect.distance(b.geom) < 6.0 for b in out):
            name = compound.aux_left.pop(0)
            out.append(Building(rect, m, "aux", int(rng.integers(1, 3)), name=name))
    return out


def street_angle(m: Micro, streets: dict[str, Street], fallback: float) -> float:
    """Direction of the longest street a micro-grid fronts, where it passes the micro-grid."""
    if not m.frontage:
        return fallback
    line = streets[next(iter(m.frontage))].line
    s = line.project(m.geom.centroid)
    a = shapely.get_coordinates(line.interpolate(max(s - 5.0, 0.0)))[0]
    b = shapely.get_coordinates(line.interpolate(min(s + 5.0, line.length)))[0]
    return math.atan2(b[1] - a[1], b[0] - a[0])


def residents_of(b: Building) -> int:
    """Resident estimate from floor area: flats only, ground-floor shops excluded in mixed use."""
    if b.use == "residential":
        return round(b.geom.area * b.floors / RES_M2_PER_PERSON)
    if b.use == "mixed" and b.floors >= 3:
        return round(b.geom.area * (b.floors - 1) / RES_M2_PER_PERSON)
    return 0


def furnish_micro(
    i: int,
    m: Micro,
    zone: BaseGeometry,
    compound: Compound | None,
    angle: float,
    rng: np.random.Generator,
) -> list[Building]:
    """Lay out the buildings of one micro-grid inside its buildable ``zone``."""
    if m.land_use == "park" or zone.is_empty:
        return []
    if compound is None:
        layout = LAYOUTS[m.land_use]
        boxes, place = lattice(zone, angle, layout, rng)
        use = m.land_use
        return [Building(place.to_world(b), i, use, int(rng.choice(layout.floors))) for b in boxes]
    kind = "old" if not compound.new else "tower" if rng.random() < 0.2 else "new"
    layout = LAYOUTS[kind]
    floors = int(rng.choice(layout.floors))
    boxes, place = lattice(zone, angle, layout, rng)
    out = []
    for b in boxes:
        compound.slabs += 1
        units = max(2, round((b[2] - b[0]) / 16)) if compound.by_unit and kind == "new" else 0
        pieces = split_units(b, units) if units else [b]
        for u, piece in enumerate(pieces, start=1):
            out.append(
                Building(
                    place.to_world(piece),
                    i,
                    "residential",
                    floors,
                    compound.slabs,
                    u if units else 0,
                )
            )
    return out + _aux_buildings(zone, [b.geom for b in out], compound, i, angle, rng)


def place_buildings(
    micros: list[Micro],
    segments: Sequence[Segment],
    streets: dict[str, Street],
    frame: Frame,
    rng: np.random.Generator,
) -> tuple[list[Building], dict[int, Compound], dict[int, int]]:
    """Buildings of every micro-grid, kept behind the street red lines and 2.5 m off walls.

    Returns
    -------
    list of Building
        All buildings, in micro-grid order.
    dict
        Compounds by key: a block index for a named 小区, ``-1 - micro index`` for a 号院.
    dict
        Compound key of each residential micro-grid.
    """
    reach = [
        ROAD_CLASSES[s.spec.road_class].half_width + ROAD_CLASSES[s.spec.road_class].setback
        for s in segments
    ]
    road_zone = shapely.union_all(shapely.buffer([s.line for s in segments], reach))
    block_new: dict[int, bool] = {}
    compounds: dict[int, Compound] = {}
    compound_of: dict[int, int] = {}
    buildings: list[Building] = []
    for i, m in enumerate(micros):
        compound = None
        if m.land_use == "residential":
            if m.block not in block_new:  # 45 % of the residential blocks are newer 小区
                block_new[m.block] = bool(rng.random() < 0.45)
            new = block_new[m.block]
            key = m.block if new else -1 - i
            if key not in compounds:
                compounds[key] = Compound(
                    new,
                    "栋" if new and rng.random() < 0.3 else "号楼",
                    new and rng.random() < 0.5,
                    [str(a) for a in rng.permutation(AUX_NAMES)][:4],
                )
            compound, compound_of[i] = compounds[key], key
        zone = m.geom.buffer(-2.5).difference(road_zone)
        angle = (
            frame.angle
            if m.land_use in ("residential", "school", "kindergarten")
            else street_angle(m, streets, frame.angle)
        )
        buildings += furnish_micro(i, m, zone, compound, angle, rng)
    for b in buildings:
        b.geom = shapely.set_precision(b.geom, GRID)
        b.residents = residents_of(b)
    return buildings, compounds, compound_of


# --------------------------------------------------------------------------------------------
# Addresses and names
# --------------------------------------------------------------------------------------------


class HouseNumbers:
    """Door-plate numbers along each street: odd on the left, even on the right.

    Numbers grow in the direction the street is drawn (northwards or eastwards), one pair every
    10 m from a street-specific start, since most streets begin outside the district.
    """

    def __init__(self, streets: dict[str, Street], rng: np.random.Generator) -> None:
        self.lines = {name: s.line for name, s in streets.items()}
        self.start = {
            name: 1 if s.level == 4 else 2 * int(rng.integers(0, 60)) + 1
            for name, s in streets.items()
        }
        self.taken: dict[str, set[int]] = defaultdict(set)

    def along(self, road: str, point: Point) -> float:
        """Distance along ``road`` to the foot of ``point``."""
        return float(self.lines[road].project(point))

    def assign(self, road: str, point: Point) -> int:
        """The next free number on ``road`` for a door at ``point``."""
        line = self.lines[road]
        s = line.project(point)
        a = shapely.get_coordinates(line.interpolate(max(s - 1.0, 0.0)))[0]
        b = shapely.get_coordinates(line.interpolate(min(s + 1.0, line.length)))[0]
        p = shapely.get_coordinates(point)[0]
        left = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0
        n = self.start[road] + 2 * int(s // 10.0) + (0 if left else 1)
        while n in self.taken[road]:
            n += 2
        self.taken[road].add(n)
        return n


def nearest_road(m: Micro, point: Point, numbers: HouseNumbers) -> str:
    """The street, among those the micro-grid fronts, nearest to ``point``."""
    roads = list(m.frontage) or list(numbers.lines)
    return min(roads, key=lambda r: (numbers.lines[r].distance(point), r))


def _sorted_uv(items: Sequence[Building], frame: Frame) -> list[Building]:
    """Buildings from south-west to north-east, as compounds number their buildings."""
    uv = frame.uv(np.array([shapely.get_coordinates(b.geom.centroid)[0] for b in items]))
    order = sorted(range(len(items)), key=lambda j: (round(float(uv[j, 1]) / 8.0), float(uv[j, 0])))
    return [items[j] for j in order]


@dataclass
class Namer:
    """Assigns addresses to buildings and names to micro-grids, micro-grid by micro-grid."""

    micros: list[Micro]
    numbers: HouseNumbers
    frame: Frame
    rng: np.random.Generator
    compound_names: Iterator[str]
    work_units: Iterator[str]
    compound_label: dict[int, str] = field(default_factory=dict)
    compound_micros: Counter[int] = field(default_factory=Counter)

    def street_front(self, m: Micro, items: list[Building]) -> None:
        """Each building gets its own number on the nearest street (未来路123号)."""
        numbered: dict[str, list[int]] = defaultdict(list)
        roads = {id(b): nearest_road(m, b.geom.centroid, self.numbers) for b in items}
        for b in sorted(
            items, key=lambda b: (roads[id(b)], self.numbers.along(roads[id(b)], b.geom.centroid))
        ):
            road = roads[id(b)]
            n = self.numbers.assign(road, b.geom.centroid)
            numbered[road].append(n)
            b.address = f"{ADDRESS_PREFIX}{road}{n}号"
        if not numbered:
            road = nearest_road(m, m.geom.centroid, self.numbers)
            numbered[road].append(self.numbers.assign(road, m.geom.centroid))
        road = max(numbered, key=lambda r: (len(numbered[r]), r))
        low, high = min(numbered[road]), max(numbered[road])
        m.name = f"{road}{low}号微网格" if low == high else f"{road}{low}-{high}号微网格"

    def yard(self, m: Micro, items: list[Building], compound: Compound) -> None:
        """An old compound on a street number: 红专路45号院3号楼; aux: 红专路45号院配电房."""
        road = nearest_road(m, m.geom.centroid, self.numbers)
        yard = f"{road}{self.numbers.assign(road, m.geom.centroid)}号院"
        unit = next(self.work_units, None) if self.rng.random() < 0.3 else None
        m.label = f"{unit}家属院" if unit else yard
        for k, b in enumerate(
            _sorted_uv([b for b in items if b.use != "aux"], self.frame), start=1
        ):
            b.address, b.name = f"{ADDRESS_PREFIX}{yard}{k}{compound.style}", m.label
        for b in items:
            if b.use == "aux":
                b.address, b.name = f"{ADDRESS_PREFIX}{yard}{b.name}", m.label
        m.name = f"{yard}微网格"

    def estate(self, m: Micro, items: list[Building], compound: Compound, key: int) -> None:
        """A named 小区: 锦绣花园5号楼, 锦绣花园5栋, or unit by unit 锦绣花园5号楼2单元."""
        if key not in self.compound_label:
            self.compound_label[key] = next(self.compound_names)
        name = self.compound_label[key]
        self.compound_micros[key] += 1
        m.label, m.name = name, f"{name}{self.compound_micros[key]}号微网格"
        for b in items:
            if b.use == "aux":
                b.address, b.name = f"{ADDRESS_PREFIX}{name}{b.name}", name
            else:
                unit = f"{b.unit}单元" if b.unit else ""
                b.address, b.name = f"{ADDRESS_PREFIX}{name}{b.slab}{compound.style}{unit}", name

    def institution(self, m: Micro, items: list[Building]) -> None:
        """A campus on one street number: 政七街56号, or 政七街56号院2号楼 if it has several."""
        road = m.gates[0] if m.gates else nearest_road(m, m.geom.centroid, self.numbers)
        number = f"{road}{self.numbers.assign(road, m.geom.centroid)}号"
        for k, b in enumerate(_sorted_uv(items, self.frame), start=1):
            b.address = (
                f"{ADDRESS_PREFIX}{number}"
                if len(items) == 1
                else f"{ADDRESS_PREFIX}{number}院{k}号楼"
            )
            b.name = m.label
        m.name = f"{m.label}微网格"


def name_everything(
    micros: list[Micro],
    buildings: list[Building],
    compounds: dict[int, Compound],
    compound_of: dict[int, int],
    streets: dict[str, Street],
    frame: Frame,
    rng: np.random.Generator,
) -> None:
    """Give every building an address and every micro-grid a name and a population."""
    names = [p + s for p in COMPOUND_PREFIXES for s in COMPOUND_SUFFIXES]
    namer = Namer(
        micros,
        HouseNumbers(streets, rng),
        frame,
        rng,
        iter(str(n) for n in rng.permutation(names)),
        iter(str(u) for u in rng.permutation(WORK_UNITS)),
    )
    by_micro: dict[int, list[Building]] = defaultdict(list)
    for b in buildings:
        by_micro[b.micro].append(b)
    for i, m in enumerate(micros):
        items = by_micro[i]
        if m.land_use == "mixed":
            namer.street_front(m, items)
        elif m.land_use == "residential" and compounds[compound_of[i]].new:
            namer.estate(m, items, compounds[compound_of[i]], compound_of[i])
        elif m.land_use == "residential":
            namer.yard(m, items, compounds[compound_of[i]])
        elif m.land_use == "park":
            m.name = f"{m.label}微网格"
        else:
            namer.institution(m, items)
        m.population = sum(b.residents for b in items)
    seen: Counter[str] = Counter()
    for m in micros:
        seen[m.name] += 1
        if seen[m.name] > 1:
            m.name = m.name.replace("微网格", f"{seen[m.name]}号微网格")


# --------------------------------------------------------------------------------------------
# Points of interest
# --------------------------------------------------------------------------------------------


@dataclass
class Poi:
    """A point of interest before it gets its id."""

    kind: str
    name: str
    point: Point
    window_am: str | None = None
    window_pm: str | None = None
    gate: str | None = None


def gate_point(m: Micro, road: str, streets: dict[str, Street], frame: Frame) -> tuple[Point, str]:
    """A school gate on the kerb of ``road``, midway along the school's frontage.

    Returns
    -------
    Point
        The gate, 1.5 m inside the red line, inside the school's micro-grid.
    str
        Which side of the school it is on (南门, 北门, 东门, 西门).
    """
    spec = streets[road]
    shared = m.geom.boundary.intersection(spec.line.buffer(0.05))
    longest = max(
        shapely.get_parts(
            shapely.line_merge(shared) if shared.geom_type == "MultiLineString" else shared
        ),
        key=lambda g: g.length,
    )
    foot = spec.line.interpolate(spec.line.project(longest.interpolate(0.5, normalized=True)))
    s = spec.line.project(foot)
    a = shapely.get_coordinates(spec.line.interpolate(s - 1.0))[0]
    b = shapely.get_coordinates(spec.line.interpolate(s + 1.0))[0]
    normal = np.array([a[1] - b[1], b[0] - a[0]]) / np.hypot(*(b - a))
    offset = ROAD_CLASSES[spec.road_class].half_width + 1.5
    f = shapely.get_coordinates(foot)[0]
    for sign in (1.0, -1.0):
        p = Point(f + sign * offset * normal)
        if m.geom.contains(p):
            du, dv = (
                frame.uv(shapely.get_coordinates(foot)) - frame.uv(shapely.get_coordinates(p))
            )[0]
            side = (
                ("东门" if du > 0 else "西门")
                if abs(du) > abs(dv)
                else ("北门" if dv > 0 else "南门")
            )
            return p, side
    msg = f"no gate position for {m.label} on {road}"
    raise InvariantError(msg)


def police_posts(streets: dict[str, Street], frame: Frame) -> list[Poi]:
    """Two patrol posts (警务站) on the north-east corners of busy crossings."""
    posts = []
    for ns, ew, name in (
        ("未来路", "农业路", "农业路警务站"),
        ("玉凤路", "红专路", "红专路警务站"),
    ):
        crossing = streets[ns].line.intersection(streets[ew].line)
        du = ROAD_CLASSES[streets[ns].road_class].half_width + 3.0
        dv = ROAD_CLASSES[streets[ew].road_class].half_width + 3.0
        posts.append(
            Poi(
                "station",
                name,
                Point(
                    frame.xy(frame.uv(shapely.get_coordinates(crossing)) + np.array([du, dv]))[0]
                ),
            )
        )
    return posts


def community_centres(
    micros: list[Micro],
    first_building: dict[int, Building],
    streets: dict[str, Street],
    rng: np.random.Generator,
) -> list[Poi]:
    """Community party-and-service centres (党群服务中心), in compounds of different level-2 grids.

    Each is named after the street it is on (红专路社区党群服务中心), as communities usually are.
    """
    homes = [i for i, m in enumerate(micros) if m.land_use == "residential" and i in first_building]
    used_grid2: set[int] = set()
    names: list[str] = []
    out = []
    for i in (int(j) for j in rng.permutation(homes)):
        m = micros[i]
        street = next((s for s in m.frontage if streets[s].level <= 3), None)
        if street is None or m.grid2 in used_grid2 or f"{street}社区" in names:
            continue
        used_grid2.add(m.grid2)
        names.append(f"{street}社区")
        out.append(
            Poi("community_center", f"{street}社区党群服务中心", first_building[i].geom.centroid)
        )
        if len(out) == N_COMMUNITIES:
            break
    return out


def make_pois(
    micros: list[Micro],
    buildings: list[Building],
    streets: dict[str, Street],
    frame: Frame,
    rng: np.random.Generator,
) -> list[Poi]:
    """Police stations, school gates with duty windows, hospitals, markets, parks and so on."""
    first_building: dict[int, Building] = {}
    for b in buildings:
        first_building.setdefault(b.micro, b)
    pois = police_posts(streets, frame)
    for i, m in enumerate(micros):
        spot = (
            first_building[i].geom.centroid
            if i in first_building
            else m.geom.representative_point()
        )
        if m.school_kind:
            am, pm = DUTY_WINDOWS[m.school_kind]
            for road in m.gates:
                point, side = gate_point(m, road, streets, frame)
                pois.append(Poi("school_gate", m.label, point, am, pm, side))
        elif m.land_use in ("police", "hospital", "clinic", "market", "mall", "park"):
            kind = "station" if m.land_use == "police" else m.land_use
            pois.append(Poi(kind, m.label, spot))
    pois += community_centres(micros, first_building, streets, rng)
    for p in pois:
        p.point = shapely.set_precision(p.point, GRID)
    return pois


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def write_layer(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write one layer as GeoJSON in EPSG:4547 with centimetre coordinates and no bbox."""
    path.unlink(missing_ok=True)
    gdf.to_file(
        path,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": 2, "WRITE_BBOX": "NO"},
    )


def area_layers(micros: list[Micro], hierarchy: Hierarchy) -> dict[str, gpd.GeoDataFrame]:
    """The four area levels, each parent the coverage union of its children."""
    micro_rows = {
        "code": [m.code for m in micros],
        "name": [m.name for m in micros],
        "level": ["micro"] * len(micros),
        "parent_code": [hierarchy.grid3_codes[g] for g in hierarchy.micro_grid3],
        "population": [m.population for m in micros],
        "land_use": [m.land_use for m in micros],
    }
    layers = {"micro": gpd.GeoDataFrame(micro_rows, geometry=[m.geom for m in micros], crs=CRS)}
    specs = (
        (
            "grid3",
            "micro",
            hierarchy.grid3_codes,
            hierarchy.grid3_names,
            [hierarchy.grid2_codes[p] for p in hierarchy.grid3_parent],
        ),
        (
            "grid2",
            "grid3",
            hierarchy.grid2_codes,
            hierarchy.grid2_names,
            [SUBDISTRICT_CODE] * len(hierarchy.grid2_codes),
        ),
        ("subdistrict", "grid2", [SUBDISTRICT_CODE], [SUBDISTRICT_NAME], [None]),
    )
    for level, child, codes, names, parents in specs:
        kids = layers[child]
        geoms, pops = [], []
        for code in codes:
            members = kids[kids["parent_code"] == code]
            geoms.append(shapely.coverage_union_all(members.geometry.to_numpy()))
            pops.append(int(members["population"].sum()))
        rows = {
            "code": codes,
            "name": names,
            "level": [level] * len(codes),
            "parent_code": parents,
            "population": pops,
        }
        layers[level] = gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)
    return layers


def building_layer(buildings: list[Building], micros: list[Micro]) -> gpd.GeoDataFrame:
    """Building footprints with door-plate addresses."""
    rows = {
        "building_id": [
            f"{micros[b.micro].code}-B{k:02d}" for b, k in _numbered_in_micro(buildings)
        ],
        "address": [b.address for b in buildings],
        "name": [b.name for b in buildings],
        "use": [b.use for b in buildings],
        "floors": [b.floors for b in buildings],
        "residents": [b.residents for b in buildings],
        "micro_code": [micros[b.micro].code for b in buildings],
    }
    return gpd.GeoDataFrame(rows, geometry=[b.geom for b in buildings], crs=CRS)


def _numbered_in_micro(buildings: list[Building]) -> list[tuple[Building, int]]:
    """Each building with its 1-based position inside its micro-grid."""
    seen: Counter[int] = Counter()
    out = []
    for b in buildings:
        seen[b.micro] += 1
        out.append((b, seen[b.micro]))
    return out


def road_layer(segments: Sequence[Segment]) -> gpd.GeoDataFrame:
    """Road segments noded at every intersection."""
    rows = {
        "road_id": [f"R{i + 1:04d}" for i in range(len(segments))],
        "name": [s.spec.name for s in segments],
        "road_class": [s.spec.road_class for s in segments],
        "oneway": [s.spec.oneway for s in segments],
        "maxspeed_kmh": [ROAD_CLASSES[s.spec.road_class].maxspeed_kmh for s in segments],
        "lanes": [
            1 if s.spec.oneway and s.spec.level == 4 else ROAD_CLASSES[s.spec.road_class].lanes
            for s in segments
        ],
    }
    return gpd.GeoDataFrame(rows, geometry=[s.line for s in segments], crs=CRS)


def poi_layer(pois: list[Poi], micro_layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Points of interest with the code of the micro-grid they lie in."""
    pois = sorted(pois, key=lambda p: POI_ORDER.index(p.kind))
    inside = locate([p.point for p in pois], list(micro_layer.geometry))
    rows = {
        "poi_id": [f"P{i + 1:03d}" for i in range(len(pois))],
        "kind": [p.kind for p in pois],
        "name": [p.name for p in pois],
        "gate": [p.gate for p in pois],
        "window_am": [p.window_am for p in pois],
        "window_pm": [p.window_pm for p in pois],
        "micro_code": [micro_layer["code"].iloc[i] for i in inside],
    }
    return gpd.GeoDataFrame(rows, geometry=[p.point for p in pois], crs=CRS)


# --------------------------------------------------------------------------------------------
# Verification of the written files
# --------------------------------------------------------------------------------------------


def _check_areas(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Counts, validity, single polygons, no slivers, codes and exact parent-child tiling."""
    problems = []
    for level, count in LEVEL_COUNTS.items():
        gdf = layers[level]
        if len(gdf) != count:
            problems.append(f"{level}: {len(gdf)} areas, expected {count}")
        if not (gdf.is_valid & (gdf.geom_type == "Polygon")).all():
            problems.append(f"{level}: invalid or non-Polygon geometry")
        if gdf["code"].duplicated().any() or (gdf["level"] != level).any():
            problems.append(f"{level}: duplicate codes or wrong level")
    micro = layers["micro"]
    thin = (micro.area < MIN_MICRO_AREA) | (
        4 * math.pi * micro.area / micro.length**2 < MIN_COMPACTNESS * 0.8
    )
    if thin.any():
        problems.append(f"micro: {int(thin.sum())} slivers")
    if layers["subdistrict"]["parent_code"].notna().any():
        problems.append("subdistrict: parent_code must be null")
    for child, parent in (("grid2", "subdistrict"), ("grid3", "grid2"), ("micro", "grid3")):
        kids, parents = layers[child], layers[parent]
        if set(kids["parent_code"]) != set(parents["code"]):
            problems.append(f"{child}: parent codes do not match the {parent} codes")
        for code, geom in zip(parents["code"], parents.geometry, strict=True):
            union = shapely.union_all(kids.geometry[kids["parent_code"] == code].to_numpy())
            if geom.symmetric_difference(union).area > 0.01:
                problems.append(f"{parent} {code} is not the union of its children")
        geoms = kids.geometry.to_numpy()
        pairs = STRtree(geoms).query(geoms, predicate="intersects")
        pairs = pairs[:, pairs[0] < pairs[1]]
        overlap = shapely.area(shapely.intersection(geoms[pairs[0]], geoms[pairs[1]])).sum()
        if overlap > 0.01:
            problems.append(f"{child}: siblings overlap by {overlap:.3f} m²")
    total = layers["subdistrict"].area.iloc[0]
    if abs(micro.area.sum() - total) / total > 1e-4:
        problems.append("micro-grid areas do not add up to the sub-district area")
    return problems


def _check_buildings(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Every building inside exactly its own micro-grid, off the street centrelines, unique."""
    problems = []
    micro, buildings, roads = layers["micro"], layers["buildings"], layers["roads"]
    pairs = STRtree(micro.geometry.to_numpy()).query(
        buildings.geometry.to_numpy(), predicate="within"
    )
    hosts: dict[int, list[int]] = defaultdict(list)
    for b, m in zip(pairs[0], pairs[1], strict=True):
        hosts[int(b)].append(int(m))
    codes = micro["code"].to_numpy()
    bad = [
        b
        for b in range(len(buildings))
        if [codes[m] for m in hosts[b]] != [buildings["micro_code"].iloc[b]]
    ]
    if bad:
        problems.append(f"{len(bad)} buildings not inside exactly their own micro-grid")
    if not buildings.is_valid.all() or (buildings.geom_type != "Polygon").any():
        problems.append("invalid building footprints")
    crossing = STRtree(roads.geometry.to_numpy()).query(
        buildings.geometry.to_numpy(), predicate="intersects"
    )
    if crossing.shape[1]:
        problems.append(f"{crossing.shape[1]} buildings touch a street centreline")
    for column in ("building_id", "address"):
        if buildings[column].duplicated().any():
            problems.append(f"buildings: duplicate {column}")
    pop = buildings.groupby("micro_code")["residents"].sum()
    if not (micro.set_index("code")["population"] == pop.reindex(micro["code"]).fillna(0)).all():
        problems.append("micro population is not the sum of building residents")
    return problems


def _check_roads(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Segments meet only at shared endpoints; a loose end must lie on the district border."""
    problems = []
    roads = layers["roads"]
    border = layers["subdistrict"].geometry.iloc[0].exterior
    lines = roads.geometry.to_numpy()
    ends = [end_keys(line) for line in lines]
    degree = Counter(k for pair in ends for k in pair)
    loose = [k for k, d in degree.items() if d < 2 and border.distance(Point(k)) > GRID]
    if loose:
        problems.append(f"{len(loose)} road endpoints are neither shared nor on the border")
    pairs = STRtree(lines).query(lines, predicate="intersects")
    for i, j in zip(*pairs[:, pairs[0] < pairs[1]], strict=True):
        meet = {node_key(xy) for xy in shapely.get_coordinates(lines[i].intersection(lines[j]))}
        if not meet <= set(ends[i]) & set(ends[j]):
            problems.append(
                f"roads {roads['road_id'].iloc[i]} and {roads['road_id'].iloc[j]} cross off a node"
            )
    if roads["road_id"].duplicated().any():
        problems.append("duplicate road_id")
    return problems


def _check_pois(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """POIs lie in the micro-grid they name; school gates carry duty windows."""
    problems = []
    pois, micro = layers["pois"], layers["micro"]
    inside = locate(list(pois.geometry), list(micro.geometry))
    if list(micro["code"].iloc[inside]) != list(pois["micro_code"]):
        problems.append("a POI's micro_code is not the micro-grid it lies in")
    gates = pois[pois["kind"] == "school_gate"]
    if gates[["window_am", "window_pm"]].isna().any().any() or not 8 <= len(gates) <= 12:
        problems.append("school gates need 8-12 gates with duty windows")
    if not 2 <= (pois["kind"] == "station").sum() <= 4:
        problems.append("expected 2-4 police stations")
    return problems


def verify(out: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the written files back and check every invariant.

    Returns
    -------
    dict
        The layers as read back, by file stem.

    Raises
    ------
    InvariantError
        Listing every failed invariant.
    """
    names = (*LEVEL_COUNTS, "buildings", "roads", "pois")
    layers = {name: gpd.read_file(out / f"{name}.geojson") for name in names}
    problems = [
        f"{n}: CRS is {g.crs}, not EPSG:4547"
        for n, g in layers.items()
        if g.crs is None or g.crs.to_epsg() != 4547
    ]
    problems += (
        _check_areas(layers) + _check_buildings(layers) + _check_roads(layers) + _check_pois(layers)
    )
    if problems:
        raise InvariantError("; ".join(problems))
    return layers


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def generate(seed: int, out: Path) -> dict[str, gpd.GeoDataFrame]:
    """Build the district from ``seed``, write the seven GeoJSON files to ``out``, verify them.

    Returns
    -------
    dict
        The layers as read back from ``out``.
    """
    rng = np.random.default_rng(seed)
    frame = make_frame()
    plan = plan_axes(rng)
    specs = arterial_roads(plan, frame, rng)
    district = district_polygon(specs)
    specs += tertiary_roads(plan, specs, frame, rng)
    specs += minor_roads(specs, district, frame, rng)
    segments = node_roads(specs, district)
    part = build_partition(segments, rng)
    hierarchy, order = build_hierarchy(part, plan, frame)
    geoms = [part.micro[i] for i in order]
    fronts = frontages(geoms, segments)
    micros = [
        Micro(
            geoms[k],
            hierarchy.micro_codes[k],
            hierarchy.grid3_parent[g3],
            part.micro_block[order[k]],
            fronts[k],
        )
        for k, g3 in enumerate(hierarchy.micro_grid3)
    ]
    road_class = {s.name: s.road_class for s in specs}
    assign_land_use(micros, road_class, rng)
    streets = streets_of(specs)
    buildings, compounds, compound_of = place_buildings(micros, segments, streets, frame, rng)
    name_everything(micros, buildings, compounds, compound_of, streets, frame, rng)
    pois = make_pois(micros, buildings, streets, frame, rng)
    layers = area_layers(micros, hierarchy)
    layers["buildings"] = building_layer(buildings, micros)
    layers["roads"] = road_layer(segments)
    layers["pois"] = poi_layer(pois, layers["micro"])
    out.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        write_layer(gdf, out / f"{name}.geojson")
    return verify(out)


def summary(layers: dict[str, gpd.GeoDataFrame]) -> str:
    """A few lines describing what was written."""
    sub = layers["subdistrict"]
    lines = [
        f"sub-district {sub['name'].iloc[0]}: {sub.area.iloc[0] / 1e6:.3f} km², "
        f"population {int(sub['population'].iloc[0])}",
        "areas: " + ", ".join(f"{level} {len(layers[level])}" for level in LEVEL_COUNTS),
        f"buildings: {len(layers['buildings'])}",
        "roads: "
        + ", ".join(f"{k} {v}" for k, v in layers["roads"]["road_class"].value_counts().items()),
        "pois: " + ", ".join(f"{k} {v}" for k, v in layers["pois"]["kind"].value_counts().items()),
        "micro land use: "
        + ", ".join(f"{k} {v}" for k, v in layers["micro"]["land_use"].value_counts().items()),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)"
    )
    args = parser.parse_args(argv)
    layers = generate(args.seed, args.out)
    print(summary(layers))


if __name__ == "__main__":
    main()
