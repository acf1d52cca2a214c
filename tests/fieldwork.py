"""Shared ground for the tests of work on foot: the two-grid hierarchy of tests/test_cases.py,
WGS84 points inside its micro-grids, photos with an EXIF location, a roster."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from pyproj import Transformer

from tests.test_cases import MICROS, X0, Y0

_TO_WGS84 = Transformer.from_crs(4547, 4326, always_xy=True)
GPS_IFD = 0x8825


def lonlat(micro: str, dx: float = 50.0, dy: float = 50.0) -> tuple[float, float]:
    """A WGS84 point in micro-grid ``micro`` (``dx``, ``dy`` metres from its corner)."""
    lon, lat = _TO_WGS84.transform(X0 + MICROS[micro][1] + dx, Y0 + dy)
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
