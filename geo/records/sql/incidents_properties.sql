-- An incident's own properties in records_list.sql (p: the listed row).
'type', p.type,
'type_zh', (SELECT it.name_zh FROM incident_types it WHERE it.code = p.type),
'occurred_at', p.occurred_at,
'reported_at', p.reported_at,
'description', p.description
