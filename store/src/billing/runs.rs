//! Invoice runs as the API and the run workflow see them: the `invoice_runs` row a request
//! writes and the workflow keeps current, which invoices fall due in a period, and the dry run
//! that computes them without writing anything.
//!
//! A run is named by its period (`2026-11` or `2026-11-30`) and is one per tenant and period:
//! asking again for a period whose run has finished starts it again, and that run finishes only
//! what is missing (the invoices carry the guarantee, see [`super::run_batch`]).

use super::client_preview::{self, CreditRead, Lookups};
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Days, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::billing::run::{ClientFailure, Clients, RunPlan, RunProgress};
use psa_domain::billing::{
    self, Anchor, AssignmentTerms, BillingCycle, DueInvoice, RunPeriod, Timing,
};
use psa_domain::ids::{invoice_run_workflow_id, new_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// How many invoices a dry run shows unless asked for fewer; also the most it shows.
pub const DRY_RUN_DEFAULT_LIMIT: u32 = 100;
pub const DRY_RUN_MAX_LIMIT: u32 = 1_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRunRequest {
    /// `YYYY-MM` (a month) or `YYYY-MM-DD` (a day): the run bills every client invoice whose
    /// billing day falls in it.
    #[schema(
        min_length = 7,
        max_length = 10,
        pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"
    )]
    pub period: String,
    /// Compute and report the invoices the run would make; write nothing. Default false.
    pub dry_run: Option<bool>,
    /// Dry run only: how many invoices to show (1 to 1000, default 100).
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Clients billed per activity (1 to 1000, default 100).
    #[schema(minimum = 1, maximum = 1000)]
    pub batch_size: Option<u32>,
    /// Batches billed at once (1 to 16, default 4).
    #[schema(minimum = 1, maximum = 16)]
    pub parallel_batches: Option<u32>,
}

/// One client whose invoice could not be made, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = InvoiceRunFailure)]
pub struct Failure {
    pub client_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceRun {
    pub id: Uuid,
    pub period: String,
    pub period_start: NaiveDate,
    /// Exclusive.
    pub period_end: NaiveDate,
    /// The Temporal workflow running it: `invoice-run:{tenant}:{period}`.
    pub workflow_id: String,
    /// `requested` (not started by the worker yet), `running`, `completed` or
    /// `completed_with_failures`.
    pub status: String,
    /// Invoices due in the period.
    pub total: u32,
    /// Of those, invoiced (by this run or an earlier one).
    pub done: u32,
    /// Of those, with nothing to bill.
    pub empty: u32,
    /// Clients whose invoices could not be made, as of their last attempt.
    pub failed: Vec<Failure>,
    /// How often the run was asked for.
    pub requests: u32,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

struct Row {
    id: Uuid,
    period: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    workflow_id: String,
    status: String,
    total: i32,
    done: i32,
    empty: i32,
    failures: Value,
    requests: i32,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for InvoiceRun {
    fn from(r: Row) -> Self {
        let count = |n: i32| u32::try_from(n).unwrap_or(0);
        // Written only by `record_progress`, from the workflow's own list; anything else in it
        // is left out rather than failing the read.
        let failed = serde_json::from_value::<Vec<ClientFailure>>(r.failures)
            .unwrap_or_default()
            .into_iter()
            .map(|f| Failure {
                client_id: f.client_id,
                reason: f.reason,
            })
            .collect();
        InvoiceRun {
            id: r.id,
            period: r.period,
            period_start: r.period_start,
            period_end: r.period_end,
            workflow_id: r.workflow_id,
            status: r.status,
            total: count(r.total),
            done: count(r.done),
            empty: count(r.empty),
            failed,
            requests: count(r.requests),
            requested_at: r.requested_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            updated_at: r.updated_at,
        }
    }
}

/// Reads a period key; 422 on `period` when it is not one.
pub fn parse_period(period: &str) -> Result<RunPeriod, StoreError> {
    RunPeriod::parse(period).ok_or_else(|| {
        StoreError::invalid(
            "period",
            "must be a month (YYYY-MM) or a day (YYYY-MM-DD) that exists",
        )
    })
}

/// Records that the run for `period` was asked for: a new row, or the existing one asked
/// again (a finished run is started again; a running one goes on). The caller then starts the
/// workflow, whose ID is the business key, so asking twice never makes two runs.
pub async fn request(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    period: &str,
) -> Result<InvoiceRun, StoreError> {
    p.require(Permission::ManageBilling)?;
    let run = parse_period(period)?;
    let period = run.key();
    let tenant = p.tenant_id;
    let request = serde_json::json!({"table": "invoice_runs", "period": period});
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let row = sqlx::query_as!(
                Row,
                r#"INSERT INTO invoice_runs AS r (tenant_id, id, period, period_start, period_end,
                       workflow_id)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (tenant_id, period) DO UPDATE
                      SET requests = r.requests + 1, requested_at = now(), updated_at = now(),
                          status = CASE WHEN r.status IN ('completed', 'completed_with_failures')
                                        THEN 'requested' ELSE r.status END,
                          finished_at = CASE WHEN r.status IN ('completed', 'completed_with_failures')
                                             THEN NULL ELSE r.finished_at END
                   RETURNING id, period, period_start, period_end, workflow_id, status, total,
                             done, empty, failures, requests, requested_at, started_at,
                             finished_at, updated_at"#,
                tenant,
                new_id(),
                period,
                run.start,
                run.end,
                invoice_run_workflow_id(tenant, &period),
            )
            .fetch_one(conn)
            .await?;
            Ok(InvoiceRun::from(row))
        })
    })
    .await
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<InvoiceRun, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query_as!(
        Row,
        "SELECT id, period, period_start, period_end, workflow_id, status, total, done, empty,
                failures, requests, requested_at, started_at, finished_at, updated_at
         FROM invoice_runs WHERE id = $1",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(row.into())
}

