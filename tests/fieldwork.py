"""Shared ground for the tests of work on foot: a two-grid hierarchy (EPSG:4547, 100 m tall)::

    S > G > T1 (0-100 m) > M1 (0-50 m), M3 (50-100 m)
          > T2 (100-200 m) > M2

WGS84 points inside its micro-grids, risk colours, photos with an EXIF location, a roster."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from PIL import Image
from pyproj import Transformer
from sqlalchemy import Engine, text

from geo.settings import Settings

X0, Y0 = 500_000.0, 3_850_000.0  # EPSG:4547 metres, near Zhengzhou
AREAS: dict[str, tuple[str, str | None, float, float]] = {
    # code: (level, parent, x offset, width)
    "S": ("subdistrict", None, 0, 200),
    "G": ("grid2", "S", 0, 200),
    "T1": ("grid3", "G", 0, 100),
    "T2": ("grid3", "G", 100, 100),
    "M1": ("micro", "T1", 0, 50),
    "M3": ("micro", "T1", 50, 50),
    "M2": ("micro", "T2", 100, 100),
}
COLOURS = {"M1": "red", "M3": "yellow", "M2": "blue"}
_TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)
GPS_IFD = 0x8825


def place(engine: Engine, settings: Settings, *, as_of: datetime) -> None:
    """Store the hierarchy and a risk run as of ``as_of`` colouring the micro-grids."""
    with engine.begin() as conn:
        for code, (level, parent, x, w) in AREAS.items():
            ancestors: list[str] = []
            up = parent
            while up is not None:
                ancestors.insert(0, up)
                up = AREAS[up][1]
            x0, x1, y0, y1 = X0 + x, X0 + x + w, Y0, Y0 + 100
            conn.execute(
                text(
                    "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) "
                    "VALUES (:r, :c, :n, :l, :p, :a, ST_GeomFromText(:w, 4547))"
                ),
                {
                    "r": settings.region,
                    "c": code,
                    "n": f"网格{code}",
                    "l": level,
                    "p": parent,
                    "a": ancestors,
                    "w": f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))",
                },
            )
        run = conn.execute(
            text(
                "INSERT INTO risk_runs (region, as_of, params) VALUES (:r, :t, '{}') RETURNING id"
            ),
            {"r": settings.region, "t": as_of},
        ).scalar_one()
        for code, colour in COLOURS.items():
            conn.execute(
                text(
                    "INSERT INTO risk_scores (run_id, region, area_code, level, colour, score, "
                    "hazard_colour, incident_colour, reasons) "
                    "VALUES (:run, :r, :c, 'micro', :colour, 50, :colour, :colour, '{}')"
                ),
                {"run": run, "r": settings.region, "c": code, "colour": colour},
            )


def lonlat(micro: str, dx: float | None = None, dy: float = 50.0) -> tuple[float, float]:
    """A WGS84 point in micro-grid ``micro`` (``dx``, ``dy`` metres from its corner; by
    default its centre)."""
    _level, _parent, x, w = AREAS[micro]
    lon, lat = _TO_WGS84.transform(X0 + x + (w / 2 if dx is None else dx), Y0 + dy)
    return float(lon), float(lat)


def photo_with_gps(colour: str = "red", size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG whose EXIF holds a GPS position (34°46'20"N 113°41'3"E) and a camera make."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (34.0, 46.0, 20.0), 3: "E", 4: (113.0, 41.0, 3.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def gps_of(jpeg: bytes) -> dict[int, Any]:
    """The GPS entries of a JPEG's EXIF (empty when it has none)."""
    return dict(Image.open(io.BytesIO(jpeg)).getexif().get_ifd(GPS_IFD))


ROSTER: dict[str, Any] = {
    "people": [
        {"post": "grid_head", "name": "张网格", "phone": "13800000001"},
        {"post": "building_head", "name": "李楼长"},
        {"post": "road_head", "name": "王路长"},
        {"post": "member", "duty": "治安员", "name": "赵治安"},
        {"post": "member", "duty": "调解员", "name": "钱调解"},
        {"post": "secretary", "name": "孙书记"},
    ],
    "squads": {
        "mediation": {"name": "T1调解队", "members": [{"name": "钱调解", "leads": True}]},
        "inspection": {"name": "T1排查队", "members": [{"name": "周排查", "leads": True}]},
        "patrol": {"name": "T1巡逻队", "members": [{"name": "吴巡逻", "leads": True}]},
    },
}
"""A level-3 grid's people and squads as an admin sends them."""
