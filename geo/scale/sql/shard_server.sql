-- A shard as a foreign server of the coordinator. extensions 'postgis': PostGIS functions and
-- operators may be shipped to it (without it no spatial join is pushed down);
-- use_remote_estimate: the planner asks the shard for costs, so it picks the pushed-down join;
-- async_capable: the partitions of several shards are scanned at once (Async Foreign Scan).
-- {server} is the quoted server name; the connection values are bound as literals by the caller.
CREATE SERVER IF NOT EXISTS {server} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (
    host {host}, port {port}, dbname {dbname},
    extensions 'postgis', use_remote_estimate 'true', async_capable 'true',
    fetch_size '10000'
);
