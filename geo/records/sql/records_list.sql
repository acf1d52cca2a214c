-- Records of one kind ({table}) as a GeoJSON FeatureCollection in EPSG:4326, filtered and
-- paged, newest first, with the number of matches as "total", counted no further than
-- :count_cap ("total_exact" false past it: a page of a few million rows must not count them
-- all). "area" keeps records in that area or any descendant (by area_code among the area's
-- micro-grids, on the area B-tree); "types" filters on the kind's category column, start and
-- end on its time; each feature carries its micro-grid and the codes above it, and the kind's
-- own properties ({table}_properties.sql).
-- Written out per record kind (geo.records.kinds.kind_sql): {{table}}, {{category}}, {{time}}
-- and the kind's exact-match filters ({{filters}}) are the kind's column names.
-- NOT MATERIALIZED: the page and the count each read only what they need (the page the
-- newest rows by the time index, the count at most :count_cap rows).
WITH hits AS NOT MATERIALIZED (
    SELECT r.*
    FROM {table} r
    WHERE r.region = :region
      AND (CAST(:area AS text) IS NULL OR r.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
      AND (CAST(:types AS text[]) IS NULL OR r.{category} = ANY(CAST(:types AS text[])))
      AND (CAST(:start AS float8) IS NULL OR r.{time} >= to_timestamp(CAST(:start AS float8)))
      AND (CAST(:end AS float8) IS NULL OR r.{time} < to_timestamp(CAST(:end AS float8)))
      {filters}
      AND (NOT CAST(:outside AS boolean) OR r.area_code IS NULL)
),
page AS (
    SELECT * FROM hits ORDER BY {time} DESC, id LIMIT :limit OFFSET :offset
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
                {properties},
                'address', p.address,
                'located_by', p.located_by,
                'geocode_score', p.geocode_score,
                'source_crs', p.source_crs,
                'area_code', p.area_code,
                'area_path', p.area_path,
                'ancestors', p.area_path[1:cardinality(p.area_path) - 1],
                'props', p.props
            )
        ) ORDER BY p.{time} DESC, p.id)
        FROM page p
    ), '[]'::json)
)::text
FROM counted
