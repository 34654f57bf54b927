//! Ticket comments: public replies and internal notes.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use crate::tickets;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::events::Event;
use psa_domain::ids::new_id;
use psa_domain::ticket::validate_comment;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// A comment on a ticket, by staff or by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-3e4f-7a51-9263-748596a0b1c2",
    "ticket_id": "0190d9a0-4f50-7b62-a374-8596a0b1c2d3",
    "author_user_id": "0190d9a0-5061-7c73-b485-96a0b1c2d3e4", "author_kind": "internal",
    "is_internal": false, "body": "Replaced the toner; printing again.",
    "created_at": "2026-03-02T10:05:00Z"}))]
pub struct Comment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author_user_id: Option<Uuid>,
    /// `internal` (MSP staff) or `client`.
    pub author_kind: String,
    /// Internal notes are never shown to clients.
    pub is_internal: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(max_length = 20000)]
    pub body: String,
    #[serde(default)]
    pub is_internal: bool,
}

pub async fn add(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    ticket_id: Uuid,
    input: NewComment,
) -> Result<Comment, StoreError> {
    p.require(Permission::WriteComments)?;
    if input.is_internal {
        p.require(Permission::ReadInternalNotes)?;
    }
    crate::check(validate_comment(&input.body))?;
    let principal = p.clone();
    let req = (ticket_id, input.clone());
    create_once(pool, p, key, &req, move |conn| {
        Box::pin(insert(conn, principal, ticket_id, input))
    })
    .await
}

async fn insert(
    conn: &mut PgConnection,
    p: Principal,
    ticket_id: Uuid,
    input: NewComment,
) -> Result<Comment, StoreError> {
    tickets::load(conn, &p, ticket_id, false).await?;
    let by_internal_user = p.is_staff();
    let comment = sqlx::query_as!(
        Comment,
        "INSERT INTO ticket_comments (tenant_id, id, ticket_id, author_user_id, author_kind, is_internal, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, ticket_id, author_user_id, author_kind, is_internal, body, created_at",
        p.tenant_id,
        new_id(),
        ticket_id,
        p.user_id,
        if by_internal_user { "internal" } else { "client" },
        input.is_internal,
        &input.body,
    )
    .fetch_one(&mut *conn)
    .await?;
    let ticket = tickets::snapshot(conn, ticket_id).await?;
    outbox::enqueue(
        conn,
        &p,
        Event::CommentAdded {
            ticket,
            comment_id: comment.id,
            by_internal_user,
            is_public: !input.is_internal,
        },
    )
    .await?;
    Ok(comment)
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    ticket_id: Uuid,
    page: PageRequest,
) -> Result<Page<Comment>, StoreError> {
    p.require(Permission::ReadTickets)?;
    let mut tx = tenant::begin(pool, p).await?;
    tickets::load(&mut tx, p, ticket_id, false).await?;
    let rows = sqlx::query_as!(
        Comment,
        "SELECT id, ticket_id, author_user_id, author_kind, is_internal, body, created_at
         FROM ticket_comments
         WHERE ticket_id = $1 AND ($2::uuid IS NULL OR id > $2) AND ($3 OR NOT is_internal)
         ORDER BY id LIMIT $4",
        ticket_id,
        page.after,
        p.role.allows(Permission::ReadInternalNotes),
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    outbox::commit(tx, pool).await?;
    Ok(page.finish(rows, |c| c.id))
}
