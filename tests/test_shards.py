"""The sharded run (geo/scale/shards.py): two private PostgreSQL clusters as shards, one region
on each, a coordinator whose region partitions are postgres_fdw foreign tables on them.

The jobs give the same answers through the coordinator as on one server holding both regions
(a database of the coordinator's cluster, the benchmark's baseline), the border rule holds on
the shards, and EXPLAIN shows the work sent to the shards: the locate's join as one remote
UPDATE, the risk aggregation's GROUP BY, and the national roll-up as one aggregate per shard
scanned at once (Async Foreign Scan).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from geo.scale.shards import (
    ShardMap,
    ShardMapError,
    SyntheticRegion,
    analyze,
    attach_shards,
    explain,
    generate_region,
    job,
    locate_fixes,
    located,
    national_rollup,
    prepare_shard,
    risk_counts,
    risk_params,
    rollup_statement,
)
from geo.settings import RiskSettings
from tests.pgcluster import available, national_clusters

pytestmark = pytest.mark.skipif(not available(), reason="needs the PostgreSQL 15 binaries")

AS_OF = datetime(2026, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
SRID = 4547
SIDE = 8
REGIONS = [
    SyntheticRegion("r1", x0=470000.0, y0=3846000.0, side=SIDE, fixes=1500, incidents=400),
    SyntheticRegion("r2", x0=480000.0, y0=3846000.0, side=SIDE, fixes=1500, incidents=400),
]
RISK = RiskSettings()


@dataclass
class Run:
    coordinator: Engine
    baseline: Engine


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    """Three clusters: the coordinator (with the baseline database beside it) and two shards."""
    with national_clusters(2) as servers:
        clusters, coordinator, baseline = servers.clusters, servers.coordinator, servers.baseline
        shards = servers.shards
        shard_map = ShardMap.from_config(
            {
                "shards": {"a": clusters[1].url("shard"), "b": clusters[2].url("shard")},
                "regions": {"r1": "a", "r2": "b"},
            }
        )
        for engine, name in zip(shards, ["a", "b"], strict=True):
            with engine.begin() as conn:
                prepare_shard(conn, shard_map.regions_on(name), srid=SRID)
                for spec in REGIONS:
                    if shard_map.regions[spec.region] == name:
                        generate_region(conn, spec, as_of=AS_OF, srid=SRID)
        with baseline.begin() as conn:
            prepare_shard(conn, [r.region for r in REGIONS], srid=SRID)
            for spec in REGIONS:
                generate_region(conn, spec, as_of=AS_OF, srid=SRID)
        with coordinator.begin() as conn:
            attach_shards(conn, shard_map, srid=SRID)
            analyze(conn, [r.region for r in REGIONS])
        yield Run(coordinator=coordinator, baseline=baseline)


def test_the_jobs_are_sent_to_the_shards(run: Run) -> None:
    with run.coordinator.begin() as conn:
        plan = explain(conn, job("scale_locate_inside", "r1"), {})
        assert "Foreign Update" in plan
        remote = [ln for ln in plan.splitlines() if "Remote SQL" in ln]
        assert len(remote) == 1
        assert "fixes_r1" in remote[0]
        assert 'FROM "national".micro_grids_r1' in remote[0]
        assert "st_contains" in remote[0]

        plan = explain(conn, job("scale_risk_counts", "r2"), risk_params(RISK, AS_OF))
        assert plan.splitlines()[0].startswith("Foreign Scan")
        assert 'Aggregate on ("national".incidents_r2' in plan
        assert "GROUP BY" in next(ln for ln in plan.splitlines() if "Remote SQL" in ln)

        conn.execute(text("SET LOCAL enable_partitionwise_aggregate = on"))
        plan = explain(conn, rollup_statement(), risk_params(RISK, AS_OF))
        assert plan.count("Async Foreign Scan") == 2
        remote = [ln for ln in plan.splitlines() if "Remote SQL" in ln]
        assert len(remote) == 2
        assert all("GROUP BY" in ln and "count(DISTINCT area_code)" in ln for ln in remote)


def test_the_same_region_through_the_parent_is_not_pushed_down(run: Run) -> None:
    """Why the jobs name the partition: through the parents the join runs on the coordinator."""
    with run.coordinator.begin() as conn:
        plan = explain(
            conn,
            text(
                "SELECT f.unit, m.code FROM national.fixes f JOIN national.micro_grids m "
                "ON m.region = f.region AND ST_Contains(m.geom, f.geom) "
                "WHERE f.region = 'r1' AND m.region = 'r1'"
            ),
            {},
        )
    # The join runs here (each fix probing the shard, or both sides pulled whole): no Remote
    # SQL holds it.
    assert plan.startswith(("Nested Loop", "Hash Join", "Merge Join"))
    remote = [ln for ln in plan.splitlines() if "Remote SQL" in ln]
    assert len(remote) == 2
    assert not any("JOIN" in ln for ln in remote)


def test_locating_follows_the_border_rule_and_matches_one_server(run: Run) -> None:
    placed = {}
    for engine in (run.coordinator, run.baseline):
        with engine.begin() as conn:
            placed[engine] = {r.region: locate_fixes(conn, r.region) for r in REGIONS}
            # Located again: nothing is left to place.
            assert all(locate_fixes(conn, r.region) == 0 for r in REGIONS)
    # 1 % of the fixes lie outside the region; the rest, on borders too, are placed.
    expected = {r.region: r.fixes - r.fixes // 100 for r in REGIONS}
    assert placed[run.coordinator] == placed[run.baseline] == expected
    with run.coordinator.connect() as conn:
        sharded = {r.region: located(conn, r.region) for r in REGIONS}
    with run.baseline.connect() as conn:
        single = {r.region: located(conn, r.region) for r in REGIONS}
        # The fixes on a vertical edge between columns k-1 and k go to column k-1's micro-grid,
        # the smaller code; the cell arithmetic says which one that is.
        wrong = conn.execute(
            text(
                "SELECT count(*) FROM national.fixes f "
                "WHERE abs(ST_X(f.geom) - :x0 - round((ST_X(f.geom) - :x0) / 100) * 100) = 0 "
                "AND ST_X(f.geom) > :x0 AND f.region = 'r1' AND f.area_code IS DISTINCT FROM "
                "'r1-' || lpad((floor((ST_Y(f.geom) - :y0) / 100) * :side "
                "+ round((ST_X(f.geom) - :x0) / 100) - 1)::int::text, 6, '0')"
            ),
            {"x0": REGIONS[0].x0, "y0": REGIONS[0].y0, "side": SIDE},
        ).scalar_one()
        on_border = conn.execute(
            text(
                "SELECT count(*) FROM national.fixes_r1 f, national.micro_grids_r1 m "
                "WHERE ST_Intersects(m.geom, f.geom) GROUP BY f.unit, f.t HAVING count(*) > 1"
            )
        ).all()
    assert sharded == single
    assert sharded["r1"][None] == REGIONS[0].fixes // 100
    assert len(on_border) >= REGIONS[0].fixes // 100 - 1
    assert wrong == 0


def test_risk_counts_and_the_national_roll_up_match_one_server(run: Run) -> None:
    answers = []
    for engine in (run.coordinator, run.baseline):
        with engine.begin() as conn:
            counts = {
                r.region: sorted(
                    tuple(row) for row in risk_counts(conn, r.region, RISK, as_of=AS_OF)
                )
                for r in REGIONS
            }
            rollup = [tuple(row) for row in national_rollup(conn, RISK, as_of=AS_OF)]
        answers.append((counts, rollup))
    assert answers[0] == answers[1]
    counts, rollup = answers[0]
    # Every incident was generated in the year before AS_OF: all of them count, by region.
    assert {r: sum(n for _, _, n in rows) for r, rows in counts.items()} == {
        r.region: r.incidents for r in REGIONS
    }
    assert sorted({region for region, *_ in rollup}) == ["r1", "r2"]
    assert sum(n for _, _, n, _ in rollup) == sum(r.incidents for r in REGIONS)


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"shards": {}, "regions": {}}, "no shard"),
        ({"shards": {"A b": "postgresql://u@h/d"}}, "'A b'"),
        ({"shards": {"a": "not a url"}}, "no database URL"),
        ({"shards": {"a": "postgresql://h/d"}}, "lacks"),
        ({"shards": {"a": "postgresql://u@h/d"}, "regions": {"r1": "b"}}, "'b'"),
        ({"shards": {"a": "postgresql://u@h/d"}, "regions": {"r1;drop": "a"}}, "'r1;drop'"),
    ],
)
def test_a_bad_shard_map_is_refused_naming_the_fault(config: dict[str, object], names: str) -> None:
    with pytest.raises(ShardMapError, match=names):
        ShardMap.from_config(config)
