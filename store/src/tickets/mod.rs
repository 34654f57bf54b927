//! Tickets: create, read, list, change, assign, close. Every change writes its event to the
//! outbox in the same transaction, which is how the ticket's workflow and subscribers hear of it.

pub mod comments;

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::events::{Event, TicketSnapshot};
use psa_domain::ids::new_id;
use psa_domain::ticket::validate_ticket_text;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A ticket: a client's request or incident, worked by the MSP under an SLA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-4f50-7b62-a374-8596a0b1c2d3", "number": 1042,
    "title": "Printer on fire", "description": "Third floor, next to the kitchen.",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "contact_id": "0190d9a0-2d3e-7f40-8152-637485960a1b",
    "board_id": "0190d9a0-6172-7d84-85a6-a0b1c2d3e4f5",
    "priority_id": "0190d9a0-7283-7e95-96b7-b1c2d3e4f506",
    "status_id": "0190d9a0-8394-7fa6-a7c8-c2d3e4f50617", "assignee_id": null,
    "awaiting_client": false, "created_at": "2026-03-02T09:30:00Z",
    "updated_at": "2026-03-02T09:30:00Z", "closed_at": null}))]
pub struct Ticket {
    pub id: Uuid,
    /// Per-tenant, human-facing number.
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    pub client_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub board_id: Uuid,
    pub priority_id: Uuid,
    pub status_id: Uuid,
    pub assignee_id: Option<Uuid>,
    /// Waiting on the client; stops the SLA clock when the tenant's SLA settings say so.
    pub awaiting_client: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A ticket to open. Only `title` is required; board, priority and status default to the
/// tenant's own defaults. A client key opens tickets for its own client only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Printer on fire", "description": "Third floor, next to the kitchen.",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "priority_id": "0190d9a0-7283-7e95-96b7-b1c2d3e4f506"}))]
pub struct NewTicket {
    #[schema(max_length = 500)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub client_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// Default: the tenant's first board.
    pub board_id: Option<Uuid>,
    /// Default: the least urgent priority.
    pub priority_id: Option<Uuid>,
    /// Default: the tenant's default status.
    pub status_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    #[schema(max_length = 500)]
    pub title: Option<String>,
    pub awaiting_client: Option<bool>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub client_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub board_id: Option<Uuid>,
    pub priority_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketFilter {
    pub status_id: Option<Uuid>,
    pub board_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub priority_id: Option<Uuid>,
    /// `true`: only open tickets; `false`: only closed ones.
    pub open: Option<bool>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// Client-portal keys see only their client's tickets; staff see the whole tenant.
fn client_scope(p: &Principal) -> Option<Uuid> {
    if p.is_staff() { None } else { p.client_id }
}

/// Loads a ticket the caller may see, locked for update when `lock`; otherwise 404.
pub(crate) async fn load(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<Ticket, StoreError> {
    let scope = client_scope(p);
    let ticket = if lock {
        sqlx::query_as!(
            Ticket,
            "SELECT id, number, title, description, client_id, contact_id, board_id, priority_id,
                    status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at
             FROM tickets WHERE id = $1 AND ($2::uuid IS NULL OR client_id = $2) FOR UPDATE",
            id,
            scope,
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            Ticket,
            "SELECT id, number, title, description, client_id, contact_id, board_id, priority_id,
                    status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at
             FROM tickets WHERE id = $1 AND ($2::uuid IS NULL OR client_id = $2)",
            id,
            scope,
        )
        .fetch_optional(conn)
        .await?
    };
    ticket.ok_or(StoreError::NotFound)
}

/// The ticket as events carry it.
pub(crate) async fn snapshot(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<TicketSnapshot, StoreError> {
    // Read as a record: the domain type stays free of sqlx.
    let row = sqlx::query!(
        "SELECT t.id AS ticket_id, t.number, t.title, t.client_id, t.board_id, t.priority_id,
                p.name AS priority_name, t.status_id, s.is_closed AS status_is_closed,
                s.pauses_sla AS status_pauses_sla, t.assignee_id
         FROM tickets t
         JOIN priorities p ON p.tenant_id = t.tenant_id AND p.id = t.priority_id
         JOIN statuses s ON s.tenant_id = t.tenant_id AND s.id = t.status_id
         WHERE t.id = $1",
        id
    )
    .fetch_one(conn)
    .await?;
    Ok(TicketSnapshot {
        ticket_id: row.ticket_id,
        number: row.number,
        title: row.title,
        client_id: row.client_id,
        board_id: row.board_id,
        priority_id: row.priority_id,
        priority_name: row.priority_name,
        status_id: row.status_id,
        status_is_closed: row.status_is_closed,
        status_pauses_sla: row.status_pauses_sla,
        assignee_id: row.assignee_id,
    })
}

pub(crate) async fn emit(
    conn: &mut PgConnection,
    p: &Principal,
    ticket_id: Uuid,
    make: impl FnOnce(TicketSnapshot) -> Event,
) -> Result<(), StoreError> {
    let snap = snapshot(conn, ticket_id).await?;
    outbox::enqueue(conn, p, make(snap)).await?;
    Ok(())
}

/// The reference a ticket gets when the caller names none.
#[derive(Debug, Clone, Copy)]
enum Fallback {
    /// The tenant's first board.
    Board,
    /// The least urgent priority.
    Priority,
    /// The default status, else the first open one.
    OpenStatus,
    /// The first closed status.
    ClosedStatus,
}

impl Fallback {
    /// The field the caller left out.
    fn field(self) -> &'static str {
        match self {
            Fallback::Board => "board_id",
            Fallback::Priority => "priority_id",
            Fallback::OpenStatus | Fallback::ClosedStatus => "status_id",
        }
    }

    async fn id(self, conn: &mut PgConnection) -> Result<Uuid, StoreError> {
        let id = match self {
            Fallback::Board => {
                sqlx::query_scalar!("SELECT id FROM boards ORDER BY id LIMIT 1")
                    .fetch_optional(conn)
                    .await?
            }
            Fallback::Priority => {
                sqlx::query_scalar!("SELECT id FROM priorities ORDER BY rank DESC, id LIMIT 1")
                    .fetch_optional(conn)
                    .await?
            }
            Fallback::OpenStatus => {
                sqlx::query_scalar!(
                    "SELECT id FROM statuses WHERE NOT is_closed
                     ORDER BY is_default DESC, position, id LIMIT 1"
                )
                .fetch_optional(conn)
                .await?
            }
            Fallback::ClosedStatus => {
                sqlx::query_scalar!(
                    "SELECT id FROM statuses WHERE is_closed ORDER BY position, id LIMIT 1"
                )
                .fetch_optional(conn)
                .await?
            }
        };
        id.ok_or_else(|| {
            StoreError::invalid(self.field(), "is required: the tenant has no default")
        })
    }
}

/// The client a contact belongs to, checked against the ticket's client. A client-portal
/// key sees only its own client's contacts: any other contact is answered exactly as one that
/// does not exist, so the answer tells nothing about other clients.
async fn reconcile_contact(
    conn: &mut PgConnection,
    p: &Principal,
    client_id: Option<Uuid>,
    contact_id: Option<Uuid>,
) -> Result<Option<Uuid>, StoreError> {
    let Some(contact) = contact_id else {
        return Ok(client_id);
    };
    let owner = sqlx::query_scalar!(
        "SELECT client_id FROM contacts WHERE id = $1 AND ($2::uuid IS NULL OR client_id = $2)",
        contact,
        client_scope(p),
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::invalid("contact_id", "does not refer to an existing record"))?;
    match client_id {
        Some(c) if c != owner => Err(StoreError::invalid(
            "contact_id",
            "belongs to another client",
        )),
        _ => Ok(Some(owner)),
    }
}

/// Internal users only: client-portal users cannot be assigned work.
async fn check_assignee(conn: &mut PgConnection, assignee: Option<Uuid>) -> Result<(), StoreError> {
    let Some(a) = assignee else { return Ok(()) };
    let kind = sqlx::query_scalar!("SELECT kind FROM users WHERE id = $1 AND active", a)
        .fetch_optional(conn)
        .await?;
    match kind.as_deref() {
        Some("internal") => Ok(()),
        _ => Err(StoreError::invalid(
            "assignee_id",
            "must be an active MSP user",
        )),
    }
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    mut input: NewTicket,
) -> Result<Ticket, StoreError> {
    p.require(Permission::WriteTickets)?;
    if !p.is_staff() {
        if input.board_id.is_some()
            || input.priority_id.is_some()
            || input.status_id.is_some()
            || input.assignee_id.is_some()
        {
            p.require(Permission::ManageTickets)?;
        }
        if input.client_id.is_some_and(|c| Some(c) != p.client_id) {
            return Err(StoreError::invalid("client_id", "must be your own client"));
        }
        input.client_id = p.client_id;
    }
    crate::check(validate_ticket_text(
        Some(&input.title),
        input.description.as_deref(),
    ))?;
    let (principal, req) = (p.clone(), input.clone());
    create_once(pool, p, key, &req, move |conn| {
        Box::pin(insert(conn, principal, input))
    })
    .await
}

async fn insert(
    conn: &mut PgConnection,
    p: Principal,
    input: NewTicket,
) -> Result<Ticket, StoreError> {
    let client_id = reconcile_contact(conn, &p, input.client_id, input.contact_id).await?;
    check_assignee(conn, input.assignee_id).await?;
    // One statement, since every create runs it: the defaults the caller left out (as
    // `Fallback` picks them), the number, the row, and what the creation event says of it.
    // The number comes from the tenant's sequence, not a counter row: nothing is held to the
    // commit, so one tenant's creates run side by side. A rolled-back create leaves a gap in
    // the numbers. A missing default inserts nothing.
    let row = sqlx::query!(
        r#"WITH d AS (
             SELECT coalesce($7::uuid, (SELECT id FROM boards ORDER BY id LIMIT 1)) AS board_id,
                    coalesce($8::uuid, (SELECT id FROM priorities ORDER BY rank DESC, id LIMIT 1))
                        AS priority_id,
                    coalesce($9::uuid, (SELECT id FROM statuses WHERE NOT is_closed
                                         ORDER BY is_default DESC, position, id LIMIT 1)) AS status_id
           ), t AS (
             INSERT INTO tickets (tenant_id, id, number, title, description, client_id, contact_id,
                                  board_id, priority_id, status_id, assignee_id, closed_at)
             SELECT $1, $2, ticket_number_next(), $3, $4, $5, $6, d.board_id, d.priority_id,
                    d.status_id, $10,
                    CASE WHEN (SELECT is_closed FROM statuses WHERE id = d.status_id) THEN now() END
               FROM d
              WHERE d.board_id IS NOT NULL AND d.priority_id IS NOT NULL AND d.status_id IS NOT NULL
             RETURNING id, number, title, description, client_id, contact_id, board_id, priority_id,
                       status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at,
                       tenant_id
           )
           SELECT t.id AS "id!", t.number AS "number!", t.title AS "title!", t.description,
                  t.client_id, t.contact_id, t.board_id AS "board_id!",
                  t.priority_id AS "priority_id!", t.status_id AS "status_id!", t.assignee_id,
                  t.awaiting_client AS "awaiting_client!", t.created_at AS "created_at!",
                  t.updated_at AS "updated_at!", t.closed_at,
                  p.name AS "priority_name!", s.is_closed AS "status_is_closed!",
                  s.pauses_sla AS "status_pauses_sla!"
             FROM t
             JOIN priorities p ON p.tenant_id = t.tenant_id AND p.id = t.priority_id
             JOIN statuses s ON s.tenant_id = t.tenant_id AND s.id = t.status_id"#,
        p.tenant_id,
        new_id(),
        input.title.trim(),
        input.description,
        client_id,
        input.contact_id,
        input.board_id,
        input.priority_id,
        input.status_id,
        input.assignee_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(missing_default(conn, &input).await);
    };
    let snapshot = TicketSnapshot {
        ticket_id: row.id,
        number: row.number,
        title: row.title.clone(),
        client_id: row.client_id,
        board_id: row.board_id,
        priority_id: row.priority_id,
        priority_name: row.priority_name,
        status_id: row.status_id,
        status_is_closed: row.status_is_closed,
        status_pauses_sla: row.status_pauses_sla,
        assignee_id: row.assignee_id,
    };
    outbox::enqueue(conn, &p, Event::TicketCreated { ticket: snapshot }).await?;
    Ok(Ticket {
        id: row.id,
        number: row.number,
        title: row.title,
        description: row.description,
        client_id: row.client_id,
        contact_id: row.contact_id,
        board_id: row.board_id,
        priority_id: row.priority_id,
        status_id: row.status_id,
        assignee_id: row.assignee_id,
        awaiting_client: row.awaiting_client,
        created_at: row.created_at,
        updated_at: row.updated_at,
        closed_at: row.closed_at,
    })
}

/// Why a create inserted nothing: the default it needed and the tenant does not have.
async fn missing_default(conn: &mut PgConnection, input: &NewTicket) -> StoreError {
    let needed = [
        (input.board_id, Fallback::Board),
        (input.priority_id, Fallback::Priority),
        (input.status_id, Fallback::OpenStatus),
    ];
    for fallback in needed
        .into_iter()
        .filter_map(|(given, fallback)| given.is_none().then_some(fallback))
    {
        if let Err(e) = fallback.id(conn).await {
            return e;
        }
    }
    // The default was added between the two reads.
    StoreError::Busy("the tenant's defaults changed during the request; try again")
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Ticket, StoreError> {
    p.require(Permission::ReadTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    let t = load(&mut tx, p, id, false).await?;
    tx.commit().await?;
    Ok(t)
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    f: TicketFilter,
) -> Result<Page<Ticket>, StoreError> {
    p.require(Permission::ReadTickets)?;
    let page = PageRequest::parse(f.limit, f.cursor.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Ticket,
        "SELECT id, number, title, description, client_id, contact_id, board_id, priority_id,
                status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at
         FROM tickets
         WHERE ($1::uuid IS NULL OR id > $1)
           AND ($2::uuid IS NULL OR status_id = $2)
           AND ($3::uuid IS NULL OR board_id = $3)
           AND ($4::uuid IS NULL OR client_id = $4)
           AND ($5::uuid IS NULL OR assignee_id = $5)
           AND ($6::uuid IS NULL OR priority_id = $6)
           AND ($7::bool IS NULL OR (closed_at IS NULL) = $7)
           AND ($8::uuid IS NULL OR client_id = $8)
         ORDER BY id LIMIT $9",
        page.after,
        f.status_id,
        f.board_id,
        f.client_id,
        f.assignee_id,
        f.priority_id,
        f.open,
        client_scope(p),
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |t| t.id))
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: TicketPatch,
) -> Result<Ticket, StoreError> {
    p.require(Permission::WriteTickets)?;
    // Waiting on the client pauses the MSP's SLA clock: only staff may say so.
    if patch.board_id.is_some()
        || patch.priority_id.is_some()
        || patch.client_id.is_some()
        || patch.contact_id.is_some()
        || patch.awaiting_client.is_some()
    {
        p.require(Permission::ManageTickets)?;
    }
    crate::check(validate_ticket_text(
        patch.title.as_deref(),
        patch.description.as_deref(),
    ))?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = load(&mut tx, p, id, true).await?;
    let client_id = match (patch.client_id, patch.contact_id) {
        (None, None) => current.client_id,
        (c, contact) => {
            reconcile_contact(
                &mut tx,
                p,
                c.or(current.client_id),
                contact.or(current.contact_id),
            )
            .await?
        }
    };
    let updated = sqlx::query_as!(
        Ticket,
        "UPDATE tickets SET title = coalesce($2, title), description = coalesce($3, description),
                client_id = $4, contact_id = coalesce($5, contact_id), board_id = coalesce($6, board_id),
                priority_id = coalesce($7, priority_id),
                awaiting_client = coalesce($8, awaiting_client), updated_at = now()
         WHERE id = $1
         RETURNING id, number, title, description, client_id, contact_id, board_id, priority_id,
                   status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at",
        id,
        patch.title.as_deref().map(str::trim),
        patch.description,
        client_id,
        patch.contact_id,
        patch.board_id,
        patch.priority_id,
        patch.awaiting_client,
    )
    .fetch_one(&mut *tx)
    .await?;
    let changed = changed_fields(&current, &updated);
    if !changed.is_empty() {
        emit(&mut tx, p, id, |ticket| Event::TicketUpdated {
            ticket,
            changed,
        })
        .await?;
    }
    outbox::commit(tx, pool).await?;
    Ok(updated)
}

fn changed_fields(before: &Ticket, after: &Ticket) -> Vec<String> {
    let mut changed = Vec::new();
    let mut diff = |name: &str, differs: bool| {
        if differs {
            changed.push(name.to_owned());
        }
    };
    diff("title", before.title != after.title);
    diff("description", before.description != after.description);
    diff("client_id", before.client_id != after.client_id);
    diff("contact_id", before.contact_id != after.contact_id);
    diff("board_id", before.board_id != after.board_id);
    diff("priority_id", before.priority_id != after.priority_id);
    diff(
        "awaiting_client",
        before.awaiting_client != after.awaiting_client,
    );
    changed
}

/// Moves the ticket to `status_id`; entering a closed status closes it, leaving one reopens it.
pub async fn change_status(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    status_id: Uuid,
) -> Result<Ticket, StoreError> {
    p.require(Permission::ManageTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    let t = set_status(&mut tx, p, id, status_id).await?;
    outbox::commit(tx, pool).await?;
    Ok(t)
}

async fn set_status(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    status_id: Uuid,
) -> Result<Ticket, StoreError> {
    let current = load(conn, p, id, true).await?;
    let is_closed = sqlx::query_scalar!("SELECT is_closed FROM statuses WHERE id = $1", status_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::invalid("status_id", "does not refer to an existing record"))?;
    if current.status_id == status_id {
        return Ok(current);
    }
    let updated = sqlx::query_as!(
        Ticket,
        "UPDATE tickets SET status_id = $2, updated_at = now(),
                closed_at = CASE WHEN $3 THEN coalesce(closed_at, now()) END
         WHERE id = $1
         RETURNING id, number, title, description, client_id, contact_id, board_id, priority_id,
                   status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at",
        id,
        status_id,
        is_closed,
    )
    .fetch_one(&mut *conn)
    .await?;
    let from_status_id = current.status_id;
    emit(conn, p, id, |ticket| Event::TicketStatusChanged {
        ticket,
        from_status_id,
    })
    .await?;
    if is_closed && current.closed_at.is_none() {
        emit(conn, p, id, |ticket| Event::TicketClosed { ticket }).await?;
    }
    Ok(updated)
}

/// Assigns the ticket to an MSP user, or unassigns it with `None`.
pub async fn assign(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    assignee_id: Option<Uuid>,
) -> Result<Ticket, StoreError> {
    p.require(Permission::ManageTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = load(&mut tx, p, id, true).await?;
    check_assignee(&mut tx, assignee_id).await?;
    if current.assignee_id == assignee_id {
        tx.commit().await?;
        return Ok(current);
    }
    let updated = sqlx::query_as!(
        Ticket,
        "UPDATE tickets SET assignee_id = $2, updated_at = now() WHERE id = $1
         RETURNING id, number, title, description, client_id, contact_id, board_id, priority_id,
                   status_id, assignee_id, awaiting_client, created_at, updated_at, closed_at",
        id,
        assignee_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let from_assignee_id = current.assignee_id;
    emit(&mut tx, p, id, |ticket| Event::TicketAssigned {
        ticket,
        from_assignee_id,
    })
    .await?;
    outbox::commit(tx, pool).await?;
    Ok(updated)
}

/// Closes the ticket with `status_id` (a closed status) or the tenant's first closed status.
/// Closing a closed ticket changes nothing.
pub async fn close(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    status_id: Option<Uuid>,
) -> Result<Ticket, StoreError> {
    p.require(Permission::ManageTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = load(&mut tx, p, id, true).await?;
    let status_id = match status_id {
        Some(s) => {
            let closed = sqlx::query_scalar!("SELECT is_closed FROM statuses WHERE id = $1", s)
                .fetch_optional(&mut *tx)
                .await?;
            match closed {
                Some(true) => s,
                Some(false) => {
                    return Err(StoreError::invalid("status_id", "is not a closed status"));
                }
                None => {
                    return Err(StoreError::invalid(
                        "status_id",
                        "does not refer to an existing record",
                    ));
                }
            }
        }
        None => Fallback::ClosedStatus.id(&mut tx).await?,
    };
    let t = if current.closed_at.is_some() {
        current
    } else {
        set_status(&mut tx, p, id, status_id).await?
    };
    outbox::commit(tx, pool).await?;
    Ok(t)
}
