//! Published versions: validated, immutable, numbered 1, 2, 3… per automation. A publish
//! takes the next number under the automation row's lock, so concurrent publishes never
//! share one; a rollback publishes an old version's definition again as the newest.

use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::{outbox, tenant};
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::automations::{Issue, validate};
use psa_domain::events::{AutomationPublished, Event};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub id: Uuid,
    pub automation_id: Uuid,
    pub version: i32,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    pub published_at: DateTime<Utc>,
    /// The user whose key published it, when the key acts for one.
    pub published_by: Option<Uuid>,
    /// For a rollback: the version it repeats.
    pub rolled_back_from: Option<i32>,
}

/// What a publish sends: a definition, or nothing to publish the draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// The definition to publish; the automation's draft when absent.
    #[schema(value_type = Option<Object>)]
    pub definition: Option<serde_json::Value>,
}

/// Two versions compared: the RFC 6902 JSON Patch that turns `from`'s definition into `to`'s.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionDiff {
    pub from: i32,
    pub to: i32,
    #[schema(value_type = Vec<Object>)]
    pub changes: serde_json::Value,
}

/// Why a publish was refused: every error of the definition.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the definition is not valid")]
    Invalid(Vec<Issue>),
}

impl From<sqlx::Error> for PublishError {
    fn from(e: sqlx::Error) -> Self {
        PublishError::Store(e.into())
    }
}

/// Which of `ids` have a published version in the caller's tenant.
pub(crate) async fn published(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar!(
        "SELECT id FROM automations WHERE id = ANY($1) AND latest_version > 0",
        ids
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Checks `definition` as a publish does: every error, `call` targets looked up.
pub(crate) async fn check(
    conn: &mut PgConnection,
    definition: &serde_json::Value,
) -> Result<Result<psa_domain::automations::Definition, Vec<Issue>>, StoreError> {
    let called = psa_domain::automations::validate::references(definition).calls;
    let known = published(conn, &called).await?;
    Ok(validate(definition, |id| known.contains(&id)))
}

pub async fn publish(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    input: PublishInput,
) -> Result<Version, PublishError> {
    p.require(Permission::PublishAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let draft = sqlx::query_scalar!("SELECT draft FROM automations WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let definition = input.definition.unwrap_or(draft);
    if let Err(issues) = check(&mut tx, &definition).await? {
        return Err(PublishError::Invalid(issues));
    }
    let version = insert(&mut tx, p, id, &definition, None).await?;
    outbox::commit(tx, pool).await?;
    Ok(version)
}

/// Publishes the version `version_id`'s definition again, as its automation's newest.
pub async fn rollback(
    pool: &PgPool,
    p: &Principal,
    version_id: Uuid,
) -> Result<Version, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let old = by_id(&mut tx, version_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    sqlx::query_scalar!(
        "SELECT id FROM automations WHERE id = $1 FOR UPDATE",
        old.automation_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let version = insert(
        &mut tx,
        p,
        old.automation_id,
        &old.definition,
        Some(old.version),
    )
    .await?;
    outbox::commit(tx, pool).await?;
    Ok(version)
}

/// Stores the next version under the automation row's lock (taken by the caller) and raises
/// `automation.published`.
async fn insert(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    definition: &serde_json::Value,
    rolled_back_from: Option<i32>,
) -> Result<Version, StoreError> {
    let number = sqlx::query_scalar!(
        "UPDATE automations SET latest_version = latest_version + 1, updated_at = now()
          WHERE id = $1 RETURNING latest_version",
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let version = sqlx::query_as!(
        Version,
        "INSERT INTO automation_versions
             (tenant_id, id, automation_id, version, definition, published_by, rolled_back_from)
         VALUES ($1, $7, $2, $3, $4, $5, $6)
         RETURNING id, automation_id, version, definition, published_at, published_by, rolled_back_from",
        p.tenant_id,
        id,
        number,
        definition,
        p.user_id,
        rolled_back_from,
        psa_domain::ids::new_id(),
    )
    .fetch_one(&mut *conn)
    .await?;
    let published = AutomationPublished {
        automation_id: id,
        version: u32::try_from(number).map_err(StoreError::internal)?,
    };
    outbox::enqueue(conn, p, Event::AutomationPublished(published)).await?;
    Ok(version)
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    page: PageRequest,
) -> Result<Page<Version>, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query_scalar!("SELECT id FROM automations WHERE id = $1", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    // Newest first; the cursor carries the last version number seen.
    let before = match page.after {
        None => None,
        Some(cursor) => Some(
            i32::try_from(cursor.as_u128())
                .map_err(|_| StoreError::bad_request("invalid cursor", Some("cursor")))?,
        ),
    };
    let rows = sqlx::query_as!(
        Version,
        "SELECT id, automation_id, version, definition, published_at, published_by, rolled_back_from
           FROM automation_versions
          WHERE automation_id = $1 AND ($2::integer IS NULL OR version < $2)
          ORDER BY version DESC LIMIT $3",
        id,
        before,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |v| {
        Uuid::from_u128(u128::try_from(v.version).unwrap_or_default())
    }))
}

pub async fn get(pool: &PgPool, p: &Principal, version_id: Uuid) -> Result<Version, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let found = by_id(&mut tx, version_id).await?;
    tx.commit().await?;
    found.ok_or(StoreError::NotFound)
}

async fn by_id(conn: &mut PgConnection, version_id: Uuid) -> Result<Option<Version>, StoreError> {
    Ok(sqlx::query_as!(
        Version,
        "SELECT id, automation_id, version, definition, published_at, published_by, rolled_back_from
           FROM automation_versions WHERE id = $1",
        version_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

async fn load(
    conn: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> Result<Option<Version>, StoreError> {
    Ok(sqlx::query_as!(
        Version,
        "SELECT id, automation_id, version, definition, published_at, published_by, rolled_back_from
           FROM automation_versions WHERE automation_id = $1 AND version = $2",
        id,
        version
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn diff(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    from: i32,
    to: i32,
) -> Result<VersionDiff, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let a = load(&mut tx, id, from).await?.ok_or(StoreError::NotFound)?;
    let b = load(&mut tx, id, to).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(VersionDiff {
        from,
        to,
        changes: psa_domain::automations::diff(&a.definition, &b.definition),
    })
}
