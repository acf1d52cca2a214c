-- Areas of one region as a GeoJSON FeatureCollection in EPSG:4326, optionally one level and/or
-- the direct children of one parent.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(feature ORDER BY rank, code), '[]'::json)
)::text
FROM (
    SELECT a.code,
           array_position(CAST(:levels AS text[]), a.level) AS rank,
           json_build_object(
               'type', 'Feature',
               'id', a.code,
               'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
               'properties', json_build_object(
                   'code', a.code,
                   'name', a.name,
                   'level', a.level,
                   'parent_code', a.parent_code,
                   'ancestors', a.ancestors,
                   'area_m2', round(a.area_m2::numeric, 1),
                   'population', a.population
               )
           ) AS feature
    FROM areas a
    WHERE a.region = :region
      AND (CAST(:level AS text) IS NULL OR a.level = :level)
      AND (CAST(:parent AS text) IS NULL OR a.parent_code = :parent)
) f
