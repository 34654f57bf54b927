//! `/v1/automations/{id}/runs` and `/v1/automation-runs/{id}`: start a run by hand, list an
//! automation's runs, read one run with its trace, cancel one, retry a failed one.

use super::run_control as control;
use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::automations::runs::{self, RunDetail, RunRequest, RunSummary};
use psa_store::pagination::{Page, PageRequest};
use uuid::Uuid;

const IDEMPOTENCY: &str = "Makes the start safe to retry: a request with a key already used answers with the run the first started (422 when the key was used for a different request).";

/// Starts a run of the newest published version, its input the trigger event's `payload`.
/// The run starts shortly after the answer (`status` is `pending` until it does); find it in
/// the Temporal UI by its `workflow_id` or the search attribute `AutomationId`.
#[utoipa::path(post, path = "/v1/automations/{id}/runs", operation_id = "startAutomationRun", tag = "automations", request_body = RunRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = IDEMPOTENCY)),
    responses((status = 202, body = RunSummary), (status = 404, body = Problem),
        (status = 409, description = "Nothing is published yet.", body = Problem),
        (status = 422, body = Problem)))]
pub async fn start(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<RunRequest>,
) -> Result<(StatusCode, Json<RunSummary>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(runs::request(&s.pool, &p, key.as_deref(), id, req).await?),
    ))
}

/// The automation's runs, newest first.
#[utoipa::path(get, path = "/v1/automations/{id}/runs", operation_id = "listAutomationRuns", tag = "automations",
    params(ListQuery), responses((status = 200, body = Page<RunSummary>), (status = 404, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<RunSummary>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(runs::list(&s.pool, &p, id, page).await?))
}

/// One run: status, current step and wait, variables, and the trace of executed steps.
#[utoipa::path(get, path = "/v1/automation-runs/{id}", operation_id = "getAutomationRun", tag = "automations",
    responses((status = 200, body = RunDetail), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<RunDetail>, ApiError> {
    Ok(Json(runs::get(&s.pool, &p, id).await?))
}

/// Ends a run before its next step: an action under way finishes, a wait ends at once. The
/// run's status becomes `cancelled` when it has stopped; its owner is not told (as for a
/// failure) since someone chose it.
#[utoipa::path(post, path = "/v1/automation-runs/{id}/cancel", operation_id = "cancelAutomationRun", tag = "automations",
    responses((status = 202, body = RunSummary), (status = 404, body = Problem),
        (status = 409, description = "The run has ended.", body = Problem)))]
pub async fn cancel(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<RunSummary>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(control::cancel(&s, &p, id).await?),
    ))
}

/// Retries a failed run from its failed step, on the same version: a new run
/// (`{workflow}:retry-{n}`) that keeps what the failed run's earlier steps did and does the
/// failed step again.
#[utoipa::path(post, path = "/v1/automation-runs/{id}/retry", operation_id = "retryAutomationRun", tag = "automations",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = IDEMPOTENCY)),
    responses((status = 202, body = RunSummary), (status = 404, body = Problem),
        (status = 409, description = "The run did not fail, or cannot be retried.", body = Problem),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = Problem)))]
pub async fn retry(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<RunSummary>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(runs::retry(&s.pool, &p, key.as_deref(), id).await?),
    ))
}
