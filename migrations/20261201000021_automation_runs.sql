-- Durable automation runs: who an automation acts as, each run's read model (status, current
-- step, trace), and the index that routes events to runs waiting for them.

-- The API key that made the automation: its runs act as that key (its role, user and tenant),
-- so every rule and permission holds as if the key had called the API itself.
ALTER TABLE automations ADD COLUMN owner_key_id uuid;

-- One row per run, keyed by the run's ID (derived from its workflow ID, so a retried start
-- finds the same row). Written by the run's activities, in batches.
CREATE TABLE automation_runs (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    automation_id   uuid NOT NULL,
    version         integer NOT NULL CHECK (version > 0),
    workflow_id     text NOT NULL,
    -- 'pending' (asked for, not yet begun), 'running', 'completed', 'failed', 'cancelled'.
    status          text NOT NULL
                    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    trigger_event   jsonb NOT NULL,
    current_step    text,
    -- What the run waits for now: a timer, an event, an action's attempts.
    waiting         jsonb,
    vars            jsonb NOT NULL DEFAULT '{}'::jsonb,
    result          jsonb,
    error           jsonb,
    steps_executed  integer NOT NULL DEFAULT 0,
    -- A failed run: the interpreter's state a retry starts from (its failed step again).
    retry_from      jsonb,
    -- A retry: the run it retries, and the state it starts from.
    retry_of        uuid,
    carry           jsonb,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, workflow_id),
    FOREIGN KEY (tenant_id, automation_id) REFERENCES automations (tenant_id, id)
);
CREATE INDEX automation_runs_by_automation
    ON automation_runs (tenant_id, automation_id, started_at DESC, id DESC);

-- The trace: one row per executed step, by its number in the run; a step still running is
-- written again when it ends.
CREATE TABLE automation_run_steps (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    run_id      uuid NOT NULL,
    seq         integer NOT NULL CHECK (seq >= 0),
    entry       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, run_id, seq),
    FOREIGN KEY (tenant_id, run_id) REFERENCES automation_runs (tenant_id, id) ON DELETE CASCADE
);

-- Runs waiting in a `wait_for_event` step: the event subscriber signals each event to the
-- runs of its tenant waiting for its type, found through this index, never by a scan of runs.
CREATE TABLE automation_waits (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    workflow_id  text NOT NULL,
    event_type   text NOT NULL,
    step         text NOT NULL,
    since        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id)
);
CREATE INDEX automation_waits_by_type ON automation_waits (tenant_id, event_type);

-- Which enabled automations an event type triggers, without reading every definition.
CREATE INDEX automation_versions_by_trigger
    ON automation_versions (tenant_id, (definition #>> '{trigger,event}'));

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['automation_runs', 'automation_run_steps', 'automation_waits'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant())
                        WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('CREATE POLICY schema_owner ON %I TO CURRENT_USER USING (true)
                        WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END $$;

-- What the worker keeps in Temporal as Schedules: every automation one of whose versions has a
-- schedule trigger, with its newest version's trigger, across tenants by design (like
-- `billing_schedule_zones`): a schedule whose automation no longer has one is deleted.
CREATE FUNCTION automation_schedule_triggers()
    RETURNS TABLE (tenant_id uuid, automation_id uuid, name text, enabled boolean,
                   version integer, trigger jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT a.tenant_id, a.id, a.name, a.enabled, v.version, v.definition -> 'trigger'
          FROM automations a
          JOIN automation_versions v
            ON v.tenant_id = a.tenant_id AND v.automation_id = a.id
           AND v.version = a.latest_version
         WHERE EXISTS (SELECT 1 FROM automation_versions o
                        WHERE o.tenant_id = a.tenant_id AND o.automation_id = a.id
                          AND o.definition -> 'trigger' ? 'schedule')
         ORDER BY a.tenant_id, a.id
    $$;
REVOKE ALL ON FUNCTION automation_schedule_triggers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION automation_schedule_triggers() TO psa_app;

-- How a run ended, told to the user its automation's owner key acts for.
INSERT INTO notification_subtypes (code, category, name, position) VALUES
    ('automation.run_completed', 'automations', 'Automation run completed', 30),
    ('automation.run_failed',    'automations', 'Automation run failed',    31),
    ('automation.message',       'automations', 'Message from an automation', 32);

INSERT INTO system_email_templates (subtype_code, subject, html, text) VALUES
    ('automation.run_completed',
     'Automation completed: {{automation_name}}',
     '<p>A run of <strong>{{automation_name}}</strong> (version {{version}}) completed. Run: {{run_id}}</p>',
     'A run of {{automation_name}} (version {{version}}) completed. Run: {{run_id}}'),
    ('automation.run_failed',
     'Automation failed: {{automation_name}}',
     '<p>A run of <strong>{{automation_name}}</strong> (version {{version}}) failed: {{error}}. Run: {{run_id}}</p>',
     'A run of {{automation_name}} (version {{version}}) failed: {{error}}. Run: {{run_id}}'),
    ('automation.message', '{{subject}}', '<p>{{body}}</p>', '{{body}}');
