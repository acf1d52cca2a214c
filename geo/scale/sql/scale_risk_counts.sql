-- The risk aggregation of one region, on its shard: incidents per micro-grid and type that
-- occurred in the window (:since, :as_of], as geo/risk/sql/risk_incidents.sql groups them in the
-- store. Named by its partition ({incidents}), the GROUP BY runs on the shard (EXPLAIN: a
-- Foreign Scan whose Remote SQL holds the GROUP BY) and only the groups come back.
--
-- :since is bound by the caller: an interval subtracted in the database depends on the
-- session's time zone, and postgres_fdw sends no such expression to a shard. For the same
-- reason the decayed weights stay out: an incident's age in seconds needs extract('epoch', ..),
-- whose text argument postgres_fdw will not ship, so the whole aggregate would run on the
-- coordinator over every row pulled from the shard.
SELECT i.area_code, i.type, count(*) AS n
FROM national.{incidents} i
WHERE i.area_code IS NOT NULL
  AND i.occurred_at <= CAST(:as_of AS timestamptz)
  AND i.occurred_at > CAST(:since AS timestamptz)
GROUP BY i.area_code, i.type
