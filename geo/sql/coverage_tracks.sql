-- The patrol tracks of the period [:t0, :t1) as a GeoJSON FeatureCollection in EPSG:4326: one
-- line per track, split as coverage_micro.sql splits them (a gap over :gap_s or a change of unit
-- kind), optionally only some units, and clipped to one area: :area, else the caller's area
-- scope. Tracks are drawn from every fix of the period (patrol_fixes, migration s0010) and then
-- cut to the area's boundary, so a unit that leaves the area and comes back shows two pieces,
-- not a straight line across what it did outside. The area is read from ``areas``, which
-- row-level security filters: an area outside a scoped caller's own clips everything away.
WITH clip AS (
    SELECT a.geom
    FROM areas a
    WHERE a.region = :region
      AND a.code = coalesce(CAST(:area AS text), nullif(current_setting('gridsafe.scope', true), ''))
),
f AS (
    SELECT x.unit, x.unit_kind, x.t, x.geom,
           lag(x.t) OVER w AS prev_t,
           lag(x.unit_kind) OVER w AS prev_kind
    FROM patrol_fixes(:region, :t0, :t1) x
    WHERE CAST(:units AS text[]) IS NULL OR x.unit = ANY(CAST(:units AS text[]))
    WINDOW w AS (PARTITION BY x.unit ORDER BY x.t)
),
tracked AS (
    SELECT unit, unit_kind, t, geom,
           sum(CASE WHEN prev_t IS NULL
                         OR t - prev_t > make_interval(secs => :gap_s)
                         OR unit_kind <> prev_kind
                    THEN 1 ELSE 0 END) OVER (PARTITION BY unit ORDER BY t) AS track
    FROM f
),
whole AS (
    SELECT unit, min(unit_kind) AS unit_kind, track, count(*) AS fixes,
           min(t) AS started, max(t) AS ended,
           ST_Simplify(ST_MakeLine(geom ORDER BY t), :simplify_m) AS geom
    FROM tracked
    GROUP BY unit, track
    HAVING count(*) > 1
),
lines AS (
    -- Unclipped only when neither an area nor a scope asks for a clip.
    SELECT w.unit, w.unit_kind, w.track, w.fixes, w.started, w.ended,
           ST_CollectionExtract(ST_Intersection(w.geom, c.geom), 2) AS geom
    FROM whole w
    JOIN clip c ON ST_Intersects(w.geom, c.geom)
    UNION ALL
    SELECT w.unit, w.unit_kind, w.track, w.fixes, w.started, w.ended, w.geom
    FROM whole w
    WHERE CAST(:area AS text) IS NULL
      AND coalesce(current_setting('gridsafe.scope', true), '') = ''
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(ST_Transform(geom, 4326), 6)::json,
        'properties', json_build_object(
            'unit', unit, 'unit_kind', unit_kind, 'track', track, 'fixes', fixes,
            'started', started, 'ended', ended
        )
    ) ORDER BY unit, track), '[]'::json)
)::text
FROM lines
WHERE NOT ST_IsEmpty(geom)
