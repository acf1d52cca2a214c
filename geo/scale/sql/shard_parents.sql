-- The national tables, partitioned by region; run on the coordinator and on every shard (a
-- shard's partitions are local tables, the coordinator's are foreign tables on the shards).
-- No key on the parents: postgres_fdw partitions cannot carry one (each shard keys its own).
-- {srid}: the deployment's metric CRS, an integer checked by the caller.
CREATE SCHEMA IF NOT EXISTS national;
CREATE TABLE IF NOT EXISTS national.micro_grids (
    region text NOT NULL,
    code text NOT NULL,
    geom geometry(MultiPolygon, {srid}) NOT NULL
) PARTITION BY LIST (region);
CREATE TABLE IF NOT EXISTS national.fixes (
    region text NOT NULL,
    unit text NOT NULL,
    t timestamptz NOT NULL,
    geom geometry(Point, {srid}) NOT NULL,
    area_code text
) PARTITION BY LIST (region);
CREATE TABLE IF NOT EXISTS national.incidents (
    region text NOT NULL,
    id bigint NOT NULL,
    type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    geom geometry(Point, {srid}) NOT NULL,
    area_code text
) PARTITION BY LIST (region);
