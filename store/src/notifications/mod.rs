//! In-app notifications of the calling user.

pub mod delivery;
pub mod settings;
pub mod templates;

use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// e.g. `ticket.assigned`.
    pub subtype: String,
    pub title: String,
    pub body: String,
    pub ticket_id: Option<Uuid>,
    pub event_id: Uuid,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    q: NotificationQuery,
) -> Result<Page<Notification>, StoreError> {
    let user = p.user()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Notification,
        "SELECT id, subtype_code AS subtype, title, body, ticket_id, event_id, read_at, created_at
         FROM in_app_notifications
         WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2) AND (NOT coalesce($3, false) OR read_at IS NULL)
         ORDER BY id LIMIT $4",
        user,
        page.after,
        q.unread,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |n| n.id))
}

/// Marks one of the caller's notifications read; marking it again changes nothing.
pub async fn mark_read(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Notification, StoreError> {
    let user = p.user()?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Notification,
        "UPDATE in_app_notifications SET read_at = coalesce(read_at, now())
         WHERE id = $1 AND user_id = $2
         RETURNING id, subtype_code AS subtype, title, body, ticket_id, event_id, read_at, created_at",
        id,
        user,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}
