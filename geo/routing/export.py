"""A stored plan as GPX 1.1 (https://www.topografix.com/GPX/1/1/): what handheld units load.

Each unit is a track along its road path; each station and stop is a waypoint named
``<unit> <seq>. <label>`` with its arrival time. Coordinates come from the plan's GeoJSON,
which the database already produced in EPSG:4326.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _point(parent: ET.Element, tag: str, lonlat: list[float]) -> ET.Element:
    return ET.SubElement(parent, tag, lat=f"{lonlat[1]:.7f}", lon=f"{lonlat[0]:.7f}")


def plan_gpx(plan: dict[str, Any]) -> str:
    """Render a plan from :func:`geo.routing.plan.get_plan` as GPX text."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", version="1.1", creator="gridsafe")
    meta = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    ET.SubElement(meta, f"{{{GPX_NS}}}name").text = f"gridsafe route plan {plan['id']}"
    ET.SubElement(meta, f"{{{GPX_NS}}}time").text = plan["shift"]["start"]
    for unit in plan["units"]:
        station = unit["station"]
        if station.get("geometry"):
            wpt = _point(root, f"{{{GPX_NS}}}wpt", station["geometry"]["coordinates"])
            ET.SubElement(wpt, f"{{{GPX_NS}}}time").text = unit["depart"]
            ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = f"{unit['name']} 0. {station['name']}"
            ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = "station"
        for stop in unit["stops"]:
            wpt = _point(root, f"{{{GPX_NS}}}wpt", stop["geometry"]["coordinates"])
            ET.SubElement(wpt, f"{{{GPX_NS}}}time").text = stop["arrival"]
            ET.SubElement(
                wpt, f"{{{GPX_NS}}}name"
            ).text = f"{unit['name']} {stop['seq']}. {stop['label']}"
            ET.SubElement(wpt, f"{{{GPX_NS}}}desc").text = (
                f"{stop['kind']}, risk {stop['risk']:g}, stay {stop['dwell_s'] // 60} min "
                f"until {stop['departure'][11:16]}"
            )
            ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = stop["kind"]
    for unit in plan["units"]:
        trk = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(trk, f"{{{GPX_NS}}}name").text = unit["name"]
        seg = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
        path = unit.get("path")
        for lonlat in path["coordinates"] if path else []:
            _point(seg, f"{{{GPX_NS}}}trkpt", lonlat)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
