-- Ticketing: contacts, boards, priorities, statuses, tickets and comments.

CREATE TABLE contacts (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    client_id   uuid NOT NULL,
    name        text NOT NULL,
    email       text,
    phone       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id)
);
CREATE INDEX contacts_client ON contacts (tenant_id, client_id);

CREATE TABLE boards (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX boards_name ON boards (tenant_id, lower(name));

CREATE TABLE priorities (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    -- Lower rank is more urgent; lists sort by it.
    rank        integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX priorities_name ON priorities (tenant_id, lower(name));

CREATE TABLE statuses (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    is_closed   boolean NOT NULL DEFAULT false,
    pauses_sla  boolean NOT NULL DEFAULT false,
    -- The status a new ticket gets when the caller names none.
    is_default  boolean NOT NULL DEFAULT false,
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (NOT (is_closed AND is_default))
);
CREATE UNIQUE INDEX statuses_name ON statuses (tenant_id, lower(name));
CREATE UNIQUE INDEX statuses_is_default ON statuses (tenant_id) WHERE is_default;

-- Ticket numbers are per tenant and gap-free in practice; the counter row serialises creates
-- within one tenant only.
CREATE TABLE ticket_counters (
    tenant_id    uuid PRIMARY KEY REFERENCES tenants (id),
    last_number  bigint NOT NULL
);

CREATE TABLE tickets (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    number       bigint NOT NULL,
    title        text NOT NULL,
    description  text,
    client_id    uuid,
    contact_id   uuid,
    board_id     uuid NOT NULL,
    priority_id  uuid NOT NULL,
    status_id    uuid NOT NULL,
    assignee_id  uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    FOREIGN KEY (tenant_id, board_id) REFERENCES boards (tenant_id, id),
    FOREIGN KEY (tenant_id, priority_id) REFERENCES priorities (tenant_id, id),
    FOREIGN KEY (tenant_id, status_id) REFERENCES statuses (tenant_id, id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX tickets_status ON tickets (tenant_id, status_id, id);
CREATE INDEX tickets_board ON tickets (tenant_id, board_id, id);
CREATE INDEX tickets_client ON tickets (tenant_id, client_id, id);
CREATE INDEX tickets_assignee ON tickets (tenant_id, assignee_id, id);

CREATE TABLE ticket_comments (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    ticket_id       uuid NOT NULL,
    author_user_id  uuid,
    -- Who wrote it: MSP staff ('internal') or the client ('client'). SLA first response counts
    -- only public comments by internal authors.
    author_kind     text NOT NULL CHECK (author_kind IN ('internal', 'client')),
    -- Internal notes are never shown to clients.
    is_internal     boolean NOT NULL DEFAULT false,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, author_user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (tenant_id, ticket_id, id);