/// Runs, oldest request first; with `period`, those whose period overlaps it (a month's
/// runs and the runs of its days).
pub async fn list(
    pool: &PgPool,
    p: &Principal,
    period: Option<&str>,
    page: PageRequest,
) -> Result<Page<InvoiceRun>, StoreError> {
    p.require(Permission::ManageBilling)?;
    // A query parameter that cannot be read is a 400, like every other.
    let range = period
        .map(|k| {
            RunPeriod::parse(k).ok_or_else(|| {
                StoreError::bad_request(
                    "period must be a month (YYYY-MM) or a day (YYYY-MM-DD) that exists",
                    Some("period"),
                )
            })
        })
        .transpose()?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, period, period_start, period_end, workflow_id, status, total, done, empty,
                failures, requests, requested_at, started_at, finished_at, updated_at
         FROM invoice_runs
         WHERE ($1::uuid IS NULL OR id > $1)
           AND ($2::date IS NULL OR (period_start < $3 AND period_end > $2))
         ORDER BY id LIMIT $4",
        page.after,
        range.map(|r| r.start),
        range.map(|r| r.end),
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows.into_iter().map(InvoiceRun::from).collect(), |r| r.id))
}

/// The invoices due in `run` for the clients `clients` names, by client ID.
pub(crate) async fn due(
    conn: &mut PgConnection,
    run: RunPeriod,
    clients: &Clients,
) -> Result<Vec<(Uuid, Vec<DueInvoice>)>, StoreError> {
    // Assignments that may have a period billed in the run: started before its end, and not
    // ended more than the longest period before its start.
    let since = run
        .start
        .checked_sub_days(Days::new(400))
        .unwrap_or(NaiveDate::MIN);
    let (from, to, listed) = match clients {
        Clients::Range { from, to } => (Some(*from), *to, None),
        Clients::Listed(ids) => (None, None, Some(ids.as_slice())),
    };
    let rows = sqlx::query!(
        "SELECT client_id, start_date, end_date, currency, billing_cycle, anchor_day, timing
         FROM client_contracts
         WHERE start_date < $1 AND coalesce(end_date, 'infinity'::date) >= $2
           AND ($3::uuid IS NULL OR client_id >= $3) AND ($4::uuid IS NULL OR client_id < $4)
           AND ($5::uuid[] IS NULL OR client_id = ANY($5))
         ORDER BY client_id, start_date, id",
        run.end,
        since,
        from,
        to,
        listed,
    )
    .fetch_all(conn)
    .await?;
    let mut by_client: BTreeMap<Uuid, Vec<AssignmentTerms>> = BTreeMap::new();
    for r in rows {
        // Stored terms were checked when written; a row that cannot be read bills nothing
        // here, and the client's preview names what is wrong with it.
        let (Some(cycle), Some(anchor), Some(timing)) = (
            BillingCycle::parse(&r.billing_cycle),
            Anchor::from_db(r.anchor_day),
            Timing::parse(&r.timing),
        ) else {
            continue;
        };
        by_client
            .entry(r.client_id)
            .or_default()
            .push(AssignmentTerms {
                start: r.start_date,
                last: r.end_date,
                currency: r.currency,
                cycle,
                anchor,
                timing,
            });
    }
    Ok(by_client
        .into_iter()
        .map(|(client, terms)| (client, billing::invoices_due(&terms, run)))
        .filter(|(_, due)| !due.is_empty())
        .collect())
}

/// The run's plan, and the row marked running with its counts reset (an earlier run's
/// figures are recounted by this one).
pub async fn plan(
    pool: &PgPool,
    tenant: Uuid,
    period: &str,
    batch_size: u32,
) -> Result<RunPlan, StoreError> {
    let run = parse_period(period)?;
    let mut tx = tenant::begin_for(pool, tenant).await?;
    // Makes the tenant's settings row now if it is missing, so the batches do not queue
    // behind the first one's insert of it.
    super::invoices::payment_terms_days(&mut tx, tenant).await?;
    let nil = Uuid::nil();
    let due = due(
        &mut tx,
        run,
        &Clients::Range {
            from: nil,
            to: None,
        },
    )
    .await?;
    let total: usize = due.iter().map(|(_, d)| d.len()).sum();
    let size = usize::try_from(batch_size.max(1)).unwrap_or(1);
    let batch_starts: Vec<Uuid> = due.chunks(size).map(|c| c[0].0).collect();
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    let workflow_id = invoice_run_workflow_id(tenant, period);
    // A run started without a request (from a schedule, or by an operator) makes its row.
    sqlx::query!(
        "INSERT INTO invoice_runs AS r (tenant_id, id, period, period_start, period_end,
             workflow_id, status, total, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, now())
         ON CONFLICT (tenant_id, period) DO UPDATE
            SET status = 'running', total = $7, done = 0, empty = 0, failures = '[]'::jsonb,
                started_at = now(), finished_at = NULL, updated_at = now()",
        tenant,
        new_id(),
        period,
        run.start,
        run.end,
        workflow_id,
        i32::try_from(total).unwrap_or(i32::MAX),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(RunPlan {
        total,
        batch_starts,
    })
}

