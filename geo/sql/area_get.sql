-- One area as a GeoJSON Feature in EPSG:4326, with its ancestors (top first) and its children.
SELECT json_build_object(
    'type', 'Feature',
    'id', a.code,
    'geometry', ST_AsGeoJSON(ST_Transform(a.geom, 4326), 7)::json,
    'properties', json_build_object(
        'code', a.code,
        'name', a.name,
        'level', a.level,
        'parent_code', a.parent_code,
        'area_m2', round(a.area_m2::numeric, 1),
        'population', a.population,
        'props', a.props,
        'ancestors', COALESCE((
            SELECT json_agg(json_build_object('code', p.code, 'name', p.name, 'level', p.level)
                            ORDER BY array_position(a.ancestors, p.code))
            FROM areas p
            WHERE p.region = a.region AND p.code = ANY(a.ancestors)
        ), '[]'::json),
        'children', COALESCE((
            SELECT json_agg(json_build_object('code', c.code, 'name', c.name, 'level', c.level)
                            ORDER BY c.code)
            FROM areas c
            WHERE c.region = a.region AND c.parent_code = a.code
        ), '[]'::json)
    )
)::text
FROM areas a
WHERE a.region = :region AND a.code = :code
