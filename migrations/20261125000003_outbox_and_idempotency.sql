-- The transactional outbox and idempotency keys.
--
-- A write commits its domain rows and its outbox row together; the relay later turns each
-- outbox row into a Redis XADD (the event) and, when the event routes to a workflow, a Temporal
-- call. Each of the two steps is recorded separately so a failure of one never repeats the other.

CREATE TABLE outbox (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    id               bigint GENERATED ALWAYS AS IDENTITY,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    -- The event envelope as published to `psa:events`.
    envelope         jsonb NOT NULL,
    -- The Temporal command to run for it, or NULL when no workflow cares.
    workflow_command jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    signalled_at     timestamptz,
    done_at          timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- A relay that claimed the row holds it until then; after it, another relay may take it
    -- (the first one died).
    lease_until      timestamptz,
    last_error       text,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL;

-- The relay works across tenants, so it reaches the outbox only through these functions.
CREATE FUNCTION outbox_claim(p_limit integer, p_lease_seconds integer)
    RETURNS TABLE (tenant_id uuid, id bigint, event_id uuid, envelope jsonb, workflow_command jsonb,
                   published boolean, signalled boolean, attempts integer)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox o
        SET lease_until = now() + make_interval(secs => p_lease_seconds),
            attempts = o.attempts + 1
        FROM (
            SELECT c.tenant_id, c.id FROM outbox c
            WHERE c.done_at IS NULL
              AND c.next_attempt_at <= now()
              AND (c.lease_until IS NULL OR c.lease_until < now())
            ORDER BY c.id
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED
        ) picked
        WHERE o.tenant_id = picked.tenant_id AND o.id = picked.id
        RETURNING o.tenant_id, o.id, o.event_id, o.envelope, o.workflow_command,
                  o.published_at IS NOT NULL, o.signalled_at IS NOT NULL, o.attempts
    $$;

-- Records the outcome of one delivery attempt. A step that succeeded stays succeeded.
CREATE FUNCTION outbox_record(p_tenant uuid, p_id bigint, p_published boolean, p_signalled boolean,
                              p_error text, p_retry_seconds integer)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox
        SET published_at = CASE WHEN p_published THEN coalesce(published_at, now()) ELSE published_at END,
            signalled_at = CASE WHEN p_signalled THEN coalesce(signalled_at, now()) ELSE signalled_at END,
            done_at = CASE WHEN p_published AND (p_signalled OR workflow_command IS NULL)
                           THEN now() ELSE NULL END,
            last_error = p_error,
            lease_until = NULL,
            next_attempt_at = now() + make_interval(secs => coalesce(p_retry_seconds, 0))
        WHERE tenant_id = p_tenant AND id = p_id
    $$;

-- Outbox age for the metrics endpoint: seconds since the oldest undelivered row was written.
CREATE FUNCTION outbox_lag() RETURNS TABLE (pending bigint, oldest_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::double precision
        FROM outbox WHERE done_at IS NULL
    $$;

REVOKE ALL ON FUNCTION outbox_claim(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION outbox_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_claim(integer, integer) TO psa_app;
GRANT EXECUTE ON FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer) TO psa_app;
GRANT EXECUTE ON FUNCTION outbox_lag() TO psa_app;

-- A create retried with the same Idempotency-Key replays the first answer instead of writing
-- twice. Saved in the same transaction as the work it guards.
CREATE TABLE idempotency_keys (
    tenant_id        uuid NOT NULL REFERENCES tenants (id),
    api_key_id       uuid NOT NULL,
    key              text NOT NULL,
    request_hash     bytea NOT NULL,
    response_status  integer,
    response_body    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, api_key_id, key)
);

-- What a ticket's SLA workflow did, step by step.
CREATE TABLE sla_audit_log (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    ticket_id    uuid NOT NULL,
    -- Unique per ticket, so an activity retried after a lost reply writes its step once.
    step_key     text NOT NULL,
    event        text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, ticket_id, step_key),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
