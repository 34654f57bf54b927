//! `/v1/boards`, `/v1/priorities`, `/v1/statuses` and `/v1/users`.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::pagination::{Page, PageRequest};
use psa_store::reference::{
    self, Board, BoardInput, BoardPatch, Priority, PriorityInput, PriorityPatch, Status,
    StatusInput, StatusPatch, User,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// Paging parameters of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/boards", operation_id = "createBoard", tag = "reference", request_body = BoardInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Board), (status = 422, body = Problem)))]
pub async fn create_board(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<BoardInput>,
) -> Result<(StatusCode, Json<Board>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(reference::create_board(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/boards", operation_id = "listBoards", tag = "reference", params(ListQuery), responses((status = 200, body = Page<Board>)))]
pub async fn list_boards(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Board>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(reference::list_boards(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/boards/{id}", operation_id = "getBoard", tag = "reference", responses((status = 200, body = Board), (status = 404, body = Problem)))]
pub async fn get_board(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(reference::get_board(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/boards/{id}", operation_id = "updateBoard", tag = "reference", request_body = BoardPatch, responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Board), (status = 404, body = Problem)))]
pub async fn update_board(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<BoardPatch>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(reference::update_board(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/priorities", operation_id = "createPriority", tag = "reference", request_body = PriorityInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Priority), (status = 422, body = Problem)))]
pub async fn create_priority(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<PriorityInput>,
) -> Result<(StatusCode, Json<Priority>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(reference::create_priority(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/priorities", operation_id = "listPriorities", tag = "reference", params(ListQuery), responses((status = 200, body = Page<Priority>)))]
pub async fn list_priorities(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Priority>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(reference::list_priorities(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/priorities/{id}", operation_id = "getPriority", tag = "reference", responses((status = 200, body = Priority), (status = 404, body = Problem)))]
pub async fn get_priority(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Priority>, ApiError> {
    Ok(Json(reference::get_priority(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/priorities/{id}", operation_id = "updatePriority", tag = "reference", request_body = PriorityPatch, responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Priority), (status = 404, body = Problem)))]
pub async fn update_priority(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<PriorityPatch>,
) -> Result<Json<Priority>, ApiError> {
    Ok(Json(
        reference::update_priority(&s.pool, &p, id, patch).await?,
    ))
}

#[utoipa::path(post, path = "/v1/statuses", operation_id = "createStatus", tag = "reference", request_body = StatusInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Status), (status = 422, body = Problem)))]
pub async fn create_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<(StatusCode, Json<Status>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(reference::create_status(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/statuses", operation_id = "listStatuses", tag = "reference", params(ListQuery), responses((status = 200, body = Page<Status>)))]
pub async fn list_statuses(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Status>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(reference::list_statuses(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/statuses/{id}", operation_id = "getStatus", tag = "reference", responses((status = 200, body = Status), (status = 404, body = Problem)))]
pub async fn get_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Status>, ApiError> {
    Ok(Json(reference::get_status(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/statuses/{id}", operation_id = "updateStatus", tag = "reference", request_body = StatusPatch, responses((status = 409, description = "Another record of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Status), (status = 404, body = Problem)))]
pub async fn update_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<StatusPatch>,
) -> Result<Json<Status>, ApiError> {
    Ok(Json(
        reference::update_status(&s.pool, &p, id, patch).await?,
    ))
}

#[utoipa::path(get, path = "/v1/users", operation_id = "listUsers", tag = "reference", params(ListQuery), responses((status = 200, body = Page<User>)))]
pub async fn list_users(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(reference::list_users(&s.pool, &p, page).await?))
}
