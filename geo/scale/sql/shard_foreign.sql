-- One region's partitions on the coordinator: foreign tables on the shard that holds it.
CREATE FOREIGN TABLE IF NOT EXISTS national.{micro_grids} PARTITION OF national.micro_grids
    FOR VALUES IN ({region}) SERVER {server}
    OPTIONS (schema_name 'national', table_name {micro_grids_name});
CREATE FOREIGN TABLE IF NOT EXISTS national.{fixes} PARTITION OF national.fixes
    FOR VALUES IN ({region}) SERVER {server}
    OPTIONS (schema_name 'national', table_name {fixes_name});
CREATE FOREIGN TABLE IF NOT EXISTS national.{incidents} PARTITION OF national.incidents
    FOR VALUES IN ({region}) SERVER {server}
    OPTIONS (schema_name 'national', table_name {incidents_name});
