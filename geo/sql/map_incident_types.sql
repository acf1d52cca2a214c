-- The incident type vocabulary, for the heat layer's type filter.
SELECT code, name_zh, name_en FROM incident_types ORDER BY builtin DESC, code
