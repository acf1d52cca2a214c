-- One region's partitions on the shard that holds it, keyed by region first like the store's
-- tables, with the GiST index the point-in-polygon join probes. {region} is the region as an
-- SQL literal, {micro_grids}, {fixes}, {incidents} the partitions' quoted names (checked by
-- geo/scale/shards.py).
CREATE TABLE IF NOT EXISTS national.{micro_grids} PARTITION OF national.micro_grids
    (PRIMARY KEY (region, code)) FOR VALUES IN ({region});
CREATE INDEX IF NOT EXISTS {micro_grids_gist} ON national.{micro_grids} USING gist (geom);
CREATE TABLE IF NOT EXISTS national.{fixes} PARTITION OF national.fixes
    (PRIMARY KEY (region, unit, t)) FOR VALUES IN ({region});
CREATE TABLE IF NOT EXISTS national.{incidents} PARTITION OF national.incidents
    (PRIMARY KEY (region, id)) FOR VALUES IN ({region});
