-- Ticket numbers come from one sequence per tenant instead of a counter row. The counter row was
-- locked by the first ticket insert of a transaction and held to its commit, so one tenant's
-- creates queued behind each other. `nextval` holds nothing: creates run side by side.
--
-- The price is gaps: a create that rolls back (or a server crash) spends its number, so numbers
-- are unique and increasing but not gap-free. Ticket numbers are references people quote, not
-- an audit sequence; nothing counts on their being contiguous.

-- The sequence of `p_tenant`: `ticket_numbers_` and the tenant ID's 32 hex digits.
CREATE FUNCTION ticket_number_sequence(p_tenant uuid) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 'ticket_numbers_' || replace(p_tenant::text, '-', '') $$;

-- The next number of the transaction's tenant (`app.tenant_id`): one tenant's transaction can
-- draw only its own numbers.
CREATE FUNCTION ticket_number_next() RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT nextval(format('public.%I',
                              ticket_number_sequence(current_setting('app.tenant_id')::uuid))::regclass)
    $$;

-- Each tenant gets its sequence when it is created.
CREATE FUNCTION tenants_create_ticket_number_sequence() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    BEGIN
        EXECUTE format('CREATE SEQUENCE public.%I AS bigint MINVALUE 1',
                       ticket_number_sequence(NEW.id));
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tenants_ticket_number_sequence AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_create_ticket_number_sequence();

-- Existing tenants go on after the highest number they have handed out.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tn.id,
               greatest(coalesce((SELECT c.last_number FROM ticket_counters c WHERE c.tenant_id = tn.id), 0),
                        coalesce((SELECT max(k.number) FROM tickets k WHERE k.tenant_id = tn.id), 0)) + 1
                   AS next_number
          FROM tenants tn
    LOOP
        EXECUTE format('CREATE SEQUENCE public.%I AS bigint MINVALUE 1 START %s',
                       ticket_number_sequence(t.id), t.next_number);
    END LOOP;
END
$$;

DROP TABLE ticket_counters;

REVOKE ALL ON FUNCTION ticket_number_next() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenants_create_ticket_number_sequence() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ticket_number_next() TO psa_app;
