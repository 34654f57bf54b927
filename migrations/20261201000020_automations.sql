-- User-designed automations: a draft being edited, and immutable numbered versions. The newest
-- version is the one new runs take while the automation is enabled; a rollback publishes an
-- old version again as the newest.

CREATE TABLE automations (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The definition being edited: any JSON object; checked only when published.
    draft           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(draft) = 'object'),
    -- The newest version's number (0 before the first publish): the counter every publish
    -- takes the next number from, under the row's lock.
    latest_version  integer NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
    enabled         boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    -- Only a published automation can run.
    CHECK (NOT enabled OR latest_version > 0)
);

CREATE TABLE automation_versions (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    -- A version's own ID, for the API's paths; (automation_id, version) is its key.
    id                uuid NOT NULL,
    automation_id     uuid NOT NULL,
    version           integer NOT NULL CHECK (version > 0),
    definition        jsonb NOT NULL,
    published_at      timestamptz NOT NULL DEFAULT now(),
    published_by      uuid,
    -- A rollback: the version whose definition this one repeats.
    rolled_back_from  integer,
    PRIMARY KEY (tenant_id, automation_id, version),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, automation_id) REFERENCES automations (tenant_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['automations', 'automation_versions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant())
                        WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('CREATE POLICY schema_owner ON %I TO CURRENT_USER USING (true)
                        WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END $$;
