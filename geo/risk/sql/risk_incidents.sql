-- Incidents per micro-grid and type as known at :as_of (reported_at <= :as_of) that occurred in
-- the window before it, with the sum of their exponential decay factors 0.5 ^ (age / half-life).
-- An occurred_at after :as_of (a clock error at intake) counts as age 0, never as a weight > 1.
-- The age is date_part's float8 seconds: extract() returns numeric, whose arithmetic on ten
-- million rows cost more than the scan.
-- The groups come back as one row of four arrays, one element per (micro-grid, type) group: a
-- province's half a million groups took longer to read as rows than to aggregate.
SELECT array_agg(g.area_code) AS area_code,
       array_agg(g.type) AS type,
       array_agg(g.n) AS n,
       array_agg(g.decayed) AS decayed
FROM (
    SELECT i.area_code,
           i.type,
           count(*) AS n,
           sum(power(0.5, greatest(date_part('epoch', CAST(:as_of AS timestamptz) - i.occurred_at),
                                   0)
                          / (CAST(:half_life_days AS float8) * 86400.0))) AS decayed
    FROM incidents i
    WHERE i.region = :region
      AND i.area_code IS NOT NULL
      AND i.reported_at <= CAST(:as_of AS timestamptz)
      AND i.occurred_at > CAST(:as_of AS timestamptz)
                          - make_interval(days => CAST(:window_days AS int))
    GROUP BY i.area_code, i.type
) g
