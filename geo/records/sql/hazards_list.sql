-- Hazards as a GeoJSON FeatureCollection in EPSG:4326, filtered and paged, newest first, with
-- the number of matches as "total", counted no further than :count_cap ("total_exact" false
-- past it: a page of a few million rows must not count them all). "area" keeps records in
-- that area or any descendant (by area_code among the area's micro-grids, on the area B-tree); each feature carries its
-- micro-grid and the codes above it, its score (hazard_score: LEC D = L*E*C, LS R = L*S) and
-- the colour of that score (hazard_colour) under the configured bands, passed in as :lec_bands
-- and :ls_bands (geo.assessment.band_bounds).
-- NOT MATERIALIZED: the page and the count each read only what they need (the page the
-- newest rows by the time index, the count at most :count_cap rows).
WITH hits AS NOT MATERIALIZED (
    SELECT h.*
    FROM hazards h
    WHERE h.region = :region
      AND (CAST(:area AS text) IS NULL OR h.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
      AND (CAST(:types AS text[]) IS NULL OR h.category = ANY(CAST(:types AS text[])))
      AND (CAST(:start AS float8) IS NULL
           OR h.identified_at >= to_timestamp(CAST(:start AS float8)))
      AND (CAST(:end AS float8) IS NULL OR h.identified_at < to_timestamp(CAST(:end AS float8)))
      AND (CAST(:status AS text) IS NULL OR h.status = :status)
      AND (NOT CAST(:outside AS boolean) OR h.area_code IS NULL)
),
page AS (
    SELECT hits.*,
           hazard_score(method, lec_l, lec_e, lec_c, ls_l, ls_s) AS score
    FROM hits ORDER BY identified_at DESC, id LIMIT :limit OFFSET :offset
),
counted AS (
    SELECT count(*) AS n FROM (SELECT 1 FROM hits LIMIT CAST(:count_cap AS bigint) + 1) c
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'total', LEAST(counted.n, CAST(:count_cap AS bigint)),
    'total_exact', counted.n <= CAST(:count_cap AS bigint),
    'limit', CAST(:limit AS integer),
    'offset', CAST(:offset AS integer),
    'features', COALESCE((
        SELECT json_agg(json_build_object(
            'type', 'Feature',
            'id', p.id,
            'geometry', ST_AsGeoJSON(ST_Transform(p.geom, 4326), 7)::json,
            'properties', json_build_object(
                'id', p.id,
                'source', p.source,
                'source_id', p.source_id,
                'category', p.category,
                'name', p.name,
                'description', p.description,
                'method', p.method,
                'lec_l', p.lec_l,
                'lec_e', p.lec_e,
                'lec_c', p.lec_c,
                'ls_l', p.ls_l,
                'ls_s', p.ls_s,
                'score', p.score,
                'colour', hazard_colour(p.method, p.score, CAST(:lec_bands AS float8[]),
                                        CAST(:ls_bands AS float8[])),
                'status', p.status,
                'identified_at', p.identified_at,
                'closed_at', p.closed_at,
                'address', p.address,
                'located_by', p.located_by,
                'geocode_score', p.geocode_score,
                'source_crs', p.source_crs,
                'area_code', p.area_code,
                'area_path', p.area_path,
                'ancestors', p.area_path[1:cardinality(p.area_path) - 1],
                'props', p.props
            )
        ) ORDER BY p.identified_at DESC, p.id)
        FROM page p
    ), '[]'::json)
)::text
FROM counted
