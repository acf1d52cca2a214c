"""Beyond one server: the same jobs split by region.

- :mod:`geo.scale.shards`: PostgreSQL's own sharding. A coordinator holds tables partitioned by
  ``LIST (region)`` whose partitions are ``postgres_fdw`` foreign tables on shard servers; the
  per-region jobs (locating fixes, the risk aggregation) and the national roll-up run there,
  pushed down to the shards (docs/sharding.md).
- :mod:`geo.scale.batch`: batch jobs (bulk locating, a month of coverage, and the risk run
  per region, each with its own Gi* and false-discovery control) as one dask task per region,
  each on its own connection to the store (docs/batch.md).
"""
