//! Which client is on which contract, from when to when, in which currency and on which
//! billing cycle. The invoice preview (and, later, invoice runs) find a client's periods and
//! lines here. Putting a client on a contract checks every line of the contract in the
//! assignment's currency, so a price finer than the currency's minor unit is refused now, not
//! at invoice time.

use super::contracts::{self, check_line_terms};
use super::fields;
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::billing::{Anchor, BillingCycle, Timing, check_anchor};
use psa_domain::ids::new_id;
use psa_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use uuid::Uuid;

/// `"calendar"` or a day of the month, 1 to 28.
pub fn anchor_schema() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .enum_values(Some(["calendar"])),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(1))
                .maximum(Some(28)),
        )
        .description(Some(
            "Day of the month billing periods start on, or \"calendar\" (the 1st; quarters, \
             halves and years aligned to January). Weekly and bi-weekly cycles count from the \
             start date and take only \"calendar\".",
        ))
}

fn enum_schema(values: &[&'static str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .max_length(values.iter().map(|v| v.len()).max())
        .enum_values(Some(values.iter().copied()))
}

/// How often the client is billed.
pub fn cycle_schema() -> impl Into<RefOr<Schema>> {
    enum_schema(&BillingCycle::ALL.map(|c| c.as_str()))
}

/// When a period is billed: `advance` (a period's invoice bills its fixed fees and the
/// previous period's time and usage) or `arrears` (all of the period's charges).
pub fn timing_schema() -> impl Into<RefOr<Schema>> {
    enum_schema(&Timing::ALL.map(|t| t.as_str()))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-4f50-7b62-a374-8596a7b8c9d0",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "contract_id": "0190d9a0-2d3e-7f40-8152-637485960a1b", "start_date": "2026-01-01",
    "end_date": null, "currency": "USD", "billing_cycle": "monthly", "anchor": "calendar",
    "timing": "arrears", "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
#[schema(as = ClientContract)]
pub struct Assignment {
    pub id: Uuid,
    pub client_id: Uuid,
    pub contract_id: Uuid,
    pub start_date: NaiveDate,
    /// The last day covered (inclusive); none: open-ended.
    pub end_date: Option<NaiveDate>,
    pub currency: String,
    #[schema(schema_with = cycle_schema)]
    pub billing_cycle: BillingCycle,
    #[schema(schema_with = anchor_schema)]
    pub anchor: Anchor,
    /// `advance`: a period's invoice bills its fixed fees and the previous period's time and
    /// usage; `arrears`: all of the period's charges, at its end.
    #[schema(schema_with = timing_schema)]
    pub timing: Timing,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClientContractInput)]
pub struct AssignmentInput {
    pub client_id: Uuid,
    pub contract_id: Uuid,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// weekly, bi_weekly, monthly, quarterly, semi_annual or annual.
    #[schema(schema_with = cycle_schema)]
    pub billing_cycle: BillingCycle,
    /// Default "calendar".
    #[schema(schema_with = anchor_schema)]
    pub anchor: Option<Anchor>,
    /// Default arrears.
    #[schema(schema_with = timing_schema)]
    pub timing: Option<Timing>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClientContractPatch)]
pub struct AssignmentPatch {
    /// The last day covered: ends (or extends) the client's time on the contract.
    pub end_date: Option<NaiveDate>,
}

