"""PostgreSQL's own sharding: region partitions that are ``postgres_fdw`` foreign tables.

A **coordinator** database holds the national tables (``national.micro_grids``,
``national.fixes``, ``national.incidents``) partitioned by ``LIST (region)``; each region's
partitions are foreign tables on the **shard** that the shard map places it on, where they are
ordinary tables keyed by region first, with a GiST index. The jobs are the store's own rules
run per region: locating fixes (the border rule of :mod:`geo.locate`), the risk aggregation
(the incidents per micro-grid and type of ``geo/risk/sql/risk_incidents.sql``) and a national
roll-up grouped by region first.

What postgres_fdw pushes down, and what it needs for that (docs/sharding.md):

- a per-region job **names the region's partitions** (``national.fixes_<region>``); the same
  query through the parent with ``region = ...`` is pruned to one partition but its join is not
  sent to the shard;
- the foreign server has ``extensions 'postgis'``, so PostGIS functions may be shipped;
- the roll-up runs with ``enable_partitionwise_aggregate``, so each region's ``GROUP BY`` runs
  on its shard, and the servers are ``async_capable``, so the shards work at once.

The same SQL runs unchanged on a single server that holds every region's partitions locally
(:func:`prepare_shard` with every region): that is the baseline the benchmark compares with.

Limits of this engine, not of the code: no unique key on the parents (each shard keys its own
partitions), no two-phase commit across shards (every job writes one region, so none needs
it), row-level security only on the coordinator's parents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.engine import make_url as parse_url
from sqlalchemy.exc import ArgumentError

from geo.database import sql
from geo.errors import GridsafeError
from geo.settings import RiskSettings

_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
"""Shard and region names become parts of SQL identifiers (``fixes_<region>``): lower-case
letters, digits and underscores only, so no name needs quoting and none can inject SQL."""


class ShardMapError(GridsafeError):
    """A shard map names a shard or region badly, or places a region on no known shard."""


@dataclass(frozen=True)
class Shard:
    """One shard server: where the coordinator reaches it."""

    name: str
    host: str
    port: int
    database: str
    user: str
    password: str | None = None


@dataclass(frozen=True)
class ShardMap:
    """The shards and which one holds each region."""

    shards: Mapping[str, Shard]
    regions: Mapping[str, str]
    """Region to shard name."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ShardMap:
        """Read ``{"shards": {name: url}, "regions": {region: shard name}}``.

        Each URL is a PostgreSQL URL (``postgresql://user[:password]@host:port/database``, any
        SQLAlchemy driver suffix allowed).

        Raises
        ------
        ShardMapError
            A name that is not lower-case letters, digits and underscores, a URL that does not
            parse or lacks a part, or a region placed on a shard the map does not define.
        """
        shards: dict[str, Shard] = {}
        for name, url in dict(config.get("shards") or {}).items():
            _check_name("shard", name)
            try:
                parsed = parse_url(str(url))
            except ArgumentError:
                msg = f"shard {name!r}: {url!r} is no database URL"
                raise ShardMapError(msg) from None
            if not (parsed.host and parsed.database and parsed.username):
                msg = f"shard {name!r}: {url!r} lacks a host, a database or a user"
                raise ShardMapError(msg)
            shards[name] = Shard(
                name=name,
                host=parsed.host,
                port=parsed.port or 5432,
                database=parsed.database,
                user=parsed.username,
                password=parsed.password,
            )
        if not shards:
            msg = "the shard map defines no shard"
            raise ShardMapError(msg)
        regions: dict[str, str] = {}
        for region, shard in dict(config.get("regions") or {}).items():
            _check_name("region", region)
            if shard not in shards:
                msg = f"region {region!r} is placed on {shard!r}, which is no shard of the map"
                raise ShardMapError(msg)
            regions[region] = shard
        return cls(shards=shards, regions=regions)

    def regions_on(self, shard: str) -> list[str]:
        """The regions the map places on ``shard``, sorted."""
        return sorted(r for r, s in self.regions.items() if s == shard)


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        msg = f"{kind} name {name!r}: use 1-40 lower-case letters, digits or underscores"
        raise ShardMapError(msg)


def _literal(value: str) -> str:
    """``value`` as an SQL string literal (for DDL, which takes no bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


def partitions(region: str) -> dict[str, str]:
    """The names of ``region``'s partitions, as the job SQL's placeholders."""
    _check_name("region", region)
    return {
        "micro_grids": f"micro_grids_{region}",
        "fixes": f"fixes_{region}",
        "incidents": f"incidents_{region}",
    }


def _statements(name: str, **parts: str) -> list[str]:
    """The statements of ``geo/scale/sql/{name}.sql`` with the placeholders filled in."""
    body = sql(name, "geo.scale").text.format(**parts)
    lines = [ln for ln in body.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def job(name: str, region: str) -> TextClause:
    """The statement of the per-region job ``geo/scale/sql/{name}.sql``
    (``scale_locate_inside``, ``scale_risk_counts``, ...) on ``region``'s partitions."""
    (statement,) = _statements(name, **partitions(region))
    return text(statement)


def prepare_parents(conn: Connection, *, srid: int) -> None:
    """Create PostGIS and the partitioned national tables (coordinator and shards alike)."""
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    for statement in _statements("shard_parents", srid=str(int(srid))):
        conn.execute(text(statement))


def prepare_shard(conn: Connection, regions: Sequence[str], *, srid: int) -> None:
    """Make a server hold ``regions``' partitions as its own tables (a shard, or the baseline
    single server holding every region)."""
    prepare_parents(conn, srid=srid)
    for region in regions:
        parts = partitions(region)
        for statement in _statements(
            "shard_region",
            region=_literal(region),
            micro_grids_gist=f"{parts['micro_grids']}_gist",
            **parts,
        ):
            conn.execute(text(statement))


