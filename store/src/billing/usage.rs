//! Metered usage (GB backed up, devices managed) posted by meters. Each reading carries the
//! meter's own `external_id`: a meter that retries a post after a lost answer gets the reading
//! it already made, never a second one, and a different reading under a used id is refused.

use super::fields;
use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::validation::{self, ValidationErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-7c83-7e95-d6a7-b8c9d0e1f203",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "service_id": "0190d9a0-3e4f-7a51-9263-748596a0b1c2", "quantity": "120.5",
    "occurred_at": "2026-01-31T23:00:00Z", "external_id": "meter-7/2026-01-31",
    "invoice_item_id": null, "created_at": "2026-03-02T09:30:00Z"}))]
pub struct UsageRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub service_id: Uuid,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub occurred_at: DateTime<Utc>,
    /// The meter's own name for this reading.
    pub external_id: String,
    /// The invoice item that billed it, once invoiced.
    pub invoice_item_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageInput {
    pub client_id: Uuid,
    pub service_id: Uuid,
    /// A non-negative decimal string, at most 6 decimals.
    #[schema(example = "120.5", max_length = 40)]
    pub quantity: String,
    pub occurred_at: DateTime<Utc>,
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: String,
}

/// Records a reading once per `external_id`: the first post creates it (`true`); a repeat of
/// the same reading answers the stored one (`false`); a different reading under the same id
/// is a conflict on `external_id`.
pub async fn record(
    pool: &PgPool,
    p: &Principal,
    input: UsageInput,
) -> Result<(UsageRecord, bool), StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    let quantity = fields::rate(&mut e, "quantity", &input.quantity);
    validation::token(&mut e, "external_id", &input.external_id, 200);
    crate::check(e.into_result())?;
    let quantity = quantity.ok_or_else(|| StoreError::invalid("quantity", "is required"))?;
    let mut tx = tenant::begin(pool, p).await?;
    let inserted = sqlx::query_as!(
        UsageRecord,
        "INSERT INTO usage_records (tenant_id, id, client_id, service_id, quantity, occurred_at,
             external_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, external_id) DO NOTHING
         RETURNING id, client_id, service_id, quantity, occurred_at, external_id, invoice_item_id,
                   created_at",
        p.tenant_id,
        new_id(),
        input.client_id,
        input.service_id,
        quantity,
        input.occurred_at,
        input.external_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = inserted {
        tx.commit().await?;
        return Ok((r, true));
    }
    let first = sqlx::query_as!(
        UsageRecord,
        "SELECT id, client_id, service_id, quantity, occurred_at, external_id, invoice_item_id,
                created_at
         FROM usage_records WHERE external_id = $1",
        input.external_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let same = first.client_id == input.client_id
        && first.service_id == input.service_id
        && first.quantity == quantity
        && first.occurred_at == input.occurred_at;
    if !same {
        return Err(StoreError::Conflict {
            detail: format!(
                "usage {} was already recorded under this external_id with other values",
                first.id
            ),
            field: Some("external_id".into()),
        });
    }
    Ok((first, false))
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    service_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<UsageRecord>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        UsageRecord,
        "SELECT id, client_id, service_id, quantity, occurred_at, external_id, invoice_item_id,
                created_at
         FROM usage_records
         WHERE ($1::uuid IS NULL OR id > $1) AND ($2::uuid IS NULL OR client_id = $2)
           AND ($3::uuid IS NULL OR service_id = $3)
         ORDER BY id LIMIT $4",
        page.after,
        client_id,
        service_id,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |u| u.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<UsageRecord, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        UsageRecord,
        "SELECT id, client_id, service_id, quantity, occurred_at, external_id, invoice_item_id,
                created_at
         FROM usage_records WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

/// A client's uninvoiced usage that occurred on a day in `[from, to)` (UTC), oldest first.
pub(crate) async fn unbilled(
    conn: &mut PgConnection,
    client: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<UsageRecord>, StoreError> {
    Ok(sqlx::query_as!(
        UsageRecord,
        "SELECT id, client_id, service_id, quantity, occurred_at, external_id, invoice_item_id,
                created_at
         FROM usage_records
         WHERE client_id = $1 AND invoice_item_id IS NULL
           AND occurred_at >= $2::date::timestamp AT TIME ZONE 'UTC'
           AND occurred_at < $3::date::timestamp AT TIME ZONE 'UTC'
         ORDER BY occurred_at, id",
        client,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}
