-- Tenancy foundation: the application role, the tenant setting, tenants, users and API keys.
--
-- The application connects as `psa_app`, which owns nothing, so row-level security always
-- applies to it. Every transaction sets `app.tenant_id`; when it is missing, `app_tenant()` is
-- NULL and every policy compares against NULL, so nothing is readable (DESIGN.md §3).

-- Roles are cluster-wide: several databases (tests, environments) share one, so creating it
-- tolerates a concurrent creator.
DO $$
BEGIN
    CREATE ROLE psa_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO psa_app;

CREATE FUNCTION app_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = app_tenant()) WITH CHECK (id = app_tenant());
GRANT SELECT ON tenants TO psa_app;

-- Clients come before users because a client-portal user belongs to one client.
CREATE TABLE clients (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE users (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    email         text NOT NULL,
    display_name  text NOT NULL,
    -- 'internal' users are MSP staff; 'client' users belong to one client (the portal).
    kind          text NOT NULL CHECK (kind IN ('internal', 'client')),
    client_id     uuid,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    CHECK ((kind = 'client') = (client_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email ON users (tenant_id, lower(email));

CREATE TABLE api_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    name          text NOT NULL,
    -- SHA-256 of the whole key. Keys are 128+ random bits, so a plain digest is enough and
    -- lets authentication be one index lookup.
    secret_hash   bytea NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('admin', 'technician', 'billing', 'client')),
    user_id       uuid,
    client_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    CHECK ((role = 'client') = (client_id IS NOT NULL))
);

-- Authentication happens before the tenant is known, so it cannot go through RLS. This one
-- function, owned by the schema owner, answers "whose key is this" and nothing else.
CREATE FUNCTION authenticate_api_key(p_secret_hash bytea)
    RETURNS TABLE (tenant_id uuid, key_id uuid, role text, user_id uuid, client_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.tenant_id, k.id, k.role, k.user_id, k.client_id
        FROM api_keys k
        WHERE k.secret_hash = p_secret_hash AND k.revoked_at IS NULL
    $$;
REVOKE ALL ON FUNCTION authenticate_api_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authenticate_api_key(bytea) TO psa_app;
