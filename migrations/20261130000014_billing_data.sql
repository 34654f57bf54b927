-- Billing data: the service catalogue, contracts and their lines, which client is on which
-- contract and how it is billed, tax, credits, metered usage, and time worked with its
-- approval. The invoice preview reads these into the domain engine's input; invoice runs
-- will read the same rows.
--
-- Money and quantities are NUMERIC written as the caller wrote them (Postgres keeps the scale),
-- so an answer echoes "150.00" as "150.00". Prices that depend on a line's kind (`terms`) and a
-- region's tax components are JSON in the engine's own shape, checked by the engine before they
-- are stored: one definition of each rule, in `domain/billing`.

CREATE TABLE services (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    name         text NOT NULL,
    -- What one unit is: 'hour', 'device', 'GB', …
    unit         text NOT NULL,
    description  text,
    taxable      boolean NOT NULL DEFAULT true,
    -- Default price per unit by currency: {"USD": "150.00", "EUR": "140.00"}.
    rates        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(rates) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX services_name ON services (tenant_id, lower(name));

-- A named, reusable set of lines; clients are put on it by `client_contracts`.
CREATE TABLE contracts (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    name         text NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX contracts_name ON contracts (tenant_id, lower(name));

CREATE TABLE contract_lines (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    contract_id  uuid NOT NULL,
    -- Lines bill in this order (then by id).
    position     integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('fixed', 'hourly', 'bucket', 'usage', 'product')),
    -- Hourly and bucket lines bill the time entries of this service; usage lines its usage.
    service_id   uuid,
    description  text,
    taxable      boolean NOT NULL DEFAULT true,
    -- The kind's fields in the preview's line shape, without id, type, taxable or tax_region.
    terms        jsonb NOT NULL CHECK (jsonb_typeof(terms) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id)
);
CREATE INDEX contract_lines_contract ON contract_lines (tenant_id, contract_id, position, id);

-- A client on a contract from `start_date` to `end_date` (the last day covered, inclusive).
CREATE TABLE client_contracts (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    client_id      uuid NOT NULL,
    contract_id    uuid NOT NULL,
    start_date     date NOT NULL,
    end_date       date CHECK (end_date >= start_date),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    billing_cycle  text NOT NULL
                   CHECK (billing_cycle IN ('weekly', 'bi_weekly', 'monthly', 'quarterly', 'semi_annual', 'annual')),
    -- Day of the month periods start on; NULL: calendar periods.
    anchor_day     smallint CHECK (anchor_day BETWEEN 1 AND 28),
    timing         text NOT NULL CHECK (timing IN ('advance', 'arrears')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, id)
);
CREATE INDEX client_contracts_client ON client_contracts (tenant_id, client_id, start_date);

-- `name` is what contract lines' taxes are grouped under on an invoice.
CREATE TABLE tax_regions (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    name         text NOT NULL,
    -- [{"name": "GST", "rate": "5"}, {"name": "PST", "rate": "7", "compound": true}] (engine shape).
    components   jsonb NOT NULL CHECK (jsonb_typeof(components) = 'array'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX tax_regions_name ON tax_regions (tenant_id, name);

-- A client without a row, or without a region, is not taxed.
CREATE TABLE client_tax_settings (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    client_id       uuid NOT NULL,
    region_id       uuid,
    exempt          boolean NOT NULL DEFAULT false,
    reverse_charge  boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, region_id) REFERENCES tax_regions (tenant_id, id)
);

CREATE TABLE credits (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    client_id    uuid NOT NULL,
    amount       numeric NOT NULL CHECK (amount > 0),
    -- What is left to apply; invoices lower it.
    remaining    numeric NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    expires_on   date,
    source       text NOT NULL CHECK (source IN ('manual', 'prepayment', 'overpayment', 'refund', 'goodwill', 'invoice')),
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX credits_client ON credits (tenant_id, client_id, currency);

-- Metered usage. A meter names each reading with its own `external_id`, so a retried post
-- finds the reading it already made instead of counting it twice.
CREATE TABLE usage_records (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    client_id        uuid NOT NULL,
    service_id       uuid NOT NULL,
    quantity         numeric NOT NULL CHECK (quantity >= 0),
    occurred_at      timestamptz NOT NULL,
    external_id      text NOT NULL,
    -- The invoice item that billed it (set by invoice runs): billed at most once.
    invoice_item_id  uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id)
);
CREATE UNIQUE INDEX usage_records_external_id ON usage_records (tenant_id, external_id);
CREATE INDEX usage_records_client ON usage_records (tenant_id, client_id, occurred_at);

-- A worker's time for a period [period_start, period_end): the entries of that worker dated in
-- the period belong to it. Periods of one worker never overlap.
CREATE TABLE timesheets (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    worker_id     uuid NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL CHECK (period_end > period_start),
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    -- Who was asked to approve it (on submit).
    approver_id   uuid,
    -- Why it was rejected.
    reason        text,
    submitted_at  timestamptz,
    decided_at    timestamptz,
    decided_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, approver_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX timesheets_worker ON timesheets (tenant_id, worker_id, period_start);

CREATE TABLE time_entries (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    worker_id        uuid NOT NULL,
    client_id        uuid NOT NULL,
    ticket_id        uuid,
    -- A project's reference, until projects are their own records.
    project_ref      text,
    service_id       uuid NOT NULL,
    -- The day the work counts for (the UTC date of `started_at` when given).
    work_date        date NOT NULL,
    started_at       timestamptz,
    ended_at         timestamptz,
    minutes          integer NOT NULL CHECK (minutes BETWEEN 0 AND 1440),
    billable         boolean NOT NULL DEFAULT true,
    note             text,
    -- The invoice item that billed it (set by invoice runs): an entry is invoiced at most once.
    invoice_item_id  uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id),
    CHECK ((started_at IS NULL) = (ended_at IS NULL) AND (ended_at IS NULL OR ended_at > started_at))
);
CREATE INDEX time_entries_worker ON time_entries (tenant_id, worker_id, work_date);
CREATE INDEX time_entries_client ON time_entries (tenant_id, client_id, work_date);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['services', 'contracts', 'contract_lines', 'client_contracts',
                             'tax_regions', 'client_tax_settings', 'credits', 'usage_records',
                             'timesheets', 'time_entries']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('CREATE POLICY schema_owner ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END
$$;

-- The time-entry notifications say whose time, which period and how much.
UPDATE system_email_templates SET
    subject = 'Timesheet submitted: {{period_start}} to {{period_end}}',
    html = '<p>A timesheet for {{period_start}} to {{period_end}} ({{entries}} entries, {{minutes}} minutes) is waiting for your approval.</p>',
    text = 'A timesheet for {{period_start}} to {{period_end}} ({{entries}} entries, {{minutes}} minutes) is waiting for your approval.',
    version = version + 1
WHERE subtype_code = 'time_entry.submitted';
UPDATE system_email_templates SET
    subject = 'Timesheet approved: {{period_start}} to {{period_end}}',
    html = '<p>Your timesheet for {{period_start}} to {{period_end}} ({{entries}} entries, {{minutes}} minutes) was approved.</p>',
    text = 'Your timesheet for {{period_start}} to {{period_end}} ({{entries}} entries, {{minutes}} minutes) was approved.',
    version = version + 1
WHERE subtype_code = 'time_entry.approved';
UPDATE system_email_templates SET
    subject = 'Timesheet returned: {{period_start}} to {{period_end}}',
    html = '<p>Your timesheet for {{period_start}} to {{period_end}} was rejected: {{reason}}</p>',
    text = 'Your timesheet for {{period_start}} to {{period_end}} was rejected: {{reason}}',
    version = version + 1
WHERE subtype_code = 'time_entry.rejected';
