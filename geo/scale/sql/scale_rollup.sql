-- The national roll-up through the parents: incidents and affected micro-grids per region and
-- type, grouped by region first. With partition-wise aggregation (set by the caller) each
-- region's GROUP BY runs on its shard, and the shards' partitions are scanned at once
-- (EXPLAIN: "Async Foreign Scan" under the Append).
SELECT i.region,
       i.type,
       count(*) AS n,
       count(DISTINCT i.area_code) AS micro_grids
FROM national.incidents i
WHERE i.occurred_at <= CAST(:as_of AS timestamptz)
  AND i.occurred_at > CAST(:since AS timestamptz)
GROUP BY i.region, i.type
ORDER BY i.region, i.type
