-- Invoice runs: one row per tenant and billing period a run was asked for, kept by the
-- `invoice-run:{tenant}:{period}` workflow as it bills. The row is the run's progress as the
-- API shows it; the invoices themselves carry the run's guarantee (one per client, period and
-- currency, by the unique index below).

CREATE TABLE invoice_runs (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    -- A month (`2026-11`) or a day (`2026-11-30`): the run bills every client period whose
    -- billing day falls in [period_start, period_end).
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$'),
    period_start  date NOT NULL,
    period_end    date NOT NULL CHECK (period_end > period_start),
    workflow_id   text NOT NULL,
    status        text NOT NULL DEFAULT 'requested'
                  CHECK (status IN ('requested', 'running', 'completed', 'completed_with_failures')),
    -- Client periods due in the run, those invoiced (by this run or an earlier one), those with
    -- nothing to bill.
    total         integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    done          integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    empty         integer NOT NULL DEFAULT 0 CHECK (empty >= 0),
    -- [{"client_id", "reason"}]: clients whose invoices could not be made, as of their last
    -- attempt.
    failures      jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- How often the run was asked for: a second request finishes what is missing.
    requests      integer NOT NULL DEFAULT 1 CHECK (requests >= 1),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, period)
);
CREATE INDEX invoice_runs_period ON invoice_runs (tenant_id, period_start);

ALTER TABLE invoice_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_runs USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
CREATE POLICY schema_owner ON invoice_runs TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON invoice_runs TO psa_app;

-- A voided run invoice no longer holds its period: voiding gives its time and usage back, and
-- the next run for the period bills them afresh.
DROP INDEX invoices_run_period;
CREATE UNIQUE INDEX invoices_run_period ON invoices (tenant_id, client_id, period_start, currency)
    WHERE source = 'run' AND status <> 'void';

-- The zone a tenant's billing days are counted in: its Temporal Schedules start the day's
-- invoice run and upkeep just after midnight there.
ALTER TABLE invoice_settings
    ADD COLUMN timezone text NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64);

-- Every tenant's billing zone, for the worker that keeps each tenant's billing Schedules in
-- Temporal (across tenants by design, like `sla_retime_claim`). A tenant without settings
-- bills in UTC.
CREATE FUNCTION billing_schedule_zones()
    RETURNS TABLE (tenant_id uuid, timezone text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id, coalesce(s.timezone, 'UTC')
        FROM tenants t LEFT JOIN invoice_settings s ON s.tenant_id = t.id
        ORDER BY t.id
    $$;
REVOKE ALL ON FUNCTION billing_schedule_zones() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_schedule_zones() TO psa_app;
