-- Every incident type's code, Chinese name and English name (the words a file may use).
SELECT code, name_zh, name_en FROM incident_types
