-- Cases as a GeoJSON FeatureCollection in EPSG:4326 (the incident's point), newest receipt
-- first, with the number of matches as "total". "area" keeps cases whose incident lies in that
-- area or any descendant (area_code among its micro-grids); [start, end) is on received_at.
WITH hits AS (
    SELECT c.*, i.type, i.source_id, i.area_code, i.area_path, i.geom, i.description,
           COALESCE(c.handled_at, CAST(:now AS timestamptz)) > c.deadline_at AS overdue
    FROM cases c
    JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
    WHERE c.region = :region
      AND (CAST(:area AS text) IS NULL OR i.area_code IN (
          SELECT u.code FROM micro_grids_under(:region, CAST(:area AS text)) u))
      AND (CAST(:start AS timestamptz) IS NULL OR c.received_at >= CAST(:start AS timestamptz))
      AND (CAST(:end AS timestamptz) IS NULL OR c.received_at < CAST(:end AS timestamptz))
      AND (CAST(:state AS text) IS NULL OR c.state = CAST(:state AS text))
      AND (CAST(:platform AS text) IS NULL OR c.platform = CAST(:platform AS text))
      AND (CAST(:overdue AS boolean) IS NULL
           OR (COALESCE(c.handled_at, CAST(:now AS timestamptz)) > c.deadline_at)
              = CAST(:overdue AS boolean))
),
page AS (
    SELECT * FROM hits ORDER BY received_at DESC, id LIMIT :limit OFFSET :offset
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'total', (SELECT count(*) FROM hits),
    'limit', CAST(:limit AS integer),
    'offset', CAST(:offset AS integer),
    'features', COALESCE((
        SELECT json_agg(json_build_object(
            'type', 'Feature',
            'id', p.id,
            'geometry', ST_AsGeoJSON(ST_Transform(p.geom, 4326), 7)::json,
            'properties', json_build_object(
                'id', p.id,
                'incident_id', p.incident_id,
                'source_id', p.source_id,
                'platform', p.platform,
                'type', p.type,
                'type_zh', it.name_zh,
                'state', p.state,
                'outcome', p.outcome,
                'area_code', p.area_code,
                'area_path', p.area_path,
                'grid_code', p.grid_code,
                'squad', p.squad,
                'department', p.department,
                'received_at', p.received_at,
                'deadline_at', p.deadline_at,
                'dispatched_at', p.dispatched_at,
                'handled_at', p.handled_at,
                'closed_at', p.closed_at,
                'overdue', p.overdue,
                'version', p.version
            )
        ) ORDER BY p.received_at DESC, p.id)
        FROM page p
        JOIN incident_types it ON it.code = p.type
    ), '[]'::json)
)::text
