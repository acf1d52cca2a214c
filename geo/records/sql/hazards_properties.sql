-- A hazard's own properties in records_list.sql (p: the listed row): its score (hazard_score:
-- LEC D = L*E*C, LS R = L*S) and the colour of that score (hazard_colour) under the configured
-- bands, passed in as :lec_bands and :ls_bands (geo.assessment.band_bounds).
'category', p.category,
'name', p.name,
'description', p.description,
'method', p.method,
'lec_l', p.lec_l,
'lec_e', p.lec_e,
'lec_c', p.lec_c,
'ls_l', p.ls_l,
'ls_s', p.ls_s,
'score', hazard_score(p.method, p.lec_l, p.lec_e, p.lec_c, p.ls_l, p.ls_s),
'colour', hazard_colour(p.method,
                        hazard_score(p.method, p.lec_l, p.lec_e, p.lec_c, p.ls_l, p.ls_s),
                        CAST(:lec_bands AS float8[]), CAST(:ls_bands AS float8[])),
'status', p.status,
'identified_at', p.identified_at,
'closed_at', p.closed_at