/// Records the run's progress as the workflow counts it (whole figures, so a repeat is
/// harmless); a finished status also stamps the finish.
pub async fn record_progress(
    pool: &PgPool,
    tenant: Uuid,
    progress: &RunProgress,
) -> Result<(), StoreError> {
    let failures = serde_json::to_value(&progress.failed).map_err(StoreError::internal)?;
    let clamp = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let mut tx = tenant::begin_for(pool, tenant).await?;
    sqlx::query!(
        "UPDATE invoice_runs
            SET status = $2, total = $3, done = $4, empty = $5, failures = $6,
                finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END,
                updated_at = now()
          WHERE period = $1",
        progress.period,
        progress.status,
        clamp(progress.total),
        clamp(progress.done),
        clamp(progress.empty),
        failures,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the run invoice `due` names for `client` exists (and is not void).
pub(crate) async fn already_made(
    conn: &mut PgConnection,
    client: Uuid,
    due: &DueInvoice,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM invoices WHERE client_id = $1 AND period_start = $2
                    AND currency = $3 AND source = 'run' AND status <> 'void') AS \"made!\"",
        client,
        due.period_start,
        due.currency,
    )
    .fetch_one(conn)
    .await?)
}

/// One invoice a dry run would make.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DryRunInvoice)]
pub struct DryRunInvoice {
    pub client_id: Uuid,
    pub period_start: NaiveDate,
    pub currency: String,
    pub billing_day: NaiveDate,
    /// The invoice, in the shape the invoice previews answer; none when it failed.
    #[schema(value_type = Option<Object>)]
    pub invoice: Option<Value>,
    /// Why it could not be made.
    pub error: Option<String>,
}

/// What a run for the period would do, computed and not written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceRunDryRun {
    pub dry_run: bool,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Invoices due in the period, not yet made.
    pub total: u32,
    /// The first of them (by client ID), at most `limit`.
    pub invoices: Vec<DryRunInvoice>,
    /// Whether more are due than are shown.
    pub truncated: bool,
}

/// Computes the invoices a run for `period` would make, without writing anything.
pub async fn dry_run(
    pool: &PgPool,
    p: &Principal,
    period: &str,
    limit: Option<u32>,
) -> Result<InvoiceRunDryRun, StoreError> {
    p.require(Permission::ManageBilling)?;
    let run = parse_period(period)?;
    let limit = match limit {
        None => DRY_RUN_DEFAULT_LIMIT,
        Some(n) if (1..=DRY_RUN_MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(StoreError::invalid(
                "limit",
                format!("must be between 1 and {DRY_RUN_MAX_LIMIT}"),
            ));
        }
    };
    let mut tx = tenant::begin(pool, p).await?;
    let nil = Uuid::nil();
    let due = due(
        &mut tx,
        run,
        &Clients::Range {
            from: nil,
            to: None,
        },
    )
    .await?;
    let mut invoices = Vec::new();
    let mut total = 0u32;
    let mut lookups = Lookups::default();
    for (client, list) in due {
        for d in list {
            if already_made(&mut tx, client, &d).await? {
                continue;
            }
            total = total.saturating_add(1);
            if invoices.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
                continue;
            }
            let computed = match client_preview::build(
                &mut tx,
                client,
                d.period_start,
                Some(&d.currency),
                CreditRead::Plain,
                &mut lookups,
            )
            .await
            {
                Ok(built) => {
                    let request = built.request;
                    crate::compute::bounded("the dry run", move || billing::preview(&request))
                        .await?
                        .map_err(|e| format!("{}: {}", e.field, e.message))
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => Err(e.to_string()),
            };
            let (invoice, error) = match computed {
                Ok(v) => (Some(v), None),
                Err(reason) => (None, Some(reason)),
            };
            invoices.push(DryRunInvoice {
                client_id: client,
                period_start: d.period_start,
                currency: d.currency,
                billing_day: d.billing_day,
                invoice,
                error,
            });
        }
    }
    tx.commit().await?;
    Ok(InvoiceRunDryRun {
        dry_run: true,
        period: run.key(),
        period_start: run.start,
        period_end: run.end,
        total,
        truncated: usize::try_from(total).unwrap_or(usize::MAX) > invoices.len(),
        invoices,
    })
}
