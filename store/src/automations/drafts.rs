//! An automation's row: its name, the draft being edited, whether new runs may start, and
//! the number of its newest version.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest name.
const NAME_MAX: usize = 200;
/// Largest draft, as JSON.
pub const DRAFT_MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Automation {
    pub id: Uuid,
    pub name: String,
    /// The definition being edited (checked only when published).
    #[schema(value_type = Object)]
    pub draft: serde_json::Value,
    /// The newest version, which new runs take; absent before the first publish.
    pub latest_version: Option<i32>,
    /// Whether new runs start (of the newest version).
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationInput {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// A definition to start from (any object; checked when published).
    #[schema(value_type = Option<Object>)]
    pub draft: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Replaces the draft.
    #[schema(value_type = Option<Object>)]
    pub draft: Option<serde_json::Value>,
}

pub(crate) struct Row {
    pub id: Uuid,
    pub name: String,
    pub draft: serde_json::Value,
    pub latest_version: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Row> for Automation {
    fn from(r: Row) -> Self {
        Automation {
            id: r.id,
            name: r.name,
            draft: r.draft,
            latest_version: (r.latest_version > 0).then_some(r.latest_version),
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn check(name: Option<&str>, draft: Option<&serde_json::Value>) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, NAME_MAX);
    }
    if let Some(d) = draft {
        if !d.is_object() {
            e.push("draft", "must be an object (a definition being edited)");
        } else if serde_json::to_vec(d).map_or(usize::MAX, |v| v.len()) > DRAFT_MAX_BYTES {
            e.push(
                "draft",
                format!("must be at most {DRAFT_MAX_BYTES} bytes of JSON"),
            );
        } else if d.to_string().contains("\\u0000") {
            e.push("draft", "must not contain a NUL character");
        }
    }
    crate::check(e.into_result())
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: AutomationInput,
) -> Result<Automation, StoreError> {
    p.require(Permission::PublishAutomations)?;
    check(Some(&input.name), input.draft.as_ref())?;
    let tenant = p.tenant_id;
    // The key that makes an automation is the one its runs act as.
    let owner = p.key_id;
    let request = serde_json::json!({ "table": "automations", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let row = sqlx::query_as!(
                Row,
                "INSERT INTO automations (tenant_id, id, name, draft, owner_key_id)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING id, name, draft, latest_version, enabled, created_at, updated_at",
                tenant,
                new_id(),
                input.name.trim(),
                input.draft.unwrap_or_else(|| serde_json::json!({})),
                owner,
            )
            .fetch_one(conn)
            .await?;
            Ok(Automation::from(row))
        })
    })
    .await
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Automation>, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, name, draft, latest_version, enabled, created_at, updated_at
           FROM automations WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows.into_iter().map(Automation::from).collect(), |a| a.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Automation, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        "SELECT id, name, draft, latest_version, enabled, created_at, updated_at
           FROM automations WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(Automation::from).ok_or(StoreError::NotFound)
}

/// Renames the automation or replaces its draft; published versions are untouched.
pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: AutomationPatch,
) -> Result<Automation, StoreError> {
    p.require(Permission::PublishAutomations)?;
    check(patch.name.as_deref(), patch.draft.as_ref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        "UPDATE automations
            SET name = coalesce($2, name), draft = coalesce($3, draft), updated_at = now()
          WHERE id = $1
          RETURNING id, name, draft, latest_version, enabled, created_at, updated_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.draft,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(row.into())
}

/// Lets new runs start (of the newest version), or stops them; runs already going finish on
/// the version they began with.
pub async fn set_enabled(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    enabled: bool,
) -> Result<Automation, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = sqlx::query_scalar!(
        "SELECT latest_version FROM automations WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if enabled && current == 0 {
        return Err(StoreError::WrongState(
            "the automation has no published version to run; publish one first".into(),
        ));
    }
    let row = sqlx::query_as!(
        Row,
        "UPDATE automations SET enabled = $2, updated_at = now() WHERE id = $1
          RETURNING id, name, draft, latest_version, enabled, created_at, updated_at",
        id,
        enabled,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.into())
}
