-- Migration r0018: region_partitions(region) moves a loaded region out of the default
-- partitions into its own (t0017's refused a region with rows in a default partition).
-- It now returns what it did: per partition created, its table and the rows moved into it.
DROP FUNCTION region_partitions(text);

CREATE FUNCTION region_partitions(p_region text)
RETURNS TABLE (parent text, part text, moved bigint)
LANGUAGE plpgsql AS $$
DECLARE
    tables text[];  -- the tables without the region's partition, referencing ones first
    counts bigint[] := '{}';
    deflt text;
    cols text;
    sub record;
    guards text[];
    guard text;
BEGIN
    IF coalesce(p_region, '') = '' THEN
        RAISE EXCEPTION 'region_partitions: name a region';
    END IF;
    -- fixes_partition(month) takes it to add a month: none is added between reading the
    -- default's months below and attaching the region's partition of fixes.
    PERFORM pg_advisory_xact_lock(4547004);
    -- Referencing tables first: their foreign keys cascade deletes (cases -> incidents,
    -- case_events -> cases), so a row leaves a default partition only when no row of the
    -- region refers to it through a partitioned table any more. A table referencing others
    -- reaches more of them than any it references. Then those whose default has a row
    -- trigger on DELETE (the audit log's guard) last: setting it aside locks out the
    -- default's writers until the end.
    WITH RECURSIVE edge AS (
        SELECT DISTINCT k.conrelid::regclass::text AS child, k.confrelid::regclass::text AS ref
        FROM pg_constraint k
        WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid <> k.confrelid
          AND k.conrelid::regclass::text IN (SELECT region_partitioned())
          AND k.confrelid::regclass::text IN (SELECT region_partitioned())
    ), reach AS (
        SELECT child, ref FROM edge
        UNION
        SELECT r.child, e.ref FROM reach r JOIN edge e ON e.child = r.ref
    )
    SELECT coalesce(array_agg(t ORDER BY (SELECT count(*) FROM reach WHERE reach.child = t)
                                         DESC,
                                         EXISTS (SELECT FROM pg_trigger g
                                                 WHERE g.tgrelid = to_regclass(t || '_default')
                                                   AND NOT g.tgisinternal
                                                   AND g.tgtype & 9 = 9),
                                         t), '{}')
      INTO tables
      FROM region_partitioned() t
     WHERE to_regclass(region_partition_name(t, p_region)) IS NULL;

    -- 1. Each partition made standalone (a partition of the region cannot be created while
    --    the default holds its rows) and the region's rows moved into it, ids and all.
    FOREACH parent IN ARRAY tables LOOP
        part := region_partition_name(parent, p_region);
        deflt := parent || '_default';
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING GENERATED '
                       'INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)%s',
                       part, parent,
                       (SELECT ' PARTITION BY ' || pg_get_partkeydef(c.oid) FROM pg_class c
                        WHERE c.oid = deflt::regclass AND c.relkind = 'p'));
        PERFORM partition_private(part);
        -- Sub-partitioned (fixes by month): the months the default has.
        FOR sub IN SELECT substr(c.relname, length(deflt) + 1) AS suffix,
                            pg_get_expr(c.relpartbound, c.oid) AS bound
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                     WHERE i.inhparent = deflt::regclass
        LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I %s',
                           part || sub.suffix, part, sub.bound);
            PERFORM partition_private(part || sub.suffix);
        END LOOP;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = parent::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = '';
        -- The rows change place, not content: the default's row triggers on DELETE (the
        -- audit log's append-only guard) are set aside for the move, in this transaction.
        guards := ARRAY(SELECT g.tgname::text FROM pg_trigger g
                        WHERE g.tgrelid = deflt::regclass AND NOT g.tgisinternal
                          AND g.tgenabled = 'O' AND g.tgtype & 9 = 9);  -- FOR EACH ROW, DELETE
        FOREACH guard IN ARRAY guards LOOP
            EXECUTE format('ALTER TABLE %I DISABLE TRIGGER %I', deflt, guard);
        END LOOP;
        EXECUTE format('WITH gone AS (DELETE FROM %I WHERE region = $1 RETURNING %s) '
                       'INSERT INTO %I (%s) SELECT %s FROM gone',
                       deflt, cols, part, cols, cols)
            USING p_region;
        GET DIAGNOSTICS moved = ROW_COUNT;
        counts := counts || moved;
        FOREACH guard IN ARRAY guards LOOP
            EXECUTE format('ALTER TABLE %I ENABLE TRIGGER %I', deflt, guard);
        END LOOP;
    END LOOP;

    -- 2. Attached, referenced tables first (attaching checks the foreign keys of the rows
    --    against the tables they reference). Each scans its default partition once to prove
    --    the region left it, under an ACCESS EXCLUSIVE lock held to the end of the transaction.
    FOR i IN REVERSE cardinality(tables) .. 1 LOOP
        parent := tables[i];
        part := region_partition_name(parent, p_region);
        moved := counts[i];
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)',
                       parent, part, p_region);
        EXECUTE format('ANALYZE %I', part);
        RETURN NEXT;
    END LOOP;
END $$;
COMMENT ON FUNCTION region_partitions(text) IS
    'Give a region its own partition of every table partitioned by region, its rows moved '
    'there from the default partitions, in one transaction; per partition created: its table, '
    'its name and the rows moved.';
REVOKE ALL ON FUNCTION region_partitions(text) FROM PUBLIC;
