-- The dispatch calendar. Only the master of a series is stored: its wall-clock start in its
-- zone, its duration, an optional RFC 5545 rule and the produced date-times it leaves out.
-- Occurrences are computed on demand by the same code as the schedule preview.

CREATE TABLE schedule_entries (
    tenant_id         uuid NOT NULL REFERENCES tenants (id),
    id                uuid NOT NULL,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    ticket_id         uuid,
    -- Wall-clock start in `timezone`; the series' first date-time.
    start_local       timestamp NOT NULL,
    timezone          text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
    -- An RRULE value in canonical form (no `RRULE:` prefix); NULL for a single appointment.
    rrule             text CHECK (length(rrule) BETWEEN 1 AND 1000),
    -- Produced wall-clock date-times (before any DST move) that do not take place.
    exdates           timestamp[] NOT NULL DEFAULT '{}' CHECK (cardinality(exdates) <= 1000),
    -- Minutes before each occurrence to remind the assignees; NULL: no reminders.
    reminder_minutes  integer CHECK (reminder_minutes BETWEEN 0 AND 10080),
    -- Bounds of every occurrence, for range queries: the first start, and the last end (NULL
    -- while the series repeats without end).
    first_start       timestamptz NOT NULL,
    last_end          timestamptz,
    -- The series this one was cut from: a single occurrence moved out of it, or the later part
    -- of a series split at an occurrence; with the produced date-time it took over.
    split_from        uuid,
    split_at          timestamp,
    -- Overlaps with other entries the writer chose to accept (`on_conflict: allow`), as found
    -- at the last write: [{"user_id", "entry_id", "start", "end", "other_entry_id",
    -- "other_start", "other_end"}].
    accepted_overlaps jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    CHECK (last_end IS NULL OR last_end > first_start),
    CHECK ((split_from IS NULL) = (split_at IS NULL))
);
CREATE INDEX schedule_entries_range ON schedule_entries (tenant_id, first_start);
CREATE INDEX schedule_entries_ticket ON schedule_entries (tenant_id, ticket_id)
    WHERE ticket_id IS NOT NULL;

CREATE TABLE schedule_entry_assignees (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    entry_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    PRIMARY KEY (tenant_id, entry_id, user_id),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES schedule_entries (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
-- A technician's calendar, and the conflict check of every write.
CREATE INDEX schedule_entry_assignees_user ON schedule_entry_assignees (tenant_id, user_id, entry_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['schedule_entries', 'schedule_entry_assignees'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant())
                        WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('CREATE POLICY schema_owner ON %I TO CURRENT_USER USING (true)
                        WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END $$;
