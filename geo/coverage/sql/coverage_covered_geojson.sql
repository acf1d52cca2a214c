-- The covered area in cov_covered (coverage_covered.sql: the union of the period's buffered
-- tracks, per micro-grid) as a GeoJSON FeatureCollection in EPSG:4326 for drawing: simplified
-- to :simplify_m metres in the storage CRS (topology kept, so no ring crosses itself) before
-- the transform, with the micro-grid's code and covered m².
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(
            ST_Transform(ST_SimplifyPreserveTopology(c.geom, :simplify_m), 4326), 6)::json,
        'properties', json_build_object('code', c.code, 'covered_m2', round(c.covered_m2::numeric, 1))
    ) ORDER BY c.code), '[]'::json)
)::text
FROM cov_covered c
WHERE NOT ST_IsEmpty(c.geom)
