-- Row-level security binds every role, the tables' owner included: each tenant table (and
-- `tenants`) is FORCEd, so a query the owner runs is filtered like anyone's unless a policy
-- names the owner. The owner is the role that applies these migrations; it also owns the
-- SECURITY DEFINER functions that work across tenants by design (`authenticate_api_key`,
-- `outbox_claim`, `outbox_record`, `outbox_verify`, `outbox_unverified`, `outbox_lag`,
-- `sla_retime_claim`, `sla_schedule_spec`). Those keep working through one explicit policy per
-- table, `schema_owner`, granted to that role alone: cross-tenant access is then written
-- down in the catalogue, table by table, instead of following silently from ownership.
-- The application role (`psa_app`) gets nothing new: it still sees only `app.tenant_id`'s rows.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind = 'r'
           AND c.relrowsecurity
    LOOP
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY schema_owner ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
