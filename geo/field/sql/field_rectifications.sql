-- A hazard's rectification steps, oldest first, with their photo ids.
SELECT r.id, r.status, r.on_day, r.note, r.actor, r.created_at,
       COALESCE(ARRAY(SELECT p.id FROM field_photos p
                      WHERE p.region = r.region AND p.record_kind = 'rectification'
                        AND p.record_id = r.id ORDER BY p.id), '{}') AS photos
FROM hazard_rectifications r
WHERE r.region = :region AND r.hazard_id = :hazard_id
ORDER BY r.on_day, r.id
