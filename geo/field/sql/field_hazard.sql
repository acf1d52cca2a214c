-- One hazard the caller may see, for its page: what, where, its assessment and colour, status,
-- and its photos.
SELECT h.id, h.category, h.name, h.description, h.status, h.identified_at, h.closed_at,
       h.area_code, a.name AS area_name, h.method, h.ls_l, h.ls_s, h.lec_l, h.lec_e, h.lec_c,
       ARRAY(SELECT p.id FROM field_photos p
             WHERE p.region = h.region AND p.record_kind = 'hazard' AND p.record_id = h.id
             ORDER BY p.id) AS photos
FROM hazards h
LEFT JOIN areas a ON a.region = h.region AND a.code = h.area_code
WHERE h.region = :region AND h.id = :id AND h.area_code IS NOT NULL
