//! The service catalogue: what the MSP sells (an hour of support, a managed device, a GB of
//! backup), its unit, whether it is taxed, and its default price per currency. Contract lines
//! name a service to say which time entries and usage they bill, and take its price when they
//! set none of their own.

use super::fields;
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::ticket::NAME_MAX;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::types::Json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// At most this many currencies priced per service.
const MAX_RATES: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "name": "Remote support",
    "unit": "hour", "description": null, "taxable": true, "rates": {"USD": "150.00"},
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    /// What one unit is: "hour", "device", "GB".
    pub unit: String,
    pub description: Option<String>,
    /// Whether lines of this service are taxed (with the client's tax region).
    pub taxable: bool,
    /// Default price per unit by ISO 4217 currency, as decimal strings.
    pub rates: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 50)]
    pub unit: String,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Default true.
    pub taxable: Option<bool>,
    /// `{"USD": "150.00"}`: decimal strings, at most 6 decimals.
    pub rates: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    pub taxable: Option<bool>,
    /// Replaces every rate.
    pub rates: Option<BTreeMap<String, String>>,
}

struct Row {
    id: Uuid,
    name: String,
    unit: String,
    description: Option<String>,
    taxable: bool,
    rates: Json<BTreeMap<String, String>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Service {
    fn from(r: Row) -> Self {
        Service {
            id: r.id,
            name: r.name,
            unit: r.unit,
            description: r.description,
            taxable: r.taxable,
            rates: r.rates.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn check(
    name: Option<&str>,
    unit: Option<&str>,
    description: Option<&str>,
    rates: Option<&BTreeMap<String, String>>,
) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, NAME_MAX);
    }
    if let Some(u) = unit {
        validation::text(&mut e, "unit", u, 50);
    }
    validation::optional_text(&mut e, "description", description, 4000);
    if let Some(rates) = rates {
        if rates.len() > MAX_RATES {
            e.push("rates", format!("may price at most {MAX_RATES} currencies"));
        }
        for (code, rate) in rates {
            let field = format!("rates.{code}");
            fields::currency(&mut e, &field, code);
            fields::rate(&mut e, &field, rate);
        }
    }
    crate::check(e.into_result())
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Service>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, name, unit, description, taxable,
                  rates AS "rates: Json<BTreeMap<String, String>>", created_at, updated_at
           FROM services WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2"#,
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows.into_iter().map(Service::from).collect(), |s| s.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Service, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, name, unit, description, taxable,
                  rates AS "rates: Json<BTreeMap<String, String>>", created_at, updated_at
           FROM services WHERE id = $1"#,
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(Service::from).ok_or(StoreError::NotFound)
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ServiceInput,
) -> Result<Service, StoreError> {
    p.require(Permission::ManageBilling)?;
    check(
        Some(&input.name),
        Some(&input.unit),
        input.description.as_deref(),
        input.rates.as_ref(),
    )?;
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": "services", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let row = sqlx::query_as!(
                Row,
                r#"INSERT INTO services (tenant_id, id, name, unit, description, taxable, rates)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   RETURNING id, name, unit, description, taxable,
                             rates AS "rates: Json<BTreeMap<String, String>>", created_at, updated_at"#,
                tenant,
                new_id(),
                input.name.trim(),
                input.unit.trim(),
                input.description,
                input.taxable.unwrap_or(true),
                Json(input.rates.unwrap_or_default()) as _,
            )
            .fetch_one(conn)
            .await?;
            Ok(Service::from(row))
        })
    })
    .await
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: ServicePatch,
) -> Result<Service, StoreError> {
    p.require(Permission::ManageBilling)?;
    check(
        patch.name.as_deref(),
        patch.unit.as_deref(),
        patch.description.as_deref(),
        patch.rates.as_ref(),
    )?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        r#"UPDATE services SET name = coalesce($2, name), unit = coalesce($3, unit),
                  description = coalesce($4, description), taxable = coalesce($5, taxable),
                  rates = coalesce($6, rates), updated_at = now()
           WHERE id = $1
           RETURNING id, name, unit, description, taxable,
                     rates AS "rates: Json<BTreeMap<String, String>>", created_at, updated_at"#,
        id,
        patch.name.as_deref().map(str::trim),
        patch.unit.as_deref().map(str::trim),
        patch.description,
        patch.taxable,
        patch.rates.map(Json) as _,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.map(Service::from).ok_or(StoreError::NotFound)
}
