//! Tax regions (their components: rates or brackets, simple or compound, in the engine's own
//! shape) and each client's tax settings: which region taxes it, or that it is exempt or
//! reverse-charged.

use super::fields;
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
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-5a61-7c73-b485-96a7b8c9d0e1", "name": "BC",
    "components": [{"name": "GST", "rate": "5"}, {"name": "PST", "rate": "7", "compound": false}],
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct TaxRegion {
    pub id: Uuid,
    /// Taxes are reported under this name.
    pub name: String,
    /// `[{"name", "rate"? | "brackets"?: [{"up_to", "rate"}], "compound"?: false}]`, applied
    /// in order, exactly as the invoice preview's `tax.regions` entries.
    #[schema(value_type = Vec<Object>)]
    pub components: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRegionInput {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub components: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRegionPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Replaces the components.
    #[schema(value_type = Option<Vec<Object>>)]
    pub components: Option<Value>,
}

/// How a client is taxed. A client with no region is not taxed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientTaxSettings {
    pub client_id: Uuid,
    pub region_id: Option<Uuid>,
    /// No tax at all.
    pub exempt: bool,
    /// The client accounts for the tax itself: none is charged, and the invoice says so.
    pub reverse_charge: bool,
    /// None until the settings are first saved.
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTaxSettingsInput {
    pub region_id: Option<Uuid>,
    /// Default false.
    pub exempt: Option<bool>,
    /// Default false.
    pub reverse_charge: Option<bool>,
}

fn check(name: Option<&str>, components: Option<&Value>) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, 100);
    }
    crate::check(e.into_result())?;
    if let Some(c) = components {
        fields::check_components(c)?;
    }
    Ok(())
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<TaxRegion>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        TaxRegion,
        "SELECT id, name, components, created_at, updated_at FROM tax_regions
         WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |r| r.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<TaxRegion, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = region(&mut tx, id).await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

pub(crate) async fn region(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<TaxRegion>, StoreError> {
    Ok(sqlx::query_as!(
        TaxRegion,
        "SELECT id, name, components, created_at, updated_at FROM tax_regions WHERE id = $1",
        id,
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: TaxRegionInput,
) -> Result<TaxRegion, StoreError> {
    p.require(Permission::ManageBilling)?;
    check(Some(&input.name), Some(&input.components))?;
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": "tax_regions", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as!(
                TaxRegion,
                "INSERT INTO tax_regions (tenant_id, id, name, components) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, components, created_at, updated_at",
                tenant,
                new_id(),
                input.name.trim(),
                input.components,
            )
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: TaxRegionPatch,
) -> Result<TaxRegion, StoreError> {
    p.require(Permission::ManageBilling)?;
    check(patch.name.as_deref(), patch.components.as_ref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        TaxRegion,
        "UPDATE tax_regions SET name = coalesce($2, name), components = coalesce($3, components),
                updated_at = now()
         WHERE id = $1 RETURNING id, name, components, created_at, updated_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.components,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

async fn client_exists(conn: &mut PgConnection, client: Uuid) -> Result<(), StoreError> {
    sqlx::query_scalar!("SELECT id FROM clients WHERE id = $1", client)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// A client's tax settings (the defaults when none were saved); `NotFound` for no such client.
pub(crate) async fn settings_of(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<ClientTaxSettings, StoreError> {
    client_exists(conn, client).await?;
    let saved = sqlx::query_as!(
        ClientTaxSettings,
        r#"SELECT client_id, region_id, exempt, reverse_charge, updated_at AS "updated_at?"
           FROM client_tax_settings WHERE client_id = $1"#,
        client,
    )
    .fetch_optional(conn)
    .await?;
    Ok(saved.unwrap_or(ClientTaxSettings {
        client_id: client,
        region_id: None,
        exempt: false,
        reverse_charge: false,
        updated_at: None,
    }))
}

pub async fn get_settings(
    pool: &PgPool,
    p: &Principal,
    client: Uuid,
) -> Result<ClientTaxSettings, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let out = settings_of(&mut tx, client).await?;
    tx.commit().await?;
    Ok(out)
}

/// Saves the client's tax settings whole (a field left out takes its default).
pub async fn put_settings(
    pool: &PgPool,
    p: &Principal,
    client: Uuid,
    input: ClientTaxSettingsInput,
) -> Result<ClientTaxSettings, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    client_exists(&mut tx, client).await?;
    let row = sqlx::query_as!(
        ClientTaxSettings,
        r#"INSERT INTO client_tax_settings (tenant_id, client_id, region_id, exempt, reverse_charge)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id, client_id) DO UPDATE
           SET region_id = EXCLUDED.region_id, exempt = EXCLUDED.exempt,
               reverse_charge = EXCLUDED.reverse_charge, updated_at = now()
           RETURNING client_id, region_id, exempt, reverse_charge, updated_at AS "updated_at?""#,
        p.tenant_id,
        client,
        input.region_id,
        input.exempt.unwrap_or(false),
        input.reverse_charge.unwrap_or(false),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}
