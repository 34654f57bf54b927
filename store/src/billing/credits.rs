//! Credits a client holds (prepayments, refunds, goodwill, a negative invoice): money in one
//! currency, optionally expiring, that invoices draw down. `remaining` is what is left to
//! apply; only invoices, refunds and expiry lower it, each with its row in the ledger's credit
//! account.

use super::fields;
use super::ledger::{self, Account, Entry, Kind};
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::events::{CreditIssued, Event};
use psa_domain::ids::new_id;
use psa_domain::money::Money;
use psa_domain::validation::{self, ValidationErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a credit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreditSource {
    Manual,
    Prepayment,
    Overpayment,
    Refund,
    Goodwill,
    /// An invoice whose discounts took it below zero.
    Invoice,
}

impl CreditSource {
    fn as_str(self) -> &'static str {
        match self {
            CreditSource::Manual => "manual",
            CreditSource::Prepayment => "prepayment",
            CreditSource::Overpayment => "overpayment",
            CreditSource::Refund => "refund",
            CreditSource::Goodwill => "goodwill",
            CreditSource::Invoice => "invoice",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "manual" => CreditSource::Manual,
            "prepayment" => CreditSource::Prepayment,
            "overpayment" => CreditSource::Overpayment,
            "refund" => CreditSource::Refund,
            "goodwill" => CreditSource::Goodwill,
            "invoice" => CreditSource::Invoice,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown credit source {other}"
                )));
            }
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-6b72-7d84-c596-a7b8c9d0e1f2",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "amount": "250.00", "remaining": "250.00",
    "currency": "USD", "expires_on": "2026-12-31", "source": "prepayment", "note": null,
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Credit {
    pub id: Uuid,
    pub client_id: Uuid,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// What is left to apply.
    #[schema(value_type = String)]
    pub remaining: Decimal,
    pub currency: String,
    /// Usable on invoices whose period ends on or before this day; none: never expires.
    pub expires_on: Option<NaiveDate>,
    pub source: CreditSource,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    pub client_id: Uuid,
    /// A positive decimal string, no finer than the currency's minor unit.
    #[schema(example = "250.00", max_length = 40)]
    pub amount: String,
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    pub expires_on: Option<NaiveDate>,
    /// Default manual.
    pub source: Option<CreditSource>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditPatch {
    pub expires_on: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

struct Row {
    id: Uuid,
    client_id: Uuid,
    amount: Decimal,
    remaining: Decimal,
    currency: String,
    expires_on: Option<NaiveDate>,
    source: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Credit {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        // Postgres answers a zero without its scale; `remaining` reads like `amount`.
        let mut remaining = r.remaining;
        remaining.rescale(r.amount.scale().max(remaining.scale()));
        Ok(Credit {
            id: r.id,
            client_id: r.client_id,
            amount: r.amount,
            remaining,
            currency: r.currency,
            expires_on: r.expires_on,
            source: CreditSource::from_db(&r.source)?,
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Credit>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, client_id, amount, remaining, currency, expires_on, source, note, created_at,
                updated_at
         FROM credits WHERE ($1::uuid IS NULL OR id > $1) AND ($2::uuid IS NULL OR client_id = $2)
         ORDER BY id LIMIT $3",
        page.after,
        client_id,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(Credit::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(rows, |c| c.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Credit, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        "SELECT id, client_id, amount, remaining, currency, expires_on, source, note, created_at,
                updated_at
         FROM credits WHERE id = $1",
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: CreditInput,
) -> Result<Credit, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    let amount = fields::currency(&mut e, "currency", &input.currency)
        .and_then(|c| fields::money(&mut e, "amount", &input.amount, c));
    validation::optional_text(&mut e, "note", input.note.as_deref(), 2000);
    crate::check(e.into_result())?;
    let amount = amount.ok_or_else(|| StoreError::invalid("amount", "is required"))?;
    let tenant = p.tenant_id;
    let principal = p.clone();
    let request = serde_json::json!({ "table": "credits", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let row = sqlx::query_as!(
                Row,
                "INSERT INTO credits (tenant_id, id, client_id, amount, remaining, currency,
                     expires_on, source, note)
                 VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)
                 RETURNING id, client_id, amount, remaining, currency, expires_on, source, note,
                           created_at, updated_at",
                tenant,
                new_id(),
                input.client_id,
                amount,
                input.currency,
                input.expires_on,
                input.source.unwrap_or(CreditSource::Manual).as_str(),
                input.note,
            )
            .fetch_one(&mut *conn)
            .await?;
            let credit = Credit::try_from(row)?;
            // Money held for the client from now on: the ledger's credit account says so.
            ledger::append(
                conn,
                tenant,
                Entry {
                    client_id: credit.client_id,
                    account: Account::Credit,
                    kind: Kind::CreditIssued,
                    amount: credit.amount,
                    currency: &credit.currency,
                    invoice_id: None,
                    payment_id: None,
                    credit_id: Some(credit.id),
                    note: credit.note.as_deref(),
                },
            )
            .await?;
            outbox::enqueue(
                conn,
                &principal,
                Event::CreditIssued(CreditIssued {
                    credit_id: credit.id,
                    client_id: credit.client_id,
                    amount: Money::new(credit.amount, &credit.currency),
                    expires_on: credit.expires_on,
                    payment_id: None,
                }),
            )
            .await?;
            Ok(credit)
        })
    })
    .await
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: CreditPatch,
) -> Result<Credit, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    validation::optional_text(&mut e, "note", patch.note.as_deref(), 2000);
    crate::check(e.into_result())?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        "UPDATE credits SET expires_on = coalesce($2, expires_on), note = coalesce($3, note),
                updated_at = now()
         WHERE id = $1
         RETURNING id, client_id, amount, remaining, currency, expires_on, source, note,
                   created_at, updated_at",
        id,
        patch.expires_on,
        patch.note,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// The client's credits with something left to apply, oldest first (the engine orders them by
/// expiry and keeps this order for ties).
pub(crate) async fn open_of(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<Vec<Credit>, StoreError> {
    sqlx::query_as!(
        Row,
        "SELECT id, client_id, amount, remaining, currency, expires_on, source, note, created_at,
                updated_at
         FROM credits WHERE client_id = $1 AND remaining > 0 ORDER BY id",
        client,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Credit::try_from)
    .collect()
}

/// [`open_of`], locked until the caller's transaction ends: an invoice that applies them holds
/// them, so no other spends the same money.
pub(crate) async fn open_of_locked(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<Vec<Credit>, StoreError> {
    sqlx::query_as!(
        Row,
        "SELECT id, client_id, amount, remaining, currency, expires_on, source, note, created_at,
                updated_at
         FROM credits WHERE client_id = $1 AND remaining > 0 ORDER BY id FOR UPDATE",
        client,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Credit::try_from)
    .collect()
}

/// Which of `clients` hold an open credit (an invoice run reads, and locks, only theirs).
pub(crate) async fn holders(
    conn: &mut PgConnection,
    clients: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT client_id FROM credits WHERE client_id = ANY($1) AND remaining > 0",
        clients,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect())
}
