-- E-mails sent per tenant per minute, for the tenant's rate limit. A send over the limit waits
-- for the next minute in its workflow; old rows can be deleted freely.
CREATE TABLE notification_send_budget (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    minute     timestamptz NOT NULL,
    sent       integer NOT NULL,
    PRIMARY KEY (tenant_id, minute)
);
ALTER TABLE notification_send_budget ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_send_budget
    USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_send_budget TO psa_app;
