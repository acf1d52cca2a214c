-- The id and micro-grid of a report made on a phone (by its UUID), as the caller sees it.
SELECT id, area_code FROM incidents
WHERE :table = 'incidents' AND region = :region AND source = '网格巡查' AND source_id = :source_id
UNION ALL
SELECT id, area_code FROM hazards
WHERE :table = 'hazards' AND region = :region AND source = '网格巡查' AND source_id = :source_id
