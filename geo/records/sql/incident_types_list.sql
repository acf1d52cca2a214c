-- The incident type vocabulary, built-in types first.
SELECT code, name_zh, name_en, zero, builtin FROM incident_types ORDER BY builtin DESC, code
