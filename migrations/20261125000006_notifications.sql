-- Notifications: what can be notified (categories and subtypes), how it reads (system templates
-- and tenant copies), who wants what (tenant switches, user preferences), and what was sent.

-- The catalogue is the product's, the same for every tenant: no tenant_id, read-only to the app.
CREATE TABLE notification_subtypes (
    code      text PRIMARY KEY,          -- e.g. 'ticket.assigned'
    category  text NOT NULL,             -- 'tickets', 'sla', 'invoices', 'projects', 'time_entries'
    name      text NOT NULL,
    position  integer NOT NULL
);

INSERT INTO notification_subtypes (code, category, name, position) VALUES
    ('ticket.created',            'tickets',      'Ticket created',          1),
    ('ticket.assigned',           'tickets',      'Ticket assigned',         2),
    ('ticket.updated',            'tickets',      'Ticket updated',          3),
    ('ticket.commented',          'tickets',      'Ticket commented',        4),
    ('ticket.closed',             'tickets',      'Ticket closed',           5),
    ('sla.warning',               'sla',          'SLA warning',             6),
    ('sla.breached',              'sla',          'SLA breached',            7),
    ('sla.escalated',             'sla',          'SLA escalated',           8),
    ('invoice.generated',         'invoices',     'Invoice generated',       9),
    ('invoice.overdue',           'invoices',     'Invoice overdue',        10),
    ('invoice.payment_received',  'invoices',     'Payment received',       11),
    ('project.created',           'projects',     'Project created',        12),
    ('project.task_assigned',     'projects',     'Task assigned',          13),
    ('project.milestone',         'projects',     'Milestone reached',      14),
    ('time_entry.submitted',      'time_entries', 'Time entry submitted',   15),
    ('time_entry.approved',       'time_entries', 'Time entry approved',    16),
    ('time_entry.rejected',       'time_entries', 'Time entry rejected',    17);

-- Shipped defaults. A tenant clones one into tenant_email_templates to change it.
CREATE TABLE system_email_templates (
    subtype_code  text PRIMARY KEY REFERENCES notification_subtypes (code),
    subject       text NOT NULL,
    html          text NOT NULL,
    text          text NOT NULL,
    version       integer NOT NULL DEFAULT 1
);

INSERT INTO system_email_templates (subtype_code, subject, html, text)
SELECT code,
       '[#{{ticket.number}}] ' || name || ': {{ticket.title}}',
       '<p>' || name || ': <strong>#{{ticket.number}} {{ticket.title}}</strong></p>',
       name || ': #{{ticket.number}} {{ticket.title}}'
FROM notification_subtypes WHERE category IN ('tickets', 'sla');

INSERT INTO system_email_templates (subtype_code, subject, html, text)
SELECT code, name, '<p>' || name || '</p>', name
FROM notification_subtypes WHERE category NOT IN ('tickets', 'sla');

GRANT SELECT ON notification_subtypes, system_email_templates TO psa_app;

CREATE TABLE tenant_email_templates (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    subtype_code  text NOT NULL REFERENCES notification_subtypes (code),
    subject       text NOT NULL,
    html          text NOT NULL,
    text          text NOT NULL,
    -- Bumped on every edit; the log records which version a message used.
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subtype_code)
);

CREATE TABLE tenant_notification_settings (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants (id),
    enabled                boolean NOT NULL DEFAULT true,
    from_address           text,
    rate_limit_per_minute  integer NOT NULL DEFAULT 60 CHECK (rate_limit_per_minute > 0)
);

-- Switches: a disabled category disables all its subtypes, whatever their own switch says.
CREATE TABLE tenant_notification_categories (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    category   text NOT NULL,
    enabled    boolean NOT NULL,
    PRIMARY KEY (tenant_id, category)
);

CREATE TABLE tenant_notification_subtypes (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    subtype_code  text NOT NULL REFERENCES notification_subtypes (code),
    enabled       boolean NOT NULL,
    PRIMARY KEY (tenant_id, subtype_code)
);

CREATE TABLE user_notification_preferences (
    tenant_id     uuid NOT NULL,
    user_id       uuid NOT NULL,
    subtype_code  text NOT NULL REFERENCES notification_subtypes (code),
    email         boolean NOT NULL DEFAULT true,
    in_app        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, user_id, subtype_code),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

CREATE TABLE in_app_notifications (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    user_id       uuid NOT NULL,
    subtype_code  text NOT NULL REFERENCES notification_subtypes (code),
    title         text NOT NULL,
    body          text NOT NULL,
    ticket_id     uuid,
    event_id      uuid NOT NULL,
    read_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, event_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX in_app_notifications_user ON in_app_notifications (tenant_id, user_id, id);

-- One row per (event, recipient, channel): the key that makes a retried send a no-op.
CREATE TABLE notification_log (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    event_id          uuid NOT NULL,
    recipient_id      uuid NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('email', 'in_app')),
    subtype_code      text NOT NULL REFERENCES notification_subtypes (code),
    template_source   text NOT NULL CHECK (template_source IN ('system', 'tenant')),
    template_version  integer NOT NULL,
    status            text NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, event_id, recipient_id, channel)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_email_templates', 'tenant_notification_settings',
                             'tenant_notification_categories', 'tenant_notification_subtypes',
                             'user_notification_preferences', 'in_app_notifications',
                             'notification_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END
$$;
