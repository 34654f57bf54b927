-- The relay delivers a claimed batch concurrently, so the order of one workflow's commands
-- moves from "one row at a time" into the claim itself: a row whose workflow has an earlier
-- command not yet delivered is not claimed, unless that earlier command is claimed in the same
-- batch (the relay then sends the two in order, one after the other). Two commands for one
-- ticket never overtake each other, whichever relay holds them.
--
-- Outcomes are written for a whole batch in one statement, and the relay is woken by
-- `NOTIFY psa_outbox`, which the writer sends after its commit (not inside the writing
-- transaction: a NOTIFY there takes a database-wide lock through the commit's WAL flush and
-- serialises every writer).

ALTER TABLE outbox ADD COLUMN workflow_id text;
UPDATE outbox SET workflow_id = workflow_command ->> 'workflow_id'
 WHERE workflow_command IS NOT NULL AND signalled_at IS NULL;
CREATE INDEX outbox_undelivered_commands ON outbox (workflow_id, id)
    WHERE signalled_at IS NULL AND workflow_id IS NOT NULL;

-- Wakes the relays: called by writers after their commit, in a transaction of its own. That
-- transaction commits asynchronously (nothing in it needs to survive a crash: a lost wake-up
-- costs the relays one poll interval), so it holds the notification lock only briefly.
CREATE FUNCTION outbox_wake() RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
        SELECT set_config('synchronous_commit', 'off', true);
        SELECT pg_notify('psa_outbox', '');
    $$;

-- The claim now also says which workflow each command is for, so the relay can keep one
-- workflow's commands in order without reading them.
DROP FUNCTION outbox_claim(integer, integer);
CREATE FUNCTION outbox_claim(p_limit integer, p_lease_seconds integer)
    RETURNS TABLE (tenant_id uuid, id bigint, event_id uuid, envelope jsonb, workflow_command jsonb,
                   workflow_id text, published boolean, signalled boolean, attempts integer)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH picked AS (
            SELECT c.tenant_id, c.id, c.workflow_id, c.signalled_at IS NOT NULL AS signalled
              FROM outbox c
             WHERE c.done_at IS NULL
               AND c.next_attempt_at <= now()
               AND (c.lease_until IS NULL OR c.lease_until < now())
             ORDER BY c.id
             LIMIT p_limit
               FOR UPDATE SKIP LOCKED
        ), ready AS (
            SELECT p.tenant_id, p.id FROM picked p
             WHERE p.signalled
                OR p.workflow_id IS NULL
                OR NOT EXISTS (
                       SELECT 1 FROM outbox e
                        WHERE e.workflow_id = p.workflow_id
                          AND e.signalled_at IS NULL
                          AND e.workflow_id IS NOT NULL
                          AND e.id < p.id
                          AND NOT EXISTS (SELECT 1 FROM picked q
                                           WHERE q.tenant_id = e.tenant_id AND q.id = e.id))
        )
        UPDATE outbox o
        SET lease_until = now() + make_interval(secs => p_lease_seconds),
            attempts = o.attempts + 1
        FROM ready
        WHERE o.tenant_id = ready.tenant_id AND o.id = ready.id
        RETURNING o.tenant_id, o.id, o.event_id, o.envelope, o.workflow_command, o.workflow_id,
                  o.published_at IS NOT NULL, o.signalled_at IS NOT NULL, o.attempts
    $$;

-- Records the outcomes of a batch's attempts at once. A step that succeeded stays succeeded.
-- A row the relay did not attempt (an earlier command of its workflow failed in the same
-- batch) is released with its attempt given back and its last error kept.
CREATE FUNCTION outbox_record_batch(p_tenants uuid[], p_ids bigint[], p_attempted boolean[],
                                    p_published boolean[], p_signalled boolean[], p_errors text[],
                                    p_retry_seconds integer[], p_stream_entry_ids text[])
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox o
        SET published_at = CASE WHEN r.published THEN coalesce(o.published_at, now()) ELSE o.published_at END,
            signalled_at = CASE WHEN r.signalled THEN coalesce(o.signalled_at, now()) ELSE o.signalled_at END,
            stream_entry_id = coalesce(r.stream_entry_id, o.stream_entry_id),
            done_at = CASE WHEN (r.published OR o.published_at IS NOT NULL)
                            AND (r.signalled OR o.signalled_at IS NOT NULL OR o.workflow_command IS NULL)
                           THEN now() ELSE NULL END,
            last_error = CASE WHEN r.attempted THEN r.error ELSE o.last_error END,
            attempts = CASE WHEN r.attempted THEN o.attempts ELSE greatest(o.attempts - 1, 0) END,
            lease_until = NULL,
            next_attempt_at = now() + make_interval(secs => coalesce(r.retry_seconds, 0))
        FROM unnest(p_tenants, p_ids, p_attempted, p_published, p_signalled, p_errors,
                    p_retry_seconds, p_stream_entry_ids)
             AS r(tenant_id, id, attempted, published, signalled, error, retry_seconds, stream_entry_id)
        WHERE o.tenant_id = r.tenant_id AND o.id = r.id
    $$;

-- Confirms a batch's entries (`p_present`), or sends back for publishing those Redis lost.
CREATE FUNCTION outbox_verify_batch(p_tenants uuid[], p_ids bigint[], p_present boolean[])
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox o
        SET verified_at = CASE WHEN r.present THEN now() END,
            published_at = CASE WHEN r.present THEN o.published_at END,
            stream_entry_id = CASE WHEN r.present THEN o.stream_entry_id END,
            done_at = CASE WHEN r.present THEN o.done_at END,
            next_attempt_at = CASE WHEN r.present THEN o.next_attempt_at ELSE now() END
        FROM unnest(p_tenants, p_ids, p_present) AS r(tenant_id, id, present)
        WHERE o.tenant_id = r.tenant_id AND o.id = r.id AND o.verified_at IS NULL
    $$;

-- One row at a time is gone from the relay; these are replaced by the batch forms above.
DROP FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer, text);
DROP FUNCTION outbox_verify(uuid, bigint, boolean);

REVOKE ALL ON FUNCTION outbox_wake() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_wake() TO psa_app;
REVOKE ALL ON FUNCTION outbox_claim(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_claim(integer, integer) TO psa_app;
REVOKE ALL ON FUNCTION outbox_record_batch(uuid[], bigint[], boolean[], boolean[], boolean[], text[], integer[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION outbox_verify_batch(uuid[], bigint[], boolean[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_record_batch(uuid[], bigint[], boolean[], boolean[], boolean[], text[], integer[], text[]) TO psa_app;
GRANT EXECUTE ON FUNCTION outbox_verify_batch(uuid[], bigint[], boolean[]) TO psa_app;
