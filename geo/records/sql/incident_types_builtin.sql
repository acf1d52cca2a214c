-- Whether type :c is built in (no row: the type is new).
SELECT builtin FROM incident_types WHERE code = :c
