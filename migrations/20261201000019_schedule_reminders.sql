-- Reminders of schedule entries: one row per reminded occurrence, the key that makes a
-- retried or repeated reminder a no-op, and the "Appointments" notifications people get.

CREATE TABLE schedule_reminders (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    entry_id          uuid NOT NULL,
    -- The occurrence's start instant: an occurrence moved to another time is reminded there.
    occurrence_start  timestamptz NOT NULL,
    -- The `schedule.reminder` event that carried it.
    event_id          uuid NOT NULL,
    sent_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, entry_id, occurrence_start),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES schedule_entries (tenant_id, id)
        ON DELETE CASCADE
);

ALTER TABLE schedule_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedule_reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON schedule_reminders USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
CREATE POLICY schema_owner ON schedule_reminders TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON schedule_reminders TO psa_app;

INSERT INTO notification_subtypes (code, category, name, position) VALUES
    ('appointment.created',   'appointments', 'Appointment booked',    20),
    ('appointment.updated',   'appointments', 'Appointment changed',   21),
    ('appointment.cancelled', 'appointments', 'Appointment cancelled', 22),
    ('appointment.reminder',  'appointments', 'Appointment reminder',  23);

-- Instants are UTC (RFC 3339); a reminder also says the wall-clock time in the entry's zone.
INSERT INTO system_email_templates (subtype_code, subject, html, text) VALUES
    ('appointment.created',
     'Appointment booked: {{title}}',
     '<p>You are booked for <strong>{{title}}</strong>, first from {{starts_at}} to {{ends_at}} (UTC).</p>',
     'You are booked for {{title}}, first from {{starts_at}} to {{ends_at}} (UTC).'),
    ('appointment.updated',
     'Appointment changed: {{title}}',
     '<p><strong>{{title}}</strong> was changed. It now runs first from {{starts_at}} to {{ends_at}} (UTC).</p>',
     '{{title}} was changed. It now runs first from {{starts_at}} to {{ends_at}} (UTC).'),
    ('appointment.cancelled',
     'Appointment cancelled: {{title}}',
     '<p><strong>{{title}}</strong> was cancelled: none of its occurrences take place.</p>',
     '{{title}} was cancelled: none of its occurrences take place.'),
    ('appointment.reminder',
     'Reminder: {{title}} at {{local_start}} ({{timezone}})',
     '<p><strong>{{title}}</strong> starts in {{minutes_before}} minutes: {{local_start}} {{timezone}} ({{starts_at}} UTC), until {{ends_at}} UTC.</p>',
     '{{title}} starts in {{minutes_before}} minutes: {{local_start}} {{timezone}} ({{starts_at}} UTC), until {{ends_at}} UTC.');
