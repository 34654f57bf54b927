-- Re-timing open tickets after an SLA configuration change, as one durable job per tenant
-- instead of one event per open ticket inside the request's transaction.
--
-- A change upserts the tenant's row and bumps its generation. A runner in the edge leases rows
-- across tenants through `sla_retime_claim`, then, in the tenant's own transactions, re-times
-- a page of open tickets at a time (one `ticket.updated` outbox row each) and moves the cursor.
-- A pass that ends with the generation it started with deletes the row; otherwise one more
-- pass follows. So a burst of changes costs at most two passes, and every pass finishes.
CREATE TABLE sla_retime_jobs (
    tenant_id     uuid PRIMARY KEY REFERENCES tenants (id),
    -- Bumped by every change.
    generation    bigint NOT NULL DEFAULT 1,
    -- The generation the running pass started at.
    pass_generation bigint NOT NULL DEFAULT 0,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    -- The API key whose change this is: the re-timing events carry it as their actor.
    requested_by  uuid NOT NULL,
    -- Last ticket re-timed in this pass (tickets are walked in ID order); NULL: from the start.
    after_ticket  uuid,
    lease_until   timestamptz,
    -- Open tickets re-timed in this pass so far.
    done          bigint NOT NULL DEFAULT 0
);

ALTER TABLE sla_retime_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sla_retime_jobs USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON sla_retime_jobs TO psa_app;

-- Leases the oldest unleased job (any tenant) for p_lease_seconds; no row when none waits.
CREATE FUNCTION sla_retime_claim(p_lease_seconds integer)
    RETURNS TABLE (tenant_id uuid, requested_by uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE sla_retime_jobs j
        SET lease_until = now() + make_interval(secs => p_lease_seconds)
        FROM (
            SELECT c.tenant_id FROM sla_retime_jobs c
            WHERE c.lease_until IS NULL OR c.lease_until < now()
            ORDER BY c.requested_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        ) picked
        WHERE j.tenant_id = picked.tenant_id
        RETURNING j.tenant_id, j.requested_by
    $$;
REVOKE ALL ON FUNCTION sla_retime_claim(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sla_retime_claim(integer) TO psa_app;
