-- Hazards open at the end of :as_of (identified before, not closed by then) as points in
-- EPSG:4326 with their assessment score (hazard_score: D = L·E·C or R = L·S); geo/assessment.py
-- colours them.
SELECT h.id, h.name, h.category, h.method, h.area_code,
       hazard_score(h.method, h.lec_l, h.lec_e, h.lec_c, h.ls_l, h.ls_s) AS score,
       ST_X(p) AS lon, ST_Y(p) AS lat
FROM hazards h
CROSS JOIN LATERAL ST_Transform(h.geom, 4326) AS p
WHERE h.region = :region AND h.geom IS NOT NULL
  AND h.identified_at < :as_of
  AND (h.closed_at IS NULL OR h.closed_at >= :as_of)
ORDER BY h.id
