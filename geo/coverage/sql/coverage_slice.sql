-- The covered part of each micro-grid in :codes over one slice [:t0, :t1) of a period, into the
-- transaction's cov_slice (code, digest, geom): one row per micro-grid, geom null where nothing
-- is covered, digest the md5 of the micro-grid's geometry read by this same statement.
--
-- Tracks: a unit's fixes in the slice, ordered by time, split where consecutive fixes are more
-- than :gap_s apart or the unit kind changes (the slice's bounds cut tracks too; the segments
-- crossing a bound are added back by coverage_joints.sql). Covered area: each track drawn as the
-- line through its fixes (a single fix: the point), buffered by the unit kind's radius; the
-- union of those buffers intersected with the micro-grid. The line, not the fixes alone: a fix
-- covers a disc (30 m on foot, 50 m in a vehicle), and the unit passed along the segment between two fixes of the same
-- track, so the buffered line is the union of the discs and of every disc in between. At 10 s on
-- foot (~14 m apart, 30 m discs) the two differ by the thin lenses between discs; at 30 s by
-- bicycle (~120 m apart) discs alone would leave most of the street uncovered.
--
-- How, so that it stays fast (geo/coverage/covered.py states the error of the thinning):
--   * each track is cut into chunks of :chunk fixes, consecutive chunks sharing their end fix, so
--     the pieces are small and the GiST index of areas finds the few micro-grids near each;
--   * each chunk is thinned by Douglas-Peucker (ST_Simplify) to :thin_m, which keeps its ends;
--   * the chunks' micro-grids are found first, and each chunk near one is buffered once;
--   * the buffers are unioned once per batch of up to :batch consecutive micro-grids of :codes
--     (neighbours: codes follow the hierarchy; each batch's union takes the buffers of the
--     chunks near its micro-grids, whole), and the union is cut to each micro-grid's box
--     (ST_ClipByBox2D: cheap) and intersected with it. The buffers of a shift overlap again
--     and again (patrols pass the same streets), so one union of whole buffers is far less
--     work than cutting each buffer to the box of each micro-grid it reaches and unioning the
--     pieces per micro-grid: ~10 pieces per buffer, 420,000 vertices into the unions instead
--     of 330,000, and ~2.4 times the union's time on the benchmark's shift (bench/RESULTS.md).
--     The batches bound the size of a union, and so the cost of cutting it per micro-grid.
--     Buffering per (chunk, micro-grid) pair instead, with a join the planner turned into every
--     chunk against every micro-grid, took 4 times as long. Buffering a whole track at once is
--     slower still (GEOS nodes the whole self-overlapping outline) and, where its parts
--     overlap, loses area. Buffering the chunks near a micro-grid as one multi-line took over
--     20 times as long.
INSERT INTO cov_slice (code, digest, geom)
WITH f AS (
    -- One pass in time order per unit: whether a fix starts a track (the first, or more than
    -- :gap_s after the previous fix, or another unit kind) and the next fix if it belongs to the
    -- same track.
    SELECT unit, unit_kind, t, geom,
           row_number() OVER w AS n,
           coalesce(t - lag(t) OVER w > make_interval(secs => :gap_s)
                    OR unit_kind <> lag(unit_kind) OVER w, true) AS starts,
           CASE WHEN lead(t) OVER w - t <= make_interval(secs => :gap_s)
                     AND lead(unit_kind) OVER w = unit_kind
                THEN lead(geom) OVER w END AS next_geom
    FROM patrol_fixes(:region, :t0, :t1)  -- every unit's, whoever asks (migration s0010)
    WHERE CAST(:units AS text[]) IS NULL OR unit = ANY(CAST(:units AS text[]))
    WINDOW w AS (PARTITION BY unit ORDER BY t)
),
numbered AS (
    -- A track is named by the number of its first fix; k counts the fixes in the track from 0.
    SELECT unit, unit_kind, t, geom, next_geom, track, n - track AS k
    FROM (
        SELECT *, max(CASE WHEN starts THEN n END) OVER (PARTITION BY unit ORDER BY t) AS track
        FROM f
    ) s
),
gathered AS (
    -- A chunk's fixes and the first fix of the next chunk of its track, if any.
    SELECT min(unit_kind) AS unit_kind,
           array_agg(geom ORDER BY t)
               || array_remove(array_agg(CASE WHEN k % :chunk = :chunk - 1 THEN next_geom END),
                               NULL) AS pts
    FROM numbered
    GROUP BY unit, track, k / :chunk
),
chunks AS MATERIALIZED (
    SELECT row_number() OVER () AS id,
           CASE WHEN cardinality(pts) = 1 THEN pts[1]
                ELSE ST_Simplify(ST_MakeLine(pts), :thin_m, true) END AS line,
           CASE unit_kind WHEN 'foot' THEN :r_foot
                          WHEN 'bicycle' THEN :r_bicycle
                          ELSE :r_vehicle END AS r
    FROM gathered
),
codes AS (
    -- The micro-grids asked for and their batch: :batch at most, as even as can be.
    SELECT k.code,
           (k.ord - 1) * ((cardinality(CAST(:codes AS text[])) + :batch - 1) / :batch)
               / cardinality(CAST(:codes AS text[])) AS batch
    FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS k(code, ord)
),
near AS MATERIALIZED (
    -- The micro-grids of :codes each chunk reaches. A lateral probe per chunk (OFFSET 0 keeps
    -- the planner from flattening it into a join that tests every chunk against every
    -- micro-grid), so the GiST index of areas finds them whatever the row estimates.
    SELECT c.id, a.code
    FROM chunks c
    CROSS JOIN LATERAL (
        SELECT m.code
        FROM areas m
        WHERE ST_DWithin(c.line, m.geom, c.r)
          AND m.region = :region AND m.level = 'micro'
          AND m.code = ANY(CAST(:codes AS text[]))
        OFFSET 0
    ) a
),
buffers AS MATERIALIZED (
    -- Each chunk that reaches one of them buffered once, whatever number it reaches (a run of
    -- some micro-grids, geo/coverage/covered.py _fill, buffers only the chunks near them).
    SELECT id, ST_Buffer(line, r, 'quad_segs=16') AS cover
    FROM chunks
    WHERE id IN (SELECT id FROM near)
),
unions AS MATERIALIZED (
    -- Materialized: a join would otherwise run the union again for every row it probes.
    SELECT nb.batch, ST_Union(b.cover) AS cover
    FROM (SELECT DISTINCT k.batch, n.id FROM near n JOIN codes k ON k.code = n.code) nb
    JOIN buffers b ON b.id = nb.id
    GROUP BY nb.batch
)
SELECT a.code, md5(ST_AsBinary(a.geom)),
       CASE WHEN a.code IN (SELECT code FROM near)
            THEN ST_Multi(ST_CollectionExtract(
                     ST_Intersection(ST_ClipByBox2D(u.cover, box2d(a.geom)), a.geom), 3)) END
FROM areas a
JOIN codes k ON k.code = a.code
LEFT JOIN unions u ON u.batch = k.batch
WHERE a.region = :region AND a.level = 'micro'
