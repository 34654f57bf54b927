//! Contracts: named, reusable sets of lines (a monthly fee, hourly support, a bucket of hours,
//! metered backup, licences) that clients are put on by assignments. A line's `terms` are the
//! engine's own line fields, checked by the engine when they are written, and again for the
//! currency of every client on the contract, so an invoice never meets terms it refuses.

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
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// At most this many lines on one contract.
pub const MAX_LINES: i64 = 200;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "name": "Managed IT Gold",
    "description": "Monthly fee, support hours and backup", "created_at": "2026-03-02T09:30:00Z",
    "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Contract {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
}

/// The five kinds of contract line (the invoice preview's line `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Fixed,
    Hourly,
    Bucket,
    Usage,
    Product,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Fixed => "fixed",
            LineKind::Hourly => "hourly",
            LineKind::Bucket => "bucket",
            LineKind::Usage => "usage",
            LineKind::Product => "product",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "fixed" => LineKind::Fixed,
            "hourly" => LineKind::Hourly,
            "bucket" => LineKind::Bucket,
            "usage" => LineKind::Usage,
            "product" => LineKind::Product,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown contract line kind {other}"
                )));
            }
        })
    }

    /// Whether time entries bill on this kind.
    pub fn bills_time(self) -> bool {
        matches!(self, LineKind::Hourly | LineKind::Bucket)
    }

    /// The price field a line may leave to its service's default rate.
    pub fn price_field(self) -> Option<&'static str> {
        match self {
            LineKind::Hourly => Some("rate"),
            LineKind::Usage | LineKind::Product => Some("unit_price"),
            LineKind::Fixed | LineKind::Bucket => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-2d3e-7f40-8152-637485960a1b",
    "contract_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "position": 1, "type": "hourly",
    "service_id": "0190d9a0-3e4f-7a51-9263-748596a0b1c2", "description": "Support",
    "taxable": true, "terms": {"rate": "150.00", "minimum_minutes": 30, "round_up_to_minutes": 15},
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct ContractLine {
    pub id: Uuid,
    pub contract_id: Uuid,
    /// Lines bill in this order.
    pub position: i32,
    #[serde(rename = "type")]
    pub kind: LineKind,
    /// Hourly and bucket lines bill this service's time (none: time no other line takes);
    /// usage lines bill its usage records.
    pub service_id: Option<Uuid>,
    pub description: Option<String>,
    /// Taxed with the client's region (also needs the service to be taxable).
    pub taxable: bool,
    /// The kind's fields as the invoice preview takes them, without `id`, `type`, `taxable`
    /// and `tax_region`: e.g. fixed `{"amount", "prorate"?, "active_from"?, "active_to"?,
    /// "services"?}`, hourly `{"rate"?, "minimum_minutes"?, "round_up_to_minutes"?,
    /// "overtime"?}`. A missing `rate` (hourly) or `unit_price` (usage without tiers, product)
    /// is the service's default rate in the invoice's currency.
    #[schema(value_type = Object)]
    pub terms: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractLineInput {
    #[serde(rename = "type")]
    pub kind: LineKind,
    pub service_id: Option<Uuid>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Default true.
    pub taxable: Option<bool>,
    /// Default: after the contract's last line.
    pub position: Option<i32>,
    #[schema(value_type = Object)]
    pub terms: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractLinePatch {
    pub service_id: Option<Uuid>,
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    pub taxable: Option<bool>,
    pub position: Option<i32>,
    /// Replaces the terms.
    #[schema(value_type = Option<Object>)]
    pub terms: Option<Value>,
}

struct LineRow {
    id: Uuid,
    contract_id: Uuid,
    position: i32,
    kind: String,
    service_id: Option<Uuid>,
    description: Option<String>,
    taxable: bool,
    terms: Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<LineRow> for ContractLine {
    type Error = StoreError;
    fn try_from(r: LineRow) -> Result<Self, StoreError> {
        Ok(ContractLine {
            id: r.id,
            contract_id: r.contract_id,
            position: r.position,
            kind: LineKind::from_db(&r.kind)?,
            service_id: r.service_id,
            description: r.description,
            taxable: r.taxable,
            terms: r.terms,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn check_contract(name: Option<&str>, description: Option<&str>) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, NAME_MAX);
    }
    validation::optional_text(&mut e, "description", description, 4000);
    crate::check(e.into_result())
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Contract>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Contract,
        "SELECT id, name, description, created_at, updated_at FROM contracts
         WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |c| c.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Contract, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Contract,
        "SELECT id, name, description, created_at, updated_at FROM contracts WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ContractInput,
) -> Result<Contract, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_contract(Some(&input.name), input.description.as_deref())?;
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": "contracts", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as!(
                Contract,
                "INSERT INTO contracts (tenant_id, id, name, description) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, description, created_at, updated_at",
                tenant,
                new_id(),
                input.name.trim(),
                input.description,
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
    patch: ContractPatch,
) -> Result<Contract, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_contract(patch.name.as_deref(), patch.description.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Contract,
        "UPDATE contracts SET name = coalesce($2, name), description = coalesce($3, description),
                updated_at = now()
         WHERE id = $1 RETURNING id, name, description, created_at, updated_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.description,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

/// Locks the contract (so lines and assignments of one contract are checked against each
/// other one writer at a time); `NotFound` when it does not exist.
async fn lock_contract(conn: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query_scalar!("SELECT id FROM contracts WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// The currencies clients on `contract` are billed in.
async fn assigned_currencies(
    conn: &mut PgConnection,
    contract: Uuid,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT currency FROM client_contracts WHERE contract_id = $1 ORDER BY currency",
        contract,
    )
    .fetch_all(conn)
    .await?)
}

/// Checks a line's terms for its kind: the engine reads them in the finest currency (and in
/// each currency the contract is billed in), with a placeholder price where the line leaves
/// the price to its service.
pub(crate) fn check_line_terms(
    kind: LineKind,
    service_id: Option<Uuid>,
    terms: &Value,
    currencies: &[String],
) -> Result<(), StoreError> {
    if kind == LineKind::Usage && service_id.is_none() {
        return Err(StoreError::invalid(
            "service_id",
            "is required on usage lines: it names the usage they bill",
        ));
    }
    let mut terms = terms.clone();
    if let (Some(field), Value::Object(t)) = (kind.price_field(), &mut terms) {
        let has_tiers = kind == LineKind::Usage && t.contains_key("tiers");
        if !t.contains_key(field) && !has_tiers {
            if service_id.is_none() {
                return Err(StoreError::invalid(
                    &format!("terms.{field}"),
                    "is required when the line names no service",
                ));
            }
            t.insert(field.into(), Value::String("0".into()));
        }
    }
    fields::check_terms(kind.as_str(), &terms, fields::FINEST_CURRENCY)?;
    for c in currencies {
        fields::check_terms(kind.as_str(), &terms, c)?;
    }
    Ok(())
}

fn check_line_text(description: Option<&str>) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    validation::optional_text(&mut e, "description", description, 4000);
    crate::check(e.into_result())
}

pub async fn list_lines(
    pool: &PgPool,
    p: &Principal,
    contract_id: Uuid,
    page: PageRequest,
) -> Result<Page<ContractLine>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    if sqlx::query_scalar!("SELECT id FROM contracts WHERE id = $1", contract_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    let rows = sqlx::query_as!(
        LineRow,
        "SELECT id, contract_id, position, kind, service_id, description, taxable, terms,
                created_at, updated_at
         FROM contract_lines WHERE contract_id = $1 AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3",
        contract_id,
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let lines = rows
        .into_iter()
        .map(ContractLine::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(lines, |l| l.id))
}

pub async fn get_line(pool: &PgPool, p: &Principal, id: Uuid) -> Result<ContractLine, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        LineRow,
        "SELECT id, contract_id, position, kind, service_id, description, taxable, terms,
                created_at, updated_at
         FROM contract_lines WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

pub async fn create_line(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    contract_id: Uuid,
    input: ContractLineInput,
) -> Result<ContractLine, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_line_text(input.description.as_deref())?;
    let tenant = p.tenant_id;
    let request =
        serde_json::json!({ "table": "contract_lines", "contract": contract_id, "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            lock_contract(conn, contract_id).await?;
            let currencies = assigned_currencies(conn, contract_id).await?;
            check_line_terms(input.kind, input.service_id, &input.terms, &currencies)?;
            let count = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM contract_lines WHERE contract_id = $1"#,
                contract_id
            )
            .fetch_one(&mut *conn)
            .await?;
            if count >= MAX_LINES {
                return Err(StoreError::invalid(
                    "contract_id",
                    format!("a contract holds at most {MAX_LINES} lines"),
                ));
            }
            let row = sqlx::query_as!(
                LineRow,
                "INSERT INTO contract_lines
                     (tenant_id, id, contract_id, position, kind, service_id, description, taxable, terms)
                 VALUES ($1, $2, $3,
                         coalesce($4, (SELECT coalesce(max(position), 0) + 1 FROM contract_lines
                                       WHERE contract_id = $3)),
                         $5, $6, $7, $8, $9)
                 RETURNING id, contract_id, position, kind, service_id, description, taxable, terms,
                           created_at, updated_at",
                tenant,
                new_id(),
                contract_id,
                input.position,
                input.kind.as_str(),
                input.service_id,
                input.description,
                input.taxable.unwrap_or(true),
                input.terms,
            )
            .fetch_one(&mut *conn)
            .await?;
            ContractLine::try_from(row)
        })
    })
    .await
}

pub async fn update_line(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: ContractLinePatch,
) -> Result<ContractLine, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_line_text(patch.description.as_deref())?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = sqlx::query_as!(
        LineRow,
        "SELECT id, contract_id, position, kind, service_id, description, taxable, terms,
                created_at, updated_at
         FROM contract_lines WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    lock_contract(&mut tx, current.contract_id).await?;
    let currencies = assigned_currencies(&mut tx, current.contract_id).await?;
    let kind = LineKind::from_db(&current.kind)?;
    let service_id = patch.service_id.or(current.service_id);
    let terms = patch.terms.as_ref().unwrap_or(&current.terms);
    check_line_terms(kind, service_id, terms, &currencies)?;
    let row = sqlx::query_as!(
        LineRow,
        "UPDATE contract_lines SET service_id = $2, description = coalesce($3, description),
                taxable = coalesce($4, taxable), position = coalesce($5, position), terms = $6,
                updated_at = now()
         WHERE id = $1
         RETURNING id, contract_id, position, kind, service_id, description, taxable, terms,
                   created_at, updated_at",
        id,
        service_id,
        patch.description,
        patch.taxable,
        patch.position,
        terms,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.try_into()
}

/// Every line of `contract`, in billing order (position, then id).
pub(crate) async fn lines_of(
    conn: &mut PgConnection,
    contract: Uuid,
) -> Result<Vec<ContractLine>, StoreError> {
    sqlx::query_as!(
        LineRow,
        "SELECT id, contract_id, position, kind, service_id, description, taxable, terms,
                created_at, updated_at
         FROM contract_lines WHERE contract_id = $1 ORDER BY position, id",
        contract,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(ContractLine::try_from)
    .collect()
}
