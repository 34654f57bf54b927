-- Invoices and the ledger. An invoice is a draft until it is finalized, when it takes the
-- tenant's next number (gapless: the counter row is locked by the finalizing transaction, so
-- numbers are handed out one at a time and a rolled-back finalization gives its number back).
-- A finalized invoice never changes again except for its status; corrections are credit
-- notes or adjustments in the ledger.
--
-- The ledger is append-only: every change to what a client owes is one row (an invoice, a
-- payment, a credit issued or applied, a refund, an adjustment), and every balance and every
-- invoice's amount due can be recomputed from it.

CREATE TABLE invoice_settings (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants (id),
    prefix         text NOT NULL DEFAULT 'INV-' CHECK (length(prefix) <= 20),
    -- Digits the number is padded to: INV-00042 with 5.
    padding        smallint NOT NULL DEFAULT 5 CHECK (padding BETWEEN 1 AND 12),
    next_number    bigint NOT NULL DEFAULT 1 CHECK (next_number >= 1),
    -- Days from the invoice date to its due date.
    payment_terms_days  integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE invoices (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               uuid NOT NULL,
    client_id        uuid NOT NULL,
    -- Set when finalized; unique per tenant.
    number           text,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'finalized', 'partially_paid', 'paid', 'overdue', 'void')),
    -- 'run': made by an invoice run for one billing period; 'manual': written by hand.
    source           text NOT NULL CHECK (source IN ('run', 'manual')),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period_start     date,
    period_end       date CHECK (period_end > period_start),
    invoice_date     date NOT NULL,
    due_date         date NOT NULL CHECK (due_date >= invoice_date),
    subtotal         numeric NOT NULL,
    tax_total        numeric NOT NULL,
    total            numeric NOT NULL,
    credits_applied  numeric NOT NULL DEFAULT 0,
    reverse_charge   boolean NOT NULL DEFAULT false,
    note             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finalized_at     timestamptz,
    voided_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    CHECK ((number IS NULL) = (status = 'draft' OR (status = 'void' AND finalized_at IS NULL))),
    CHECK (source = 'manual' OR (period_start IS NOT NULL AND period_end IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_number ON invoices (tenant_id, number) WHERE number IS NOT NULL;
-- Exactly one run invoice per client, period and currency: the run's guarantee is this key,
-- not a check before the insert.
CREATE UNIQUE INDEX invoices_run_period ON invoices (tenant_id, client_id, period_start, currency)
    WHERE source = 'run';
CREATE INDEX invoices_client ON invoices (tenant_id, client_id, invoice_date);

CREATE TABLE invoice_items (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    invoice_id        uuid NOT NULL,
    position          integer NOT NULL,
    kind              text NOT NULL
                      CHECK (kind IN ('fixed', 'time', 'overtime', 'bucket_fee', 'bucket_overage',
                                      'usage', 'product', 'discount', 'manual')),
    -- What it bills: a contract line (run invoices), or nothing (manual items).
    contract_line_id  uuid,
    description       text NOT NULL,
    minutes           integer,
    quantity          numeric,
    rate              numeric,
    amount            numeric NOT NULL,
    taxable           boolean NOT NULL DEFAULT true,
    -- [{"service_id", "amount"}] of a fixed line split over services.
    allocations       jsonb,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contract_line_id) REFERENCES contract_lines (tenant_id, id)
);
CREATE INDEX invoice_items_invoice ON invoice_items (tenant_id, invoice_id, position);

CREATE TABLE invoice_tax (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    invoice_id  uuid NOT NULL,
    position    integer NOT NULL,
    region      text NOT NULL,
    name        text NOT NULL,
    base        numeric NOT NULL,
    amount      numeric NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, position),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE
);

-- Time and usage name the invoice item that billed them: each is billed at most once.
ALTER TABLE time_entries
    ADD FOREIGN KEY (tenant_id, invoice_item_id) REFERENCES invoice_items (tenant_id, id);
ALTER TABLE usage_records
    ADD FOREIGN KEY (tenant_id, invoice_item_id) REFERENCES invoice_items (tenant_id, id);

CREATE TABLE payments (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    client_id    uuid NOT NULL,
    invoice_id   uuid,
    amount       numeric NOT NULL CHECK (amount > 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    received_on  date NOT NULL,
    method       text NOT NULL CHECK (method IN ('bank_transfer', 'card', 'cash', 'check', 'other')),
    reference    text,
    -- What was refunded of it; never more than the amount.
    refunded     numeric NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX payments_client ON payments (tenant_id, client_id, received_on);

-- Two accounts per client and currency. `receivable`: what the client owes (an invoice
-- raises it; payments, credits applied, voids and downward adjustments lower it; refunding a
-- payment that paid an invoice raises it again). `credit`: money held for the client (credits
-- issued raise it; credits applied, refunded or expired lower it). A row's `amount` is its
-- signed effect on its account; applying a credit is two rows, one on each account.
CREATE TABLE ledger_transactions (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    client_id    uuid NOT NULL,
    account      text NOT NULL CHECK (account IN ('receivable', 'credit')),
    kind         text NOT NULL
                 CHECK (kind IN ('invoice', 'payment', 'credit_issued', 'credit_applied', 'refund',
                                 'adjustment', 'void', 'credit_expired')),
    amount       numeric NOT NULL CHECK (amount <> 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    invoice_id   uuid,
    payment_id   uuid,
    credit_id    uuid,
    note         text,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id),
    FOREIGN KEY (tenant_id, credit_id) REFERENCES credits (tenant_id, id),
    CHECK (account = 'credit' OR credit_id IS NULL OR kind = 'credit_applied'),
    CHECK (account = 'receivable' OR credit_id IS NOT NULL)
);
CREATE INDEX ledger_transactions_client ON ledger_transactions (tenant_id, client_id, currency, occurred_at);
CREATE INDEX ledger_transactions_invoice ON ledger_transactions (tenant_id, invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX ledger_transactions_payment ON ledger_transactions (tenant_id, payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX ledger_transactions_credit ON ledger_transactions (tenant_id, credit_id) WHERE credit_id IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['invoice_settings', 'invoices', 'invoice_items', 'invoice_tax',
                             'payments', 'ledger_transactions']
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

-- Append-only: the application may add to the ledger, never change or remove what is there.
REVOKE UPDATE, DELETE ON ledger_transactions FROM psa_app;

-- Credits written before the ledger existed enter it as issued (none was applied yet: nothing
-- could draw on them before invoices).
INSERT INTO ledger_transactions (tenant_id, id, client_id, account, kind, amount, currency,
                                 credit_id, occurred_at)
SELECT tenant_id, gen_random_uuid(), client_id, 'credit', 'credit_issued', remaining, currency,
       id, created_at
FROM credits WHERE remaining > 0;