struct Row {
    id: Uuid,
    client_id: Uuid,
    contract_id: Uuid,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    currency: String,
    billing_cycle: String,
    anchor_day: Option<i16>,
    timing: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Assignment {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::internal(anyhow::anyhow!("stored {what} is unreadable"));
        Ok(Assignment {
            id: r.id,
            client_id: r.client_id,
            contract_id: r.contract_id,
            start_date: r.start_date,
            end_date: r.end_date,
            currency: r.currency,
            billing_cycle: BillingCycle::parse(&r.billing_cycle)
                .ok_or_else(|| bad("billing cycle"))?,
            anchor: Anchor::from_db(r.anchor_day).ok_or_else(|| bad("anchor"))?,
            timing: Timing::parse(&r.timing).ok_or_else(|| bad("timing"))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn check(input: &AssignmentInput) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    fields::currency(&mut e, "currency", &input.currency);
    if input.end_date.is_some_and(|end| end < input.start_date) {
        e.push("end_date", "must not be before start_date");
    }
    if let Err(err) = check_anchor(
        input.billing_cycle,
        input.anchor.unwrap_or(Anchor::Calendar),
    ) {
        e.push("anchor", err.to_string());
    }
    crate::check(e.into_result())
}

/// Refuses a second assignment of the same contract to the same client over days the first
/// already covers: its lines would bill twice. The caller holds the client's row lock.
async fn check_no_overlap(
    conn: &mut PgConnection,
    id: Uuid,
    client: Uuid,
    contract: Uuid,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Result<(), StoreError> {
    let overlapping = sqlx::query_scalar!(
        "SELECT id FROM client_contracts
         WHERE client_id = $1 AND contract_id = $2 AND id <> $3
           AND start_date <= coalesce($5::date, 'infinity'::date)
           AND coalesce(end_date, 'infinity'::date) >= $4
         LIMIT 1",
        client,
        contract,
        id,
        start,
        end,
    )
    .fetch_optional(conn)
    .await?;
    match overlapping {
        Some(other) => Err(StoreError::invalid(
            "start_date",
            format!(
                "the client is already on this contract for some of these days (assignment {other})"
            ),
        )),
        None => Ok(()),
    }
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Assignment>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, client_id, contract_id, start_date, end_date, currency, billing_cycle,
                anchor_day, timing, created_at, updated_at
         FROM client_contracts
         WHERE ($1::uuid IS NULL OR id > $1) AND ($2::uuid IS NULL OR client_id = $2)
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
        .map(Assignment::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(rows, |a| a.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Assignment, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = load(&mut tx, id).await?;
    tx.commit().await?;
    row.try_into()
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Row, StoreError> {
    sqlx::query_as!(
        Row,
        "SELECT id, client_id, contract_id, start_date, end_date, currency, billing_cycle,
                anchor_day, timing, created_at, updated_at
         FROM client_contracts WHERE id = $1",
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Locks the client's row: assignments of one client are checked against each other one
/// writer at a time.
async fn lock_client(conn: &mut PgConnection, client: Uuid) -> Result<(), StoreError> {
    sqlx::query_scalar!("SELECT id FROM clients WHERE id = $1 FOR UPDATE", client)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| StoreError::invalid("client_id", "does not refer to an existing record"))
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: AssignmentInput,
) -> Result<Assignment, StoreError> {
    p.require(Permission::ManageBilling)?;
    check(&input)?;
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": "client_contracts", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            lock_client(conn, input.client_id).await?;
            let id = new_id();
            check_no_overlap(
                conn,
                id,
                input.client_id,
                input.contract_id,
                input.start_date,
                input.end_date,
            )
            .await?;
            // The contract's lines must all be billable in this currency.
            let currency = [input.currency.clone()];
            for (i, line) in contracts::lines_of(conn, input.contract_id)
                .await?
                .into_iter()
                .enumerate()
            {
                check_line_terms(line.kind, line.service_id, &line.terms, &currency).map_err(
                    |e| match e {
                        StoreError::Invalid(v) => StoreError::Invalid(ValidationErrors(
                            v.0.into_iter()
                                .map(|f| {
                                    psa_domain::validation::FieldError::new(
                                        "currency",
                                        format!(
                                            "line {} ({i}) cannot be billed in {}: {} {}",
                                            line.id, input.currency, f.field, f.message
                                        ),
                                    )
                                })
                                .collect(),
                        )),
                        other => other,
                    },
                )?;
            }
            let anchor = input.anchor.unwrap_or(Anchor::Calendar);
            let row = sqlx::query_as!(
                Row,
                "INSERT INTO client_contracts (tenant_id, id, client_id, contract_id, start_date,
                     end_date, currency, billing_cycle, anchor_day, timing)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 RETURNING id, client_id, contract_id, start_date, end_date, currency,
                           billing_cycle, anchor_day, timing, created_at, updated_at",
                tenant,
                id,
                input.client_id,
                input.contract_id,
                input.start_date,
                input.end_date,
                input.currency,
                input.billing_cycle.as_str(),
                anchor.to_db(),
                input.timing.unwrap_or(Timing::Arrears).as_str(),
            )
            .fetch_one(&mut *conn)
            .await?;
            Assignment::try_from(row)
        })
    })
    .await
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: AssignmentPatch,
) -> Result<Assignment, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let current = load(&mut tx, id).await?;
    let Some(end) = patch.end_date else {
        tx.commit().await?;
        return current.try_into();
    };
    if end < current.start_date {
        return Err(StoreError::invalid(
            "end_date",
            "must not be before start_date",
        ));
    }
    lock_client(&mut tx, current.client_id).await?;
    check_no_overlap(
        &mut tx,
        id,
        current.client_id,
        current.contract_id,
        current.start_date,
        Some(end),
    )
    .await?;
    let row = sqlx::query_as!(
        Row,
        "UPDATE client_contracts SET end_date = $2, updated_at = now() WHERE id = $1
         RETURNING id, client_id, contract_id, start_date, end_date, currency, billing_cycle,
                   anchor_day, timing, created_at, updated_at",
        id,
        end,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.try_into()
}

/// A client's assignments that cover any day of `[from, to)`, in billing order (start date,
/// then id).
pub(crate) async fn active_in(
    conn: &mut PgConnection,
    client: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Assignment>, StoreError> {
    sqlx::query_as!(
        Row,
        "SELECT id, client_id, contract_id, start_date, end_date, currency, billing_cycle,
                anchor_day, timing, created_at, updated_at
         FROM client_contracts
         WHERE client_id = $1 AND start_date < $3 AND coalesce(end_date, 'infinity'::date) >= $2
         ORDER BY start_date, id",
        client,
        from,
        to,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Assignment::try_from)
    .collect()
}
