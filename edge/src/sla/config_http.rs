//! `/v1/sla/…` configuration: schedules, holidays, policies, settings, the ITIL setup, and
//! the SLA assignment of clients and boards.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::pagination::{Page, PageRequest};
use psa_store::sla::policies::{
    self as policies, BoardSla, ItilSetup, Policy, PolicyAssignment, PolicyInput, SlaSettings,
};
use psa_store::sla::schedules::{
    self as schedules, Holiday, HolidayInput, Schedule, ScheduleInput,
};
use uuid::Uuid;

/// The tenant's business-hours schedules, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/sla/schedules", operation_id = "listSlaSchedules", tag = "sla", params(ListQuery), responses((status = 200, body = Page<Schedule>)))]
pub async fn list_schedules(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Schedule>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    // A tenant has a handful, each read with its hours and holidays: the page is cut from all
    // of them, paged like every list so that callers need one way to read lists.
    let all = schedules::list(&s.pool, &p).await?;
    Ok(Json(page.page_of(all, |r| r.id)))
}

#[utoipa::path(post, path = "/v1/sla/schedules", operation_id = "createSlaSchedule", tag = "sla", request_body = ScheduleInput,
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Schedule), (status = 422, body = Problem)))]
pub async fn create_schedule(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(schedules::create(&s.pool, &p, input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/sla/schedules/{id}", operation_id = "getSlaSchedule", tag = "sla", responses((status = 200, body = Schedule), (status = 404, body = Problem)))]
pub async fn get_schedule(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(schedules::get(&s.pool, &p, id).await?))
}

#[utoipa::path(put, path = "/v1/sla/schedules/{id}", operation_id = "replaceSlaSchedule", tag = "sla", request_body = ScheduleInput,
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Schedule), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_schedule(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(schedules::replace(&s.pool, &p, id, input).await?))
}

#[utoipa::path(delete, path = "/v1/sla/schedules/{id}", operation_id = "deleteSlaSchedule", tag = "sla",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_schedule(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    schedules::delete(&s.pool, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant-wide holidays, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/sla/holidays", operation_id = "listSlaHolidays", tag = "sla", params(ListQuery), responses((status = 200, body = Page<Holiday>)))]
pub async fn list_holidays(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Holiday>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let all = schedules::list_holidays(&s.pool, &p).await?;
    Ok(Json(page.page_of(all, |r| r.id)))
}

#[utoipa::path(post, path = "/v1/sla/holidays", operation_id = "createSlaHoliday", tag = "sla", request_body = HolidayInput,
    responses((status = 201, body = Holiday), (status = 422, body = Problem)))]
pub async fn add_holiday(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<HolidayInput>,
) -> Result<(StatusCode, Json<Holiday>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(schedules::add_holiday(&s.pool, &p, input).await?),
    ))
}

#[utoipa::path(delete, path = "/v1/sla/holidays/{id}", operation_id = "deleteSlaHoliday", tag = "sla", responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_holiday(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    schedules::delete_holiday(&s.pool, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's SLA policies, oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/sla/policies", operation_id = "listSlaPolicies", tag = "sla", params(ListQuery), responses((status = 200, body = Page<Policy>)))]
pub async fn list_policies(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Policy>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let all = policies::list(&s.pool, &p).await?;
    Ok(Json(page.page_of(all, |r| r.id)))
}

#[utoipa::path(post, path = "/v1/sla/policies", operation_id = "createSlaPolicy", tag = "sla", request_body = PolicyInput,
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Policy), (status = 422, body = Problem)))]
pub async fn create_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<(StatusCode, Json<Policy>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(policies::create(&s.pool, &p, input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/sla/policies/{id}", operation_id = "getSlaPolicy", tag = "sla", responses((status = 200, body = Policy), (status = 404, body = Problem)))]
pub async fn get_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(policies::get(&s.pool, &p, id).await?))
}

#[utoipa::path(put, path = "/v1/sla/policies/{id}", operation_id = "replaceSlaPolicy", tag = "sla", request_body = PolicyInput,
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Policy), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(policies::replace(&s.pool, &p, id, input).await?))
}

#[utoipa::path(delete, path = "/v1/sla/policies/{id}", operation_id = "deleteSlaPolicy", tag = "sla",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    policies::delete(&s.pool, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/sla/settings", operation_id = "getSlaSettings", tag = "sla", responses((status = 200, body = SlaSettings)))]
pub async fn settings(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<SlaSettings>, ApiError> {
    Ok(Json(policies::settings(&s.pool, &p).await?))
}

#[utoipa::path(put, path = "/v1/sla/settings", operation_id = "replaceSlaSettings", tag = "sla", request_body = SlaSettings, responses((status = 200, body = SlaSettings)))]
pub async fn set_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<SlaSettings>,
) -> Result<Json<SlaSettings>, ApiError> {
    Ok(Json(policies::set_settings(&s.pool, &p, input).await?))
}

/// Priorities P1..P5, Mon-Fri 08:00-18:00 hours and the "ITIL standard" policy in one call.
/// Every field is optional: no body at all sets up in UTC.
#[utoipa::path(post, path = "/v1/sla/itil-setup", operation_id = "setUpItilSla", tag = "sla", request_body = Option<ItilSetup>,
    responses((status = 200, body = Policy), (status = 422, body = Problem)))]
pub async fn itil_setup(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<ItilSetup>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(policies::itil_setup(&s.pool, &p, input).await?))
}

#[utoipa::path(put, path = "/v1/clients/{id}/sla", operation_id = "assignClientSlaPolicy", tag = "sla", request_body = PolicyAssignment,
    responses((status = 200, body = PolicyAssignment), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assign_client(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PolicyAssignment>,
) -> Result<Json<PolicyAssignment>, ApiError> {
    Ok(Json(policies::assign_client(&s.pool, &p, id, input).await?))
}

#[utoipa::path(get, path = "/v1/boards/{id}/sla", operation_id = "getBoardSla", tag = "sla", responses((status = 200, body = BoardSla), (status = 404, body = Problem)))]
pub async fn board_sla(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<BoardSla>, ApiError> {
    Ok(Json(policies::board_sla(&s.pool, &p, id).await?))
}

#[utoipa::path(put, path = "/v1/boards/{id}/sla", operation_id = "replaceBoardSla", tag = "sla", request_body = BoardSla,
    responses((status = 200, body = BoardSla), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_board_sla(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<BoardSla>,
) -> Result<Json<BoardSla>, ApiError> {
    Ok(Json(policies::set_board_sla(&s.pool, &p, id, input).await?))
}
