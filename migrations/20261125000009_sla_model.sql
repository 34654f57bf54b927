-- The SLA model: business-hours schedules and holidays, policies with per-priority targets,
-- escalation percentages and notification thresholds, escalation managers per board and level,
-- policy assignment to clients and boards, and the SLA columns of a ticket.
--
-- Times of day are stored as the API takes them ("HH:MM", "24:00" as an end) and validated by
-- the domain calendar before they are written; the checks here only keep out what can never be
-- valid.

CREATE TABLE business_hours_schedules (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    timezone    text NOT NULL,
    is_24x7     boolean NOT NULL DEFAULT false,
    -- The schedule of a policy that names none.
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX business_hours_schedules_name ON business_hours_schedules (tenant_id, lower(name));
CREATE UNIQUE INDEX business_hours_schedules_is_default ON business_hours_schedules (tenant_id) WHERE is_default;

CREATE TABLE business_hours_windows (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    schedule_id  uuid NOT NULL,
    id           uuid NOT NULL,
    -- ISO weekday: 1 = Monday … 7 = Sunday.
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time   text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    -- Earlier than start_time: the window runs past midnight into the next day.
    end_time     text NOT NULL CHECK (end_time ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES business_hours_schedules (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX business_hours_windows_schedule ON business_hours_windows (tenant_id, schedule_id);

-- A holiday with no schedule closes every schedule of the tenant.
CREATE TABLE holidays (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    schedule_id  uuid,
    name         text NOT NULL,
    date         date NOT NULL,
    -- Repeats the month and day every year.
    recurring    boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES business_hours_schedules (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX holidays_schedule ON holidays (tenant_id, schedule_id);

CREATE TABLE sla_policies (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    name          text NOT NULL,
    description   text,
    -- NULL: the tenant's default schedule.
    schedule_id   uuid,
    -- The policy of a ticket whose client and board name none.
    is_default    boolean NOT NULL DEFAULT false,
    -- Percent of a phase's target at which the ticket's escalation level reaches 1, 2, 3.
    escalation_1_percent  integer NOT NULL DEFAULT 70 CHECK (escalation_1_percent BETWEEN 1 AND 1000),
    escalation_2_percent  integer NOT NULL DEFAULT 90 CHECK (escalation_2_percent BETWEEN 1 AND 1000),
    escalation_3_percent  integer NOT NULL DEFAULT 110 CHECK (escalation_3_percent BETWEEN 1 AND 1000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES business_hours_schedules (tenant_id, id),
    CHECK (escalation_1_percent < escalation_2_percent AND escalation_2_percent < escalation_3_percent)
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (tenant_id, lower(name));
CREATE UNIQUE INDEX sla_policies_is_default ON sla_policies (tenant_id) WHERE is_default;

-- A priority without a row (or with NULL minutes) has no target for that phase: the ticket
-- records its policy and start, and no due date.
CREATE TABLE sla_policy_targets (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    policy_id           uuid NOT NULL,
    priority_id         uuid NOT NULL,
    response_minutes    integer CHECK (response_minutes >= 0),
    resolution_minutes  integer CHECK (resolution_minutes >= 0),
    -- Counts every minute for this priority, whatever the policy's schedule.
    is_24x7             boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, policy_id, priority_id),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES sla_policies (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, priority_id) REFERENCES priorities (tenant_id, id)
);

-- Who hears of a phase reaching `percent` of its target (100 = breached), and how.
CREATE TABLE sla_notification_thresholds (
    tenant_id                   uuid NOT NULL REFERENCES tenants (id),
    policy_id                   uuid NOT NULL,
    percent                     integer NOT NULL CHECK (percent BETWEEN 1 AND 1000),
    notify_assignee             boolean NOT NULL DEFAULT true,
    notify_board_manager        boolean NOT NULL DEFAULT false,
    notify_escalation_managers  boolean NOT NULL DEFAULT false,
    channels                    text[] NOT NULL DEFAULT '{email,in_app}'
                                CHECK (channels <@ '{email,in_app}'::text[]),
    PRIMARY KEY (tenant_id, policy_id, percent),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES sla_policies (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE boards
    ADD COLUMN manager_id uuid,
    ADD COLUMN sla_policy_id uuid,
    ADD FOREIGN KEY (tenant_id, manager_id) REFERENCES users (tenant_id, id),
    ADD FOREIGN KEY (tenant_id, sla_policy_id) REFERENCES sla_policies (tenant_id, id);

ALTER TABLE clients
    ADD COLUMN sla_policy_id uuid,
    ADD FOREIGN KEY (tenant_id, sla_policy_id) REFERENCES sla_policies (tenant_id, id);

CREATE TABLE board_escalation_managers (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    board_id    uuid NOT NULL,
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    user_id     uuid NOT NULL,
    PRIMARY KEY (tenant_id, board_id, level, user_id),
    FOREIGN KEY (tenant_id, board_id) REFERENCES boards (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

CREATE TABLE tenant_sla_settings (
    tenant_id                    uuid PRIMARY KEY REFERENCES tenants (id),
    -- Stop the clock while the ticket waits on the client (tickets.awaiting_client).
    pause_while_awaiting_client  boolean NOT NULL DEFAULT false
);

ALTER TABLE tickets
    ADD COLUMN awaiting_client              boolean NOT NULL DEFAULT false,
    ADD COLUMN sla_policy_id                uuid,
    ADD COLUMN sla_started_at               timestamptz,
    ADD COLUMN sla_response_due_at          timestamptz,
    ADD COLUMN sla_response_at              timestamptz,
    ADD COLUMN sla_response_met             boolean,
    -- Business minutes the phase counted when it ended (for compliance averages).
    ADD COLUMN sla_response_minutes         integer,
    ADD COLUMN sla_resolution_due_at        timestamptz,
    ADD COLUMN sla_resolution_at            timestamptz,
    ADD COLUMN sla_resolution_met           boolean,
    ADD COLUMN sla_resolution_minutes       integer,
    ADD COLUMN sla_paused_since             timestamptz,
    ADD COLUMN sla_total_paused_minutes     integer NOT NULL DEFAULT 0,
    ADD COLUMN sla_escalation_level         smallint NOT NULL DEFAULT 0 CHECK (sla_escalation_level BETWEEN 0 AND 3),
    ADD COLUMN sla_state                    text CHECK (sla_state IN ('on_track', 'at_risk', 'paused', 'breached', 'met')),
    ADD FOREIGN KEY (tenant_id, sla_policy_id) REFERENCES sla_policies (tenant_id, id);
CREATE INDEX tickets_sla_state ON tickets (tenant_id, sla_state) WHERE sla_state IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['business_hours_schedules', 'business_hours_windows', 'holidays',
                             'sla_policies', 'sla_policy_targets', 'sla_notification_thresholds',
                             'board_escalation_managers', 'tenant_sla_settings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO psa_app', t);
    END LOOP;
END
$$;

-- A stored schedule in the shape the domain calendar reads (`ScheduleSpec`): its windows, its
-- own holidays and the tenant's global ones. One definition for the edge and the worker. Runs
-- with the caller's rights, so row-level security limits it to the caller's tenant; NULL when
-- that tenant has no such schedule.
CREATE FUNCTION sla_schedule_spec(p_schedule uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'timezone', s.timezone,
        'is_24x7', s.is_24x7,
        'hours', COALESCE((
            SELECT jsonb_agg(jsonb_build_object('weekday', w.weekday, 'start', w.start_time, 'end', w.end_time)
                             ORDER BY w.weekday, w.start_time)
              FROM business_hours_windows w
             WHERE w.tenant_id = s.tenant_id AND w.schedule_id = s.id), '[]'::jsonb),
        'holidays', COALESCE((
            SELECT jsonb_agg(jsonb_build_object('date', to_char(h.date, 'YYYY-MM-DD'), 'recurring', h.recurring)
                             ORDER BY h.date)
              FROM holidays h
             WHERE h.tenant_id = s.tenant_id AND (h.schedule_id = s.id OR h.schedule_id IS NULL)), '[]'::jsonb))
      FROM business_hours_schedules s
     WHERE s.id = p_schedule
$$;
GRANT EXECUTE ON FUNCTION sla_schedule_spec(uuid) TO psa_app;
