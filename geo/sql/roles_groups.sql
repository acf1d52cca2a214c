-- The group roles (geo/database.py _ensure_logins): gridsafe_app, the privileges of the app's
-- login (migration a0013), and gridsafe_scoped, the role an area-scoped caller's transactions
-- run as (migration a0009), which gridsafe_app may become. Another database of the cluster may
-- be creating them at the same moment: its role wins.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridsafe_scoped') THEN
        CREATE ROLE gridsafe_scoped NOLOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridsafe_app') THEN
        CREATE ROLE gridsafe_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    IF NOT pg_has_role('gridsafe_app', 'gridsafe_scoped', 'MEMBER') THEN
        GRANT gridsafe_scoped TO gridsafe_app;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
