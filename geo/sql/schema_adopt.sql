-- Give the owner login (gridsafe.owner, set before) the database and every object of the schema
-- that is not an extension's (geo/database.py ensure_database): a database made before the app
-- had a login of its own belongs to whoever ran its migrations. Identity and serial sequences
-- follow their tables. Run by a superuser; safe to repeat.
DO $$
DECLARE
    owner text := current_setting('gridsafe.owner');
    r record;
BEGIN
    IF pg_get_userbyid((SELECT datdba FROM pg_database WHERE datname = current_database()))
       <> owner THEN
        EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner);
    END IF;
    FOR r IN
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                              WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind,
               c.oid::regclass::text AS name
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> owner
          -- (a partitioned table depends on its own key columns: not a reason to skip it)
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')
                          AND d.refobjid <> c.oid)
        UNION ALL
        SELECT 'ROUTINE', p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> owner
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'TYPE', t.oid::regtype::text FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
          AND pg_get_userbyid(t.typowner) <> owner
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                          AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.name, owner);
    END LOOP;
END $$;
