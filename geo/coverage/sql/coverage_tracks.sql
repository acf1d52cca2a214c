-- The patrol tracks of the period [:t0, :t1) as a GeoJSON FeatureCollection in EPSG:4326: one
-- piece per track and shift, the tracks split as coverage_micro.sql splits them (a gap over
-- :gap_s or a change of unit kind), optionally only some units, and clipped to one area: :area,
-- else the caller's area scope. The shifts are the period's slices [:s0s[i], :s1s[i]) with
-- their :labels and :numbers (geo/coverage/covered.py cuts them, geo/coverage/periods.py names
-- them); a track's piece in one shift ends at the track's first fix of the next shift, so the
-- segment across the change is drawn, once. A track of a single fix is drawn as that point.
-- Tracks are drawn from every fix of the period (patrol_fixes, migration s0010) and then cut to
-- the area's boundary, so a unit that leaves the area and comes back shows two pieces, not a
-- straight line across what it did outside. The area is read from ``areas``, which row-level
-- security filters: an area outside a scoped caller's own clips everything away.
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
shifted AS (
    SELECT k.unit, k.unit_kind, k.track, k.t, k.geom, s.label AS shift, s.number AS shift_no,
           lead(k.geom) OVER tw AS next_geom,
           count(*) OVER (PARTITION BY k.unit, k.track) AS track_fixes
    FROM tracked k
    JOIN unnest(CAST(:s0s AS timestamptz[]), CAST(:s1s AS timestamptz[]),
                CAST(:labels AS text[]), CAST(:numbers AS int[])) AS s(t0, t1, label, number)
      ON k.t >= s.t0 AND k.t < s.t1
    WINDOW tw AS (PARTITION BY k.unit, k.track ORDER BY k.t)
),
pieces AS (
    -- A track's fixes in one shift and the track's next fix after them, if any.
    SELECT unit, min(unit_kind) AS unit_kind, track, shift, shift_no, count(*) AS fixes,
           min(track_fixes) AS track_fixes, min(t) AS started, max(t) AS ended,
           array_agg(geom ORDER BY t)
               || array_remove(ARRAY[(array_agg(next_geom ORDER BY t DESC))[1]], NULL) AS pts
    FROM shifted
    GROUP BY unit, track, shift, shift_no
),
whole AS (
    -- A lone fix that ends a longer track is already the end of its previous piece's line.
    SELECT unit, unit_kind, track, shift, shift_no, fixes, started, ended,
           CASE WHEN cardinality(pts) = 1 THEN pts[1]
                ELSE ST_Simplify(ST_MakeLine(pts), :simplify_m, true) END AS geom
    FROM pieces
    WHERE cardinality(pts) > 1 OR track_fixes = 1
),
lines AS (
    -- Unclipped only when neither an area nor a scope asks for a clip; a clipped line keeps its
    -- lines only (not the points where it touches the border), a clipped point its point.
    SELECT w.unit, w.unit_kind, w.track, w.shift, w.shift_no, w.fixes, w.started, w.ended,
           ST_CollectionExtract(ST_Intersection(w.geom, c.geom),
                                CASE WHEN GeometryType(w.geom) = 'POINT' THEN 1 ELSE 2 END) AS geom
    FROM whole w
    JOIN clip c ON ST_Intersects(w.geom, c.geom)
    UNION ALL
    SELECT w.unit, w.unit_kind, w.track, w.shift, w.shift_no, w.fixes, w.started, w.ended, w.geom
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
            'unit', unit, 'unit_kind', unit_kind, 'track', track, 'shift', shift,
            'shift_no', shift_no, 'fixes', fixes, 'started', started, 'ended', ended
        )
    ) ORDER BY unit, started), '[]'::json)
)::text
FROM lines
WHERE NOT ST_IsEmpty(geom)