def attach_shards(conn: Connection, shard_map: ShardMap, *, srid: int) -> None:
    """Make the connected database the coordinator of ``shard_map``: the national parents,
    one foreign server and user mapping per shard, one foreign partition per region.

    Safe to repeat. A region already attached stays where it is; moving a region is a new
    shard's copy and a re-attach, not this function's work.
    """
    prepare_parents(conn, srid=srid)
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgres_fdw"))
    for shard in shard_map.shards.values():
        server = f"shard_{shard.name}"
        (statement,) = _statements(
            "shard_server",
            server=server,
            host=_literal(shard.host),
            port=_literal(str(shard.port)),
            dbname=_literal(shard.database),
        )
        conn.execute(text(statement))
        options = f"user {_literal(shard.user)}"
        if shard.password:
            options += f", password {_literal(shard.password)}"
        conn.execute(
            text(
                f"CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER {server} "
                f"OPTIONS ({options})"
            )
        )
    for region, shard_name in sorted(shard_map.regions.items()):
        parts = partitions(region)
        for statement in _statements(
            "shard_foreign",
            region=_literal(region),
            server=f"shard_{shard_name}",
            **parts,
            **{f"{k}_name": _literal(v) for k, v in parts.items()},
        ):
            conn.execute(text(statement))


def analyze(conn: Connection, regions: Sequence[str]) -> None:
    """Gather the coordinator's statistics of ``regions``' partitions (``ANALYZE`` samples the
    shards), after they were loaded. Without them the planner guesses that a join on
    ``region`` matches few rows, joins locally and pulls every row of both partitions."""
    for region in regions:
        for name in partitions(region).values():
            conn.execute(text(f"ANALYZE national.{name}"))


def locate_fixes(conn: Connection, region: str) -> int:
    """Place ``region``'s fixes that have no micro-grid yet, by the border rule
    (:mod:`geo.locate`): interiors first, then the smallest code on a shared boundary; a fix in
    no micro-grid stays unplaced. Returns the number of fixes placed."""
    inside = conn.execute(job("scale_locate_inside", region)).rowcount
    border = conn.execute(job("scale_locate_border", region)).rowcount
    return int(inside) + int(border)


def unplace_fixes(conn: Connection, region: str) -> int:
    """Mark ``region``'s fixes unplaced, for :func:`locate_fixes` to place them all again.
    Returns the number of fixes that had a micro-grid."""
    return int(conn.execute(job("scale_unplace", region)).rowcount)


def located(conn: Connection, region: str) -> dict[str | None, int]:
    """``region``'s fixes per micro-grid code (None: in no micro-grid)."""
    rows = conn.execute(job("scale_located", region))
    return {r.area_code: int(r.n) for r in rows}


def risk_params(risk: RiskSettings, as_of: datetime) -> dict[str, object]:
    """The bound values of the risk aggregation and the roll-up."""
    return {"as_of": as_of, "since": as_of - timedelta(days=risk.risk_window_days)}


def risk_counts(
    conn: Connection, region: str, risk: RiskSettings, *, as_of: datetime
) -> list[Row[Any]]:
    """``region``'s incidents per micro-grid and type in the risk window before ``as_of``
    (``area_code``, ``type``, ``n``)."""
    return list(conn.execute(job("scale_risk_counts", region), risk_params(risk, as_of)))


def national_rollup(conn: Connection, risk: RiskSettings, *, as_of: datetime) -> list[Row[Any]]:
    """Incidents and affected micro-grids per region and type in the risk window, every region
    at once (``region``, ``type``, ``n``, ``micro_grids``).

    Runs in the caller's transaction with partition-wise aggregation on (``SET LOCAL``), so
    each region's ``GROUP BY`` runs where its partition lives.
    """
    conn.execute(text("SET LOCAL enable_partitionwise_aggregate = on"))
    return list(conn.execute(sql("scale_rollup", "geo.scale"), risk_params(risk, as_of)))


def explain(conn: Connection, statement: TextClause, params: Mapping[str, object]) -> str:
    """The plan of ``statement`` (``EXPLAIN (VERBOSE)``: with each foreign scan's Remote SQL),
    without running it."""
    plan = conn.execute(text(f"EXPLAIN (VERBOSE) {statement.text}"), dict(params))
    return "\n".join(r[0] for r in plan)


def rollup_statement() -> TextClause:
    """The national roll-up's statement, for :func:`explain`."""
    return sql("scale_rollup", "geo.scale")


@dataclass(frozen=True)
class SyntheticRegion:
    """A generated region (geo/scale/sql/scale_synthetic.sql): ``side`` x ``side`` square
    100 m micro-grids with their lower left corner at ``(x0, y0)``, ``fixes`` patrol fixes and
    ``incidents`` incidents over the year before ``as_of``."""

    region: str
    x0: float
    y0: float
    side: int
    fixes: int
    incidents: int


def generate_region(
    conn: Connection, spec: SyntheticRegion, *, as_of: datetime, srid: int, seed: float = 0.5
) -> None:
    """Fill ``spec.region``'s partitions on the server that holds them (benchmarks, tests)."""
    parts = partitions(spec.region)
    for statement in _statements(
        "scale_synthetic",
        region=_literal(spec.region),
        micro_grids_part=parts["micro_grids"],
        fixes_part=parts["fixes"],
        incidents_part=parts["incidents"],
        x0=repr(float(spec.x0)),
        y0=repr(float(spec.y0)),
        side=str(int(spec.side)),
        fixes=str(int(spec.fixes)),
        incidents=str(int(spec.incidents)),
        as_of=_literal(as_of.isoformat()),
        srid=str(int(srid)),
        seed=repr(float(seed)),
    ):
        conn.execute(text(statement))
