//! `/v1/time-entries` and `/v1/timesheets`: time worked and its approval, over HTTP. The rules
//! live in `psa_store::billing::{time_entries, timesheets}`; these handlers only read the request
//! and answer.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::time_entries::{
    self, EntryFilter, TimeEntry, TimeEntryInput, TimeEntryPatch,
};
use psa_store::billing::timesheets::{
    self, ApproveTimesheet, RejectTimesheet, ReopenTimesheet, SubmitTimesheet, Timesheet,
    TimesheetFilter, TimesheetInput, TimesheetStatus,
};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimeEntryQuery {
    /// Only this worker's entries.
    pub worker_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    /// Only the entries this timesheet covers.
    pub timesheet_id: Option<Uuid>,
    /// Only entries in this state (`draft` includes entries no timesheet covers).
    pub status: Option<TimesheetStatus>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimesheetQuery {
    pub worker_id: Option<Uuid>,
    pub status: Option<TimesheetStatus>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// Records time. The entry's client is its ticket's; it may not be dated inside a submitted
/// or approved timesheet of the worker (409).
#[utoipa::path(post, path = "/v1/time-entries", operation_id = "createTimeEntry", tag = "time", request_body = TimeEntryInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = TimeEntry), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_time_entry(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<TimeEntryInput>,
) -> Result<(StatusCode, Json<TimeEntry>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(time_entries::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

/// Time entries, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/time-entries", operation_id = "listTimeEntries", tag = "time", params(TimeEntryQuery), responses((status = 200, body = Page<TimeEntry>)))]
pub async fn list_time_entries(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TimeEntryQuery>,
) -> Result<Json<Page<TimeEntry>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = EntryFilter {
        worker_id: q.worker_id,
        client_id: q.client_id,
        timesheet_id: q.timesheet_id,
        status: q.status,
    };
    Ok(Json(time_entries::list(&s.pool, &p, filter, page).await?))
}

#[utoipa::path(get, path = "/v1/time-entries/{id}", operation_id = "getTimeEntry", tag = "time", responses((status = 200, body = TimeEntry), (status = 404, body = Problem)))]
pub async fn get_time_entry(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TimeEntry>, ApiError> {
    Ok(Json(time_entries::get(&s.pool, &p, id).await?))
}

/// Changes an entry; refused (409) once it is invoiced, or while the timesheet covering it,
/// before or after the change, is submitted or approved.
#[utoipa::path(patch, path = "/v1/time-entries/{id}", operation_id = "updateTimeEntry", tag = "time", request_body = TimeEntryPatch,
    responses((status = 200, body = TimeEntry), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_time_entry(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<TimeEntryPatch>,
) -> Result<Json<TimeEntry>, ApiError> {
    Ok(Json(time_entries::update(&s.pool, &p, id, patch).await?))
}

/// Deletes an entry, under the same rules as a change.
#[utoipa::path(delete, path = "/v1/time-entries/{id}", operation_id = "deleteTimeEntry", tag = "time",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_time_entry(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    time_entries::delete(&s.pool, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Opens a draft timesheet for a worker's period; periods of one worker never overlap.
#[utoipa::path(post, path = "/v1/timesheets", operation_id = "createTimesheet", tag = "time", request_body = TimesheetInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Timesheet), (status = 422, body = Problem)))]
pub async fn create_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<TimesheetInput>,
) -> Result<(StatusCode, Json<Timesheet>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(timesheets::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

/// Timesheets, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/timesheets", operation_id = "listTimesheets", tag = "time", params(TimesheetQuery), responses((status = 200, body = Page<Timesheet>)))]
pub async fn list_timesheets(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TimesheetQuery>,
) -> Result<Json<Page<Timesheet>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = TimesheetFilter {
        worker_id: q.worker_id,
        status: q.status,
    };
    Ok(Json(timesheets::list(&s.pool, &p, filter, page).await?))
}

#[utoipa::path(get, path = "/v1/timesheets/{id}", operation_id = "getTimesheet", tag = "time", responses((status = 200, body = Timesheet), (status = 404, body = Problem)))]
pub async fn get_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Timesheet>, ApiError> {
    Ok(Json(timesheets::get(&s.pool, &p, id).await?))
}

/// Puts a draft or rejected timesheet with entries up for approval; notifies the approver.
#[utoipa::path(post, path = "/v1/timesheets/{id}/submit", operation_id = "submitTimesheet", tag = "time", request_body = SubmitTimesheet,
    responses((status = 200, body = Timesheet), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn submit_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SubmitTimesheet>,
) -> Result<Json<Timesheet>, ApiError> {
    Ok(Json(timesheets::submit(&s.pool, &p, id, body).await?))
}

/// Approves a submitted timesheet: its entries become billable; notifies the worker.
#[utoipa::path(post, path = "/v1/timesheets/{id}/approve", operation_id = "approveTimesheet", tag = "time", request_body = Option<ApproveTimesheet>,
    responses((status = 200, body = Timesheet), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ApproveTimesheet>,
) -> Result<Json<Timesheet>, ApiError> {
    Ok(Json(timesheets::approve(&s.pool, &p, id, body).await?))
}

/// Returns a submitted timesheet to its worker with a reason; notifies the worker.
#[utoipa::path(post, path = "/v1/timesheets/{id}/reject", operation_id = "rejectTimesheet", tag = "time", request_body = RejectTimesheet,
    responses((status = 200, body = Timesheet), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RejectTimesheet>,
) -> Result<Json<Timesheet>, ApiError> {
    Ok(Json(timesheets::reject(&s.pool, &p, id, body).await?))
}

/// Returns a timesheet to draft so its entries can change again; an approved one only while
/// none of its entries is invoiced.
#[utoipa::path(post, path = "/v1/timesheets/{id}/reopen", operation_id = "reopenTimesheet", tag = "time", request_body = Option<ReopenTimesheet>,
    responses((status = 200, body = Timesheet), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reopen_timesheet(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReopenTimesheet>,
) -> Result<Json<Timesheet>, ApiError> {
    Ok(Json(timesheets::reopen(&s.pool, &p, id, body).await?))
}
