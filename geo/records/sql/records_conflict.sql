-- The upsert's conflict clause (records_upsert.sql): a new key is inserted; a known one is
-- updated only when its content changed (an unchanged row is not written, so re-importing a
-- file changes nothing). Written out per record kind by geo.records.kinds.kind_sql.
ON CONFLICT (region, source, source_id, key_scope) DO UPDATE
    SET {assign},
        updated_at = now()
    WHERE ({stored}) IS DISTINCT FROM ({excluded})
