-- One case with its incident, areas, overdue flag as of :now and its full history, as JSON.
SELECT json_build_object(
    'id', c.id,
    'incident_id', c.incident_id,
    'source', i.source,
    'source_id', i.source_id,
    'platform', c.platform,
    'type', i.type,
    'type_zh', it.name_zh,
    'description', i.description,
    'state', c.state,
    'outcome', c.outcome,
    'area_code', i.area_code,
    'area_path', i.area_path,
    'grid_code', c.grid_code,
    'squad', c.squad,
    'department', c.department,
    'received_at', c.received_at,
    'deadline_at', c.deadline_at,
    'dispatched_at', c.dispatched_at,
    'handled_at', c.handled_at,
    'closed_at', c.closed_at,
    'overdue', COALESCE(c.handled_at, CAST(:now AS timestamptz)) > c.deadline_at,
    'version', c.version,
    'geometry', ST_AsGeoJSON(ST_Transform(i.geom, 4326), 7)::json,
    'events', (
        SELECT COALESCE(json_agg(json_build_object(
            'from', e.from_state, 'to', e.to_state, 'actor', e.actor, 'at', e.at,
            'squad', e.squad, 'department', e.department, 'note', e.note, 'reason', e.reason,
            'version', e.version
        ) ORDER BY e.at, e.id), '[]'::json)
        FROM case_events e WHERE e.region = c.region AND e.case_id = c.id
    )
)::text
FROM cases c
JOIN incidents i ON i.region = c.region AND i.id = c.incident_id
JOIN incident_types it ON it.code = i.type
WHERE c.region = :region AND c.id = :case_id
