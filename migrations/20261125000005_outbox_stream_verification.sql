-- Publishing is confirmed a little after the XADD: the relay checks that Redis still holds each
-- published entry. An entry lost with Redis data that was never persisted (a crash or restart
-- inside its fsync window, or a server without persistence) is published again, so a Redis
-- restart mid-stream loses no event.

ALTER TABLE outbox
    ADD COLUMN stream_entry_id text,
    ADD COLUMN verified_at timestamptz;
CREATE INDEX outbox_unverified ON outbox (published_at)
    WHERE verified_at IS NULL AND published_at IS NOT NULL;

DROP FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer);

-- Records the outcome of one delivery attempt. A step that succeeded stays succeeded.
CREATE FUNCTION outbox_record(p_tenant uuid, p_id bigint, p_published boolean, p_signalled boolean,
                              p_error text, p_retry_seconds integer, p_stream_entry_id text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox
        SET published_at = CASE WHEN p_published THEN coalesce(published_at, now()) ELSE published_at END,
            signalled_at = CASE WHEN p_signalled THEN coalesce(signalled_at, now()) ELSE signalled_at END,
            stream_entry_id = coalesce(p_stream_entry_id, stream_entry_id),
            done_at = CASE WHEN p_published AND (p_signalled OR workflow_command IS NULL)
                           THEN now() ELSE NULL END,
            last_error = p_error,
            lease_until = NULL,
            next_attempt_at = now() + make_interval(secs => coalesce(p_retry_seconds, 0))
        WHERE tenant_id = p_tenant AND id = p_id
    $$;

-- Published entries old enough to have been persisted by Redis, not yet confirmed.
CREATE FUNCTION outbox_unverified(p_limit integer, p_min_age_seconds integer)
    RETURNS TABLE (tenant_id uuid, id bigint, stream_entry_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT o.tenant_id, o.id, o.stream_entry_id FROM outbox o
        WHERE o.verified_at IS NULL AND o.published_at IS NOT NULL
          AND o.published_at <= now() - make_interval(secs => p_min_age_seconds)
        ORDER BY o.published_at
        LIMIT p_limit
    $$;

-- Confirms an entry (`p_present`), or sends its row back to be published again.
CREATE FUNCTION outbox_verify(p_tenant uuid, p_id bigint, p_present boolean)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox
        SET verified_at = CASE WHEN p_present THEN now() END,
            published_at = CASE WHEN p_present THEN published_at END,
            stream_entry_id = CASE WHEN p_present THEN stream_entry_id END,
            done_at = CASE WHEN p_present THEN done_at END,
            next_attempt_at = CASE WHEN p_present THEN next_attempt_at ELSE now() END
        WHERE tenant_id = p_tenant AND id = p_id AND verified_at IS NULL
    $$;

REVOKE ALL ON FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION outbox_unverified(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION outbox_verify(uuid, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION outbox_record(uuid, bigint, boolean, boolean, text, integer, text) TO psa_app;
GRANT EXECUTE ON FUNCTION outbox_unverified(integer, integer) TO psa_app;
GRANT EXECUTE ON FUNCTION outbox_verify(uuid, bigint, boolean) TO psa_app;
