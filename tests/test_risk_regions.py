"""Risk per region (geo/scale/batch.py, ``gridsafe batch risk``): each region gets its own run,
its own Gi* over its own micro-grids and its own false-discovery control.

Two districts of square 100 m micro-grids, every incident at a cell's centre, nothing random:

- ``town``: 10 x 10 micro-grids, one incident in every third cell and a 3 x 3 block of cells
  with 12 incidents each: a real cluster;
- ``county``: 60 x 60 micro-grids with the same thin background and no cluster.

With 499 permutations the smallest pseudo p-value is 1/500. Benjamini-Hochberg at 5 % over the
town's 100 cells rejects as soon as 4 cells reach it, so the town's cluster is found. Pooled
with the county (3,700 tests) it would need 148 such cells: the same cluster, in the same
data, is found nowhere (bench/RESULTS.md's finding at province scale, made small).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from geo.risk import compute_risk
from geo.risk.compute import AreaRisk
from geo.scale.batch import Job, run_here, task
from geo.settings import Settings
from tests.districts import square_district

AS_OF = datetime(2026, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
Y0 = 3846000.0


@dataclass(frozen=True)
class District:
    prefix: str
    side: int
    x0: float
    cluster: tuple[int, int] | None
    """Row and column of the lower left cell of the 3 x 3 cluster."""


TOWN = District("t", 10, 470000.0, (3, 3))
COUNTY = District("c", 60, 480000.0, None)

_INCIDENTS = """
INSERT INTO incidents (region, source, source_id, type, occurred_at, reported_at, geom,
                       area_code, area_path)
SELECT :region, 'test', :p || (r * :side + c) || '-' || k, 'theft',
       CAST(:as_of AS timestamptz) - k * interval '1 day',
       CAST(:as_of AS timestamptz) - k * interval '1 day' + interval '1 hour',
       ST_SetSRID(ST_MakePoint(:x0 + c * 100 + 50, :y0 + r * 100 + 50), 4547),
       :p || 'M' || (r * :side + c), '{}'
FROM generate_series(0, :side - 1) r, generate_series(0, :side - 1) c,
     generate_series(1, CASE WHEN r BETWEEN :r0 AND :r0 + 2 AND c BETWEEN :c0 AND :c0 + 2
                             THEN :heavy
                             WHEN (r * :side + c) % 3 = 0 THEN 1 ELSE 0 END) k
"""


def _district(
    conn: Connection,
    region: str,
    district: District,
    *,
    heavy: int = 12,
    cluster: tuple[int, int] | None = None,
) -> None:
    """Store ``district``'s areas and incidents under ``region``; ``cluster`` overrides the
    district's own."""
    square_district(conn, region, prefix=district.prefix, side=district.side, x0=district.x0, y0=Y0)
    # No cluster: a block outside the district.
    r0, c0 = cluster or district.cluster or (-10, -10)
    conn.execute(
        text(_INCIDENTS),
        {
            "region": region,
            "p": district.prefix,
            "side": district.side,
            "x0": district.x0,
            "y0": Y0,
            "as_of": AS_OF,
            "r0": r0,
            "c0": c0,
            "heavy": heavy,
        },
    )


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    return db_settings.replace(risk_permutations=499, risk_fdr_alpha=0.05)


def _hot(areas: list[AreaRisk]) -> set[str]:
    return {a.code for a in areas if a.significant}


def test_each_region_finds_its_own_cluster_that_a_pooled_run_dilutes(
    db: Engine, settings: Settings
) -> None:
    with db.begin() as conn:
        _district(conn, "town", TOWN)
        _district(conn, "county", COUNTY)
        # The same two districts as one region: the pooled run.
        _district(conn, "pooled", TOWN)
        _district(conn, "pooled", COUNTY)

    done = run_here(task(Job.RISK, settings, period=None, when=AS_OF), ["town", "county"])
    assert [(d.region, d.counts["micro_grids"]) for d in done] == [("town", 100), ("county", 3600)]
    with db.connect() as conn:
        runs = conn.execute(text("SELECT region FROM risk_runs ORDER BY id")).scalars().all()
    assert runs == ["town", "county"]

    town = compute_risk(db, settings.replace(region="town"), as_of=AS_OF)
    hot = _hot(town.areas)
    block = {f"tM{r * 10 + c}" for r in range(3, 6) for c in range(3, 6)}
    # The town's own run finds the cluster (its centre and the cells sharing an edge with it:
    # the corners' neighbourhoods hold more background) and nothing else.
    assert "tM44" in hot
    assert hot <= block
    assert len(hot) >= 4
    assert done[0].counts["hot_spots"] == len(hot)
    assert done[1].counts["hot_spots"] == 0

    pooled = compute_risk(db, settings.replace(region="pooled"), as_of=AS_OF)
    assert pooled.params["micro_grids"] == 3700
    assert _hot(pooled.areas) == set()
    # Same data, same statistic: the cluster's cells have the smallest p-value possible in
    # both runs; only the number of tests they are corrected for differs.
    town_p = {a.code: a.gi_p for a in town.areas if a.code in block}
    pooled_p = {a.code: a.gi_p for a in pooled.areas if a.code in block}
    assert town_p["tM44"] == pytest.approx(1 / 500)
    assert pooled_p["tM44"] == pytest.approx(1 / 500)


def test_a_region_s_run_does_not_depend_on_another_region_s_data(
    db: Engine, settings: Settings
) -> None:
    with db.begin() as conn:
        _district(conn, "town", TOWN)
    town = settings.replace(region="town")
    before = compute_risk(db, town, as_of=AS_OF)
    with db.begin() as conn:
        # A much stronger cluster next door, in another region, drawn over the same ground.
        _district(conn, "county", COUNTY, heavy=40, cluster=(20, 20))
        _district(conn, "county2", replace(TOWN, prefix="d"), heavy=40, cluster=(0, 0))
    after = compute_risk(db, town, as_of=AS_OF)
    assert [(a.code, a.colour, a.gi_p, a.significant) for a in after.areas] == [
        (a.code, a.colour, a.gi_p, a.significant) for a in before.areas
    ]
    assert after.params["fdr_p"] == before.params["fdr_p"]
