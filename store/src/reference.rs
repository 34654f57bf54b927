//! Boards, priorities, statuses and users: the reference data tickets point at.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::rows::{DefaultTable, HasId, get, has_id, list};
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::ticket::NAME_MAX;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

fn check_name(name: Option<&str>) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, NAME_MAX);
    }
    crate::check(e.into_result())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Board {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardInput {
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Priority {
    pub id: Uuid,
    pub name: String,
    /// Lower is more urgent.
    pub rank: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub rank: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub rank: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Status {
    pub id: Uuid,
    pub name: String,
    pub is_closed: bool,
    /// The SLA clock stops while a ticket is in this status.
    pub pauses_sla: bool,
    /// New tickets get this status when the caller names none.
    pub is_default: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub is_closed: bool,
    #[serde(default)]
    pub pauses_sla: bool,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub is_closed: Option<bool>,
    pub pauses_sla: Option<bool>,
    pub is_default: Option<bool>,
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// `internal` (MSP staff) or `client` (portal user).
    pub kind: String,
    pub client_id: Option<Uuid>,
    pub active: bool,
}

has_id!(Board, Priority, Status, User);

pub async fn list_boards(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Board>, StoreError> {
    list(pool, p, page, |c| {
        Box::pin(
            sqlx::query_as!(
                Board,
                "SELECT id, name, created_at FROM boards
                 WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
                page.after,
                page.fetch(),
            )
            .fetch_all(c),
        )
    })
    .await
}

pub async fn get_board(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Board, StoreError> {
    get(pool, p, |c| {
        Box::pin(
            sqlx::query_as!(
                Board,
                "SELECT id, name, created_at FROM boards WHERE id = $1",
                id
            )
            .fetch_optional(c),
        )
    })
    .await
}

pub async fn create_board(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: BoardInput,
) -> Result<Board, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(Some(&input.name))?;
    let tenant = p.tenant_id;
    // The fingerprint names the table, so one key cannot replay a board as a client.
    let request = serde_json::json!({ "table": "boards", "name": input.name });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as!(
                Board,
                "INSERT INTO boards (tenant_id, id, name) VALUES ($1, $2, $3)
                 RETURNING id, name, created_at",
                tenant,
                new_id(),
                input.name.trim(),
            )
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

pub async fn update_board(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: BoardPatch,
) -> Result<Board, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(patch.name.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Board,
        "UPDATE boards SET name = coalesce($2, name) WHERE id = $1 RETURNING id, name, created_at",
        id,
        patch.name.as_deref().map(str::trim),
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn list_priorities(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Priority>, StoreError> {
    list(pool, p, page, |c| {
        Box::pin(
            sqlx::query_as!(
                Priority,
                "SELECT id, name, rank, created_at FROM priorities
                 WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
                page.after,
                page.fetch(),
            )
            .fetch_all(c),
        )
    })
    .await
}

pub async fn get_priority(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Priority, StoreError> {
    get(pool, p, |c| {
        Box::pin(
            sqlx::query_as!(
                Priority,
                "SELECT id, name, rank, created_at FROM priorities WHERE id = $1",
                id
            )
            .fetch_optional(c),
        )
    })
    .await
}

pub async fn create_priority(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: PriorityInput,
) -> Result<Priority, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(Some(&input.name))?;
    let (tenant, req) = (p.tenant_id, input.clone());
    create_once(pool, p, key, &req, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as!(
                Priority,
                "INSERT INTO priorities (tenant_id, id, name, rank) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, rank, created_at",
                tenant,
                new_id(),
                input.name.trim(),
                input.rank,
            )
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

pub async fn update_priority(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: PriorityPatch,
) -> Result<Priority, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(patch.name.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Priority,
        "UPDATE priorities SET name = coalesce($2, name), rank = coalesce($3, rank) WHERE id = $1
         RETURNING id, name, rank, created_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.rank,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn list_statuses(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Status>, StoreError> {
    list(pool, p, page, |c| {
        Box::pin(
            sqlx::query_as!(
                Status,
                "SELECT id, name, is_closed, pauses_sla, is_default, position, created_at
                 FROM statuses WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
                page.after,
                page.fetch(),
            )
            .fetch_all(c),
        )
    })
    .await
}

pub async fn get_status(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Status, StoreError> {
    get(pool, p, |c| {
        Box::pin(
            sqlx::query_as!(
                Status,
                "SELECT id, name, is_closed, pauses_sla, is_default, position, created_at
                 FROM statuses WHERE id = $1",
                id
            )
            .fetch_optional(c),
        )
    })
    .await
}

fn check_status_flags(is_closed: bool, is_default: bool) -> Result<(), StoreError> {
    if is_closed && is_default {
        return Err(StoreError::invalid(
            "is_default",
            "a closed status cannot be the default",
        ));
    }
    Ok(())
}

pub async fn create_status(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: StatusInput,
) -> Result<Status, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(Some(&input.name))?;
    check_status_flags(input.is_closed, input.is_default)?;
    let (tenant, req) = (p.tenant_id, input.clone());
    create_once(pool, p, key, &req, move |conn| {
        Box::pin(async move {
            let id = new_id();
            if input.is_default {
                DefaultTable::Statuses.take(&mut *conn, id).await?;
            }
            Ok(sqlx::query_as!(
                Status,
                "INSERT INTO statuses (tenant_id, id, name, is_closed, pauses_sla, is_default, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 RETURNING id, name, is_closed, pauses_sla, is_default, position, created_at",
                tenant,
                id,
                input.name.trim(),
                input.is_closed,
                input.pauses_sla,
                input.is_default,
                input.position,
            )
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

pub async fn update_status(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: StatusPatch,
) -> Result<Status, StoreError> {
    p.require(Permission::WriteReference)?;
    check_name(patch.name.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = sqlx::query_as!(
        Status,
        "SELECT id, name, is_closed, pauses_sla, is_default, position, created_at
         FROM statuses WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let is_closed = patch.is_closed.unwrap_or(current.is_closed);
    let is_default = patch.is_default.unwrap_or(current.is_default);
    check_status_flags(is_closed, is_default)?;
    if is_default && !current.is_default {
        DefaultTable::Statuses.take(&mut tx, id).await?;
    }
    let row = sqlx::query_as!(
        Status,
        "UPDATE statuses SET name = coalesce($2, name), is_closed = $3,
                pauses_sla = coalesce($4, pauses_sla), is_default = $5,
                position = coalesce($6, position)
         WHERE id = $1
         RETURNING id, name, is_closed, pauses_sla, is_default, position, created_at",
        id,
        patch.name.as_deref().map(str::trim),
        is_closed,
        patch.pauses_sla,
        is_default,
        patch.position,
    )
    .fetch_one(&mut *tx)
    .await?;
    if row.pauses_sla != current.pauses_sla {
        // Tickets in this status start or stop their SLA clocks.
        crate::sla::resignal_open_tickets(&mut tx, p).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn list_users(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<User>, StoreError> {
    list(pool, p, page, |c| {
        Box::pin(
            sqlx::query_as!(
                User,
                "SELECT id, email, display_name, kind, client_id, active FROM users
                 WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
                page.after,
                page.fetch(),
            )
            .fetch_all(c),
        )
    })
    .await
}
