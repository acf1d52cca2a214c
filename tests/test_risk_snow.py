"""A real point pattern nobody here made: John Snow's 1854 cholera deaths in Soho (libpysal's
``snow_maps`` example, shipped with the package: 324 addresses, 392 deaths, 13 public pumps).

The deaths are laid over a grid of 50 m micro-grids in the British National Grid (EPSG:27700)
and coloured by the engine. Two independent computations say where the cluster is: Snow's own
test (each death is allotted to its nearest pump; the Broad Street pump takes most of them), and
a Gaussian kernel density estimate of the deaths (scipy, Scott's bandwidth). The engine's red
micro-grids must hold the Broad Street pump and the density's peak, and concentrate the deaths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pytest
import shapely
from libpysal import examples
from scipy.stats import gaussian_kde
from sqlalchemy import Engine, text

from geo.assessment import Colour
from geo.levels import Level
from geo.risk import as_of_instant, compute_risk
from geo.settings import Settings

SIZE = 50.0


@pytest.fixture(scope="module")
def snow() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    deaths = gpd.read_file(examples.get_path("SohoPeople.shp")).to_crs(27700)
    pumps = gpd.read_file(examples.get_path("SohoWater.shp")).to_crs(27700)
    return deaths[deaths["Count"] > 0].reset_index(drop=True), pumps


def test_red_micro_grids_are_where_the_cholera_deaths_cluster(
    make_db: Callable[..., tuple[Engine, Settings]], snow: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    engine, settings = make_db("risk_snow", srid=27700, region="soho")
    deaths, pumps = snow
    x0, y0, x1, y1 = deaths.total_bounds
    x0, y0 = math.floor(x0 / SIZE) * SIZE, math.floor(y0 / SIZE) * SIZE
    cols, rows = math.ceil((x1 - x0) / SIZE), math.ceil((y1 - y0) / SIZE)
    cells = {
        f"C{r:02d}{c:02d}": shapely.box(
            x0 + c * SIZE, y0 + r * SIZE, x0 + (c + 1) * SIZE, y0 + (r + 1) * SIZE
        )
        for r in range(rows)
        for c in range(cols)
    }
    whole = shapely.box(x0, y0, x0 + cols * SIZE, y0 + rows * SIZE)
    insert = text(
        "INSERT INTO areas (region, code, name, level, parent_code, ancestors, geom) VALUES "
        "('soho', :code, :code, :level, :parent, :anc, ST_Multi(ST_GeomFromText(:wkt, 27700)))"
    )
    as_of = as_of_instant(date(2026, 9, 10), settings.timezone)
    with engine.begin() as conn:
        for code, level, parent, anc in [
            ("SOHO", Level.SUBDISTRICT, None, []),
            ("G2", Level.GRID2, "SOHO", ["SOHO"]),
            ("G3", Level.GRID3, "G2", ["SOHO", "G2"]),
        ]:
            conn.execute(
                insert,
                {
                    "code": code,
                    "level": level.value,
                    "parent": parent,
                    "anc": anc,
                    "wkt": whole.wkt,
                },
            )
        conn.execute(
            insert,
            [
                {
                    "code": code,
                    "level": "micro",
                    "parent": "G3",
                    "anc": ["SOHO", "G2", "G3"],
                    "wkt": g.wkt,
                }
                for code, g in cells.items()
            ],
        )
        records = []
        for i, row in deaths.iterrows():
            px, py = row.geometry.x, row.geometry.y
            code = f"C{int((py - y0) // SIZE):02d}{int((px - x0) // SIZE):02d}"
            for k in range(int(row["Count"])):
                records.append(
                    {
                        "sid": f"{i}-{k}",
                        "when": as_of - timedelta(days=5),
                        "wkt": row.geometry.wkt,
                        "code": code,
                        "path": ["SOHO", "G2", "G3", code],
                    }
                )
        conn.execute(
            text(
                "INSERT INTO incidents (region, source, source_id, type, occurred_at, reported_at,"
                " geom, area_code, area_path) VALUES ('soho', 'snow1854', :sid, 'other', :when,"
                " :when, ST_GeomFromText(:wkt, 27700), :code, :path)"
            ),
            records,
        )

    result = compute_risk(engine, settings, as_of=as_of)
    micro = result.level(Level.MICRO)
    red = [a for a in micro if a.colour is Colour.RED]
    assert red, "the cholera cluster must show red"
    red_union = shapely.union_all([cells[a.code] for a in red])

    # Snow's test: the pump nearest to most deaths.
    dx = deaths.geometry.x.to_numpy()[:, None] - pumps.geometry.x.to_numpy()[None, :]
    dy = deaths.geometry.y.to_numpy()[:, None] - pumps.geometry.y.to_numpy()[None, :]
    nearest = np.hypot(dx, dy).argmin(axis=1)
    allotted = np.bincount(nearest, weights=deaths["Count"], minlength=len(pumps))
    broad_street = pumps.geometry.iloc[int(allotted.argmax())]
    assert allotted.max() / deaths["Count"].sum() > 0.6
    assert red_union.distance(broad_street) == 0

    # The density peak, evaluated at the cell centres.
    kde = gaussian_kde(np.vstack([deaths.geometry.x, deaths.geometry.y]), weights=deaths["Count"])
    centres = np.array([[g.centroid.x, g.centroid.y] for g in cells.values()]).T
    peak = list(cells)[int(kde(centres).argmax())]
    assert result.by_code()[peak].colour is Colour.RED

    # Red concentrates the deaths: their share of deaths over their share of the area.
    deaths_in_red = sum(a.reasons["incidents_total"] for a in red)
    share = (deaths_in_red / 392) / (len(red) / len(micro))
    assert share > 3
    assert result.by_code()["SOHO"].colour is Colour.RED
