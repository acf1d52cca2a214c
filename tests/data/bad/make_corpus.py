"""Write the corpus of broken input files next to this script (the files are committed).

Run ``.venv/bin/python tests/data/bad/make_corpus.py`` after changing it. Each file breaks one
thing; tests/test_bad_input.py holds the error each must produce. The places are a 100 m square
near Weilai Road, Zhengzhou (lon 113.684, lat 34.772; in EPSG:4547 about x 470 700, y 3 848 300).
The zip bomb is not here: its declared size is what matters, so the test forges it in a temp dir.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
LON, LAT = 113.684, 34.772
D = 0.001  # degrees: about 90 m east-west, 110 m north-south here
X, Y = 470_700.0, 3_848_300.0


def _fc(features: list[dict[str, object]], crs: str | None = "EPSG:4326") -> dict[str, object]:
    out: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        out["crs"] = {"type": "name", "properties": {"name": crs}}
    return out


def _feature(geometry: dict[str, object], **props: object) -> dict[str, object]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _square(x: float, y: float, d: float) -> dict[str, object]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _text(name: str, body: str) -> None:
    (HERE / name).write_text(body, encoding="utf-8")


def _json(name: str, obj: object) -> None:
    # allow_nan: the NaN/Infinity literals are the point of some files (GDAL reads them).
    _text(name, json.dumps(obj, ensure_ascii=False, allow_nan=True) + "\n")


def boundaries() -> None:
    """Files offered as one level's boundaries."""
    good = _fc([_feature(_square(LON, LAT, D), code="B1", name="好街道")])
    _text("truncated.geojson", json.dumps(good)[:120])
    _json(
        "points_as_boundaries.geojson",
        _fc([_feature({"type": "Point", "coordinates": [LON, LAT]}, code="B1", name="点街道")]),
    )
    nan_ring = [[LON, LAT], [float("nan"), LAT], [LON + D, LAT + D], [LON, LAT + D], [LON, LAT]]
    _json(
        "nan_boundary.geojson",
        _fc([_feature({"type": "Polygon", "coordinates": [nan_ring]}, code="B1", name="NaN街道")]),
    )
    inf_ring = [[LON, LAT], [float("inf"), LAT], [LON + D, LAT + D], [LON, LAT + D], [LON, LAT]]
    _json(
        "inf_boundary.geojson",
        _fc([_feature({"type": "Polygon", "coordinates": [inf_ring]}, code="B1", name="无穷街道")]),
    )
    swapped = _square(LAT, LON, D)  # (lat, lon): latitude 113.7 is off the globe
    _json("swapped_boundary.geojson", _fc([_feature(swapped, code="B1", name="颠倒街道")]))
    _json(
        "wgs84_labelled_4547.geojson",
        _fc([_feature(_square(LON, LAT, D), code="B1", name="错标街道")], crs="EPSG:4547"),
    )
    bowtie = [[X, Y], [X + 100, Y + 100], [X + 100, Y], [X, Y + 100], [X, Y]]
    _json(
        "bowtie_boundary.geojson",
        _fc(
            [_feature({"type": "Polygon", "coordinates": [bowtie]}, code="B1", name="蝴蝶街道")],
            crs="EPSG:4547",
        ),
    )
    _json("no_features.geojson", _fc([]))
    _json(
        "no_crs_metric.geojson",
        _fc([_feature(_square(X, Y, 100), code="B1", name="无坐标系")], crs=None),
    )
    _text("not_a_zip.zip", "this is a text file named .zip, not an archive\n")


def incidents() -> None:
    """Files offered as incidents (rows that load, rows that must be refused with a reason)."""
    rows = [
        "lon,lat,type,occurred_at,source_id,description",
        f"{LON},{LAT},fire,2025-03-01 08:30,ok-1,好的一行",
        f"NaN,{LAT},fire,2025-03-01 08:30,nan-1,NaN 经度",
        f"{LON},inf,fire,2025-03-01 08:30,inf-1,无穷纬度",
        f"{LAT},{LON},fire,2025-03-01 08:30,swap-1,经纬颠倒",
        ",,,,,",
        f"{LON},,fire,2025-03-01 08:30,half-1,只有经度",
        f"{LON},{LAT},no-such-type,2025-03-01 08:30,type-1,未知类型",
        f"{LON},{LAT},fire,yesterday-ish,time-1,时间不可读",
        f'{LON},{LAT},fire,2025-03-01 08:30,=1+1,"=HYPERLINK(""http://evil"",""x"")"',
    ]
    _text("incidents_bad_rows.csv", "\n".join(rows) + "\n")
    _json(
        "polygons_as_incidents.geojson",
        _fc(
            [
                _feature(
                    _square(LON, LAT, D),
                    type="fire",
                    occurred_at="2025-03-01 08:30",
                    source_id="poly-1",
                ),
                _feature(
                    {"type": "Point", "coordinates": [LON, LAT]},
                    type="fire",
                    occurred_at="2025-03-01 08:30",
                    source_id="point-1",
                ),
            ]
        ),
    )
    _json(
        "nan_point_incidents.geojson",
        _fc(
            [
                _feature(
                    {"type": "Point", "coordinates": [float("nan"), LAT]},
                    type="fire",
                    occurred_at="2025-03-01 08:30",
                    source_id="nan-1",
                )
            ]
        ),
    )
    _text(
        "truncated_incidents.geojson",
        json.dumps(
            _fc(
                [
                    _feature(
                        {"type": "Point", "coordinates": [LON, LAT]}, type="fire", source_id="t-1"
                    )
                ]
            )
        )[:90],
    )
    _json(
        "incidents_wgs84_labelled_4547.geojson",
        _fc(
            [
                _feature(
                    {"type": "Point", "coordinates": [LON, LAT]},
                    type="fire",
                    occurred_at="2025-03-01 08:30",
                    source_id="mislabel-1",
                )
            ],
            crs="EPSG:4547",
        ),
    )


if __name__ == "__main__":
    boundaries()
    incidents()
