-- Coverage of every micro-grid in scope over the period [:t0, :t1), into cov_micro.
--
-- Tracks: a unit's fixes in the period, ordered by time, split where consecutive fixes are more
-- than :gap_s apart or the unit kind changes (the period's bounds cut tracks too).
-- Covered area: cov_covered, filled before from the covers of the period's shifts
-- (geo/coverage/covered.py, geo/coverage/sql/coverage_slice.sql).
-- Visits: a maximal run of consecutive fixes of one track located in the micro-grid (each fix
-- carries its micro-grid, located at import); a re-entry is a new visit. Dwell: each fix stands
-- for the time from the midpoint with its predecessor to the midpoint with its successor in the
-- same track (the track's first and last fix stand for no time before/after themselves); a
-- visit's dwell is the sum over its fixes, so a single-fix visit dwells 0 s.
-- Deterrent visits: dwell >= :koper_s (Koper 1995: stops of 10-15 minutes deter longest).
INSERT INTO cov_micro (code, ancestors, area_m2, covered_m2, visits, deterrent_visits, dwell_s,
                       checkins, last_patrol_at, last_checkin_at)
WITH scope AS (
    SELECT a.code, a.ancestors, a.area_m2
    FROM areas a
    WHERE a.region = :region AND a.level = 'micro'
      AND (CAST(:area AS text) IS NULL OR a.code = :area OR :area = ANY(a.ancestors))
),
f AS (
    SELECT unit, unit_kind, t, area_code,
           lag(t) OVER w AS prev_t,
           lag(unit_kind) OVER w AS prev_kind
    FROM patrol_fixes(:region, :t0, :t1)  -- every unit's, whoever asks (migration s0010)
    WHERE CAST(:units AS text[]) IS NULL OR unit = ANY(CAST(:units AS text[]))
    WINDOW w AS (PARTITION BY unit ORDER BY t)
),
tracked AS (
    SELECT unit, t, area_code,
           sum(CASE WHEN prev_t IS NULL
                         OR t - prev_t > make_interval(secs => :gap_s)
                         OR unit_kind <> prev_kind
                    THEN 1 ELSE 0 END) OVER (PARTITION BY unit ORDER BY t) AS track
    FROM f
),
runs AS (
    SELECT unit, track, t, area_code,
           lag(t) OVER tw AS t_prev,
           lead(t) OVER tw AS t_next,
           CASE WHEN lag(area_code) OVER tw IS NOT DISTINCT FROM area_code
                     AND lag(t) OVER tw IS NOT NULL
                THEN 0 ELSE 1 END AS new_run
    FROM tracked
    WINDOW tw AS (PARTITION BY unit, track ORDER BY t)
),
numbered AS (
    SELECT *, sum(new_run) OVER (PARTITION BY unit, track ORDER BY t) AS run
    FROM runs
),
visits AS (
    SELECT area_code,
           sum(extract(epoch FROM coalesce(t_next, t) - coalesce(t_prev, t))) / 2 AS dwell_s
    FROM numbered
    WHERE area_code IS NOT NULL
    GROUP BY area_code, unit, track, run
),
visit_stats AS MATERIALIZED (
    SELECT area_code AS code,
           count(*) AS visits,
           count(*) FILTER (WHERE dwell_s >= :koper_s) AS deterrent_visits,
           sum(dwell_s) AS dwell_s
    FROM visits
    GROUP BY area_code
)
SELECT s.code, s.ancestors, s.area_m2,
       coalesce(c.covered_m2, 0),
       coalesce(v.visits, 0),
       coalesce(v.deterrent_visits, 0),
       coalesce(v.dwell_s, 0),
       (SELECT count(*) FROM checkins k
        WHERE k.region = :region AND k.area_code = s.code AND k.t >= :t0 AND k.t < :t1),
       (SELECT max(x.t) FROM fixes x
        WHERE x.region = :region AND x.area_code = s.code AND x.t < :t1
          AND (CAST(:units AS text[]) IS NULL OR x.unit = ANY(CAST(:units AS text[])))),
       (SELECT max(k.t) FROM checkins k
        WHERE k.region = :region AND k.area_code = s.code AND k.t < :t1)
FROM scope s
LEFT JOIN cov_covered c ON c.code = s.code
LEFT JOIN visit_stats v ON v.code = s.code
