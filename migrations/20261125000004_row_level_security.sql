-- Row-level security on every tenant table, and the application role's grants.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clients', 'users', 'api_keys', 'contacts', 'boards', 'priorities',
                             'statuses', 'ticket_counters', 'tickets', 'ticket_comments', 'outbox',
                             'idempotency_keys', 'sla_audit_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END
$$;
