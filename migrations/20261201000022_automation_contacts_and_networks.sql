-- Automations, part 2 continued: e-mail to a client's contact, and the networks a tenant lets
-- its automations' webhooks reach.

-- `notifications.send_contact_email`: an `automation.contact_message` event, delivered by the
-- notification pipeline to the contact's address (no preferences, no in-app list).
INSERT INTO notification_subtypes (code, category, name, position) VALUES
    ('automation.contact_message', 'automations', 'Message from an automation to a contact', 33);

INSERT INTO system_email_templates (subtype_code, subject, html, text) VALUES
    ('automation.contact_message', '{{subject}}', '<p>{{body}}</p>', '{{body}}');

-- A tenant's automation settings. `http_allowed_networks` are CIDR blocks (`10.20.0.0/16`,
-- `fd00::/8`) that `http.request` may reach although they are not public; empty, it reaches
-- public addresses only. Kept as text checked by the store, so the API's spelling round-trips.
CREATE TABLE automation_settings (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants (id),
    http_allowed_networks  text[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(http_allowed_networks) <= 50),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE automation_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE automation_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON automation_settings
    USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
CREATE POLICY schema_owner ON automation_settings TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON automation_settings TO psa_app;
