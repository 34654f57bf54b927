//! What automation actions read, shaped as the action catalogue says they answer
//! (`psa_domain::automations::catalogue`): a ticket with its status's name and first reply,
//! tickets found by filters, a status by name. Writes go through the same store functions as
//! the API's.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use serde_json::{Value as Json, json};
use sqlx::PgPool;
use uuid::Uuid;

/// Most tickets `tickets.find` answers.
pub const MAX_FOUND: i64 = 1_000;

/// Filters of `tickets.find`.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub ticket_id: Option<Uuid>,
    pub status: Option<String>,
    pub client_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub updated_before: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// Tickets as actions answer them, oldest first.
pub async fn find_tickets(
    pool: &PgPool,
    p: &Principal,
    q: &TicketQuery,
) -> Result<Json, StoreError> {
    p.require(Permission::ReadTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query!(
        r#"SELECT t.id, t.number, t.title, s.name AS status, t.assignee_id, t.updated_at,
                  (SELECT min(c.created_at) FROM ticket_comments c
                    WHERE c.ticket_id = t.id AND c.author_kind = 'internal'
                      AND NOT c.is_internal) AS responded_at
             FROM tickets t JOIN statuses s ON s.tenant_id = t.tenant_id AND s.id = t.status_id
            WHERE ($1::uuid IS NULL OR t.id = $1)
              AND ($2::text IS NULL OR s.name = $2)
              AND ($3::uuid IS NULL OR t.client_id = $3)
              AND ($4::uuid IS NULL OR t.assignee_id = $4)
              AND ($5::timestamptz IS NULL OR t.updated_at < $5)
              AND ($6::uuid IS NULL OR t.client_id = $6)
            ORDER BY t.created_at, t.id LIMIT $7"#,
        q.ticket_id,
        q.status,
        q.client_id,
        q.assignee_id,
        q.updated_before,
        p.client_id,
        q.limit.clamp(1, MAX_FOUND),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let tickets: Vec<Json> = rows
        .into_iter()
        .map(|r| {
            json!({
                "ticket_id": r.id,
                "number": r.number,
                "title": r.title,
                "status": r.status,
                "assignee_id": r.assignee_id,
                "responded_at": r.responded_at,
                "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(json!({ "tickets": tickets }))
}

/// One ticket as actions answer it.
pub async fn ticket(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Json, StoreError> {
    let query = TicketQuery {
        ticket_id: Some(id),
        limit: 1,
        ..TicketQuery::default()
    };
    let found = find_tickets(pool, p, &query).await?;
    found
        .get("tickets")
        .and_then(|t| t.get(0))
        .cloned()
        .ok_or(StoreError::NotFound)
}

/// The status called `name` (exactly).
pub async fn status_named(pool: &PgPool, p: &Principal, name: &str) -> Result<Uuid, StoreError> {
    let mut tx = tenant::begin(pool, p).await?;
    let id = sqlx::query_scalar!("SELECT id FROM statuses WHERE name = $1", name)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    id.ok_or_else(|| StoreError::invalid("status", format!("there is no status named {name:?}")))
}

/// Clients whose name contains `name` (any case), by name; at most [`MAX_FOUND`].
pub async fn find_clients(
    pool: &PgPool,
    p: &Principal,
    name: Option<&str>,
) -> Result<Json, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query!(
        r#"SELECT id, name FROM clients
            WHERE ($1::text IS NULL OR strpos(lower(name), lower($1)) > 0)
              AND ($2::uuid IS NULL OR id = $2)
            ORDER BY name, id LIMIT $3"#,
        name,
        p.client_id,
        MAX_FOUND,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let clients: Vec<Json> = rows
        .into_iter()
        .map(|r| json!({ "client_id": r.id, "name": r.name }))
        .collect();
    Ok(json!({ "clients": clients }))
}

/// Contacts of a client, or with an e-mail address (any case); at most [`MAX_FOUND`].
pub async fn find_contacts(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    email: Option<&str>,
) -> Result<Json, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query!(
        r#"SELECT id, name, email FROM contacts
            WHERE ($1::uuid IS NULL OR client_id = $1)
              AND ($2::text IS NULL OR lower(email) = lower($2))
              AND ($3::uuid IS NULL OR client_id = $3)
            ORDER BY name, id LIMIT $4"#,
        client_id,
        email,
        p.client_id,
        MAX_FOUND,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let contacts: Vec<Json> = rows
        .into_iter()
        .map(|r| json!({ "contact_id": r.id, "name": r.name, "email": r.email }))
        .collect();
    Ok(json!({ "contacts": contacts }))
}
