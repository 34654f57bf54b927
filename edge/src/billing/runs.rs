//! `/v1/invoice-runs`: starting an invoice run by hand (or computing one as a dry run), and
//! watching its progress.

use super::run_workflow;
use crate::state::AppState;
use crate::web::auth::{Caller, Principal};
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use psa_domain::billing::run::{
    DEFAULT_BATCH_SIZE, DEFAULT_PARALLEL_BATCHES, InvoiceRunInput, MAX_BATCH_SIZE,
    MAX_PARALLEL_BATCHES,
};
use psa_domain::validation::ValidationErrors;
use psa_store::billing::runs::{self as svc, InvoiceRun, InvoiceRunDryRun, InvoiceRunRequest};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Only runs whose period overlaps this one (`YYYY-MM` or `YYYY-MM-DD`): a month's runs
    /// and its days'.
    #[param(
        min_length = 7,
        max_length = 10,
        pattern = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"
    )]
    pub period: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// Starts the invoice run for a period (or joins it while it runs): every client invoice whose
/// billing day falls in the period is made, exactly once. Started again after it finished, it
/// makes only what is missing. With `dry_run`, computes the invoices it would make and writes
/// nothing.
#[utoipa::path(post, path = "/v1/invoice-runs", operation_id = "startInvoiceRun", tag = "billing", request_body = InvoiceRunRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the request safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 202, description = "The run, started (or going on).", body = InvoiceRun),
        (status = 200, description = "The dry run's report; nothing was written.", body = InvoiceRunDryRun),
        (status = 422, body = Problem), (status = 503, description = "The workflow service did not start the run; it is recorded, and the same request later starts it.", body = Problem)))]
pub async fn start(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<InvoiceRunRequest>,
) -> Result<Response, ApiError> {
    Ok(match begin(&s, &p, key.as_deref(), input).await? {
        Started::DryRun(report) => (StatusCode::OK, Json(report)).into_response(),
        Started::Run(run) => (StatusCode::ACCEPTED, Json(run)).into_response(),
    })
}

/// What asking for a run answers.
pub enum Started {
    /// The run, started (or going on).
    Run(InvoiceRun),
    /// The dry run's report; nothing was written.
    DryRun(InvoiceRunDryRun),
}

/// Checks the request, then computes the dry run, or records the run and starts (or joins)
/// its workflow: `POST /v1/invoice-runs` and gRPC `StartInvoiceRun` alike.
pub async fn begin(
    s: &AppState,
    p: &Principal,
    key: Option<&str>,
    input: InvoiceRunRequest,
) -> Result<Started, ApiError> {
    let mut e = ValidationErrors::default();
    let batch_size = input.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        e.push(
            "batch_size",
            format!("must be between 1 and {MAX_BATCH_SIZE}"),
        );
    }
    let parallel_batches = input.parallel_batches.unwrap_or(DEFAULT_PARALLEL_BATCHES);
    if !(1..=MAX_PARALLEL_BATCHES).contains(&parallel_batches) {
        e.push(
            "parallel_batches",
            format!("must be between 1 and {MAX_PARALLEL_BATCHES}"),
        );
    }
    let dry_run = input.dry_run.unwrap_or(false);
    if !dry_run && input.limit.is_some() {
        e.push("limit", "applies to a dry run only");
    }
    e.into_result().map_err(ApiError::Invalid)?;
    if dry_run {
        let report = svc::dry_run(&s.pool, p, &input.period, input.limit).await?;
        return Ok(Started::DryRun(report));
    }
    let run = svc::request(&s.pool, p, key, &input.period).await?;
    let workflow_input = InvoiceRunInput {
        tenant_id: p.tenant_id,
        period: run.period.clone(),
        batch_size,
        parallel_batches,
    };
    run_workflow::start(s, &run, workflow_input).await?;
    Ok(Started::Run(run))
}

#[utoipa::path(get, path = "/v1/invoice-runs", operation_id = "listInvoiceRuns", tag = "billing", params(RunQuery), responses((status = 200, body = Page<InvoiceRun>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Json<Page<InvoiceRun>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        svc::list(&s.pool, &p, q.period.as_deref(), page).await?,
    ))
}

/// The run's progress: invoices due, done, with nothing to bill, and the clients that failed
/// with their reasons.
#[utoipa::path(get, path = "/v1/invoice-runs/{id}", operation_id = "getInvoiceRun", tag = "billing", responses((status = 200, body = InvoiceRun), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<InvoiceRun>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}
