-- Hazards counting at :as_of: identified by then and not closed by then (a hazard closed on a
-- day stops counting from that day on).
SELECT h.id, h.area_code, h.source_id, h.name, h.category, h.method,
       h.lec_l, h.lec_e, h.lec_c, h.ls_l, h.ls_s, h.identified_at
FROM hazards h
WHERE h.region = :region
  AND h.area_code IS NOT NULL
  AND h.identified_at <= CAST(:as_of AS timestamptz)
  AND (h.closed_at IS NULL OR h.closed_at > CAST(:as_of AS timestamptz))
