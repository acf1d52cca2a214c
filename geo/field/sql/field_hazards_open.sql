-- The open hazards at or under :area (all the caller sees when null), newest found first.
SELECT h.id, h.category, h.name, h.identified_at, h.area_code, a.name AS area_name,
       EXISTS (SELECT FROM hazard_rectifications r
               WHERE r.region = h.region AND r.hazard_id = h.id) AS rectifying
FROM hazards h
LEFT JOIN areas a ON a.region = h.region AND a.code = h.area_code
WHERE h.region = :region AND h.status = 'open' AND h.area_code IS NOT NULL
  AND (CAST(:area AS text) IS NULL OR h.area_code = :area OR :area = ANY(h.area_path))
ORDER BY h.identified_at DESC, h.id DESC
LIMIT 500
